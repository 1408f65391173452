package loadtest

import (
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/server"
)

// TestRunAgainstRealServer runs a small load test against an in-process
// server and checks that the report adds up.
func TestRunAgainstRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	srv, err := server.New(ctx, server.Config{DataDir: filepath.Join(dir, "server"), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(srv.CAPEM())
	idFile := filepath.Join(dir, "ids.jsonl")
	cfg := Config{
		ServerURL: srv.URL(), Roots: roots, EnrollToken: srv.EnrollToken(), AdminToken: srv.AdminToken(),
		Agents: 20, FindingsRate: 200, Batch: 10, Duration: 2 * time.Second, PingRate: 10,
		Heartbeat: 500 * time.Millisecond, Workers: 4, IdentityFile: idFile,
		// The server runs in this process.
		ServerPID: os.Getpid(),
	}
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Enrolled != 20 || rep.Connected != 20 || rep.ServerConnected != 20 || rep.Disconnects != 0 {
		t.Errorf("agents: %+v", rep)
	}
	if rep.FindingsSent == 0 || rep.FindingsAcked != rep.FindingsSent {
		t.Errorf("findings sent %d, acknowledged %d", rep.FindingsSent, rep.FindingsAcked)
	}
	if rep.Pings == 0 || rep.PingErrors != 0 || rep.ServerRTTP99ms <= 0 || rep.APIRTTP99ms < rep.APIRTTP50ms {
		t.Errorf("pings: %d (%d errors), server p99 %v ms, API p50 %v p99 %v", rep.Pings, rep.PingErrors, rep.ServerRTTP99ms, rep.APIRTTP50ms, rep.APIRTTP99ms)
	}

	if rep.ServerRSSMaxMiB <= 0 || rep.ServerCPUPercent <= 0 {
		t.Errorf("server sampling: RSS %v MiB, CPU %v%%", rep.ServerRSSMaxMiB, rep.ServerCPUPercent)
	}

	// A second run reuses the stored identities: no enrolment.
	cfg.Duration, cfg.FindingsRate = 500*time.Millisecond, 0
	rep, err = Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Enrolled != 0 || rep.Connected != 20 {
		t.Errorf("second run: enrolled %d, connected %d; want 0 and 20", rep.Enrolled, rep.Connected)
	}
}

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for _, tt := range []struct{ p, want float64 }{{50, 5}, {90, 9}, {99, 10}, {100, 10}, {1, 1}} {
		if got := percentile(xs, tt.p); got != tt.want {
			t.Errorf("p%v = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("empty: %v", got)
	}
}
