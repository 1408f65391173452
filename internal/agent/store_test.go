package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/wire"
)

func findingIDs(qs []queued) []string {
	var ids []string
	for _, q := range qs {
		ids = append(ids, q.finding.ID)
	}
	return ids
}

func TestQueueSurvivesReopenAndDeduplicates(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := openStore(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	var fs []wire.Finding
	for i := range 5 {
		fs = append(fs, wire.Finding{ID: fmt.Sprintf("f%d", i), Type: "ioc", Path: fmt.Sprintf("/x/%d", i)})
	}
	if err := st.Enqueue(ctx, fs[:3]); err != nil {
		t.Fatal(err)
	}
	// f2 again, with f3 and f4: f2 must not be queued twice.
	if err := st.Enqueue(ctx, fs[2:]); err != nil {
		t.Fatal(err)
	}
	select {
	case <-st.notify:
	default:
		t.Error("Enqueue did not signal the sender")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = openStore(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	all, err := st.Pending(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(findingIDs(all), []string{"f0", "f1", "f2", "f3", "f4"}); d != "" {
		t.Fatalf("after reopen (-got +want):\n%s", d)
	}
	if all[4].finding.Path != "/x/4" {
		t.Errorf("finding body lost: %+v", all[4].finding)
	}
	page, err := st.Pending(ctx, all[1].seq, 2)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(findingIDs(page), []string{"f2", "f3"}); d != "" {
		t.Errorf("page after f1 (-got +want):\n%s", d)
	}
	if err := st.Delete(ctx, all[0].seq, all[2].seq); err != nil {
		t.Fatal(err)
	}
	rest, err := st.Pending(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(findingIDs(rest), []string{"f3", "f4"}); d != "" {
		t.Errorf("after delete (-got +want):\n%s", d)
	}
	if n, err := st.Len(ctx); err != nil || n != 2 {
		t.Errorf("Len = %d, %v; want 2", n, err)
	}
}

func TestStateAndSweeps(t *testing.T) {
	ctx := context.Background()
	st, err := openStore(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var m monitoringState
	if ok, err := st.GetState(ctx, stateMonitoring, &m); ok || err != nil {
		t.Fatalf("unset key: ok=%v err=%v", ok, err)
	}
	want := monitoringState{Level: wire.MonitoringHeightened, ScanIntervalSeconds: 60, Reason: "incident"}
	if err := st.PutState(ctx, stateMonitoring, want); err != nil {
		t.Fatal(err)
	}
	if ok, err := st.GetState(ctx, stateMonitoring, &m); !ok || err != nil {
		t.Fatalf("set key: ok=%v err=%v", ok, err)
	}
	if d := cmp.Diff(m, want); d != "" {
		t.Errorf("state (-got +want):\n%s", d)
	}

	now := time.Now()
	live := wire.Sweep{SweepID: "s1", Paths: []string{"/"}, ExpiresAt: now.Add(time.Hour)}
	old := wire.Sweep{SweepID: "s0", Paths: []string{"/"}, ExpiresAt: now.Add(-time.Minute)}
	for _, sw := range []wire.Sweep{old, live} {
		if added, err := st.AddSweep(ctx, sw); !added || err != nil {
			t.Fatalf("AddSweep(%s) = %v, %v", sw.SweepID, added, err)
		}
	}
	if added, err := st.AddSweep(ctx, live); added || err != nil {
		t.Errorf("AddSweep of a known sweep = %v, %v; want false", added, err)
	}
	if err := st.UpdateSweep(ctx, wire.SweepStatus{SweepID: "s1", State: wire.SweepDone, Files: 10, Findings: 2}); err != nil {
		t.Fatal(err)
	}
	rows, err := st.Sweeps(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("%d sweeps, want only the unexpired s1", len(rows))
	}
	if d := cmp.Diff(rows[0].status, wire.SweepStatus{SweepID: "s1", State: wire.SweepDone, Files: 10, Findings: 2}); d != "" {
		t.Errorf("sweep status (-got +want):\n%s", d)
	}
	if rows[0].accepted || rows[0].sweep.SweepID != "s1" {
		t.Errorf("row %+v", rows[0])
	}
}

// BenchmarkQueue measures the durable queue's round trip for one batch the
// size a scan flushes: enqueue (one synchronous commit), read back, delete
// on acknowledgement.
func BenchmarkQueue(b *testing.B) {
	ctx := context.Background()
	st, err := openStore(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	batch := make([]wire.Finding, sinkBatch)
	n := 0
	for b.Loop() {
		for i := range batch {
			n++
			batch[i] = wire.Finding{ID: fmt.Sprintf("%032x", n), Type: "ioc", Path: fmt.Sprintf("/srv/%d", n), Indicator: "sha256:" + fmt.Sprintf("%064x", n)}
		}
		if err := st.Enqueue(ctx, batch); err != nil {
			b.Fatal(err)
		}
		qs, err := st.Pending(ctx, 0, sinkBatch)
		if err != nil || len(qs) != sinkBatch {
			b.Fatalf("pending: %d, %v", len(qs), err)
		}
		if err := st.Delete(ctx, qs[0].seq, qs[len(qs)-1].seq); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*sinkBatch)/b.Elapsed().Seconds(), "findings/s")
}

// TestStoreFilesOwnerOnly: the queue's database, WAL and shared-memory files
// are the owner's alone, also where an earlier version left them readable.
func TestStoreFilesOwnerOnly(t *testing.T) {
	for _, existing := range []bool{false, true} {
		dir := t.TempDir()
		db := filepath.Join(dir, "agent.db")
		if existing {
			for _, name := range []string{db, db + "-wal"} {
				if err := os.WriteFile(name, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				os.Chmod(name, 0o644) // whatever the umask
			}
		}
		st, err := openStore(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Enqueue(context.Background(), []wire.Finding{{ID: "f1", Type: "ioc"}}); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{db, db + "-wal", db + "-shm"} {
			fi, err := os.Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("existing %v: %s is %v, want -rw-------", existing, filepath.Base(name), fi.Mode().Perm())
			}
		}
		st.Close()
	}
}
