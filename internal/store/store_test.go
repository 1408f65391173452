package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mamori-dev/mamori/internal/audit"
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

// inTx runs f in a transaction and fails t if it fails.
func inTx(t *testing.T, s *store.Store, f func(ctx context.Context, tx *store.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.InTx(ctx, func(tx *store.Tx) error { return f(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}

func addHost(t *testing.T, s *store.Store, id string) {
	t.Helper()
	inTx(t, s, func(ctx context.Context, tx *store.Tx) error {
		return tx.CreateHost(ctx, &store.Host{ID: id, Name: id, EnrolledAt: t0, Monitoring: "normal", CertSerial: "1" + id})
	})
}

func TestHosts(t *testing.T) {
	t.Parallel()
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
		inTx(t, s, func(ctx context.Context, tx *store.Tx) error {
			return errors.Join(
				tx.SetMonitoring(ctx, "h1", "heightened"),
				tx.SetIsolation(ctx, "h1", "failed", "incident 7", "server unreachable"),
				tx.SetLabels(ctx, "h1", map[string]string{"site": "tokyo"}),
				tx.RevokeHost(ctx, "h1", t0.Add(time.Minute)),
				tx.RevokeHost(ctx, "h1", t0.Add(time.Hour)))
		})
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
		err = s.InTx(ctx, func(tx *store.Tx) error { return tx.SetMonitoring(ctx, "nope", "normal") })
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SetMonitoring(nope) error = %v, want ErrNotFound", err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error { return tx.CreateHost(ctx, &store.Host{ID: "h1", EnrolledAt: t0}) })
		if err == nil {
			t.Error("duplicate host id accepted")
		}
		hs, err := s.Hosts(ctx)
		if err != nil || len(hs) != 1 {
			t.Errorf("Hosts = %d hosts, %v; want 1", len(hs), err)
		}
	})
}

func TestDetectionsDeduplicated(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		if _, err := s.LatestBundle(ctx); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("LatestBundle on empty store: %v, want ErrNotFound", err)
		}
		for i, name := range []string{"one", "two"} {
			var v int64
			inTx(t, s, func(ctx context.Context, tx *store.Tx) (err error) {
				v, err = tx.CreateBundle(ctx, &store.Bundle{Name: name, YARA: "rule " + name, Hashes: []string{"aa"}, SHA256: "x", CreatedAt: t0, CreatedBy: "admin"})
				return err
			})
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
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		addHost(t, s, "h1")
		addHost(t, s, "h2")
		sw := &store.Sweep{ID: "s1", Name: "hunt", YARA: "rule x", Hashes: []string{}, SHA256: "d", Paths: []string{"/tmp"},
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), CreatedBy: "admin", PII: true}
		inTx(t, s, func(ctx context.Context, tx *store.Tx) error {
			return tx.CreateSweep(ctx, sw, map[string]string{"h1": "queued", "h2": "offline"})
		})
		got, err := s.Sweep(ctx, "s1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, sw); diff != "" {
			t.Errorf("sweep (-got +want):\n%s", diff)
		}
		pending, err := s.PendingSweeps(ctx, "h2", t0.Add(time.Minute))
		if err != nil || len(pending) != 1 || !pending[0].PII {
			t.Errorf("PendingSweeps(h2) = %d, %v; want 1 with pii", len(pending), err)
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
		all, err := s.Sweeps(ctx, "", 10)
		if err != nil || len(all) != 1 {
			t.Errorf("Sweeps = %d, %v; want 1", len(all), err)
		}
	})
}

func TestAuditAndSettings(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		for _, a := range []store.AuditEntry{
			{At: t0, Actor: "admin", Action: "monitoring", Target: "h1", Reason: "incident", Detail: "heightened"},
			{At: t0, Actor: "admin", Role: "admin", Action: "isolate", Target: "h2", Reason: "ransomware", RequestID: "r-1"},
		} {
			if err := s.AppendAudit(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.AuditEntries(ctx, "h2", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		want := []audit.Entry{{Index: 1, Time: t0, Actor: "admin", Role: "admin", Action: "isolate", Target: "h2", Reason: "ransomware", RequestID: "r-1", Result: "ok"}}
		if diff := cmp.Diff(got, want, cmpopts.IgnoreFields(audit.Entry{}, "ID", "Prev", "Hash")); diff != "" {
			t.Errorf("audit (-got +want):\n%s", diff)
		}
		all, _ := s.AuditEntries(ctx, "", 0, 100)
		if len(all) != 2 || all[1].Prev != all[0].Hash || all[1].Hash != all[1].LeafHash() {
			t.Errorf("AuditEntries all = %+v, want 2 chained entries", all)
		}
		if _, err := s.Setting(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Setting(k) = %v, want ErrNotFound", err)
		}
		for _, v := range []string{"1", "2"} {
			inTx(t, s, func(ctx context.Context, tx *store.Tx) error { return tx.PutSetting(ctx, "k", v) })
		}
		if v, err := s.Setting(ctx, "k"); err != nil || v != "2" {
			t.Errorf("Setting(k) = %q, %v; want 2", v, err)
		}
	})
}

// TestFailedAuditRollsBackChange: a change and its audit entry commit
// together, so when the audit insert fails the change is gone too. Both a
// refused entry and a database error (the audit table dropped under the
// store) roll back.
func TestFailedAuditRollsBackChange(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		addHost(t, s, "h1")
		change := func(a store.AuditEntry) error {
			return s.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.SetMonitoring(ctx, "h1", "heightened"); err != nil {
					return err
				}
				if _, err := tx.SetMonitoringAll(ctx, "heightened"); err != nil {
					return err
				}
				return tx.AppendAudit(ctx, a)
			})
		}
		if err := change(store.AuditEntry{At: t0, Actor: "admin"}); err == nil {
			t.Fatal("audit entry without action accepted")
		}
		if h, _ := s.Host(ctx, "h1"); h.Monitoring != "normal" {
			t.Errorf("after refused audit entry: monitoring %s, want normal", h.Monitoring)
		}
		storetest.Exec(t, dsn, "DROP TABLE audit_log")
		err := change(store.AuditEntry{At: t0, Actor: "admin", Action: "monitoring", Target: "h1"})
		if err == nil {
			t.Fatal("change committed without its audit entry")
		}
		if h, _ := s.Host(ctx, "h1"); h.Monitoring != "normal" {
			t.Errorf("after failed audit insert: monitoring %s, want normal", h.Monitoring)
		}
	})
}

