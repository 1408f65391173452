package server

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
)

// notes is a capability as a round-2 package would write one: its own
// routes, roles, request and response types, audited changes through the
// store's transactions, per-user tokens, and background work.
type notes struct {
	env     httpapi.Env
	stopped *atomic.Bool
}

// Note is a note.
type Note struct {
	Text string `json:"text" doc:"what to remember" required:"true"`
}

var notesStopped atomic.Bool

func newNotesCapability(env httpapi.Env) (httpapi.Capability, error) {
	return &notes{env: env, stopped: &notesStopped}, nil
}

func (n *notes) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "POST", Pattern: "/notes", Summary: "Add a note.", Request: Note{}, Response: Note{},
			Roles: []httpapi.Role{httpapi.RoleResponder}, Handler: n.post},
		{Method: "GET", Pattern: "/notes", Summary: "List notes.", Response: []Note(nil),
			Roles: []httpapi.Role{httpapi.RoleResponder, httpapi.RoleViewer}, Handler: n.list},
	}
}

var noteUsers = map[string]httpapi.Principal{
	"rita-token": {Kind: httpapi.KindUser, Name: "rita", Roles: []httpapi.Role{httpapi.RoleResponder}},
	"vera-token": {Kind: httpapi.KindUser, Name: "vera", Roles: []httpapi.Role{httpapi.RoleViewer}},
}

func (n *notes) Authenticate(r *http.Request) (httpapi.Principal, error) {
	if p, ok := noteUsers[httpapi.BearerToken(r)]; ok {
		return p, nil
	}
	return httpapi.Principal{}, httpapi.ErrNoCredentials
}

func (n *notes) Start(ctx context.Context) error {
	<-ctx.Done()
	n.stopped.Store(true)
	return ctx.Err()
}

func (n *notes) post(w http.ResponseWriter, r *http.Request) {
	var note Note
	if err := httpapi.DecodeBody(r, 0, &note); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	ctx := r.Context()
	err := n.env.Store.InTx(ctx, func(tx *store.Tx) error {
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, n.env.Now(), "note", "fleet", "", note.Text))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, note)
}

func (n *notes) list(w http.ResponseWriter, r *http.Request) {
	httpapi.WriteJSON(w, http.StatusOK, []Note{})
}

// TestCapabilityRolesAndActor: a capability's users call its routes and
// the fleet's within their roles, are refused with 403 naming the role
// otherwise, and are audited under their own name whatever X-Mamori-Actor
// says.
func TestCapabilityRolesAndActor(t *testing.T) {
	t.Parallel()
	ts := newServerWith(t, Config{Capabilities: []CapabilityFunc{newNotesCapability}})
	a := mustEnroll(t, ts, "web1")
	tests := []struct {
		token, method, path string
		body                any
		code                int
		errText             string
	}{
		{"rita-token", "POST", "/api/v1/notes", Note{Text: "hello"}, 200, ""},
		{"vera-token", "GET", "/api/v1/notes", nil, 200, ""},
		{"vera-token", "GET", "/api/v1/hosts", nil, 200, ""},
		{"vera-token", "POST", "/api/v1/notes", Note{Text: "x"}, 403, "vera has role viewer; POST /api/v1/notes needs role admin or responder"},
		{"vera-token", "PUT", "/api/v1/hosts/" + a.id + "/monitoring", MonitoringChange{Level: "heightened"}, 403, "needs role admin or responder"},
		{"rita-token", "GET", "/api/v1/audit", nil, 403, "rita has role responder; GET /api/v1/audit needs role admin or auditor"},
		{"rita-token", "PUT", "/api/v1/hosts/" + a.id + "/monitoring", MonitoringChange{Level: "heightened", Reason: "r"}, 200, ""},
	}
	for _, tt := range tests {
		var e httpapi.ErrorBody
		code, body := rawCall(t, ts, tt.token, tt.method, tt.path, tt.body, map[string]string{"X-Mamori-Actor": "someone-else"})
		if code != tt.code {
			t.Errorf("%s %s %s: status %d, want %d (%s)", tt.token, tt.method, tt.path, code, tt.code, body)
			continue
		}
		if tt.errText != "" {
			if err := jsonUnmarshal(body, &e); err != nil || !strings.Contains(e.Error, tt.errText) {
				t.Errorf("%s %s %s: error %q, want %q", tt.token, tt.method, tt.path, e.Error, tt.errText)
			}
		}
	}
	var log []AuditLeaf
	ts.api(t, "GET", "/api/v1/audit", nil, &log)
	var got []string
	for _, e := range log {
		if e.Action == "note" || e.Action == "monitoring" {
			got = append(got, e.Actor+" "+e.Role+" "+e.Action+" "+e.Result)
			if e.RequestID == "" {
				t.Errorf("entry %d has no request id", e.Index)
			}
		}
	}
	want := []string{"rita responder note ok", "rita responder monitoring ok"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("audit (-got +want):\n%s", diff)
	}
}

// TestCloseWaitsForStart: a capability's background work has ended by the
// time Close returns, so it cannot write to a closed store.
func TestCloseWaitsForStart(t *testing.T) {
	stopped := &atomic.Bool{}
	s, err := New(context.Background(), Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0",
		Capabilities: []CapabilityFunc{func(env httpapi.Env) (httpapi.Capability, error) {
			return &notes{env: env, stopped: stopped}, nil
		}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !stopped.Load() {
		t.Error("Close returned before the capability's Start")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
