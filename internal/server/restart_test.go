package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/store/storetest"
	"github.com/mamori-dev/mamori/internal/testutil"
	"github.com/mamori-dev/mamori/internal/wire"
)

// TestMain doubles as the server process of TestKillServerMidSweep: with
// MAMORI_TEST_SERVE_DIR set, the test binary is a server that the test
// kills with SIGKILL.
func TestMain(m *testing.M) {
	if dir := os.Getenv("MAMORI_TEST_SERVE_DIR"); dir != "" {
		os.Exit(serveForTest(dir, os.Getenv("MAMORI_TEST_SERVE_DB")))
	}
	os.Exit(m.Run())
}

// serveForTest serves on the listening socket the parent passed as file
// descriptor 3, so that a restarted server is on the same port without the
// port ever being free for someone else to take.
func serveForTest(dir, dsn string) int {
	ctx := context.Background()
	ln, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s, err := New(ctx, Config{DataDir: dir, DB: dsn, Listen: ln.Addr().String(), Listener: ln, Heartbeat: 30 * time.Second})
	if err == nil {
		err = s.Listen()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(s.URL())
	if err := s.Serve(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startProcess runs the server as a child process and returns a testServer
// pointing at it and the process to kill.
func startProcess(t *testing.T, dir, dsn string, ln *os.File) (*testServer, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MAMORI_TEST_SERVE_DIR="+dir, "MAMORI_TEST_SERVE_DB="+dsn)
	cmd.ExtraFiles = []*os.File{ln}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("server process: %v", err)
	}
	c, err := loadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	enroll := read(enrollTokenFile)
	s := &Server{ca: c, admin: read(adminTokenFile)}
	s.enroll.Store(&enroll)
	ts := &testServer{Server: s, url: strings.TrimSpace(line),
		client: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: c.pool}}}}
	return ts, cmd
}

// TestKillServerMidSweep kills the server with SIGKILL in the middle of a
// sweep. After a restart the sweep resumes: the agent that was running it
// re-sends its unacknowledged batch and finishes, the host that was offline
// at launch gets the sweep when it connects, and no finding is lost or
// stored twice.
func TestKillServerMidSweep(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		dir, ln := t.TempDir(), testutil.ListenerFile(t)
		ts, proc := startProcess(t, dir, dsn, ln)
		a := mustEnroll(t, ts, "a")
		b := mustEnroll(t, ts, "b") // offline during launch
		a.mustConnect(ts)
		var sw struct{ ID string }
		body := map[string]any{"name": "hunt", "yara": `rule hunt { strings: $a = "x" condition: $a }`, "paths": []string{"/srv"}, "hosts": "all", "reason": "webshell"}
		if code := ts.api(t, "POST", "/api/v1/sweeps", body, &sw); code != http.StatusOK {
			t.Fatalf("POST sweep: %d", code)
		}
		got := a.expect(wire.TypeSweep).Sweep
		if got.SweepID != sw.ID || !got.Bundle.Verify() {
			t.Fatalf("agent got sweep %+v", got)
		}
		var view Sweep
		ts.api(t, "GET", "/api/v1/sweeps/"+sw.ID, nil, &view)
		if view.State != "running" || view.Progress != (SweepProgress{0, 2}) {
			t.Errorf("sweep at launch: %s %+v", view.State, view.Progress)
		}
		finding := func(id string) wire.Finding {
			return wire.Finding{ID: id, Type: "yara", Source: wire.SourceSweep, Rule: "hunt", Path: "/srv/" + id, SweepID: sw.ID, SeenAt: time.Now()}
		}
		a.send(&wire.Message{Type: wire.TypeSweepStatus, SweepStatus: &wire.SweepStatus{SweepID: sw.ID, State: wire.SweepRunning, Files: 10}})
		a.sendFindings(1, finding("a1"), finding("a2"))

		if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		proc.Wait()
		if err := a.closed(); err != nil {
			t.Fatalf("after kill -9: %v", err)
		}

		ts, _ = startProcess(t, dir, dsn, ln)
		// The agent still holds a2 and a3 unacknowledged (a2 was acked but
		// the agent may re-send; a3 never reached the server).
		a.sweeps = []string{sw.ID}
		a.mustConnect(ts)
		a.sendFindings(2, finding("a2"), finding("a3"))
		a.send(&wire.Message{Type: wire.TypeSweepStatus, SweepStatus: &wire.SweepStatus{SweepID: sw.ID, State: wire.SweepDone, Files: 20, Findings: 3}})

		b.mustConnect(ts)
		if got := b.expect(wire.TypeSweep).Sweep.SweepID; got != sw.ID {
			t.Fatalf("offline host got sweep %s, want %s", got, sw.ID)
		}
		b.send(&wire.Message{Type: wire.TypeSweepStatus, SweepStatus: &wire.SweepStatus{SweepID: sw.ID, State: wire.SweepRunning}})
		b.sendFindings(1, finding("b1"))
		b.send(&wire.Message{Type: wire.TypeSweepStatus, SweepStatus: &wire.SweepStatus{SweepID: sw.ID, State: wire.SweepDone, Files: 5, Findings: 1}})

		testutil.Eventually(t, "sweep done", func() bool {
			ts.api(t, "GET", "/api/v1/sweeps/"+sw.ID, nil, &view)
			return view.State == "done"
		})
		want := map[string]SweepHost{
			a.id: {HostID: a.id, State: "done", Files: 20, Findings: 3},
			b.id: {HostID: b.id, State: "done", Files: 5, Findings: 1},
		}
		for _, h := range view.Hosts {
			w := want[h.HostID]
			h.UpdatedAt = time.Time{}
			if h != w {
				t.Errorf("host %s: %+v, want %+v", h.HostID, h, w)
			}
		}
		if view.Progress != (SweepProgress{2, 2}) || view.Findings != 4 {
			t.Errorf("sweep progress %+v findings %d, want 2/2 and 4", view.Progress, view.Findings)
		}
		var ds []Detection
		ts.api(t, "GET", "/api/v1/detections?sweep_id="+sw.ID, nil, &ds)
		var paths []string
		for _, d := range ds {
			paths = append(paths, d.Path)
		}
		if strings.Join(paths, " ") != "/srv/a1 /srv/a2 /srv/a3 /srv/b1" {
			t.Errorf("detections after kill -9 and restart: %v, want a1 a2 a3 b1 once each", paths)
		}
	})
}
