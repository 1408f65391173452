package store_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/store/storetest"
)

// BenchmarkAuditedWrite measures audited writes: one transaction holding a
// change (a setting) and its audit entry appended as a Merkle leaf, the
// shape of every state-changing API call. Goal: at least 2,000/s on
// SQLite. "parallel" runs 8 writers at once per core.
func BenchmarkAuditedWrite(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			dsn := filepath.Join(b.TempDir(), "bench.db")
			if backend == "postgres" {
				dsn = storetest.TestPostgres(b)
			}
			ctx := context.Background()
			s, err := store.Open(ctx, dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			write := func(i int) error {
				return s.InTx(ctx, func(tx *store.Tx) error {
					if err := tx.PutSetting(ctx, "bench", strconv.Itoa(i)); err != nil {
						return err
					}
					return tx.AppendAudit(ctx, store.AuditEntry{At: t0, Actor: "alice", Role: "responder", Action: "bench",
						Target: "h-" + strconv.Itoa(i%100), Reason: "benchmark", RequestID: "r-" + strconv.Itoa(i)})
				})
			}
			b.Run("serial", func(b *testing.B) {
				i := 0
				for b.Loop() {
					if err := write(i); err != nil {
						b.Fatal(err)
					}
					i++
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			})
			b.Run("parallel", func(b *testing.B) {
				b.SetParallelism(8)
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						if err := write(i); err != nil {
							b.Error(err)
							return
						}
						i++
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			})
		})
	}
}
