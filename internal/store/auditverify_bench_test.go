package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/audit"
)

// BenchmarkVerifyFromSQLite reads a log of MAMORI_BENCH_AUDIT_N entries
// (default 100,000; the goal is 1,000,000 in under 10 s) from a SQLite
// database and verifies it, as mamori audit verify --data does. Filling
// the database is not timed.
func BenchmarkVerifyFromSQLite(b *testing.B) {
	n := 100_000
	if v := os.Getenv("MAMORI_BENCH_AUDIT_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "audit.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	err = s.InTx(ctx, func(tx *Tx) error {
		st := tx.tx.StmtContext(ctx, s.auditInsert)
		var prev audit.Hash
		for i := range n {
			e := audit.Entry{Time: t0.Add(time.Duration(i) * time.Millisecond), Actor: "alice", Role: "responder",
				Action: "incident.state", Target: fmt.Sprintf("i-%016x", i%1000), Reason: "moving on after the scoping meeting",
				RequestID: fmt.Sprintf("r-%016x", i), Result: "ok", Detail: "investigating -> scoped"}
			if err := e.Seal(int64(i), prev); err != nil {
				return err
			}
			prev = e.Hash
			if _, err := st.ExecContext(ctx, e.Index, e.ID, toMS(e.Time), e.Actor, e.Role, e.Action, e.Target, e.Reason,
				e.RequestID, e.Result, e.Detail, e.Prev[:], e.Hash[:]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	// A running server's log has long been checkpointed into the main
	// database file; one big fill would otherwise be read through the WAL.
	if _, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		v, err := audit.NewVerifier(nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.EachAuditEntry(ctx, v.Add); err != nil {
			b.Fatal(err)
		}
		if res, err := v.Finish(); err != nil || res.Size != int64(n) {
			b.Fatal(res, err)
		}
	}
	b.ReportMetric(float64(n), "entries/op")
}
