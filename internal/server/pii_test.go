package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/incident"
	"github.com/mamori-dev/mamori/internal/store/storetest"
	"github.com/mamori-dev/mamori/internal/wire"
)

// TestSweepAndCollectionPII launches a personal-data sweep and collection:
// the flag reaches the agent, shows in the views, and survives a restart,
// after which the sweep is sent again with it.
func TestSweepAndCollectionPII(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		cfg := Config{DataDir: dir, DB: dsn, Capabilities: []CapabilityFunc{incident.Capability}}
		ts := startServerWith(t, cfg)
		a := mustEnroll(t, ts, "a")
		a.mustConnect(ts)

		for _, bad := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"paths": []string{"/srv"}, "hosts": []string{a.id}}, "yara and hashes"},
			{map[string]any{"paths": []string{"srv"}, "hosts": []string{a.id}, "pii": true}, "paths[0]"},
		} {
			if code, b := rawCall(t, ts, ts.AdminToken(), "POST", "/api/v1/sweeps", bad.body, nil); code != http.StatusBadRequest || !strings.Contains(string(b), bad.field) {
				t.Errorf("POST sweep %v: %d %s, want 400 naming %s", bad.body, code, b, bad.field)
			}
		}

		var sw SweepCreated
		body := map[string]any{"name": "customers", "paths": []string{"/srv/share"}, "hosts": []string{a.id}, "pii": true, "reason": "exfiltration suspected"}
		if code := ts.api(t, "POST", "/api/v1/sweeps", body, &sw); code != http.StatusOK {
			t.Fatalf("POST pii sweep: %d", code)
		}
		got := a.expect(wire.TypeSweep).Sweep
		if got.SweepID != sw.ID || !got.PII || !got.Bundle.Verify() || got.Bundle.YARA != "" || got.Collect != nil {
			t.Errorf("agent got %+v", got)
		}
		var view Sweep
		ts.api(t, "GET", "/api/v1/sweeps/"+sw.ID, nil, &view)
		if !view.PII || view.State != "running" {
			t.Errorf("sweep view: pii %v, state %s", view.PII, view.State)
		}

		var inc struct{ ID string }
		if code := ts.api(t, "POST", "/api/v1/incidents", map[string]any{"title": "leak", "reason": "alert"}, &inc); code != http.StatusCreated {
			t.Fatalf("POST incident: %d", code)
		}
		from := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
		if code, b := rawCall(t, ts, ts.AdminToken(), "POST", "/api/v1/incidents/"+inc.ID+"/collect",
			map[string]any{"hosts": []string{a.id}, "from": from, "paths": []string{"/srv"}, "reason": "r"}, nil); code != http.StatusBadRequest || !strings.Contains(string(b), "field paths") {
			t.Errorf("collect with paths but no pii: %d %s", code, b)
		}
		var col CollectionView
		if code := ts.api(t, "POST", "/api/v1/incidents/"+inc.ID+"/collect",
			map[string]any{"hosts": []string{a.id}, "from": from, "pii": true, "paths": []string{"/srv/share"}, "kinds": []string{"files"}, "reason": "who is affected"}, &col); code != http.StatusOK {
			t.Fatalf("POST collect: %d", code)
		}
		cgot := a.expect(wire.TypeSweep).Sweep
		for cgot.SweepID == sw.ID {
			cgot = a.expect(wire.TypeSweep).Sweep // the sweep again, re-sent while unanswered
		}
		if cgot.SweepID != col.ID || !cgot.PII || cgot.Collect == nil || cgot.Collect.IncidentID != inc.ID ||
			!cmp.Equal(cgot.Paths, []string{"/srv/share"}) {
			t.Errorf("agent got collection %+v", cgot)
		}
		if !col.PII || !cmp.Equal(col.Paths, []string{"/srv/share"}) {
			t.Errorf("collection view %+v", col)
		}

		// After a restart, the agent (not holding the sweeps) gets both
		// again, still with pii.
		a.disconnect()
		ts.stop()
		ts = startServerWith(t, cfg)
		a.mustConnect(ts)
		again := map[string]*wire.Sweep{}
		for len(again) < 2 {
			s := a.expect(wire.TypeSweep).Sweep
			again[s.SweepID] = s
		}
		if s := again[sw.ID]; s == nil || !s.PII {
			t.Errorf("sweep after restart: %+v", s)
		}
		if s := again[col.ID]; s == nil || !s.PII || s.Collect == nil || !cmp.Equal(s.Paths, []string{"/srv/share"}) {
			t.Errorf("collection after restart: %+v", s)
		}
		var cols []CollectionView
		ts.api(t, "GET", "/api/v1/incidents/"+inc.ID+"/collections", nil, &cols)
		if len(cols) != 1 || !cols[0].PII {
			t.Errorf("collections after restart: %+v", cols)
		}
	})
}
