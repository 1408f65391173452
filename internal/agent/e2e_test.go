package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/server"
	"github.com/mamori-dev/mamori/internal/testutil"
	"github.com/mamori-dev/mamori/internal/wire"
)

// fleet is a real server and real agents in this process, on loopback with
// real TLS.
type fleet struct {
	t       *testing.T
	dataDir string
	ln      *os.File
	srv     *server.Server
	stop    context.CancelFunc
	done    chan error
	roots   *x509.CertPool
	api     *http.Client
	url     string
	admin   string
	enroll  string
}

// startServer starts a server in dataDir listening on the socket ln (from
// testutil.ListenerFile), so that a restart keeps the port.
func startServer(t *testing.T, dataDir string, ln *os.File) *fleet {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := testutil.Listener(t, ln)
	srv, err := server.New(ctx, server.Config{DataDir: dataDir, Listen: l.Addr().String(), Listener: l, Heartbeat: time.Second})
	if err == nil {
		err = srv.Listen()
	}
	if err != nil {
		l.Close()
		cancel()
		t.Fatal(err)
	}
	f := &fleet{t: t, dataDir: dataDir, srv: srv, stop: cancel, done: make(chan error, 1), url: srv.URL(), admin: srv.AdminToken(), enroll: srv.EnrollToken()}
	f.ln = ln
	f.roots = x509.NewCertPool()
	f.roots.AppendCertsFromPEM(srv.CAPEM())
	f.api = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.roots}}}
	go func() { f.done <- srv.Serve(ctx) }()
	t.Cleanup(f.shutdown)
	return f
}

func (f *fleet) shutdown() {
	if f.stop == nil {
		return
	}
	f.stop()
	if err := <-f.done; err != nil {
		f.t.Errorf("server: %v", err)
	}
	f.stop = nil
}

// call sends an admin API request and decodes the JSON answer into out.
func (f *fleet) call(method, path string, body, out any) {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.url+"/api/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer "+f.admin)
	resp, err := f.api.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		f.t.Fatalf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			f.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

type hostView struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Online     bool   `json:"online"`
	Monitoring string `json:"monitoring"`
	Reported   string `json:"monitoring_reported"`
	Bundle     int64  `json:"bundle_version"`
	Isolation  string `json:"isolation"`
}

type detectionView struct {
	HostID string `json:"host_id"`
	Type   string `json:"type"`
	Source string `json:"source"`
	Rule   string `json:"rule"`
	Path   string `json:"path"`
	Sweep  string `json:"sweep_id"`
}

func (f *fleet) hosts() map[string]hostView {
	var hs []hostView
	f.call("GET", "/hosts", nil, &hs)
	out := map[string]hostView{}
	for _, h := range hs {
		out[h.Name] = h
	}
	return out
}

func (f *fleet) detections() []detectionView {
	var ds []detectionView
	f.call("GET", "/detections?limit=10000", nil, &ds)
	return ds
}

type testAgent struct {
	a      *Agent
	cancel context.CancelFunc
	done   chan struct{}
	err    error // Run's, once done is closed
	scan   string
}

func startAgent(t *testing.T, f *fleet, name, dataDir, scanDir string) *testAgent {
	return startAgentWith(t, f, name, dataDir, scanDir, nil)
}

func startAgentWith(t *testing.T, f *fleet, name, dataDir, scanDir string, iso Isolator) *testAgent {
	return startAgentLogged(t, f, name, dataDir, scanDir, iso, slog.New(slog.DiscardHandler))
}

