package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/store/storetest"
)

var t0 = time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)

func open(t *testing.T, dsn string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func addHost(t *testing.T, s *store.Store, id string) {
	t.Helper()
	if err := s.CreateHost(context.Background(), &store.Host{ID: id, Name: id, EnrolledAt: t0, Monitoring: "normal", CertSerial: "1" + id}); err != nil {
		t.Fatal(err)
	}
}

func TestHosts(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		addHost(t, s, "h1")
		inv := store.Inventory{Hostname: "web1", OS: "linux", IPs: []string{"10.0.0.1"}, AgentVersion: "1", Monitoring: "normal", BundleVersion: 2}
		if err := s.UpdateInventory(ctx, "h1", inv, t0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchHosts(ctx, map[string]time.Time{"h1": t0.Add(3 * time.Second)}); err != nil {
			t.Fatal(err)
		}
		// An older heartbeat flushed late does not move last_seen back.
		if err := s.TouchHosts(ctx, map[string]time.Time{"h1": t0.Add(2 * time.Second)}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetMonitoring(ctx, "h1", "heightened"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetIsolation(ctx, "h1", "failed", "incident 7", "server unreachable"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetLabels(ctx, "h1", map[string]string{"site": "tokyo"}); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeHost(ctx, "h1", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeHost(ctx, "h1", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Host(ctx, "h1")
		if err != nil {
			t.Fatal(err)
		}
		want := &store.Host{
			ID: "h1", Name: "h1", Hostname: "web1", OS: "linux", IPs: []string{"10.0.0.1"}, AgentVersion: "1",
			Labels: map[string]string{"site": "tokyo"}, CertSerial: "1h1", EnrolledAt: t0, LastSeen: t0.Add(3 * time.Second),
			Monitoring: "heightened", MonitoringReported: "normal", Isolation: "failed", IsolationReason: "incident 7",
			IsolationError: "server unreachable", BundleVersion: 2, RevokedAt: t0.Add(time.Minute),
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("host (-got +want):\n%s", diff)
		}
		if _, err := s.Host(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Host(nope) error = %v, want ErrNotFound", err)
		}
		if err := s.SetMonitoring(ctx, "nope", "normal"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SetMonitoring(nope) error = %v, want ErrNotFound", err)
		}
		if err := s.CreateHost(ctx, &store.Host{ID: "h1", EnrolledAt: t0}); err == nil {
			t.Error("duplicate host id accepted")
		}
		hs, err := s.Hosts(ctx)
		if err != nil || len(hs) != 1 {
			t.Errorf("Hosts = %d hosts, %v; want 1", len(hs), err)
		}
	})
}

func TestDetectionsDeduplicated(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		addHost(t, s, "h1")
		addHost(t, s, "h2")
		batch := []store.Detection{
			{HostID: "h1", FindingID: "f1", Type: "yara", Rule: "r", Path: "/a", SeenAt: t0, ReceivedAt: t0, Meta: map[string]string{"severity": "high"}, Tags: []string{"apt"}},
			{HostID: "h1", FindingID: "f2", Type: "ioc", Indicator: "abc", Path: "/b", SHA256: "abc", SeenAt: t0, ReceivedAt: t0},
			// Same finding id on another host is another finding.
			{HostID: "h2", FindingID: "f1", Type: "ioc", Path: "/c", SeenAt: t0, ReceivedAt: t0, SweepID: "s1"},
		}
		for i, want := range []int{3, 0} {
			n, err := s.InsertDetections(ctx, batch)
			if err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("insert %d: %d new, want %d", i, n, want)
			}
		}
		got, err := s.Detections(ctx, store.DetectionFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("%d detections, want 3", len(got))
		}
		want := batch[0]
		want.ID = got[0].ID
		want.Detail = []byte("{}")
		if diff := cmp.Diff(got[0], want); diff != "" {
			t.Errorf("detection (-got +want):\n%s", diff)
		}
		byHost, _ := s.Detections(ctx, store.DetectionFilter{HostID: "h2"})
		bySweep, _ := s.Detections(ctx, store.DetectionFilter{SweepID: "s1"})
		page, _ := s.Detections(ctx, store.DetectionFilter{AfterID: got[0].ID, Limit: 1})
		latest, _ := s.Detections(ctx, store.DetectionFilter{Limit: 2})
		ids := func(ds []store.Detection) []int64 {
			var out []int64
			for _, d := range ds {
				out = append(out, d.ID)
			}
			return out
		}
		for _, c := range []struct {
			name      string
			got, want []int64
		}{
			{"host", ids(byHost), []int64{got[2].ID}},
			{"sweep", ids(bySweep), []int64{got[2].ID}},
			{"page", ids(page), []int64{got[1].ID}},
			{"latest", ids(latest), []int64{got[1].ID, got[2].ID}},
		} {
			if diff := cmp.Diff(c.got, c.want); diff != "" {
				t.Errorf("filter %s (-got +want):\n%s", c.name, diff)
			}
		}
		if n, err := s.CountDetections(ctx); err != nil || n != 3 {
			t.Errorf("CountDetections = %d, %v; want 3", n, err)
		}
		// A batch with an unknown host fails whole: nothing of it stays.
		_, err = s.InsertDetections(ctx, []store.Detection{
			{HostID: "h1", FindingID: "f9", Type: "ioc", SeenAt: t0, ReceivedAt: t0},
			{HostID: "ghost", FindingID: "f9", Type: "ioc", SeenAt: t0, ReceivedAt: t0},
		})
		if err == nil {
			t.Error("detection of unknown host accepted")
		}
		if n, _ := s.CountDetections(ctx); n != 3 {
			t.Errorf("after failed batch: %d detections, want 3", n)
		}
	})
}

// TestGroupCommit stores batches of several agents in one transaction and
// counts each batch's new findings separately.
func TestGroupCommit(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		addHost(t, s, "h1")
		addHost(t, s, "h2")
		d := func(host, id string) store.Detection {
			return store.Detection{HostID: host, FindingID: id, Type: "ioc", SeenAt: t0, ReceivedAt: t0}
		}
		if _, err := s.InsertDetections(ctx, []store.Detection{d("h1", "a")}); err != nil {
			t.Fatal(err)
		}
		got, err := s.InsertDetectionBatches(ctx, [][]store.Detection{
			{d("h1", "a"), d("h1", "b")},
			{d("h2", "a")},
			{},
			{d("h1", "b")}, // the same finding twice in one group counts once
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, []int{1, 1, 0, 0}); diff != "" {
			t.Errorf("new per batch (-got +want):\n%s", diff)
		}
		if n, _ := s.CountDetections(ctx); n != 3 {
			t.Errorf("%d detections, want 3", n)
		}
	})
}

func TestBundles(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		if _, err := s.LatestBundle(ctx); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("LatestBundle on empty store: %v, want ErrNotFound", err)
		}
		for i, name := range []string{"one", "two"} {
			v, err := s.CreateBundle(ctx, &store.Bundle{Name: name, YARA: "rule " + name, Hashes: []string{"aa"}, SHA256: "x", CreatedAt: t0, CreatedBy: "admin"})
			if err != nil {
				t.Fatal(err)
			}
			if v != int64(i+1) {
				t.Errorf("bundle %s: version %d, want %d", name, v, i+1)
			}
		}
		got, err := s.LatestBundle(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := &store.Bundle{Version: 2, Name: "two", YARA: "rule two", Hashes: []string{"aa"}, SHA256: "x", CreatedAt: t0, CreatedBy: "admin"}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("latest (-got +want):\n%s", diff)
		}
	})
}

