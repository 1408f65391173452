package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/testutil"
	"github.com/mamori-dev/mamori/internal/wire"
)

// TestAPIValidation tries what an attacker or a careless script would
// send: each is refused with the status and a JSON error naming what was
// wrong.
func TestAPIValidation(t *testing.T) {
	t.Parallel()
	ts := newServer(t)
	a := mustEnroll(t, ts, "a")
	gone := mustEnroll(t, ts, "gone")
	ts.api(t, "POST", "/api/v1/hosts/"+gone.id+"/revoke", nil, nil)
	yara := `rule x { strings: $a = "x" condition: $a }`
	// JSON escapes '<' as six bytes: a body under the limit whose message
	// to agents is over it.
	escaped := `"rule big { strings: $a = \"x\" condition: $a }\n/*` + strings.Repeat("<", wire.MaxMessageBytes/5) + `*/"`
	tests := []struct {
		name, method, path string
		body               string
		code               int
		errText            string
	}{
		{"fleet monitoring without hosts", "PUT", "/api/v1/monitoring", `{"level":"heightened"}`, 400, `field hosts: missing: "all" or a list of host ids`},
		{"fleet monitoring, all without reason", "PUT", "/api/v1/monitoring", `{"level":"heightened","hosts":"all"}`, 400, `field reason: required when hosts is "all"`},
		{"monitoring by labels matching nothing", "PUT", "/api/v1/monitoring", `{"level":"heightened","labels":{"site":"mars"}}`, 400, "field labels: no enrolled host has all these labels"},
		{"sweep without hosts", "POST", "/api/v1/sweeps", `{"yara":` + jsonString(yara) + `,"paths":["/srv"]}`, 400, "field hosts: missing"},
		{"sweep on all without reason", "POST", "/api/v1/sweeps", `{"yara":` + jsonString(yara) + `,"paths":["/srv"],"hosts":"all"}`, 400, "field reason: required"},
		{"sweep on a revoked host", "POST", "/api/v1/sweeps", `{"yara":` + jsonString(yara) + `,"paths":["/srv"],"hosts":["` + gone.id + `"]}`, 400, "field hosts: no enrolled host matches the selection (revoked hosts are left out)"},
		{"sweep by labels matching nothing", "POST", "/api/v1/sweeps", `{"yara":` + jsonString(yara) + `,"paths":["/srv"],"labels":{"site":"mars"}}`, 400, "field labels: no enrolled host matches the selection"},
		{"negative expiry", "POST", "/api/v1/sweeps", `{"yara":` + jsonString(yara) + `,"paths":["/srv"],"hosts":["` + a.id + `"],"expires_in_seconds":-1}`, 400, "field expires_in_seconds: -1, want 1 to 2592000"},
		{"overflowing expiry", "POST", "/api/v1/sweeps", `{"yara":` + jsonString(yara) + `,"paths":["/srv"],"hosts":["` + a.id + `"],"expires_in_seconds":9223372036854775807}`, 400, "field expires_in_seconds"},
		{"trailing JSON", "PUT", "/api/v1/hosts/" + a.id + "/labels", `{"labels":{}} {"labels":{"x":"y"}}`, 400, "unexpected data after the JSON value"},
		{"unknown field", "PUT", "/api/v1/hosts/" + a.id + "/labels", `{"label":{}}`, 400, `unknown field "label"`},
		{"rules body over the wire limit", "POST", "/api/v1/rules", `{"yara":"` + strings.Repeat("a", wire.MaxMessageBytes) + `"}`, 413, "request body larger than the limit of 4194304 bytes"},
		{"rules message over the wire limit", "POST", "/api/v1/rules", `{"yara":` + escaped + `}`, 413, "rule bundle as sent to agents larger than the limit of 4194304 bytes"},
		{"sweep message over the wire limit", "POST", "/api/v1/sweeps", `{"yara":` + escaped + `,"paths":["/srv"],"hosts":["` + a.id + `"]}`, 413, "sweep as sent to agents larger than the limit"},
		{"unknown path", "GET", "/api/v1/nothing", ``, 404, "no such path: /api/v1/nothing"},
		{"wrong method", "DELETE", "/api/v1/rules", ``, 405, "method DELETE not allowed here; allowed: POST, GET"},
		{"gateway: unknown path", "GET", "/agent/v2/ws", ``, 404, "no such path: /agent/v2/ws"},
		// NUL cannot be stored or compared in PostgreSQL text: refused
		// before any query, on both backends.
		{"NUL in a path", "GET", "/api/v1/hosts/h%00x", ``, 400, "request path: holds a NUL character (%00)"},
		{"NUL in a query", "GET", "/api/v1/detections?host_id=a%00b", ``, 400, `query parameter "host_id": holds a NUL character (%00)`},
		{"NUL in a body", "POST", "/api/v1/rules", `{"name":"n\u0000","yara":` + jsonString(yara) + `}`, 400, `field name: holds a NUL character`},
		{"gateway: wrong method", "POST", "/agent/v1/ws", ``, 405, "method POST not allowed here; allowed: GET"},
		{"enrolment: wrong method", "GET", "/agent/v1/enroll", ``, 405, "method GET not allowed here; allowed: POST"},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, ts.url+tt.path, strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "bearer "+ts.AdminToken())
		resp, err := ts.client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e httpapi.ErrorBody
		jsonErr := jsonUnmarshal(b, &e)
		if resp.StatusCode != tt.code || jsonErr != nil || !strings.Contains(e.Error, tt.errText) {
			t.Errorf("%s: %d %.200s, want %d with %q", tt.name, resp.StatusCode, b, tt.code, tt.errText)
		}
	}
	var sweeps []Sweep
	ts.api(t, "GET", "/api/v1/sweeps", nil, &sweeps)
	if len(sweeps) != 0 {
		t.Errorf("%d sweeps created by refused requests", len(sweeps))
	}
}

