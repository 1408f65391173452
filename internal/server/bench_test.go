package server

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/store"
)

// BenchmarkIngest measures findings stored per second into SQLite through
// the group-committing ingester, with 64 agents each submitting batches of
// 50 concurrently, as connections do. Report: findings/s.
func BenchmarkIngest(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "mamori.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const agents, batch = 64, 50
	for i := range agents {
		err := st.InTx(ctx, func(tx *store.Tx) error {
			return tx.CreateHost(ctx, &store.Host{ID: fmt.Sprintf("h%d", i), EnrolledAt: time.Now(), Monitoring: "normal"})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	in := newIngester(st)
	ictx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { in.run(ictx); close(done) }()
	defer func() { cancel(); <-done }()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	per := b.N/agents + 1
	for a := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i += batch {
				ds := make([]store.Detection, batch)
				for j := range ds {
					ds[j] = store.Detection{HostID: fmt.Sprintf("h%d", a), FindingID: fmt.Sprintf("%d-%d", i, j), Type: "yara",
						Rule: "evil", Path: "/srv/file", SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
						SeenAt: time.Now(), ReceivedAt: time.Now(), Meta: map[string]string{"severity": "high"}}
				}
				if _, err := in.submit(ctx, ds); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	n := agents * ((per + batch - 1) / batch) * batch
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "findings/s")
}