func TestSweeps(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		addHost(t, s, "h1")
		addHost(t, s, "h2")
		sw := &store.Sweep{ID: "s1", Name: "hunt", YARA: "rule x", Hashes: []string{}, SHA256: "d", Paths: []string{"/tmp"},
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), CreatedBy: "admin"}
		if err := s.CreateSweep(ctx, sw, map[string]string{"h1": "queued", "h2": "offline"}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Sweep(ctx, "s1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, sw); diff != "" {
			t.Errorf("sweep (-got +want):\n%s", diff)
		}
		pending, err := s.PendingSweeps(ctx, "h2", t0.Add(time.Minute))
		if err != nil || len(pending) != 1 {
			t.Errorf("PendingSweeps(h2) = %d, %v; want 1", len(pending), err)
		}
		if expired, _ := s.PendingSweeps(ctx, "h2", t0.Add(2*time.Hour)); len(expired) != 0 {
			t.Errorf("PendingSweeps after expiry = %d, want 0", len(expired))
		}
		steps := []struct {
			state   string
			changed bool
		}{{"running", true}, {"done", true}, {"running", false}, {"failed", false}}
		for _, st := range steps {
			changed, err := s.SetSweepHost(ctx, "s1", "h1", st.state, 5, "", t0.Add(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if changed != st.changed {
				t.Errorf("SetSweepHost(%s) changed = %v, want %v", st.state, changed, st.changed)
			}
		}
		if _, err := s.InsertDetections(ctx, []store.Detection{{HostID: "h1", FindingID: "a", Type: "yara", SweepID: "s1", SeenAt: t0, ReceivedAt: t0}}); err != nil {
			t.Fatal(err)
		}
		hosts, err := s.SweepHosts(ctx, "s1")
		if err != nil {
			t.Fatal(err)
		}
		want := []store.SweepHost{
			{HostID: "h1", State: "done", Files: 5, Findings: 1, UpdatedAt: t0.Add(time.Second)},
			{HostID: "h2", State: "offline", UpdatedAt: t0},
		}
		if diff := cmp.Diff(hosts, want); diff != "" {
			t.Errorf("sweep hosts (-got +want):\n%s", diff)
		}
		if p, _ := s.PendingSweeps(ctx, "h1", t0); len(p) != 0 {
			t.Errorf("finished sweep still pending for h1")
		}
		if _, err := s.Sweep(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Sweep(nope) = %v, want ErrNotFound", err)
		}
		all, err := s.Sweeps(ctx)
		if err != nil || len(all) != 1 {
			t.Errorf("Sweeps = %d, %v; want 1", len(all), err)
		}
	})
}

func TestAuditAndSettings(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		for _, a := range []store.Audit{
			{At: t0, Actor: "admin", Action: "monitoring", Target: "h1", Reason: "incident", Detail: "heightened"},
			{At: t0, Actor: "admin", Action: "isolate", Target: "h2", Reason: "ransomware"},
		} {
			if err := s.AddAudit(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.AuditLog(ctx, "h2", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.Audit{{At: t0, Actor: "admin", Action: "isolate", Target: "h2", Reason: "ransomware"}}
		if diff := cmp.Diff(got, want, cmpopts.IgnoreFields(store.Audit{}, "ID")); diff != "" {
			t.Errorf("audit (-got +want):\n%s", diff)
		}
		if all, _ := s.AuditLog(ctx, "", 0, 0); len(all) != 2 {
			t.Errorf("AuditLog all = %d entries, want 2", len(all))
		}
		if _, err := s.Setting(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Setting(k) = %v, want ErrNotFound", err)
		}
		for _, v := range []string{"1", "2"} {
			if err := s.PutSetting(ctx, "k", v); err != nil {
				t.Fatal(err)
			}
		}
		if v, err := s.Setting(ctx, "k"); err != nil || v != "2" {
			t.Errorf("Setting(k) = %q, %v; want 2", v, err)
		}
	})
}
