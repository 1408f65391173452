package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/testutil"
	"github.com/mamori-dev/mamori/internal/wire"
)

// TestRogueAgent: what an enrolled attacker would post is checked. Bad
// findings are refused (and the batch still acknowledged), a time outside
// the sane window is replaced by the server's, and addresses that do not
// parse are dropped from the inventory.
func TestRogueAgent(t *testing.T) {
	t.Parallel()
	ts := newServer(t)
	a := mustEnroll(t, ts, "rogue")
	other := mustEnroll(t, ts, "other")
	a.inv.IPs = []string{"10.0.0.5", "not-an-ip", "fe80::1", "10.1.0.0/16", strings.Repeat("9", 100)}
	a.mustConnect(ts)
	var sw SweepCreated
	ts.api(t, "POST", "/api/v1/sweeps", map[string]any{"yara": `rule x { strings: $a = "x" condition: $a }`, "paths": []string{"/srv"}, "hosts": []string{other.id}}, &sw)
	now := time.Now()
	f := func(id string, edit func(*wire.Finding)) wire.Finding {
		x := wire.Finding{ID: id, Type: "yara", Rule: "r", Path: "/p/" + id, SeenAt: now}
		edit(&x)
		return x
	}
	a.sendFindings(1,
		f("ok", func(*wire.Finding) {}),
		f("other-sweep", func(x *wire.Finding) { x.SweepID = sw.ID }),
		f("no-sweep", func(x *wire.Finding) { x.SweepID = "s-0000000000000000" }),
		f("negative", func(x *wire.Finding) { x.Size = -1 }),
		f("long-type", func(x *wire.Finding) { x.Type = strings.Repeat("t", 100<<10) }),
		f("year-1", func(x *wire.Finding) { x.SeenAt = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC) }),
		f("year-2126", func(x *wire.Finding) { x.SeenAt = time.Date(2126, 1, 1, 0, 0, 0, 0, time.UTC) }),
	)
	var ds []Detection
	ts.api(t, "GET", "/api/v1/detections?host_id="+a.id, nil, &ds)
	var got []string
	for _, d := range ds {
		got = append(got, fmt.Sprintf("%s %v %s", d.FindingID, d.SeenAt.Year() == now.Year() || d.SeenAt.Year() == now.Year()+1, d.Meta[seenAtMetaKey]))
	}
	want := []string{"ok true ", "year-1 true 0001-01-01T00:00:00Z", "year-2126 true 2126-01-01T00:00:00Z"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("stored detections (-got +want):\n%s", diff)
	}
	var st Stats
	ts.api(t, "GET", "/api/v1/stats", nil, &st)
	if st.Refused != 4 {
		t.Errorf("refused %d findings, want 4", st.Refused)
	}
	if diff := cmp.Diff(ts.host(t, a.id).IPs, []string{"10.0.0.5", "fe80::1", "10.1.0.0/16"}); diff != "" {
		t.Errorf("stored IPs (-got +want):\n%s", diff)
	}
	// A status for a sweep that does not target it changes nothing.
	a.send(&wire.Message{Type: wire.TypeSweepStatus, SweepStatus: &wire.SweepStatus{SweepID: sw.ID, State: wire.SweepDone, Files: 1}})
	a.send(&wire.Message{Type: wire.TypeSweepStatus, SweepStatus: &wire.SweepStatus{SweepID: sw.ID, State: wire.SweepDone, Files: -5}})
	if code := ts.api(t, "POST", "/api/v1/hosts/"+a.id+"/ping", nil, nil); code != http.StatusOK {
		t.Fatalf("ping after the bad reports: %d", code)
	}
	var view Sweep
	ts.api(t, "GET", "/api/v1/sweeps/"+sw.ID, nil, &view)
	if len(view.Hosts) != 1 || view.Hosts[0].HostID != other.id || view.Hosts[0].State == "done" {
		t.Errorf("sweep hosts after a foreign report: %+v", view.Hosts)
	}
}

// TestFindingsBackpressure: past its rate (here 200 findings a second after
// a burst of 1000) an agent's batches are acknowledged later, not dropped.
func TestFindingsBackpressure(t *testing.T) {
	t.Parallel()
	ts := newServerWith(t, Config{FindingsPerSecond: 200})
	a := mustEnroll(t, ts, "busy")
	a.mustConnect(ts)
	start := time.Now()
	const batches, per = 6, 200
	for b := range batches {
		fs := make([]wire.Finding, per)
		for i := range fs {
			fs[i] = wire.Finding{ID: fmt.Sprintf("%d-%d", b, i), Type: "ioc", SeenAt: start}
		}
		a.sendFindings(uint64(b+1), fs...)
	}
	// 1200 findings against 1000 tokens refilling at 200/s cannot be
	// through in under a second, however fast the machine.
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("%d findings acknowledged in %v; the rate limit did not hold them back", batches*per, d)
	}
	testutil.Eventually(t, "every finding stored", func() bool {
		var st Stats
		ts.api(t, "GET", "/api/v1/stats", nil, &st)
		return st.FindingsIngested == batches*per
	})
}

// TestCheckPIIFile: a pii_file finding carries a scope.FileResult in its
// detail; anything else under that type is refused, naming the field.
func TestCheckPIIFile(t *testing.T) {
	now := time.Now()
	good := func() map[string]any {
		return map[string]any{"type": "pii_file", "path": "/srv/c.csv", "size": 10, "part": 0, "parts": 1,
			"categories": map[string]any{"email": 1},
			"subjects":   []any{map[string]any{"record": 1, "key": "k", "values": []any{map[string]any{"category": "email", "value": "a@example.jp"}}}}}
	}
	for _, tc := range []struct {
		name   string
		edit   func(f *wire.Finding, d map[string]any)
		refuse string
	}{
		{"valid", func(*wire.Finding, map[string]any) {}, ""},
		{"unknown field", func(_ *wire.Finding, d map[string]any) { d["values_in_clear"] = true }, "field detail: not a pii_file result"},
		{"other path", func(f *wire.Finding, _ map[string]any) { f.Path = "/etc/passwd" }, "field path"},
		{"unknown category", func(_ *wire.Finding, d map[string]any) { d["categories"] = map[string]any{"email": 1, "blood": 1} }, "unknown category"},
		{"part past parts", func(_ *wire.Finding, d map[string]any) { d["part"] = 1 }, "field part"},
		{"more follow", func(_ *wire.Finding, d map[string]any) { d["part"], d["parts"] = 7, 0 }, ""},
		{"more follow with flags", func(_ *wire.Finding, d map[string]any) {
			d["parts"], d["flags"] = 0, []any{map[string]any{"flag": "credentials", "terms": []any{"password"}}}
		}, "field parts"},
		{"too many parts", func(_ *wire.Finding, d map[string]any) { d["part"], d["parts"] = scope.MaxFileParts, 0 }, "field part"},
		{"no detail", func(f *wire.Finding, _ map[string]any) { f.Detail = nil }, "field detail"},
	} {
		d := good()
		f := wire.Finding{ID: "f", Type: "pii_file", Path: "/srv/c.csv", SeenAt: now, Detail: d}
		tc.edit(&f, d)
		err := checkFinding(&f, now)
		if tc.refuse == "" && err != nil || tc.refuse != "" && (err == nil || !strings.Contains(err.Error(), tc.refuse)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.refuse)
		}
	}
}
