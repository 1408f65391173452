package server

import (
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store/storetest"
	"github.com/mamori-dev/mamori/internal/testutil"
	"github.com/mamori-dev/mamori/internal/wire"
)

func newServer(t *testing.T) *testServer {
	dir := t.TempDir()
	return startServer(t, dir, filepath.Join(dir, "mamori.db"))
}

func newServerWith(t *testing.T, cfg Config) *testServer {
	return startServerWith(t, cfg)
}

// TestEveryRouteRequiresToken walks the route table, a test capability's
// routes included: each route must refuse a missing and a wrong token, and
// accept the right one.
func TestEveryRouteRequiresToken(t *testing.T) {
	t.Parallel()
	ts := newServerWith(t, Config{Capabilities: []CapabilityFunc{newNotesCapability}})
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	if !slices.ContainsFunc(ts.Routes(), func(r httpapi.Route) bool { return r.Pattern == "/notes" }) {
		t.Fatal("the capability's routes are not in the table")
	}
	for _, r := range ts.Routes() {
		path := httpapi.Prefix + param.ReplaceAllString(r.Pattern, "nope")
		t.Run(r.Method+" "+r.Pattern, func(t *testing.T) {
			for _, tok := range []string{"", "wrong", ts.EnrollToken()} {
				if code := apiCall(t, ts.client, ts.url, tok, r.Method, path, nil, nil); code != http.StatusUnauthorized {
					t.Errorf("token %q: status %d, want 401", tok, code)
				}
			}
			if code := ts.api(t, r.Method, path, nil, nil); code == http.StatusUnauthorized || code == http.StatusForbidden {
				t.Errorf("admin token: status %d", code)
			}
		})
	}
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	ts := newServerWith(t, Config{Capabilities: []CapabilityFunc{newNotesCapability}})
	var doc struct {
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if code := ts.api(t, "GET", "/api/v1/openapi.json", nil, &doc); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	n := 0
	for _, ops := range doc.Paths {
		n += len(ops)
	}
	if n != len(ts.Routes()) {
		t.Errorf("%d operations documented, %d routes", n, len(ts.Routes()))
	}
	for _, r := range ts.Routes() {
		op := doc.Paths[httpapi.Prefix+r.Pattern][strings.ToLower(r.Method)]
		if op == nil {
			t.Errorf("%s %s not documented", r.Method, r.Pattern)
			continue
		}
		if op["summary"] == "" {
			t.Errorf("%s %s: no summary", r.Method, r.Pattern)
		}
		if (r.Request != nil) != (op["requestBody"] != nil) {
			t.Errorf("%s %s: request body documented %v, route has one %v", r.Method, r.Pattern, op["requestBody"] != nil, r.Request != nil)
		}
		if roles, _ := op["x-roles"].([]any); len(roles) != 1+len(r.Roles) {
			t.Errorf("%s %s: roles %v documented, route allows admin and %v", r.Method, r.Pattern, roles, r.Roles)
		}
	}
	// Every $ref in the document resolves.
	b, _ := jsonMarshal(doc)
	for _, m := range regexp.MustCompile(`#/components/schemas/(\w+)`).FindAllStringSubmatch(string(b), -1) {
		if doc.Components.Schemas[m[1]] == nil {
			t.Errorf("dangling $ref %s", m[0])
		}
	}
}

func TestEnrolAndConnect(t *testing.T) {
	t.Parallel()
	ts := newServer(t)
	if _, code := enroll(t, ts, "wrong", "a"); code != http.StatusUnauthorized {
		t.Errorf("wrong enrolment token: %d, want 401", code)
	}
	if _, code := enroll(t, ts, ts.AdminToken(), "a"); code != http.StatusUnauthorized {
		t.Errorf("admin token as enrolment token: %d, want 401", code)
	}
	bad := wire.EnrollRequest{CSR: "not pem"}
	if code := apiCall(t, ts.client, ts.url, ts.EnrollToken(), "POST", wire.EnrollPath, bad, nil); code != http.StatusBadRequest {
		t.Errorf("bad CSR: %d, want 400", code)
	}
	a := mustEnroll(t, ts, "web1")
	if h := ts.host(t, a.id); h.Online || h.Name != "web1" {
		t.Errorf("before connecting: online=%v name=%q, want offline web1", h.Online, h.Name)
	}
	a.mustConnect(ts)
	h := ts.host(t, a.id)
	if !h.Online || h.LastSeen == nil || h.Monitoring != "normal" || h.Isolation != "none" {
		t.Errorf("connected host = %+v", h)
	}
	a.disconnect()
	testutil.Eventually(t, "host offline", func() bool { return !ts.host(t, a.id).Online })

	// A connection without a client certificate is refused.
	code := apiCall(t, ts.client, ts.url, "", "GET", wire.WebSocketPath, nil, nil)
	if code != http.StatusUnauthorized {
		t.Errorf("gateway without client certificate: %d, want 401", code)
	}
}

func TestRevokedAgentCannotReconnect(t *testing.T) {
	t.Parallel()
	ts := newServer(t)
	a := mustEnroll(t, ts, "a")
	a.mustConnect(ts)
	if code := ts.api(t, "POST", "/api/v1/hosts/"+a.id+"/revoke", map[string]string{"reason": "stolen laptop"}, nil); code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	if err := a.closed(); err != nil {
		t.Errorf("revoked agent's connection: %v", err)
	}
	if code, err := a.connect(ts); err == nil || code != http.StatusForbidden {
		t.Errorf("revoked agent reconnect: status %d, err %v; want 403", code, err)
	}
	var log []AuditLeaf
	ts.api(t, "GET", "/api/v1/audit?target="+a.id, nil, &log)
	if !slices.ContainsFunc(log, func(e AuditLeaf) bool { return e.Action == "revoke" && e.Reason == "stolen laptop" }) {
		t.Errorf("revocation not audited: %+v", log)
	}
}

func TestEnrolTokenRotation(t *testing.T) {
	t.Parallel()
	ts := newServer(t)
	old := ts.EnrollToken()
	a := mustEnroll(t, ts, "a")
	var tok struct{ Token string }
	if code := ts.api(t, "POST", "/api/v1/enroll-token/rotate", nil, &tok); code != http.StatusOK || tok.Token == old || tok.Token == "" {
		t.Fatalf("rotate: %d %q", code, tok.Token)
	}
	if _, code := enroll(t, ts, old, "b"); code != http.StatusUnauthorized {
		t.Errorf("old token after rotation: %d, want 401", code)
	}
	if _, code := enroll(t, ts, tok.Token, "b"); code != http.StatusOK {
		t.Errorf("new token: %d, want 200", code)
	}
	a.mustConnect(ts) // enrolled agents are unaffected
	// The new token survives a restart.
	dir := ts.cfg.DataDir
	ts.stop()
	ts2 := startServer(t, dir, filepath.Join(dir, "mamori.db"))
	if ts2.EnrollToken() != tok.Token {
		t.Errorf("after restart the enrolment token is %q, want the rotated %q", ts2.EnrollToken(), tok.Token)
	}
}

func TestRulesAndDetections(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ts := startServer(t, t.TempDir(), dsn)
		a := mustEnroll(t, ts, "a")
		a.mustConnect(ts)
		for _, bad := range []map[string]any{
			{"name": "x", "yara": "rule broken { condition: }"},
			{"name": "x", "hashes": []string{"xyz"}},
			{"name": "x"},
		} {
			if code := ts.api(t, "POST", "/api/v1/rules", bad, nil); code != http.StatusBadRequest {
				t.Errorf("POST rules %v: %d, want 400", bad, code)
			}
		}
		rule := `rule evil : apt { meta: severity = "high" strings: $a = "EVIL" condition: $a }`
		var out struct {
			Version int64
			SHA256  string
		}
		hash := strings.Repeat("AB", 32)
		if code := ts.api(t, "POST", "/api/v1/rules", map[string]any{"name": "r1", "yara": rule, "hashes": []string{hash}}, &out); code != http.StatusOK {
			t.Fatalf("POST rules: %d", code)
		}
		b := a.expect(wire.TypeBundle).Bundle
		if b.Version != out.Version || b.YARA != rule || !b.Verify() || b.SHA256 != out.SHA256 || b.Hashes[0] != strings.ToLower(hash) {
			t.Errorf("pushed bundle %+v, API said %+v", b, out)
		}
		// An agent connecting later with an old bundle gets the current one.
		late := mustEnroll(t, ts, "late")
		late.mustConnect(ts)
		if got := late.expect(wire.TypeBundle).Bundle.Version; got != out.Version {
			t.Errorf("late agent got bundle %d, want %d", got, out.Version)
		}

		seen := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
		f := wire.Finding{ID: "f1", Type: "yara", Source: wire.SourceLive, Rule: "evil", Indicator: "evil", Path: "/tmp/x",
			SHA256: "aa", SeenAt: seen, Tags: []string{"apt"}, Meta: map[string]string{"severity": "high"}}
		a.sendFindings(1, f)
		a.sendFindings(1, f) // a retry after a lost ack
		var ds []Detection
		ts.api(t, "GET", "/api/v1/detections", nil, &ds)
		if len(ds) != 1 {
			t.Fatalf("%d detections after a retried batch, want 1", len(ds))
		}
		want := Detection{ID: ds[0].ID, HostID: a.id, FindingID: "f1", Type: "yara", Source: "live", Rule: "evil",
			Indicator: "evil", Path: "/tmp/x", SHA256: "aa", SeenAt: seen, ReceivedAt: ds[0].ReceivedAt,
			Tags: []string{"apt"}, Meta: map[string]string{"severity": "high"}, Detail: []byte("{}")}
		if diff := cmp.Diff(ds[0], want); diff != "" {
			t.Errorf("detection (-got +want):\n%s", diff)
		}
		var st Stats
		ts.api(t, "GET", "/api/v1/stats", nil, &st)
		if st.ConnectedAgents != 2 || st.FindingsIngested != 1 || st.Duplicates != 1 {
			t.Errorf("stats = %+v, want 2 agents, 1 finding, 1 duplicate", st)
		}
	})
}