func jsonString(s string) string {
	b, _ := jsonMarshal(s)
	return string(bytes.TrimSpace(b))
}

// TestCancelSweepAndDeleteHost: a cancelled sweep is no longer sent to
// hosts that reconnect, a finished one cannot be cancelled, and a host is
// deleted only once revoked; both are audited.
func TestCancelSweepAndDeleteHost(t *testing.T) {
	t.Parallel()
	ts := newServer(t)
	a := mustEnroll(t, ts, "a")
	b := mustEnroll(t, ts, "b")
	a.mustConnect(ts)
	yara := `rule x { strings: $a = "x" condition: $a }`
	var sw SweepCreated
	ts.api(t, "POST", "/api/v1/sweeps", map[string]any{"yara": yara, "paths": []string{"/srv"}, "hosts": "all", "reason": "hunt"}, &sw)
	a.expect(wire.TypeSweep)
	var view Sweep
	if code := ts.api(t, "DELETE", "/api/v1/sweeps/"+sw.ID, ReasonBody{Reason: "wrong rule"}, &view); code != http.StatusOK {
		t.Fatalf("DELETE sweep: %d", code)
	}
	if view.State != "cancelled" {
		t.Errorf("cancelled sweep: state %s", view.State)
	}
	// The connected host is told at once, and its confirmation (with the
	// files it had scanned) is shown; a late "done" is not.
	if m := a.expect(wire.TypeCancelSweep); m.CancelSweep.SweepID != sw.ID {
		t.Errorf("cancel_sweep for %s, want %s", m.CancelSweep.SweepID, sw.ID)
	}
	a.send(&wire.Message{Type: wire.TypeSweepStatus, SweepStatus: &wire.SweepStatus{SweepID: sw.ID, State: wire.SweepCancelled, Files: 7}})
	a.send(&wire.Message{Type: wire.TypeSweepStatus, SweepStatus: &wire.SweepStatus{SweepID: sw.ID, State: wire.SweepDone, Files: 9}})
	testutil.Eventually(t, "host confirms the cancellation", func() bool {
		ts.api(t, "GET", "/api/v1/sweeps/"+sw.ID, nil, &view)
		h := view.Hosts[slices.IndexFunc(view.Hosts, func(h SweepHost) bool { return h.HostID == a.id })]
		return h.State == wire.SweepCancelled && h.Files == 7
	})
	if code := ts.api(t, "DELETE", "/api/v1/sweeps/"+sw.ID, nil, nil); code != http.StatusOK {
		t.Errorf("cancelling twice: %d, want 200", code)
	}
	// A host holding the sweep while away learns of the cancellation in
	// its Welcome.
	b.sweeps = []string{sw.ID, "s-unknown"}
	b.mustConnect(ts)
	if diff := cmp.Diff(b.welcome.CancelledSweeps, []string{sw.ID}); diff != "" {
		t.Errorf("welcome's cancelled sweeps (-got +want):\n%s", diff)
	}
	// Had the cancelled sweep been sent, it would arrive before the ping.
	ts.api(t, "POST", "/api/v1/hosts/"+b.id+"/ping", nil, nil)
	for m := range b.msgs {
		if m.Type == wire.TypeSweep {
			t.Fatal("cancelled sweep sent to a reconnecting host")
		}
		if m.Type == wire.TypePing {
			break
		}
	}
	var done SweepCreated
	ts.api(t, "POST", "/api/v1/sweeps", map[string]any{"yara": yara, "paths": []string{"/srv"}, "hosts": []string{a.id}}, &done)
	a.expect(wire.TypeSweep)
	// An agent cannot cancel on its own what the server did not cancel.
	a.send(&wire.Message{Type: wire.TypeSweepStatus, SweepStatus: &wire.SweepStatus{SweepID: done.ID, State: wire.SweepCancelled}})
	a.send(&wire.Message{Type: wire.TypeSweepStatus, SweepStatus: &wire.SweepStatus{SweepID: done.ID, State: wire.SweepDone}})
	testutil.Eventually(t, "sweep done", func() bool {
		ts.api(t, "GET", "/api/v1/sweeps/"+done.ID, nil, &view)
		return view.State == "done"
	})
	if code, body := rawCall(t, ts, ts.AdminToken(), "DELETE", "/api/v1/sweeps/"+done.ID, nil, nil); code != http.StatusConflict || !strings.Contains(string(body), "is done; only a running sweep can be cancelled") {
		t.Errorf("cancelling a done sweep: %d %s", code, body)
	}

	if code, body := rawCall(t, ts, ts.AdminToken(), "DELETE", "/api/v1/hosts/"+a.id, nil, nil); code != http.StatusConflict || !strings.Contains(string(body), "not revoked; revoke it first") {
		t.Errorf("deleting an enrolled host: %d %s", code, body)
	}
	ts.api(t, "POST", "/api/v1/hosts/"+a.id+"/revoke", nil, nil)
	if code := ts.api(t, "DELETE", "/api/v1/hosts/"+a.id, ReasonBody{Reason: "decommissioned"}, nil); code != http.StatusOK {
		t.Errorf("deleting a revoked host: %d", code)
	}
	if code := ts.api(t, "GET", "/api/v1/hosts/"+a.id, nil, nil); code != http.StatusNotFound {
		t.Errorf("deleted host: %d, want 404", code)
	}
	var log []AuditLeaf
	ts.api(t, "GET", "/api/v1/audit", nil, &log)
	var got []string
	for _, e := range log {
		if e.Action == "cancel_sweep" || e.Action == "delete_host" {
			got = append(got, e.Action+" "+e.Target+" "+e.Reason)
		}
	}
	want := []string{"cancel_sweep " + sw.ID + " wrong rule", "delete_host " + a.id + " decommissioned"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("audit (-got +want):\n%s", diff)
	}
}

