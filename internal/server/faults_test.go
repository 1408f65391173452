package server

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store/storetest"
)

// TestFleetMonitoringIsOneChange: a fleet-wide level change is one
// statement with one audit entry; when the entry cannot be written, no
// host changes.
func TestFleetMonitoringIsOneChange(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ts := startServer(t, t.TempDir(), dsn)
		var ids []string
		for _, name := range []string{"a", "b", "c"} {
			ids = append(ids, mustEnroll(t, ts, name).id)
		}
		var sel HostIDs
		if code := ts.api(t, "PUT", "/api/v1/monitoring", map[string]any{"level": "heightened", "hosts": "all", "reason": "incident"}, &sel); code != http.StatusOK {
			t.Fatalf("PUT monitoring: %d", code)
		}
		if len(sel.Hosts) != 3 {
			t.Errorf("changed %v, want 3 hosts", sel.Hosts)
		}
		var log []AuditLeaf
		ts.api(t, "GET", "/api/v1/audit", nil, &log)
		var got []string
		for _, e := range log {
			if e.Action == "monitoring" {
				got = append(got, e.Target+" "+e.Detail+" "+e.Reason)
			}
		}
		if diff := cmp.Diff(got, []string{"fleet heightened incident"}); diff != "" {
			t.Errorf("monitoring audit entries (-got +want):\n%s", diff)
		}

		storetest.Exec(t, dsn, "DROP TABLE audit_log")
		code, body := rawCall(t, ts, ts.AdminToken(), "PUT", "/api/v1/monitoring", map[string]any{"level": "normal", "hosts": "all", "reason": "all clear"}, nil)
		if code != http.StatusInternalServerError || !strings.Contains(string(body), "internal error (request r-") {
			t.Errorf("with the audit table gone: %d %s, want 500 naming the request", code, body)
		}
		for _, id := range ids {
			if got := ts.host(t, id).Monitoring; got != "heightened" {
				t.Errorf("host %s: %s after a failed fleet change, want heightened", id, got)
			}
		}
	})
}

// TestDatabaseErrorsAre500: a failing database is the server's fault, not
// the client's: 500 with a JSON error naming the request, never 400 and
// never the raw database error.
func TestDatabaseErrorsAre500(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dsn := filepath.Join(dir, "mamori.db")
	ts := startServer(t, dir, dsn)
	a := mustEnroll(t, ts, "a")
	storetest.Exec(t, dsn, "DROP TABLE audit_log")
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"PUT", "/api/v1/hosts/" + a.id + "/monitoring", MonitoringChange{Level: "heightened"}},
		{"POST", "/api/v1/hosts/" + a.id + "/isolate", ReasonBody{Reason: "x"}},
		{"GET", "/api/v1/audit", nil},
	} {
		code, body := rawCall(t, ts, ts.AdminToken(), c.method, c.path, c.body, nil)
		var e httpapi.ErrorBody
		if err := jsonUnmarshal(body, &e); err != nil || code != http.StatusInternalServerError ||
			!strings.HasPrefix(e.Error, "internal error (request r-") || strings.Contains(e.Error, "audit") {
			t.Errorf("%s %s: %d %s, want 500 with a generic JSON error", c.method, c.path, code, body)
		}
	}
	if got := ts.host(t, a.id); got.Monitoring != "normal" || got.Isolation != "none" {
		t.Errorf("host changed without its audit entry: monitoring %s isolation %s", got.Monitoring, got.Isolation)
	}
}

// TestEnrolmentFailsWhenSettingsUnreadable: a host must not silently start
// at normal when the fleet's level cannot be read.
func TestEnrolmentFailsWhenSettingsUnreadable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dsn := filepath.Join(dir, "mamori.db")
	ts := startServer(t, dir, dsn)
	storetest.Exec(t, dsn, "DROP TABLE settings")
	if _, code := enroll(t, ts, ts.EnrollToken(), "web1"); code != http.StatusInternalServerError {
		t.Errorf("enrol with settings unreadable: %d, want 500", code)
	}
	var hosts []Host
	ts.api(t, "GET", "/api/v1/hosts", nil, &hosts)
	if len(hosts) != 0 {
		t.Errorf("%d hosts enrolled, want none", len(hosts))
	}
}

// TestListsPage: hosts and sweeps page with after and limit, in id order.
func TestListsPage(t *testing.T) {
	t.Parallel()
	ts := newServer(t)
	var want []string
	for _, name := range []string{"a", "b", "c"} {
		want = append(want, mustEnroll(t, ts, name).id)
	}
	slices.Sort(want)
	var got []string
	for after := ""; ; {
		var page []Host
		if code := ts.api(t, "GET", "/api/v1/hosts?limit=2&after="+after, nil, &page); code != http.StatusOK {
			t.Fatalf("GET hosts: %d", code)
		}
		if len(page) > 2 {
			t.Fatalf("page of %d, limit 2", len(page))
		}
		if len(page) == 0 {
			break
		}
		for _, h := range page {
			got = append(got, h.ID)
		}
		after = page[len(page)-1].ID
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("hosts paged (-got +want):\n%s", diff)
	}
	yara := `rule x { strings: $a = "x" condition: $a }`
	var sweeps []string
	for range 3 {
		var sw SweepCreated
		ts.api(t, "POST", "/api/v1/sweeps", map[string]any{"yara": yara, "paths": []string{"/srv"}, "hosts": "all", "reason": "hunt"}, &sw)
		sweeps = append(sweeps, sw.ID)
	}
	slices.Sort(sweeps)
	var page []Sweep
	ts.api(t, "GET", "/api/v1/sweeps?limit=2&after="+sweeps[0], nil, &page)
	if len(page) != 2 || page[0].ID != sweeps[1] || page[1].ID != sweeps[2] {
		t.Errorf("sweeps after %s: %+v, want %v", sweeps[0], page, sweeps[1:])
	}
	for _, bad := range []string{"limit=0", "limit=1001", "limit=x"} {
		if code := ts.api(t, "GET", "/api/v1/hosts?"+bad, nil, nil); code != http.StatusBadRequest {
			t.Errorf("GET hosts?%s: %d, want 400", bad, code)
		}
	}
}