func TestMonitoring(t *testing.T) {
	t.Parallel()
	ts := newServer(t)
	a := mustEnroll(t, ts, "a")
	b := mustEnroll(t, ts, "b")
	a.mustConnect(ts)
	if code := ts.api(t, "PUT", "/api/v1/hosts/"+a.id+"/monitoring", map[string]string{"level": "max"}, nil); code != http.StatusBadRequest {
		t.Errorf("bad level: %d, want 400", code)
	}
	if code := ts.api(t, "PUT", "/api/v1/hosts/nope/monitoring", map[string]string{"level": "normal"}, nil); code != http.StatusNotFound {
		t.Errorf("unknown host: %d, want 404", code)
	}
	var h Host
	if code := ts.api(t, "PUT", "/api/v1/hosts/"+a.id+"/monitoring", map[string]string{"level": "heightened", "reason": "neighbour infected"}, &h); code != http.StatusOK {
		t.Fatalf("PUT monitoring: %d", code)
	}
	if h.Monitoring != "heightened" {
		t.Errorf("monitoring = %q", h.Monitoring)
	}
	sm := a.expect(wire.TypeSetMonitoring).SetMonitoring
	if sm.Level != "heightened" || sm.ScanIntervalSeconds != int(ts.cfg.HeightenedScanInterval/time.Second) || sm.Reason != "neighbour infected" {
		t.Errorf("set_monitoring = %+v", sm)
	}
	// By label: only b carries it.
	ts.api(t, "PUT", "/api/v1/hosts/"+b.id+"/labels", map[string]any{"labels": map[string]string{"site": "osaka"}}, nil)
	var sel struct{ Hosts []string }
	ts.api(t, "PUT", "/api/v1/monitoring", map[string]any{"level": "heightened", "reason": "osaka office", "labels": map[string]string{"site": "osaka"}}, &sel)
	if diff := cmp.Diff(sel.Hosts, []string{b.id}); diff != "" {
		t.Errorf("label selector (-got +want):\n%s", diff)
	}
	// b was offline: it gets the level when it connects.
	b.mustConnect(ts)
	if lvl := b.expect(wire.TypeSetMonitoring).SetMonitoring.Level; lvl != "heightened" {
		t.Errorf("b got level %q on connect", lvl)
	}
	// Fleet-wide also sets the level for hosts enrolled later.
	ts.api(t, "PUT", "/api/v1/monitoring", map[string]any{"level": "heightened", "hosts": "all", "reason": "incident"}, nil)
	c := mustEnroll(t, ts, "c")
	if got := ts.host(t, c.id).Monitoring; got != "heightened" {
		t.Errorf("host enrolled after fleet-wide change: %q", got)
	}
	var log []AuditLeaf
	ts.api(t, "GET", "/api/v1/audit?target="+a.id, nil, &log)
	if !slices.ContainsFunc(log, func(e AuditLeaf) bool {
		return e.Action == "monitoring" && e.Actor == "admin" && e.Reason == "neighbour infected" && e.Detail == "normal -> heightened"
	}) {
		t.Errorf("monitoring change not audited: %+v", log)
	}
	var ping struct {
		RTTMS float64 `json:"rtt_ms"`
	}
	if code := ts.api(t, "POST", "/api/v1/hosts/"+a.id+"/ping", nil, &ping); code != http.StatusOK || ping.RTTMS <= 0 {
		t.Errorf("ping: %d %+v", code, ping)
	}
}