// TestSweepDoneWithErrors: a sweep whose hosts all finished, one of them
// with errors, says so rather than plain done.
func TestSweepDoneWithErrors(t *testing.T) {
	t.Parallel()
	ts := newServer(t)
	a := mustEnroll(t, ts, "a")
	b := mustEnroll(t, ts, "b")
	a.mustConnect(ts)
	b.mustConnect(ts)
	var sw SweepCreated
	ts.api(t, "POST", "/api/v1/sweeps", map[string]any{"yara": `rule x { strings: $a = "x" condition: $a }`, "paths": []string{"/srv", "/missing"}, "hosts": "all", "reason": "hunt"}, &sw)
	a.expect(wire.TypeSweep)
	b.expect(wire.TypeSweep)
	a.send(&wire.Message{Type: wire.TypeSweepStatus, SweepStatus: &wire.SweepStatus{SweepID: sw.ID, State: wire.SweepDone, Files: 3}})
	b.send(&wire.Message{Type: wire.TypeSweepStatus, SweepStatus: &wire.SweepStatus{SweepID: sw.ID, State: wire.SweepDone, Files: 2, Error: "/missing: no such file or directory"}})
	var view Sweep
	testutil.Eventually(t, "sweep finished", func() bool {
		ts.api(t, "GET", "/api/v1/sweeps/"+sw.ID, nil, &view)
		return view.Progress.Done == 2
	})
	if view.State != "done_with_errors" {
		t.Errorf("state %q, want done_with_errors", view.State)
	}
}

