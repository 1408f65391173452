package nstest_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/mamori-dev/mamori/internal/contain"
	"github.com/mamori-dev/mamori/internal/contain/nstest"
)

const (
	// autoTag is the rule tag the server is told to isolate on.
	autoTag     = "mamori_e2e_contain"
	gatewayPort = 8443
	otherPort   = 9000 // the second service on the server's side
)

// binDir holds the mamori binary the tests build; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildMamori builds cmd/mamori once per test binary run, unless
// MAMORI_BIN names one already built (CI builds it once for all its tests).
var buildMamori = sync.OnceValues(func() (string, error) {
	if bin := os.Getenv("MAMORI_BIN"); bin != "" {
		// Opened so that a rebuilt binary invalidates a cached result
		// (see readSources).
		f, err := os.Open(bin)
		if err != nil {
			return "", fmt.Errorf("MAMORI_BIN: %w", err)
		}
		f.Close()
		return filepath.Abs(bin)
	}
	dir, err := os.MkdirTemp("", "mamori-e2e-")
	if err != nil {
		return "", err
	}
	binDir = dir
	if err := readSources("../../.."); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "mamori")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/mamori-dev/mamori/cmd/mamori").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/mamori: %v: %s", err, out)
	}
	return bin, nil
})

// readSources opens every Go, SQL and module file of the module at root.
// The go command caches a test's result until a file the test opened
// changes; the binary this test builds depends on all of them, so without
// this a cached pass would outlive changes to the server or agent.
func readSources(root string) error {
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return fmt.Errorf("module root: %w", err)
	}
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".sql", ".mod", ".sum":
			if strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			return f.Close()
		}
		return nil
	})
}

// proc is a mamori process running inside a namespace, its output kept for
// the failure report.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t testing.TB, ns *nstest.NS, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: ns.Command(context.Background(), bin, args...), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.out)
		}
	})
	return p
}

// kill sends SIGKILL, as a crash or `kill -9` would, and waits for the exit.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// fleet is a mamori server in one namespace and an agent in another,
// joined by a veth pair, with a second TCP service beside the server.
type fleet struct {
	server, agent *nstest.NS
	gateway       netip.AddrPort // the server's listen address
	other         string         // the second service's address
	bin           string
	data          string // server data directory
	agentData     string
	scanDir       string // the agent's scan path
	agentProc     *proc
	api           *http.Client
	admin         string
	iso           *contain.NFTables // reads the agent namespace's ruleset
}

// newFleet starts the server listening on serverIP, which picks the address
// family the agent uses.
func newFleet(t testing.TB, serverIP netip.Addr) *fleet {
	t.Helper()
	nstest.Require(t)
	if testing.Short() {
		t.Skip("builds and runs the mamori binary; skipped in -short mode")
	}
	began := time.Now()
	bin, err := buildMamori()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("mamori binary %s ready in %v", bin, time.Since(began).Round(time.Millisecond))
	if missing := missingCommands(t, bin, "server", "agent"); len(missing) > 0 {
		t.Skipf("mamori has no %s command yet; the containment end-to-end scenario needs both", strings.Join(missing, " or "))
	}
	f := &fleet{server: nstest.New(t), agent: nstest.New(t), bin: bin,
		gateway: netip.AddrPortFrom(serverIP, gatewayPort), other: netip.AddrPortFrom(serverIP, otherPort).String(), data: t.TempDir(), agentData: t.TempDir(), scanDir: t.TempDir()}
	nstest.Link(t, f.server, f.agent)
	f.iso = contain.NewNFTables(contain.WithNetNS(f.agent.FD()))
	f.server.Serve(t, f.other)

	start(t, f.server, "mamori server", bin, "server",
		"--data", f.data, "--listen", f.gateway.String(), "--san", serverIP.String(),
		"--heartbeat", "1s", "--auto-isolate-tag", autoTag)
	f.waitFiles(t, "ca.pem", "enroll.token", "admin.token")
	f.admin = strings.TrimSpace(f.read(t, "admin.token"))
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(f.read(t, "ca.pem"))) {
		t.Fatal("ca.pem holds no certificate")
	}
	// The API is only reachable inside the server's namespace, so every
	// connection is dialled from there.
	f.api = &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool},
			DialContext: func(ctx context.Context, network, addr string) (c net.Conn, err error) {
				err = f.server.Do(func() error {
					var d net.Dialer
					c, err = d.DialContext(ctx, network, addr)
					return err
				})
				return c, err
			},
		},
	}
	// The data files exist before the server listens; an answer from the
	// API means it is up and has written them whole.
	waitFor(t, 20*time.Second, "the server's API to answer", func() (bool, error) {
		_, err := f.call(context.Background(), http.MethodGet, "/api/v1/hosts", nil)
		return err == nil, err
	})
	f.startAgent(t)
	return f
}