func TestIsolationStateMachine(t *testing.T) {
	t.Parallel()
	ts := newServer(t)
	a := mustEnroll(t, ts, "a")
	a.mustConnect(ts)
	path := "/api/v1/hosts/" + a.id
	var h Host
	ts.api(t, "POST", path+"/isolate", map[string]string{"reason": "ransomware note found"}, &h)
	if h.Isolation != "requested" {
		t.Errorf("after isolate: %q, want requested", h.Isolation)
	}
	iso := a.expect(wire.TypeIsolate)
	port := ts.Addr().(interface{ String() string }).String()
	if !slices.Contains(iso.Isolate.ServerAddrs, "127.0.0.1") || !strings.HasSuffix(port, ":"+itoa(iso.Isolate.ServerPort)) {
		t.Errorf("isolate %+v does not allow the server %s", iso.Isolate, port)
	}
	if !iso.Isolate.AllowDNS || !iso.Isolate.AllowDHCP || iso.Isolate.Reason != "ransomware note found" {
		t.Errorf("isolate %+v: want DNS and DHCP allowed by default and the reason", iso.Isolate)
	}
	a.send(&wire.Message{Type: wire.TypeIsolationStatus, IsolationStatus: &wire.IsolationStatus{State: "isolated", CommandID: iso.ID}})
	testutil.Eventually(t, "isolated", func() bool { return ts.host(t, a.id).Isolation == "isolated" })
	ts.api(t, "POST", path+"/release", map[string]string{"reason": "cleaned"}, &h)
	if h.Isolation != "release_requested" {
		t.Errorf("after release: %q, want release_requested", h.Isolation)
	}
	rel := a.expect(wire.TypeRelease)
	a.send(&wire.Message{Type: wire.TypeIsolationStatus, IsolationStatus: &wire.IsolationStatus{State: "none", CommandID: rel.ID}})
	testutil.Eventually(t, "released", func() bool { return ts.host(t, a.id).Isolation == "none" })

	// Failure keeps the agent's reason.
	ts.api(t, "POST", path+"/isolate", map[string]string{"reason": "again"}, nil)
	a.expect(wire.TypeIsolate)
	a.send(&wire.Message{Type: wire.TypeIsolationStatus, IsolationStatus: &wire.IsolationStatus{State: "failed", Error: "server unreachable after applying rules; rolled back"}})
	testutil.Eventually(t, "failed", func() bool { return ts.host(t, a.id).Isolation == "failed" })
	if e := ts.host(t, a.id).IsolationError; !strings.Contains(e, "rolled back") {
		t.Errorf("isolation_error = %q", e)
	}

	// A host isolated while offline gets the command when it returns.
	b := mustEnroll(t, ts, "b")
	ts.api(t, "POST", "/api/v1/hosts/"+b.id+"/isolate", map[string]string{"reason": "offline laptop"}, nil)
	b.mustConnect(ts)
	if r := b.expect(wire.TypeIsolate).Isolate.Reason; r != "offline laptop" {
		t.Errorf("reason sent on reconnect = %q", r)
	}

	var log []AuditLeaf
	ts.api(t, "GET", "/api/v1/audit?target="+a.id, nil, &log)
	var got []string
	for _, e := range log {
		if e.Action != "enroll" {
			got = append(got, e.Actor+" "+e.Action+" "+e.Detail+" ("+e.Reason+")")
		}
	}
	want := []string{
		"admin isolate none -> requested (ransomware note found)",
		"agent:" + a.id + " isolation_status requested -> isolated ()",
		"admin release isolated -> release_requested (cleaned)",
		"agent:" + a.id + " isolation_status release_requested -> none ()",
		"admin isolate none -> requested (again)",
		"agent:" + a.id + " isolation_status requested -> failed (server unreachable after applying rules; rolled back)",
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("audit (-got +want):\n%s", diff)
	}
}

