package notify_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/notify"
	"github.com/mamori-dev/mamori/internal/notify/notifytest"
	"github.com/mamori-dev/mamori/internal/notify/smtpout"
	"github.com/mamori-dev/mamori/internal/notify/sqlitebox"
)

// BenchmarkSend sends b.N notices through the whole path (outbox claim,
// template, MIME, SMTP to an in-process server on loopback, outbox
// result) and reports messages per second and the peak heap, which must
// not grow with the campaign: run with -benchtime=20000x and 200000x.
func BenchmarkSend(b *testing.B) {
	ctx := context.Background()
	srv := notifytest.Start(b, notifytest.Options{Discard: true, TotalOnly: true})
	box, err := sqlitebox.Open(ctx, filepath.Join(b.TempDir(), "outbox.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer box.Close()
	c := testCampaign("c-bench")
	if err := box.CreateCampaign(ctx, c); err != nil {
		b.Fatal(err)
	}
	rows := make([]notify.Row, 0, 1000)
	now := time.Now()
	for i := 0; i < b.N; i++ {
		r, _ := notify.NewRow(c, person(fmt.Sprintf("p-%08d", i), fmt.Sprintf("u%d@d%d.example", i, i%50), true), now)
		if rows = append(rows, r); len(rows) == cap(rows) || i == b.N-1 {
			if err := box.Add(ctx, rows); err != nil {
				b.Fatal(err)
			}
			rows = rows[:0]
		}
	}
	comp, err := notify.NewComposer(c, nil)
	if err != nil {
		b.Fatal(err)
	}
	workers := 64
	if v, err := strconv.Atoi(os.Getenv("MAMORI_NOTIFY_BENCH_WORKERS")); err == nil {
		workers = v
	}
	pool := smtpout.New(smtpout.Config{Addr: srv.Addr, TLS: "none", MaxConns: workers})
	defer pool.Close()
	// Many transactions in flight make the outbox's group commits large:
	// each worker waits for its claim to be durable, not for the others'.
	s := &notify.Sender{Outbox: box, Transport: pool, Compose: comp.Compose, Workers: workers}
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ResetTimer()
	start := time.Now()
	if err := s.Run(ctx, c.ID); err != nil {
		b.Fatal(err)
	}
	el := time.Since(start)
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	close(stop)
	wg.Wait()
	if srv.Total() != b.N {
		b.Fatalf("server accepted %d of %d", srv.Total(), b.N)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	// CPU per message (client, server and outbox together) says what the
	// rate would be on idle cores when the machine is shared.
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
}