func startAgentLogged(t *testing.T, f *fleet, name, dataDir, scanDir string, iso Isolator, log *slog.Logger) *testAgent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := New(ctx, Config{
		ServerURL: f.url, Roots: f.roots, EnrollToken: f.enroll, DataDir: dataDir, Name: name,
		ScanPaths: []string{scanDir}, Logger: log, Isolator: iso,
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	// Collectors look at empty trees: their own tests cover the live
	// host, and here they would only add noise and time.
	a.procRoot, a.fsRoot = t.TempDir(), t.TempDir()
	ta := &testAgent{a: a, cancel: cancel, done: make(chan struct{}), scan: scanDir}
	go func() {
		defer close(ta.done)
		ta.err = a.Run(ctx)
	}()
	t.Cleanup(ta.stop)
	return ta
}

// stop ends the agent as a kill would, as far as the host is concerned:
// nothing is released on the way out.
func (ta *testAgent) stop() {
	if ta.cancel == nil {
		return
	}
	ta.cancel()
	<-ta.done
	ta.a.Close()
	ta.cancel = nil
}

func plant(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFleetEndToEnd runs the reviewer's scenario: a server and two agents on
// loopback; a planted file matching a published rule shows up as a
// detection; a sweep over both hosts completes with per-host results;
// heightened monitoring shows in /hosts; findings made while the server is
// down are delivered exactly once after it comes back.
func TestFleetEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end fleet test")
	}
	root := t.TempDir()
	srvDir := filepath.Join(root, "server")
	f := startServer(t, srvDir, testutil.ListenerFile(t))
	scanRoot := filepath.Join(root, "hosts")
	scan1, scan2 := filepath.Join(scanRoot, "one"), filepath.Join(scanRoot, "two")
	for _, d := range []string{scan1, scan2} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	a1 := startAgent(t, f, "one", filepath.Join(root, "agent1"), scan1)
	a2 := startAgent(t, f, "two", filepath.Join(root, "agent2"), scan2)
	testutil.Eventually(t, "both agents online", func() bool {
		h := f.hosts()
		return h["one"].Online && h["two"].Online
	})

	// A bundle with a YARA rule and a hash; a file already present on
	// host two matches the hash and is found by the scan the new bundle
	// triggers.
	hashed := "hash-matched content\n"
	sum := sha256.Sum256([]byte(hashed))
	plant(t, filepath.Join(scan2, "hashed.bin"), hashed)
	rule := `rule e2e_marker { strings: $a = "E2E-PLANTED-MARKER" condition: $a }`
	f.call("POST", "/rules", map[string]any{"name": "e2e", "yara": rule, "hashes": []string{hex.EncodeToString(sum[:])}}, nil)
	testutil.Eventually(t, "both agents on bundle 1", func() bool {
		h := f.hosts()
		return h["one"].Bundle == 1 && h["two"].Bundle == 1
	})
	testutil.Eventually(t, "hash detection on host two", func() bool {
		for _, d := range f.detections() {
			if d.HostID == a2.a.ID() && d.Type == "ioc" && d.Path == filepath.Join(scan2, "hashed.bin") {
				return true
			}
		}
		return false
	})

	// Heightened monitoring on host one: a file planted there is found
	// by the watcher, with no scan scheduled.
	f.call("PUT", "/hosts/"+a1.a.ID()+"/monitoring", map[string]string{"level": "heightened", "reason": "e2e incident"}, nil)
	testutil.Eventually(t, "heightened monitoring reported by host one", func() bool {
		h := f.hosts()["one"]
		return h.Monitoring == wire.MonitoringHeightened && h.Reported == wire.MonitoringHeightened
	})
	// The watcher starts right after the level is reported, and a file
	// written before its watches are in place is not an event: on a
	// loaded machine, write it again every second until it is seen.
	planted := filepath.Join(scan1, "planted.txt")
	plant(t, planted, "xx E2E-PLANTED-MARKER xx\n")
	lastWrite := time.Now()
	testutil.Eventually(t, "live detection of the planted file", func() bool {
		if time.Since(lastWrite) > time.Second {
			plant(t, planted, "xx E2E-PLANTED-MARKER xx\n")
			lastWrite = time.Now()
		}
		for _, d := range f.detections() {
			if d.Path == planted && d.Type == "yara" && d.Rule == "e2e_marker" && d.Source == wire.SourceLive {
				return true
			}
		}
		return false
	})

	// A sweep over both hosts.
	plant(t, filepath.Join(scan2, "sweep-target.txt"), "E2E-PLANTED-MARKER\n")
	var sw struct {
		ID string `json:"id"`
	}
	f.call("POST", "/sweeps", map[string]any{"name": "hunt", "yara": rule, "paths": []string{scanRoot}, "hosts": "all", "reason": "e2e hunt"}, &sw)
	type sweepHost struct {
		HostID   string `json:"host_id"`
		State    string `json:"state"`
		Findings int    `json:"findings"`
	}
	var got struct {
		State    string `json:"state"`
		Progress struct {
			Done, Total int
		} `json:"progress"`
		Hosts []sweepHost `json:"hosts"`
	}
	testutil.Eventually(t, "sweep done", func() bool {
		f.call("GET", "/sweeps/"+sw.ID, nil, &got)
		return got.State == "done"
	})
	sort.Slice(got.Hosts, func(i, j int) bool { return got.Hosts[i].HostID < got.Hosts[j].HostID })
	// Both hosts see both planted marker files (the scan root holds
	// both hosts' directories).
	want := []sweepHost{{a1.a.ID(), "done", 2}, {a2.a.ID(), "done", 2}}
	sort.Slice(want, func(i, j int) bool { return want[i].HostID < want[j].HostID })
	if d := cmp.Diff(got.Hosts, want); d != "" {
		t.Errorf("sweep hosts (-got +want):\n%s", d)
	}
	if got.Progress.Done != 2 || got.Progress.Total != 2 {
		t.Errorf("sweep progress %+v, want 2 of 2", got.Progress)
	}

	// Server down: findings made meanwhile wait in the agent's queue and
	// arrive once, and only once, after the restart.
	f.shutdown()
	var offline []string
	for i := range 5 {
		p := filepath.Join(scan1, fmt.Sprintf("offline-%d.txt", i))
		plant(t, p, fmt.Sprintf("E2E-PLANTED-MARKER %d\n", i))
		offline = append(offline, p)
	}
	testutil.Eventually(t, "offline findings queued", func() bool {
		n, err := a1.a.st.Len(context.Background())
		return err == nil && n >= len(offline)
	})
	f2 := startServer(t, srvDir, f.ln)
	counts := func() map[string]int {
		c := map[string]int{}
		for _, d := range f2.detections() {
			if d.Source == wire.SourceLive {
				c[d.Path]++
			}
		}
		return c
	}
	testutil.Eventually(t, "offline findings delivered", func() bool {
		c := counts()
		for _, p := range offline {
			if c[p] == 0 {
				return false
			}
		}
		return true
	})
	testutil.Eventually(t, "queue drained", func() bool {
		n, err := a1.a.st.Len(context.Background())
		return err == nil && n == 0
	})
	c := counts()
	for _, p := range append(offline, planted) {
		if c[p] != 1 {
			t.Errorf("%s: %d live detections, want exactly 1", p, c[p])
		}
	}
	testutil.Eventually(t, "both hosts back online", func() bool {
		h := f2.hosts()
		return h["one"].Online && h["two"].Online
	})
}

