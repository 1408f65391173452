package server

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
)

func (s *Server) policyRoutes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "POST", Pattern: "/enroll-token/rotate", Summary: "Replace the enrolment token; enrolled agents are unaffected.",
			Response: NewToken{}, Handler: s.rotateEnrollToken},
		{Method: "GET", Pattern: "/policy/auto-isolation", Summary: "The automatic isolation policy.",
			Response: Policy{}, Roles: []httpapi.Role{httpapi.RoleResponder, httpapi.RoleAuditor}, Handler: s.getPolicy},
		{Method: "PUT", Pattern: "/policy/auto-isolation", Summary: "Set the automatic isolation policy.",
			Request: Policy{}, Response: Policy{}, Handler: s.putPolicy},
	}
}

// NewToken is a freshly minted token, shown once.
type NewToken struct {
	Token string `json:"token" doc:"the new enrolment token"`
}

// RotateEnrollToken replaces the enrolment token in memory and on disk and
// returns the new one; the audit actor comes from ctx's principal.
func (s *Server) RotateEnrollToken(ctx context.Context) (string, error) {
	tok := newToken()
	if err := writeFileAtomic(filepath.Join(s.cfg.DataDir, enrollTokenFile), []byte(tok+"\n"), 0o600); err != nil {
		return "", err
	}
	s.enroll.Store(&tok)
	if err := s.st.AppendAudit(ctx, httpapi.Audit(ctx, s.now(), "rotate_enroll_token", "fleet", "", "")); err != nil {
		return "", err
	}
	return tok, nil
}

func (s *Server) rotateEnrollToken(w http.ResponseWriter, r *http.Request) {
	tok, err := s.RotateEnrollToken(r.Context())
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, NewToken{Token: tok})
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := s.policy(r.Context())
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, p)
}

func (s *Server) putPolicy(w http.ResponseWriter, r *http.Request) {
	var p Policy
	if err := httpapi.DecodeBody(r, 0, &p); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if p.Threshold < 0 {
		httpapi.Fail(w, r, httpapi.BadInput("threshold", "%g is negative", p.Threshold))
		return
	}
	if err := s.SetPolicy(r.Context(), p); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, p)
}

// SetPolicy stores the auto-isolation policy; the audit actor comes from
// ctx's principal (see WithActor for callers outside a request).
func (s *Server) SetPolicy(ctx context.Context, p Policy) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.PutSetting(ctx, settingAutoIsolation, string(b)); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.now(), "auto_isolation_policy", "fleet", "", string(b)))
	})
}

// WithActor returns ctx acting as the server itself under name (e.g.
// "server-flags"), for changes made outside an API request.
func WithActor(ctx context.Context, name string) context.Context {
	return httpapi.WithPrincipal(ctx, httpapi.Principal{Kind: httpapi.KindSystem, Name: name})
}
