package server

import (
	"net/http"
	"time"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
)

func (s *Server) auditRoutes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "GET", Pattern: "/audit", Summary: "The audit trail in id order: who did what, under which role, when and why.",
			Response: []AuditEntry(nil), Roles: []httpapi.Role{httpapi.RoleAuditor}, Handler: s.listAudit,
			Query: []httpapi.Param{{Name: "target", Description: "only entries about this host id, sweep id or fleet"},
				{Name: "after", Description: "only entries with a greater id"}, {Name: "limit", Description: "at most this many (default 1000, at most 10000)"}}},
	}
}

// AuditEntry is one entry of the audit trail.
type AuditEntry struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor" doc:"a user's name, agent:ID, policy or enrolment"`
	Role      string    `json:"role" doc:"the role the call was made under; agent or system for those"`
	Action    string    `json:"action"`
	Target    string    `json:"target" doc:"host id, sweep id or fleet"`
	Reason    string    `json:"reason"`
	Detail    string    `json:"detail"`
	RequestID string    `json:"request_id" doc:"the API request's id (its X-Request-Id answer header)"`
	Result    string    `json:"result" doc:"ok, or why it was refused"`
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	after, err := httpapi.QueryInt(r, "after", 0)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	limit, err := httpapi.QueryInt(r, "limit", 0)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	as, err := s.st.AuditLog(r.Context(), r.URL.Query().Get("target"), after, int(min(limit, 10000)))
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	out := make([]AuditEntry, len(as))
	for i, a := range as {
		out[i] = AuditEntry(a)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}
