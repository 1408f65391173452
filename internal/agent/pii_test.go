package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mamori-dev/mamori/internal/pii"
	"github.com/mamori-dev/mamori/internal/scan"
	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/wire"
)

const piiCSV = "氏名,メールアドレス,電話番号\n山田 太郎,taro@example.jp,090-1234-5678\n佐藤 花子,hanako@example.jp,080-2222-3333\n"

// deliver stands in for the server: it takes what the agent queues until
// done is closed, acknowledging (deleting) it as a connection would.
func deliver(t *testing.T, st *store, done <-chan struct{}) []wire.Finding {
	t.Helper()
	ctx := context.Background()
	var got []wire.Finding
	deadline := time.After(60 * time.Second)
	for {
		items, err := st.Pending(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range items {
			got = append(got, q.finding)
		}
		if len(items) > 0 {
			if err := st.Delete(ctx, items[0].seq, items[len(items)-1].seq); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-done:
			return got
		case <-deadline:
			t.Fatal("sweep did not finish")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestPIISweepQueuesFileResults(t *testing.T) {
	ctx := context.Background()
	dataDir, scanDir := t.TempDir(), t.TempDir()
	st, err := openStore(ctx, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	csvPath := filepath.Join(scanDir, "customers.csv")
	plant(t, csvPath, piiCSV)
	plant(t, filepath.Join(scanDir, "logo.png"), "\x89PNG\r\n\x1a\n"+strings.Repeat("\x00", 64))
	plant(t, filepath.Join(scanDir, "notes.txt"), "nothing personal here\n")
	plant(t, filepath.Join(scanDir, "broken.zip"), "PK\x03\x04 cut short")

	a := &Agent{cfg: Config{DataDir: dataDir}, st: st, log: slog.New(slog.DiscardHandler)}
	sw := wire.Sweep{SweepID: "s-pii", Bundle: wire.Bundle{SHA256: wire.BundleDigest("", nil)}, Paths: []string{scanDir},
		ExpiresAt: time.Now().Add(time.Hour), PII: true}
	run := func() []wire.Finding {
		if _, err := st.AddSweep(ctx, sw); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { defer close(done); a.runSweep(ctx, sw) }()
		return deliver(t, st, done)
	}
	got := run()

	// What the agent sends is what a FileMatcher with the agent's key
	// makes of the file.
	key, err := scope.LoadKey(filepath.Join(dataDir, piiKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	data := []byte(piiCSV)
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	var want []*scope.FileResult
	m := scope.NewFileMatcher(pii.NewMatcher(pii.Options{Reveal: true}), key, "JP")
	m.Match(ctx, &scan.File{Path: csvPath, Size: int64(len(data)), Data: data, SHA256: digest}, func(r scan.Record) {
		if fr, ok := r.(*scope.FileResult); ok {
			want = append(want, fr)
		}
	})
	if len(got) != 1 || len(want) != 1 {
		t.Fatalf("queued %d findings, want %d: %+v", len(got), len(want), got)
	}
	f := got[0]
	wantF := wire.Finding{ID: findingID("pii_file", csvPath, digest, "0", "s-pii"), Type: "pii_file", Source: wire.SourceSweep,
		Path: csvPath, SHA256: digest, Size: int64(len(data)), SweepID: "s-pii"}
	if d := cmp.Diff(f, wantF, cmpopts.IgnoreFields(wire.Finding{}, "SeenAt", "Detail")); d != "" {
		t.Errorf("finding (-got +want):\n%s", d)
	}
	raw, _ := json.Marshal(f.Detail)
	var fr scope.FileResult
	if err := json.Unmarshal(raw, &fr); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(&fr, want[0]); d != "" {
		t.Errorf("detail (-got +want):\n%s", d)
	}
	if len(fr.Subjects) != 2 || fr.Subjects[0].Values[1].Value != "taro@example.jp" {
		t.Errorf("subjects %+v", fr.Subjects)
	}

	rows, err := st.Sweeps(ctx, time.Now())
	if err != nil || len(rows) != 1 {
		t.Fatalf("sweeps %v %v", rows, err)
	}
	status := rows[0].status
	if status.State != wire.SweepDone || status.Findings != 1 || status.Files != 4 ||
		!strings.Contains(status.Error, "personal data not searched in 2 files or members (error 1, image 1), e.g. "+filepath.Join(scanDir, "")) {
		t.Errorf("status %+v", status)
	}

	// Run again (after a restart), the same results are the same findings.
	if _, err := st.db.ExecContext(ctx, "DELETE FROM sweeps"); err != nil {
		t.Fatal(err)
	}
	if again := run(); len(again) != 1 || again[0].ID != f.ID {
		t.Errorf("second run: %+v", again)
	}
}

func TestPIICollectionPaths(t *testing.T) {
	ctx := context.Background()
	dataDir, scanDir := t.TempDir(), t.TempDir()
	st, err := openStore(ctx, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	plant(t, filepath.Join(scanDir, "customers.csv"), piiCSV)
	a := &Agent{cfg: Config{DataDir: dataDir}, st: st, log: slog.New(slog.DiscardHandler)}
	sw := wire.Sweep{SweepID: "s-col", PII: true, Collect: &wire.Collect{IncidentID: "i-1"}}
	if _, _, err := a.collectPII(ctx, sw); err == nil || !strings.Contains(err.Error(), "no scan paths") {
		t.Errorf("no paths anywhere: %v", err)
	}
	// Without paths of its own, the collection searches the scan paths.
	a.cfg.ScanPaths = []string{scanDir}
	n, note, err := a.collectPII(ctx, sw)
	if err != nil || n != 1 || note != "" {
		t.Fatalf("collectPII = %d, %q, %v", n, note, err)
	}
	qs, err := st.Pending(ctx, 0, 10)
	if err != nil || len(qs) != 1 {
		t.Fatalf("queued %v %v", qs, err)
	}
	if f := qs[0].finding; f.Type != scope.FileResultType || f.Source != wire.SourceCollector || f.SweepID != "s-col" {
		t.Errorf("finding %+v", f)
	}
}

// TestBatchesBoundedByBytes queues personal-data results of about 500 KiB
// each: a batch of them by count alone would be far over the wire's
// message limit.
func TestBatchesBoundedByBytes(t *testing.T) {
	ctx := context.Background()
	st, err := openStore(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := &Agent{st: st, log: slog.New(slog.DiscardHandler)}
	big := strings.Repeat("x", 500<<10)
	var fs []wire.Finding
	for i := range 20 {
		fs = append(fs, wire.Finding{ID: fmt.Sprintf("f%02d", i), Type: "pii_file", Detail: map[string]any{"pad": big}})
		if i == 10 {
			// One no message can hold: dropped, not blocking the rest.
			fs = append(fs, wire.Finding{ID: "huge", Type: "pii_file", Detail: map[string]any{"pad": strings.Repeat("y", wire.MaxMessageBytes)}})
		}
	}
	if err := st.Enqueue(ctx, fs); err != nil {
		t.Fatal(err)
	}
	var sent []string
	var after int64
	batches := 0
	for {
		b, _, last, err := a.nextBatch(ctx, after)
		if err != nil {
			t.Fatal(err)
		}
		if b == nil && last <= after {
			break
		}
		after = last
		if b == nil {
			continue
		}
		batches++
		enc, err := wire.Encode(&wire.Message{Type: wire.TypeFindings, Findings: b})
		if err != nil {
			t.Fatalf("batch %d: %v", batches, err)
		}
		if len(enc) > wire.MaxMessageBytes {
			t.Fatalf("batch %d: %d bytes", batches, len(enc))
		}
		for _, f := range b.Findings {
			sent = append(sent, f.ID)
		}
	}
	var want []string
	for i := range 20 {
		want = append(want, fmt.Sprintf("f%02d", i))
	}
	if d := cmp.Diff(sent, want); d != "" {
		t.Errorf("sent (-got +want):\n%s", d)
	}
	if batches < 3 {
		t.Errorf("%d batches for 20 findings of 500 KiB", batches)
	}
	if n, _ := st.Len(ctx); n != 20 {
		t.Errorf("%d queued, want the 20 awaiting acknowledgement", n)
	}
}

// TestSinkFlushesLargeResults queues personal-data results once 4 MiB of
// them are buffered, instead of holding up to 200 in memory.
func TestSinkFlushesLargeResults(t *testing.T) {
	ctx := context.Background()
	st, err := openStore(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := &sink{a: &Agent{st: st, log: slog.New(slog.DiscardHandler)}, source: wire.SourceSweep, sweepID: "s-1"}
	value := strings.Repeat("a", 1<<20)
	for i := range 10 {
		s.emit(ctx, &scope.FileResult{Type: scope.FileResultType, Path: fmt.Sprintf("/d/%d.csv", i), Parts: 1,
			Subjects: []scope.FileSubject{{Values: []scope.FileValue{{Category: "address", Value: value}}}}})
	}
	if n, _ := st.Len(ctx); n != 8 {
		t.Errorf("%d queued before the final flush, want 8 (two flushes of 4 MiB)", n)
	}
	if err := s.flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.Len(ctx); n != 10 {
		t.Errorf("%d queued after flush, want 10", n)
	}
}