// TestRevokedAgentCannotReconnect: once revoked, the agent's certificate
// is refused and the host stays offline.
func TestRevokedAgentCannotReconnect(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end fleet test")
	}
	root := t.TempDir()
	f := startServer(t, filepath.Join(root, "server"), testutil.ListenerFile(t))
	scan := filepath.Join(root, "scan")
	os.MkdirAll(scan, 0o755)
	a := startAgent(t, f, "victim", filepath.Join(root, "agent"), scan)
	testutil.Eventually(t, "agent online", func() bool { return f.hosts()["victim"].Online })
	f.call("POST", "/hosts/"+a.a.ID()+"/revoke", map[string]string{"reason": "stolen laptop"}, nil)
	testutil.Eventually(t, "agent offline", func() bool { return !f.hosts()["victim"].Online })
	// Its next attempt is refused, and the agent stops saying why rather
	// than retrying for ever.
	select {
	case <-a.done:
	case <-time.After(testutil.EventuallyTimeout):
		t.Fatal("revoked agent still running")
	}
	if !errors.Is(a.err, ErrRevoked) {
		t.Errorf("revoked agent stopped with %v, want ErrRevoked", a.err)
	}
	if f.hosts()["victim"].Online {
		t.Error("revoked agent is online again")
	}
	// A fresh TLS handshake with its certificate is refused at the
	// WebSocket, with a clear status.
	c, resp, err := dialWS(context.Background(), a.a)
	if err == nil {
		c.CloseNow()
		t.Fatal("revoked agent's WebSocket dial succeeded")
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("dial: %v (response %v), want 403", err, resp)
	}
}