func missingCommands(t testing.TB, bin string, names ...string) []string {
	t.Helper()
	out, _ := exec.Command(bin, "help").CombinedOutput()
	var missing []string
	for _, n := range names {
		// mamori help lists each command indented by two spaces.
		if !strings.Contains(string(out), "\n  "+n+" ") {
			missing = append(missing, n)
		}
	}
	return missing
}

func (f *fleet) read(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.data, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (f *fleet) waitFiles(t testing.TB, names ...string) {
	t.Helper()
	waitFor(t, 20*time.Second, "server data files "+strings.Join(names, ", "), func() (bool, error) {
		for _, n := range names {
			if fi, err := os.Stat(filepath.Join(f.data, n)); err != nil || fi.Size() == 0 {
				return false, nil
			}
		}
		return true, nil
	})
}

func (f *fleet) startAgent(t testing.TB) {
	t.Helper()
	f.agentProc = start(t, f.agent, "mamori agent", f.bin, "agent",
		"--server", "https://"+f.gateway.String(),
		"--ca", filepath.Join(f.data, "ca.pem"),
		"--enroll-token", strings.TrimSpace(f.read(t, "enroll.token")),
		"--data", f.agentData, "--name", "contained", "--scan-path", f.scanDir)
}

// host is the part of GET /api/v1/hosts this test reads.
type host struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Online    bool      `json:"online"`
	LastSeen  time.Time `json:"last_seen"`
	Isolation string    `json:"isolation"`
	// IsolationError is why isolation failed.
	IsolationError  string `json:"isolation_error"`
	IsolationReason string `json:"isolation_reason"`
	BundleVersion   int64  `json:"bundle_version"`
}

func (f *fleet) call(ctx context.Context, method, path string, body any) ([]byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "https://"+f.gateway.String()+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+f.admin)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.api.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	return b, nil
}

func (f *fleet) host(ctx context.Context, name string) (host, error) {
	b, err := f.call(ctx, http.MethodGet, "/api/v1/hosts", nil)
	if err != nil {
		return host{}, err
	}
	var hosts []host
	if err := json.Unmarshal(b, &hosts); err != nil {
		return host{}, fmt.Errorf("GET /api/v1/hosts: %w: %s", err, b)
	}
	for _, h := range hosts {
		if h.Name == name {
			return h, nil
		}
	}
	return host{}, nil
}

// waitHost polls the hosts API until ok accepts the agent's host.
func (f *fleet) waitHost(t testing.TB, d time.Duration, what string, ok func(host) bool) host {
	t.Helper()
	var h host
	waitFor(t, d, what, func() (bool, error) {
		var err error
		h, err = f.host(context.Background(), "contained")
		return err == nil && h.ID != "" && ok(h), err
	})
	return h
}

// waitFor polls cond every 20 ms until it holds, failing t after d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	poll(t, d, 20*time.Millisecond, what, cond)
}

func poll(t testing.TB, d, every time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(d)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		lastErr = err
		time.Sleep(every)
	}
	t.Fatalf("timed out after %v waiting for %s (last error: %v)", d, what, lastErr)
}

// waitActive polls the agent namespace's ruleset until mamori's table is
// in force (or gone, for want false) and returns how long that took.
func (f *fleet) waitActive(t testing.TB, want bool, since time.Time) time.Duration {
	t.Helper()
	// Millisecond polling: this is what the latency figures measure.
	poll(t, 20*time.Second, time.Millisecond, fmt.Sprintf("mamori table active = %v in the agent namespace", want), func() (bool, error) {
		active, err := f.iso.Active(context.Background())
		return err == nil && active == want, err
	})
	return time.Since(since)
}

func (f *fleet) reach(t testing.TB, phase string, want bool) {
	t.Helper()
	timeout := 500 * time.Millisecond
	if want {
		timeout = 5 * time.Second
	}
	err := f.agent.Reach(context.Background(), f.other, timeout)
	if want != (err == nil) {
		t.Fatalf("%s: agent namespace reaching the second service %s: err = %v, want reachable = %v", phase, f.other, err, want)
	}
}

