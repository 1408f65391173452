package agent

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/server"
	"github.com/mamori-dev/mamori/internal/testutil"
	"github.com/mamori-dev/mamori/internal/wire"
)

// The test binary doubles as a server process that a test can kill -9:
// with these variables set it serves instead of running tests.
const (
	envServerDir = "MAMORI_AGENT_TEST_SERVER_DIR"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(envAgent); spec != "" {
		if err := runChildAgent(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if dir := os.Getenv(envServerDir); dir != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		// The parent passes the listening socket as descriptor 3, so
		// that a restarted server keeps the port.
		ln, err := net.FileListener(os.NewFile(3, "listener"))
		var srv *server.Server
		if err == nil {
			srv, err = server.New(ctx, server.Config{DataDir: dir, Listen: ln.Addr().String(), Listener: ln, Heartbeat: time.Second})
		}
		if err == nil {
			err = srv.Listen()
		}
		if err == nil {
			err = srv.Serve(ctx)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serverProcess starts the test binary as a server in dir on the socket
// ln and waits until it answers.
func serverProcess(t *testing.T, dir string, ln *os.File, listen string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envServerDir+"="+dir)
	cmd.ExtraFiles = []*os.File{ln}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// The socket accepts connections before the server is up; a finished
	// TLS handshake says the server process answers. Its identity is
	// checked by the test's own clients.
	testutil.Eventually(t, "server process answering", func() bool {
		d := &net.Dialer{Timeout: time.Second}
		c, err := tls.DialWithDialer(d, "tcp", listen, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	return cmd
}

// TestServerKilledMidSweep kills the server with SIGKILL while a sweep
// runs on an agent: after a restart the sweep completes and every finding
// is on the server exactly once.
func TestServerKilledMidSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end fleet test")
	}
	root := t.TempDir()
	dir := filepath.Join(root, "server")
	ln := testutil.ListenerFile(t)
	l := testutil.Listener(t, ln)
	listen := l.Addr().String()
	l.Close()
	proc := serverProcess(t, dir, ln, listen)

	roots, err := LoadCA(filepath.Join(dir, "ca.pem"))
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
	f := &fleet{t: t, url: "https://" + listen, roots: roots, admin: read("admin.token"), enroll: read("enroll.token"),
		api: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}}

	scan := filepath.Join(root, "tree")
	const files, every = 20000, 20
	for i := range files {
		sub := filepath.Join(scan, fmt.Sprintf("d%02d", i%50))
		if i < 50 {
			os.MkdirAll(sub, 0o755)
		}
		content := fmt.Sprintf("benign file %d\n", i)
		if i%every == 0 {
			content = fmt.Sprintf("KILL9-SWEEP-MARKER %d\n", i)
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%05d", i)), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a := startAgent(t, f, "k9", filepath.Join(root, "agent"), filepath.Join(root, "empty"))
	testutil.Eventually(t, "agent online", func() bool { return f.hosts()["k9"].Online })

	var sw struct {
		ID string `json:"id"`
	}
	rule := `rule kill9 { strings: $a = "KILL9-SWEEP-MARKER" condition: $a }`
	f.call("POST", "/sweeps", map[string]any{"name": "k9", "yara": rule, "paths": []string{scan}, "hosts": "all", "reason": "kill -9 test"}, &sw)
	testutil.Eventually(t, "sweep running on the agent", func() bool {
		rows, err := a.a.st.Sweeps(context.Background(), time.Now())
		return err == nil && len(rows) == 1 && rows[0].status.State != wire.SweepQueued
	})
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	proc.Wait()
	rows, _ := a.a.st.Sweeps(context.Background(), time.Now())
	t.Logf("server killed with the sweep %s on the agent", rows[0].status.State)
	// The agent notices the server is gone (and queues what it finds)
	// before the server comes back.
	testutil.Eventually(t, "agent disconnected", func() bool {
		a.a.mu.Lock()
		defer a.a.mu.Unlock()
		return a.a.conn == nil
	})
	serverProcess(t, dir, ln, listen)

	var got struct {
		State string `json:"state"`
	}
	testutil.Eventually(t, "sweep done after the restart", func() bool {
		f.call("GET", "/sweeps/"+sw.ID, nil, &got)
		return got.State == "done"
	})
	var ds []detectionView
	f.call("GET", "/detections?limit=100000&sweep_id="+sw.ID, nil, &ds)
	paths := map[string]int{}
	for _, d := range ds {
		paths[d.Path]++
	}
	if len(ds) != files/every || len(paths) != files/every {
		t.Errorf("%d detections on %d paths, want %d, each once", len(ds), len(paths), files/every)
	}
}
