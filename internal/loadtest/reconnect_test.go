package loadtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/server"
	"github.com/mamori-dev/mamori/internal/testutil"
)

// Simulated agents come back after the server under test restarts, as
// real agents do.
func TestAgentsReconnectAfterServerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server twice")
	}
	dir := filepath.Join(t.TempDir(), "server")
	lnFile := testutil.ListenerFile(t)
	start := func() (*server.Server, context.CancelFunc, chan error) {
		ctx, cancel := context.WithCancel(context.Background())
		l := testutil.Listener(t, lnFile)
		srv, err := server.New(ctx, server.Config{DataDir: dir, Listen: l.Addr().String(), Listener: l})
		if err == nil {
			err = srv.Listen()
		}
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ctx) }()
		return srv, cancel, done
	}
	srv, stop, done := start()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(srv.CAPEM())
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	connected := func() int {
		req, _ := http.NewRequest("GET", srv.URL()+"/api/v1/stats", nil)
		req.Header.Set("Authorization", "Bearer "+srv.AdminToken())
		resp, err := hc.Do(req)
		if err != nil {
			return -1
		}
		defer resp.Body.Close()
		var st server.Stats
		json.NewDecoder(resp.Body).Decode(&st)
		return st.ConnectedAgents
	}
	cfg := Config{
		ServerURL: srv.URL(), Roots: roots, EnrollToken: srv.EnrollToken(), AdminToken: srv.AdminToken(),
		Agents: 10, Duration: 60 * time.Second, FindingsRate: 20, Batch: 5, PingRate: 2, Heartbeat: 500 * time.Millisecond, Workers: 4,
		IdentityFile: filepath.Join(t.TempDir(), "ids.jsonl"), ServerPID: os.Getpid(),
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		rep Report
		err error
	}
	ran := make(chan result, 1)
	go func() { rep, err := Run(ctx, cfg); ran <- result{rep, err} }()
	testutil.Eventually(t, "10 simulated agents connected", func() bool {
		select {
		case r := <-ran:
			t.Fatalf("run ended early: %v %+v", r.err, r.rep)
		default:
		}
		return connected() == 10
	})
	stop()
	<-done
	srv, stop, done = start()
	defer func() { stop(); <-done }()
	testutil.Eventually(t, "the simulated agents back after the restart", func() bool { return connected() == 10 })
	cancel()
	r := <-ran
	if r.err != nil && r.err != context.Canceled {
		t.Logf("run ended with %v", r.err)
	}
	if r.rep.Reconnects < 10 {
		t.Errorf("reconnects %d, want at least 10: %+v", r.rep.Reconnects, r.rep)
	}
}