func TestAutoIsolationPolicy(t *testing.T) {
	t.Parallel()
	ts := newServer(t)
	a := mustEnroll(t, ts, "a")
	a.mustConnect(ts)
	if code := ts.api(t, "PUT", "/api/v1/policy/auto-isolation", Policy{Enabled: true, Threshold: 80, Tags: []string{"ransomware"}}, nil); code != http.StatusOK {
		t.Fatalf("PUT policy: %d", code)
	}
	tests := []struct {
		name    string
		f       wire.Finding
		isolate bool
	}{
		{"low score", wire.Finding{Rule: "r", Meta: map[string]string{"score": "60"}}, false},
		{"severity high is 75", wire.Finding{Rule: "r", Meta: map[string]string{"severity": "high"}}, false},
		{"severity critical", wire.Finding{Rule: "r", Meta: map[string]string{"severity": "critical"}}, true},
		{"score at threshold", wire.Finding{Rule: "r", Meta: map[string]string{"score": "80"}}, true},
		{"tag", wire.Finding{Rule: "r", Tags: []string{"ransomware"}}, true},
	}
	p, _ := ts.policy(t.Context())
	for _, tt := range tests {
		if got := p.match(&tt.f) != ""; got != tt.isolate {
			t.Errorf("%s: match = %v, want %v", tt.name, got, tt.isolate)
		}
	}
	a.sendFindings(1, wire.Finding{ID: "x", Type: "yara", Rule: "locker", Tags: []string{"ransomware"}})
	if r := a.expect(wire.TypeIsolate).Isolate.Reason; !strings.Contains(r, "locker") {
		t.Errorf("auto-isolation reason %q does not name the rule", r)
	}
	if got := ts.host(t, a.id).Isolation; got != "requested" {
		t.Errorf("isolation = %q, want requested", got)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestSweepSelectorsAndExpiry(t *testing.T) {
	t.Parallel()
	clock := newClock()
	ts := newServerWith(t, Config{Now: clock.Now})
	a := mustEnroll(t, ts, "a")
	b := mustEnroll(t, ts, "b")
	c := mustEnroll(t, ts, "c")
	ts.api(t, "PUT", "/api/v1/hosts/"+b.id+"/labels", map[string]any{"labels": map[string]string{"dept": "finance"}}, nil)
	ts.api(t, "PUT", "/api/v1/hosts/"+c.id+"/labels", map[string]any{"labels": map[string]string{"dept": "finance"}}, nil)
	ts.api(t, "POST", "/api/v1/hosts/"+c.id+"/revoke", nil, nil)
	yara := `rule x { strings: $a = "x" condition: $a }`
	for _, bad := range []map[string]any{
		{"yara": yara, "paths": []string{"relative/path"}},
		{"yara": yara},
		{"yara": yara, "paths": []string{"/srv"}, "hosts": "some"},
		{"yara": yara, "paths": []string{"/srv"}, "hosts": []string{"h-unknown"}},
		{"yara": "rule {", "paths": []string{"/srv"}},
	} {
		if code := ts.api(t, "POST", "/api/v1/sweeps", bad, nil); code != http.StatusBadRequest {
			t.Errorf("POST sweeps %v: %d, want 400", bad, code)
		}
	}
	// By label: b only (c carries the label but is revoked).
	var sw struct{ ID string }
	ts.api(t, "POST", "/api/v1/sweeps", map[string]any{"yara": yara, "paths": []string{"/srv"}, "labels": map[string]string{"dept": "finance"}}, &sw)
	var view Sweep
	ts.api(t, "GET", "/api/v1/sweeps/"+sw.ID, nil, &view)
	if len(view.Hosts) != 1 || view.Hosts[0].HostID != b.id || view.Hosts[0].State != "offline" {
		t.Errorf("label-selected sweep hosts = %+v, want b offline", view.Hosts)
	}
	// By id list, expiring before the host returns.
	ts.api(t, "POST", "/api/v1/sweeps", map[string]any{"yara": yara, "paths": []string{"/srv"}, "hosts": []string{a.id}, "expires_in_seconds": 1}, &sw)
	clock.Advance(2 * time.Second)
	a.mustConnect(ts)
	ts.api(t, "GET", "/api/v1/sweeps/"+sw.ID, nil, &view)
	if view.State != "expired" {
		t.Errorf("sweep past its expiry: state %q, want expired", view.State)
	}
	// Ping round-trips on the same connection: had the expired sweep been
	// sent, it would arrive before the ping.
	ts.api(t, "POST", "/api/v1/hosts/"+a.id+"/ping", nil, nil)
	for m := range a.msgs {
		if m.Type == wire.TypeSweep {
			t.Errorf("expired sweep %s sent to a returning host", m.Sweep.SweepID)
		}
		if m.Type == wire.TypePing {
			break
		}
	}
	var list []Sweep
	if ts.api(t, "GET", "/api/v1/sweeps", nil, &list); len(list) != 2 {
		t.Errorf("GET sweeps: %d sweeps, want 2", len(list))
	}
}