func TestPaging(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		for _, id := range []string{"h3", "h1", "h2"} {
			addHost(t, s, id)
			inTx(t, s, func(ctx context.Context, tx *store.Tx) error {
				return tx.CreateSweep(ctx, &store.Sweep{ID: "s" + id, CreatedAt: t0, ExpiresAt: t0}, nil)
			})
		}
		var hostIDs, sweepIDs []string
		for after := ""; ; {
			hs, err := s.HostsPage(ctx, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(hs) == 0 {
				break
			}
			for _, h := range hs {
				hostIDs = append(hostIDs, h.ID)
			}
			after = hs[len(hs)-1].ID
		}
		for after := ""; ; {
			sws, err := s.Sweeps(ctx, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(sws) == 0 {
				break
			}
			for _, sw := range sws {
				sweepIDs = append(sweepIDs, sw.ID)
			}
			after = sws[len(sws)-1].ID
		}
		if diff := cmp.Diff(hostIDs, []string{"h1", "h2", "h3"}); diff != "" {
			t.Errorf("hosts (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(sweepIDs, []string{"sh1", "sh2", "sh3"}); diff != "" {
			t.Errorf("sweeps (-got +want):\n%s", diff)
		}
	})
}

func TestCancelSweepAndDeleteHost(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		addHost(t, s, "h1")
		addHost(t, s, "h2")
		sw := &store.Sweep{ID: "s1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		inTx(t, s, func(ctx context.Context, tx *store.Tx) error {
			return tx.CreateSweep(ctx, sw, map[string]string{"h1": "running", "h2": "queued"})
		})
		if _, err := s.SetSweepHost(ctx, "s1", "h1", "done", 3, "", t0); err != nil {
			t.Fatal(err)
		}
		for i, want := range []bool{true, false} {
			var changed bool
			inTx(t, s, func(ctx context.Context, tx *store.Tx) (err error) {
				changed, err = tx.CancelSweep(ctx, "s1", "alice", t0.Add(time.Minute))
				return err
			})
			if changed != want {
				t.Errorf("cancel %d: changed %v, want %v", i, changed, want)
			}
		}
		if got, _ := s.Sweep(ctx, "s1"); got.CancelledBy != "alice" || !got.CancelledAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("cancelled sweep: %+v", got)
		}
		for host, want := range map[string]string{"h1": "done", "h2": store.SweepCancelled} {
			if got, err := s.SweepHostState(ctx, "s1", host); got != want || err != nil {
				t.Errorf("host %s: %q %v, want %q", host, got, err, want)
			}
		}
		if changed, _ := s.SetSweepHost(ctx, "s1", "h2", "running", 0, "", t0); changed {
			t.Error("a cancelled host's state changed")
		}
		// The host may confirm the cancellation with its count; a
		// finished host may not claim one.
		if changed, err := s.SetSweepHost(ctx, "s1", "h2", store.SweepCancelled, 5, "", t0); !changed || err != nil {
			t.Errorf("confirming a cancellation: changed %v, %v", changed, err)
		}
		if changed, _ := s.SetSweepHost(ctx, "s1", "h1", store.SweepCancelled, 5, "", t0); changed {
			t.Error("a done host became cancelled")
		}
		if p, _ := s.PendingSweeps(ctx, "h2", t0); len(p) != 0 {
			t.Error("cancelled sweep still pending")
		}
		if _, err := s.InsertDetections(ctx, []store.Detection{{HostID: "h1", FindingID: "f", Type: "ioc", SweepID: "s1", SeenAt: t0, ReceivedAt: t0}}); err != nil {
			t.Fatal(err)
		}
		inTx(t, s, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteHost(ctx, "h1") })
		if _, err := s.Host(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted host: %v", err)
		}
		if n, _ := s.CountDetections(ctx); n != 0 {
			t.Errorf("%d detections of a deleted host left", n)
		}
		if _, err := s.SweepHostState(ctx, "s1", "h1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("sweep state of a deleted host: %v", err)
		}
		err := s.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteHost(ctx, "h1") })
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleting twice: %v, want ErrNotFound", err)
		}
	})
}

// TestFilesOwnerOnly: the database, its WAL and shared-memory files are
// readable by their owner only, and an existing database left readable by
// others is tightened.
func TestFilesOwnerOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "mamori.db")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := open(t, file)
	addHost(t, s, "h1")
	for _, name := range []string{file, file + "-wal", file + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", filepath.Base(name), fi.Mode().Perm())
		}
	}
}