// TestContainment is the scenario, driven through the API of the
// real mamori server and agent, preceded by an isolation the agent must
// roll back. One test, because each fleet costs a build-free but slow
// start (CA, enrolment) on a loaded machine.
func TestContainment(t *testing.T) {
	ctx := context.Background()
	f := newFleet(t, nstest.ServerV4)

	began := time.Now()
	h := f.waitHost(t, 30*time.Second, "the agent to enrol and show online", func(h host) bool { return h.Online })
	t.Logf("agent enrolled and online after %v", time.Since(began).Round(time.Millisecond))
	if h.Isolation != "none" {
		t.Fatalf("isolation of a new host = %q, want none", h.Isolation)
	}
	f.reach(t, "before isolation", true)

	// Isolation that would cut the agent off from the server is rolled
	// back, and the server shows "failed" with the reason.
	removeFirewall := f.siteFirewall(t)
	f.post(t, "/api/v1/hosts/"+h.ID+"/isolate", "e2e: doomed")
	failed := f.waitHost(t, 30*time.Second, "isolation = failed", func(h host) bool { return h.Isolation == "failed" })
	if failed.IsolationError == "" {
		t.Errorf("failed isolation has no isolation_error")
	}
	t.Logf("isolation failed as it should: %s", failed.IsolationError)
	if active, err := f.iso.Active(context.Background()); err != nil || active {
		t.Fatalf("after failed isolation: mamori table active = %v, %v; want rolled back", active, err)
	}
	f.reach(t, "isolation rolled back", true)
	if h := f.waitHost(t, 5*time.Second, "host", func(host) bool { return true }); !h.Online {
		t.Errorf("host offline after rolled-back isolation")
	}
	removeFirewall()

	const isolateReason, releaseReason = "e2e: suspected compromise", "e2e: all clear"
	start := time.Now()
	if got := f.post(t, "/api/v1/hosts/"+h.ID+"/isolate", isolateReason); got.Isolation != "requested" {
		t.Errorf("isolation in the isolate call's answer = %q, want requested", got.Isolation)
	}
	took := f.waitActive(t, true, start)
	f.waitHost(t, 20*time.Second, "isolation = isolated", func(h host) bool { return h.Isolation == "isolated" })
	t.Logf("isolate call to rules active: %v; to isolated in the API: %v", took, time.Since(start))
	f.reach(t, "isolated", false)

	// Heartbeats still flow through the isolation: last_seen advances and
	// the host stays online.
	before := f.waitHost(t, 5*time.Second, "isolated host", func(host) bool { return true })
	after := f.waitHost(t, 20*time.Second, "last_seen to advance while isolated", func(h host) bool {
		return h.Online && h.LastSeen.After(before.LastSeen)
	})
	t.Logf("isolated, online, last_seen %v -> %v", before.LastSeen.Format(time.StampMilli), after.LastSeen.Format(time.StampMilli))

	// A crashed agent leaves the host isolated, and restarted it keeps it
	// so and reconnects through the isolation. A reboot also wipes the
	// kernel's ruleset, so the second round drops the table as a reboot
	// would: the restarted agent must isolate again from its stored state.
	for _, round := range []struct {
		name string
		wipe bool
	}{{"agent restart", false}, {"reboot", true}} {
		f.agentProc.kill()
		killedAt := time.Now()
		if active, err := f.iso.Active(ctx); err != nil || !active {
			t.Fatalf("%s: after kill -9 of the agent: mamori table active = %v, %v; want true", round.name, active, err)
		}
		f.reach(t, round.name+": agent killed", false)
		if round.wipe {
			if err := f.iso.Release(ctx); err != nil {
				t.Fatal(err)
			}
			f.reach(t, round.name+": rules wiped", true)
		}
		f.startAgent(t)
		f.waitActive(t, true, time.Now())
		f.reach(t, round.name+": agent restarted", false)
		f.waitHost(t, 30*time.Second, round.name+": the restarted agent to reconnect", func(h host) bool {
			return h.Online && h.LastSeen.After(killedAt)
		})
		if h := f.waitHost(t, 5*time.Second, "host", func(host) bool { return true }); h.Isolation != "isolated" {
			t.Fatalf("%s: isolation after agent restart = %q, want isolated", round.name, h.Isolation)
		}
		if active, err := f.iso.Active(ctx); err != nil || !active {
			t.Fatalf("%s: after the agent reconnected: mamori table active = %v, %v; want true", round.name, active, err)
		}
	}

	start = time.Now()
	if got := f.post(t, "/api/v1/hosts/"+h.ID+"/release", releaseReason); got.Isolation != "release_requested" {
		t.Errorf("isolation in the release call's answer = %q, want release_requested", got.Isolation)
	}
	took = f.waitActive(t, false, start)
	f.waitHost(t, 20*time.Second, "isolation = none", func(h host) bool { return h.Isolation == "none" })
	t.Logf("release call to rules gone: %v; to none in the API: %v", took, time.Since(start))
	f.reach(t, "released", true)
	if h := f.waitHost(t, 5*time.Second, "host", func(host) bool { return true }); !h.Online {
		t.Errorf("host offline after release")
	}

	// The automatic policy: a detection by a rule carrying the chosen tag
	// isolates the host without anyone calling isolate.
	const marker = "mamori e2e: contain me"
	if err := os.WriteFile(filepath.Join(f.scanDir, "implant.bin"), []byte("xx "+marker+" xx"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := f.call(ctx, http.MethodPost, "/api/v1/rules", map[string]any{
		"name":   "e2e auto-isolation",
		"yara":   "rule E2EContainMe : " + autoTag + " { strings: $m = \"" + marker + "\" condition: $m }",
		"hashes": []string{},
	})
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct{ Version int64 }
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatalf("POST /api/v1/rules: %v: %s", err, b)
	}
	f.waitHost(t, 30*time.Second, fmt.Sprintf("the agent to load rule bundle %d", bundle.Version), func(h host) bool {
		return h.BundleVersion == bundle.Version
	})
	start = time.Now()
	if _, err := f.call(ctx, http.MethodPost, "/api/v1/hosts/"+h.ID+"/scan", nil); err != nil {
		t.Fatal(err)
	}
	auto := f.waitHost(t, 60*time.Second, "automatic isolation after the tagged detection", func(h host) bool {
		return h.Isolation == "isolated"
	})
	f.waitActive(t, true, start)
	t.Logf("scan call to automatic isolation: %v (reason %q)", time.Since(start), auto.IsolationReason)
	if !strings.Contains(auto.IsolationReason, autoTag) {
		t.Errorf("automatic isolation reason %q does not name the tag %s", auto.IsolationReason, autoTag)
	}
	f.reach(t, "automatically isolated", false)

	// Released while its agent is down, the host is not stranded: the
	// restarted agent re-applies isolation from its state, then learns of
	// the release on reconnecting and lifts it.
	f.agentProc.kill()
	if got := f.post(t, "/api/v1/hosts/"+h.ID+"/release", releaseReason); got.Isolation != "release_requested" {
		t.Errorf("isolation in the answer to releasing an offline host = %q, want release_requested", got.Isolation)
	}
	f.reach(t, "released while the agent is down", false)
	f.startAgent(t)
	f.waitHost(t, 30*time.Second, "isolation = none after the restarted agent reconnects", func(h host) bool {
		return h.Online && h.Isolation == "none"
	})
	f.waitActive(t, false, time.Now())
	f.reach(t, "released after the agent came back", true)

	// Who, when and why of both actions is in the audit trail.
	b, err = f.call(ctx, http.MethodGet, "/api/v1/audit?target="+h.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	var audit []struct {
		At                    time.Time `json:"time"`
		Actor, Action, Reason string
	}
	if err := json.Unmarshal(b, &audit); err != nil {
		t.Fatalf("GET /api/v1/audit: %v: %s", err, b)
	}
	for _, reason := range []string{isolateReason, releaseReason, auto.IsolationReason} {
		found := false
		for _, a := range audit {
			if a.Reason == reason && a.Actor != "" && !a.At.IsZero() && a.Action != "" {
				found = true
			}
		}
		if !found {
			t.Errorf("audit trail for host %s has no entry with actor, time and reason %q:\n%s", h.ID, reason, b)
		}
	}
}

// TestContainmentIPv6 is the core of the scenario with the agent reaching
// the server over IPv6: isolate, heartbeats through, release.
func TestContainmentIPv6(t *testing.T) {
	f := newFleet(t, nstest.ServerV6)
	h := f.waitHost(t, 30*time.Second, "the agent to enrol over IPv6 and show online", func(h host) bool { return h.Online })
	f.reach(t, "before isolation", true)

	start := time.Now()
	f.post(t, "/api/v1/hosts/"+h.ID+"/isolate", "e2e: IPv6")
	took := f.waitActive(t, true, start)
	isolated := f.waitHost(t, 20*time.Second, "isolation = isolated", func(h host) bool { return h.Isolation == "isolated" })
	t.Logf("isolate call to rules active: %v", took)
	f.reach(t, "isolated", false)
	f.waitHost(t, 20*time.Second, "last_seen to advance while isolated", func(h host) bool {
		return h.Online && h.LastSeen.After(isolated.LastSeen)
	})

	f.post(t, "/api/v1/hosts/"+h.ID+"/release", "e2e: IPv6 all clear")
	f.waitActive(t, false, time.Now())
	f.waitHost(t, 20*time.Second, "isolation = none", func(h host) bool { return h.Isolation == "none" })
	f.reach(t, "released", true)
}

// post calls an isolate or release endpoint with a reason and returns the
// host it answers with.
func (f *fleet) post(t testing.TB, path, reason string) host {
	t.Helper()
	b, err := f.call(context.Background(), http.MethodPost, path, map[string]string{"reason": reason})
	if err != nil {
		t.Fatal(err)
	}
	var h host
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("POST %s: %v: %s", path, err, b)
	}
	return h
}

// BenchmarkAPIIsolateRelease times, per cycle, from the isolate API call
// to mamori's table being in force in the agent's namespace, and from the
// release call to the table being gone. Run the 50 cycles with
// -benchtime 50x.
func BenchmarkAPIIsolateRelease(b *testing.B) {
	f := newFleet(b, nstest.ServerV4)
	h := f.waitHost(b, 30*time.Second, "the agent to enrol and show online", func(h host) bool { return h.Online })
	// rules: API call to the table in force (or gone); api: API call to
	// the hosts API showing the agent's report (isolated after its probe
	// of the server, or none).
	var isolateRules, isolateAPI, releaseRules, releaseAPI []time.Duration
	for b.Loop() {
		start := time.Now()
		f.post(b, "/api/v1/hosts/"+h.ID+"/isolate", "benchmark")
		isolateRules = append(isolateRules, f.waitActive(b, true, start))
		f.waitHost(b, 20*time.Second, "isolation = isolated", func(h host) bool { return h.Isolation == "isolated" })
		isolateAPI = append(isolateAPI, time.Since(start))

		start = time.Now()
		f.post(b, "/api/v1/hosts/"+h.ID+"/release", "benchmark")
		releaseRules = append(releaseRules, f.waitActive(b, false, start))
		f.waitHost(b, 20*time.Second, "isolation = none", func(h host) bool { return h.Isolation == "none" })
		releaseAPI = append(releaseAPI, time.Since(start))
	}
	nstest.ReportPercentiles(b, "isolate-rules", isolateRules)
	nstest.ReportPercentiles(b, "isolate-api", isolateAPI)
	nstest.ReportPercentiles(b, "release-rules", releaseRules)
	nstest.ReportPercentiles(b, "release-api", releaseAPI)
}

// siteFirewall adds a table of the host's own to the agent's namespace that
// refuses new connections to the gateway port; the agent's established
// WebSocket survives it, but the agent's post-isolation probe does not. It
// returns a function removing the table.
func (f *fleet) siteFirewall(t testing.TB) (remove func()) {
	t.Helper()
	c, err := nftables.New(nftables.WithNetNSFd(f.agent.FD()))
	if err != nil {
		t.Fatal(err)
	}
	site := c.AddTable(&nftables.Table{Name: "site", Family: nftables.TableFamilyINet})
	accept := nftables.ChainPolicyAccept
	out := c.AddChain(&nftables.Chain{
		Name: "output", Table: site, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityFilter, Policy: &accept,
	})
	c.AddRule(&nftables.Rule{Table: site, Chain: out, Exprs: []expr.Any{
		// meta l4proto tcp th dport 8443 ct state new drop
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binary.BigEndian.AppendUint16(nil, gatewayPort)},
		&expr.Ct{Key: expr.CtKeySTATE, Register: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(expr.CtStateBitNEW), Xor: binaryutil.NativeEndian.PutUint32(0)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(0)},
		&expr.Verdict{Kind: expr.VerdictDrop},
	}})
	if err := c.Flush(); err != nil {
		t.Fatalf("add site firewall: %v", err)
	}

	return func() {
		t.Helper()
		c.DelTable(site)
		if err := c.Flush(); err != nil {
			t.Fatalf("remove site firewall: %v", err)
		}
	}
}
