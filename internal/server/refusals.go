package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
)

// auditRefusals records a state-changing call (any method but GET) that was
// refused or failed. A handler records what it changed in the change's own
// transaction, so only an answer outside 2xx needs an entry from here. A
// call without valid credentials (401) names nobody and is not recorded:
// anyone could fill the log with those.
func (s *Server) auditRefusals(rt *httpapi.Route, h http.Handler) http.Handler {
	if rt.Method == http.MethodGet {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := &teeBody{ReadCloser: r.Body}
		r.Body = body
		rec := &recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.status == 0 || rec.status/100 == 2 || rec.status == http.StatusUnauthorized {
			return
		}
		p, err := s.auth.Authenticate(r)
		if err != nil {
			return
		}
		role := string(p.Role(rt))
		if role == "" && len(p.Roles) > 0 {
			role = string(p.Roles[0])
		}
		if role == "" {
			role = string(p.Kind)
		}
		var reason struct {
			Reason string `json:"reason"`
		}
		json.Unmarshal(body.buf.Bytes(), &reason)
		var answer httpapi.ErrorBody
		json.Unmarshal(rec.body.Bytes(), &answer)
		e := store.AuditEntry{At: s.now(), Actor: p.Actor(), Role: role, Action: rt.Method + " " + rt.Pattern,
			// A NUL in the refused reason is written out as \u0000: the
			// audit log keeps what was sent, and PostgreSQL text holds no NUL.
			Target: target(rt, r), Reason: strings.ReplaceAll(reason.Reason, "\x00", `\u0000`), RequestID: w.Header().Get("X-Request-Id"),
			Result: strings.TrimSpace(fmt.Sprintf("%d %s", rec.status, answer.Error))}
		if err := s.st.AppendAudit(context.WithoutCancel(r.Context()), e); err != nil {
			s.log.Error("auditing a refused call", "request_id", e.RequestID, "err", err)
		}
	})
}

// target is the value of the route's first path wildcard: the host,
// incident or user the call was about.
func target(rt *httpapi.Route, r *http.Request) string {
	_, rest, ok := strings.Cut(rt.Pattern, "{")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "}")
	return r.PathValue(strings.TrimSuffix(name, "..."))
}

// teeBody keeps the first bytes of a request body, for its reason.
type teeBody struct {
	io.ReadCloser
	buf bytes.Buffer
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if room := 64<<10 - t.buf.Len(); room > 0 {
		t.buf.Write(p[:min(n, room)])
	}
	return n, err
}

// recorder keeps the status and the start of an error answer.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.status >= 400 && r.body.Len() < 4<<10 {
		r.body.Write(p)
	}
	return r.ResponseWriter.Write(p)
}