// TestErrorAnswersNameNoLayer: error answers say what was not found or
// why a change is refused, in the caller's terms, with no package or layer
// name in front ("store: host ...: not found").
func TestErrorAnswersNameNoLayer(t *testing.T) {
	t.Parallel()
	ts := newServer(t)
	tests := []struct {
		method, path string
		body         any
		code         int
		want         string
	}{
		{"GET", "/api/v1/hosts/h-123", nil, http.StatusNotFound, `{"error":"host h-123: not found"}`},
		{"DELETE", "/api/v1/hosts/h-123", nil, http.StatusNotFound, `{"error":"host h-123: not found"}`},
		{"GET", "/api/v1/sweeps/s-123", nil, http.StatusNotFound, `{"error":"sweep s-123: not found"}`},
		{"DELETE", "/api/v1/sweeps/s-123", ReasonBody{Reason: "x"}, http.StatusNotFound, `{"error":"sweep s-123: not found"}`},
	}
	for _, tt := range tests {
		code, body := rawCall(t, ts, ts.AdminToken(), tt.method, tt.path, tt.body, nil)
		var compact bytes.Buffer
		json.Compact(&compact, body)
		if code != tt.code || compact.String() != tt.want {
			t.Errorf("%s %s: %d %s, want %d %s", tt.method, tt.path, code, compact.String(), tt.code, tt.want)
		}
	}
}

// TestRefusedNULIsAudited: a body refused for a NUL character is still in
// the audit log, its reason written out as \u0000 (PostgreSQL text holds
// no NUL, and a failed audit append would lose the refusal).
func TestRefusedNULIsAudited(t *testing.T) {
	t.Parallel()
	ts := newServer(t)
	a := mustEnroll(t, ts, "a")
	code, body := rawCall(t, ts, ts.AdminToken(), "PUT", "/api/v1/hosts/"+a.id+"/monitoring", map[string]string{"level": "heightened", "reason": "r\x00"}, nil)
	if code != http.StatusBadRequest || !strings.Contains(string(body), "field reason: holds a NUL character") {
		t.Fatalf("NUL reason: %d %s", code, body)
	}
	var log []AuditLeaf
	ts.api(t, "GET", "/api/v1/audit", nil, &log)
	var got []string
	for _, e := range log {
		if strings.HasPrefix(e.Result, "400") {
			got = append(got, e.Action+" "+e.Reason)
		}
	}
	if diff := cmp.Diff(got, []string{"PUT /hosts/{id}/monitoring r\\u0000"}); diff != "" {
		t.Errorf("refusals in the audit log (-got +want):\n%s", diff)
	}
}
