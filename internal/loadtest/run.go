package loadtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mamori-dev/mamori/internal/wire"
)

// Config configures a load test.
type Config struct {
	ServerURL   string
	Roots       *x509.CertPool
	EnrollToken string
	// AdminToken enables the round-trip probes (POST
	// /api/v1/hosts/{id}/ping) and the server's own counters (GET
	// /api/v1/stats).
	AdminToken string
	Agents     int
	// FindingsRate is the total findings per second sent by all agents,
	// in batches of Batch.
	FindingsRate float64
	Batch        int
	// Duration is the measured phase, after all agents connected.
	Duration time.Duration
	// PingRate is round-trip probes per second during the measured phase.
	PingRate float64
	// Heartbeat is how often each agent beats; zero takes the interval
	// the server's welcome asks for.
	Heartbeat time.Duration
	// Workers bounds concurrent enrolments and dials.
	Workers int
	// IdentityFile keeps enrolled identities (JSON Lines) across runs;
	// empty means enrol every agent afresh.
	IdentityFile string
	NamePrefix   string
	// SourceAddrs is how many 127.0.0.x source addresses to spread the
	// connections over when the server is on loopback.
	SourceAddrs int
	// ServerPID, when set, is sampled in /proc for RSS and CPU.
	ServerPID int
	Logger    *slog.Logger
}

// Report is what a run measured.
type Report struct {
	Agents         int     `json:"agents"`
	Enrolled       int     `json:"enrolled_this_run"`
	EnrolSeconds   float64 `json:"enrol_seconds"`
	ConnectSeconds float64 `json:"connect_seconds"`
	// Connected is the agents connected at the end of the measured phase
	// as the simulator sees them; ServerConnected as the server does.
	Connected       int     `json:"connected"`
	ConnectFailures int     `json:"connect_failures"`
	ConnectError    string  `json:"connect_error,omitempty"`
	ServerConnected int     `json:"server_connected"`
	Disconnects     int64   `json:"disconnects"`
	Reconnects      int64   `json:"reconnects"`
	Seconds         float64 `json:"seconds"`
	// RTT percentiles: Server* is the server's own measurement from
	// sending the ping command to its acknowledgement; API* is the
	// admin API call as a client sees it.
	Pings          int     `json:"pings"`
	PingErrors     int     `json:"ping_errors"`
	ServerRTTP50ms float64 `json:"server_rtt_p50_ms"`
	ServerRTTP99ms float64 `json:"server_rtt_p99_ms"`
	APIRTTP50ms    float64 `json:"api_rtt_p50_ms"`
	APIRTTP99ms    float64 `json:"api_rtt_p99_ms"`
	FindingsSent   int64   `json:"findings_sent"`
	FindingsAcked  int64   `json:"findings_acked"`
	// FindingsPerSecond is findings the server committed (acknowledged)
	// per second of the measured phase; ServerFindingsPerSecond is its
	// own counter's growth over the same time.
	FindingsPerSecond       float64 `json:"findings_per_second"`
	ServerFindingsPerSecond float64 `json:"server_findings_per_second"`
	ServerRSSMaxMiB         float64 `json:"server_rss_max_mib"`
	ServerCPUPercent        float64 `json:"server_cpu_percent"`
	SimRSSMiB               float64 `json:"simulator_rss_mib"`
}

// Text renders r for a terminal.
func (r Report) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "agents connected:        %d of %d (server sees %d; %d disconnects and %d reconnects during the run)\n", r.Connected, r.Agents, r.ServerConnected, r.Disconnects, r.Reconnects)
	if r.ConnectFailures > 0 {
		fmt.Fprintf(&b, "never connected:         %d (first error: %s)\n", r.ConnectFailures, r.ConnectError)
	}
	fmt.Fprintf(&b, "enrolment:               %d agents in %.1fs; connecting all took %.1fs\n", r.Enrolled, r.EnrolSeconds, r.ConnectSeconds)
	fmt.Fprintf(&b, "measured phase:          %.1fs\n", r.Seconds)
	fmt.Fprintf(&b, "command round trip:      p50 %.1f ms, p99 %.1f ms (server, ping->ack); API call p50 %.1f ms, p99 %.1f ms; %d pings, %d errors\n",
		r.ServerRTTP50ms, r.ServerRTTP99ms, r.APIRTTP50ms, r.APIRTTP99ms, r.Pings, r.PingErrors)
	fmt.Fprintf(&b, "findings:                %d sent, %d acknowledged: %.0f/s (server counter %.0f/s)\n", r.FindingsSent, r.FindingsAcked, r.FindingsPerSecond, r.ServerFindingsPerSecond)
	if r.ServerRSSMaxMiB > 0 {
		fmt.Fprintf(&b, "server:                  RSS max %.0f MiB, CPU %.0f%% of one core\n", r.ServerRSSMaxMiB, r.ServerCPUPercent)
	}
	fmt.Fprintf(&b, "simulator RSS:           %.0f MiB\n", r.SimRSSMiB)
	return b.String()
}

type runner struct {
	cfg   Config
	dial  *dialer
	wsURL string
	log   *slog.Logger
	api   *http.Client
	acked atomic.Int64
	sent  atomic.Int64
	drops atomic.Int64
	// reconnects counts simulated agents back after a disconnect.
	reconnects atomic.Int64
	commands   atomic.Int64
	// beat is the heartbeat interval the server's welcome asked for.
	beat atomic.Int64

	connectFailures int
	connectErr      string

	mu   sync.Mutex
	sims []*sim
	live map[*sim]bool
}

// Run enrols (or loads) cfg.Agents identities, connects them all, then
// measures for cfg.Duration.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.Agents <= 0 {
		return Report{}, fmt.Errorf("loadtest: %d agents", cfg.Agents)
	}
	u, err := url.Parse(cfg.ServerURL)
	if err != nil || u.Scheme != "https" {
		return Report{}, fmt.Errorf("loadtest: server URL %q: want https://HOST:PORT", cfg.ServerURL)
	}
	cfg.ServerURL = strings.TrimSuffix(cfg.ServerURL, "/")
	if cfg.Workers <= 0 {
		cfg.Workers = 64
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 50
	}
	if cfg.NamePrefix == "" {
		cfg.NamePrefix = "sim"
	}
	if cfg.SourceAddrs <= 0 {
		cfg.SourceAddrs = 16
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ws := *u
	ws.Scheme, ws.Path = "wss", wire.WebSocketPath
	r := &runner{cfg: cfg, dial: cfg.dialer(), wsURL: ws.String(), log: cfg.Logger, live: map[*sim]bool{},
		// A few API connections, reused: at 20,000 agents the
		// descriptor limit leaves no room for one per probe.
		api: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: cfg.Roots}, MaxConnsPerHost: 4, MaxIdleConnsPerHost: 4}}}
	var rep Report
	rep.Agents = cfg.Agents

	// Identities.
	t0 := time.Now()
	var ids []*identity
	if cfg.IdentityFile != "" {
		ids, err = readIdentities(cfg.IdentityFile)
		if err != nil {
			return rep, fmt.Errorf("loadtest: %w", err)
		}
	}
	if len(ids) > cfg.Agents {
		ids = ids[:cfg.Agents]
	}
	if missing := cfg.Agents - len(ids); missing > 0 {
		r.log.Info("enrolling", "agents", missing)
		fresh, err := enrolAll(ctx, &cfg, len(ids), missing, cfg.Workers)
		if err != nil {
			return rep, fmt.Errorf("loadtest: %w", err)
		}
		if cfg.IdentityFile != "" {
			if err := appendIdentities(cfg.IdentityFile, fresh); err != nil {
				return rep, fmt.Errorf("loadtest: %w", err)
			}
		}
		ids = append(ids, fresh...)
		rep.Enrolled = missing
	}
	rep.EnrolSeconds = time.Since(t0).Seconds()

	// Connections.
	t1 := time.Now()
	runCtx, stop := context.WithCancel(ctx)
	var readers sync.WaitGroup
	defer func() {
		stop() // first, so that readers know the closing is ours
		r.closeAll()
		readers.Wait()
	}()
	// Heartbeats start with the first connection: connecting thousands
	// takes longer than the server waits for a silent agent.
	readers.Add(1)
	go func() { defer readers.Done(); r.heartbeats(runCtx) }()
	if err := r.connectAll(runCtx, ids, &readers); err != nil {
		return rep, err
	}
	rep.ConnectSeconds = time.Since(t1).Seconds()
	r.log.Info("all agents connected", "agents", len(ids), "seconds", rep.ConnectSeconds)

	// Measured phase.
	before, _ := r.stats(ctx)
	sampler := newSampler(cfg.ServerPID)
	acked0 := r.acked.Load()
	start := time.Now()
	mctx, mstop := context.WithTimeout(runCtx, cfg.Duration)
	defer mstop()
	var wg sync.WaitGroup
	var serverRTT, apiRTT []float64
	var pingErrs int
	wg.Add(2)
	go func() { defer wg.Done(); r.findings(mctx) }()
	go func() { defer wg.Done(); serverRTT, apiRTT, pingErrs = r.pings(mctx) }()
	go sampler.run(mctx)
	wg.Wait()
	elapsed := time.Since(start)
	// Give in-flight batches a moment to be acknowledged.
	deadline := time.Now().Add(5 * time.Second)
	for r.acked.Load() < r.sent.Load() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	after, statsErr := r.stats(ctx)

	rep.Seconds = elapsed.Seconds()
	rep.Connected = r.liveCount()
	rep.ConnectFailures, rep.ConnectError = r.connectFailures, r.connectErr
	rep.Disconnects = r.drops.Load()
	rep.Reconnects = r.reconnects.Load()
	rep.Pings, rep.PingErrors = len(serverRTT), pingErrs
	rep.ServerRTTP50ms, rep.ServerRTTP99ms = percentile(serverRTT, 50), percentile(serverRTT, 99)
	rep.APIRTTP50ms, rep.APIRTTP99ms = percentile(apiRTT, 50), percentile(apiRTT, 99)
	rep.FindingsSent = r.sent.Load()
	rep.FindingsAcked = r.acked.Load() - acked0
	rep.FindingsPerSecond = float64(rep.FindingsAcked) / elapsed.Seconds()
	if statsErr == nil {
		rep.ServerConnected = after.ConnectedAgents
		rep.ServerFindingsPerSecond = float64(after.FindingsIngested-before.FindingsIngested) / elapsed.Seconds()
	}
	rep.ServerRSSMaxMiB, rep.ServerCPUPercent = sampler.result(after.RSSBytes)
	rep.SimRSSMiB = float64(rssSelf()) / (1 << 20)
	return rep, nil
}

// connectAll dials every identity with a pool of workers and starts each
// connection's reader.
func (r *runner) connectAll(ctx context.Context, ids []*identity, readers *sync.WaitGroup) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var failed int
	var errMu sync.Mutex
	for range r.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ids) || ctx.Err() != nil {
					return
				}
				// A refused handshake under load is retried a few
				// times, then counted, not fatal: the report says how
				// many agents never connected, and why.
				var s *sim
				var err error
				for attempt := range 3 {
					if s, err = r.connect(ctx, ids[i]); err == nil || ctx.Err() != nil {
						break
					}
					time.Sleep(time.Duration(attempt+1) * time.Second)
				}
				if err != nil {
					errMu.Lock()
					failed++
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
					continue
				}
				r.mu.Lock()
				r.sims = append(r.sims, s)
				r.live[s] = true
				n := len(r.sims)
				r.mu.Unlock()
				if n%1000 == 0 {
					r.log.Info("connected", "agents", n)
				}
				readers.Add(1)
				go func() {
					defer readers.Done()
					r.keepConnected(ctx, n-1, s)
				}()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		if failed == len(ids) {
			return fmt.Errorf("loadtest: connecting: %w", firstErr)
		}
		r.connectFailures, r.connectErr = failed, firstErr.Error()
		r.log.Warn("some agents could not connect", "failed", failed, "first_error", firstErr)
	}
	return ctx.Err()
}

// keepConnected reads from the simulated agent at slot i and, as a real
// agent does, reconnects with growing, jittered waits when the server goes
// away (a restart of the server under test), until ctx ends.
func (r *runner) keepConnected(ctx context.Context, i int, s *sim) {
	for {
		err := s.readLoop(ctx)
		r.mu.Lock()
		delete(r.live, s)
		r.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		r.drops.Add(1)
		r.log.Warn("simulated agent disconnected", "agent", s.id.Name, "err", err)
		wait := 500 * time.Millisecond
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait/2 + rand.N(wait)):
			}
			next, err := r.connect(ctx, s.id)
			if err == nil {
				s = next
				break
			}
			wait = min(2*wait, 30*time.Second)
		}
		r.reconnects.Add(1)
		r.mu.Lock()
		r.sims[i] = s
		r.live[s] = true
		r.mu.Unlock()
	}
}

func (r *runner) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.sims {
		s.ws.CloseNow()
	}
}

func (r *runner) liveCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.live)
}

// pick returns a random connected agent, or nil.
func (r *runner) pick() *sim {
	r.mu.Lock()
	defer r.mu.Unlock()
	for range 8 {
		s := r.sims[rand.IntN(len(r.sims))]
		if r.live[s] {
			return s
		}
	}
	return nil
}

// heartbeatShards is how many goroutines send heartbeats; one slow write
// then delays only its shard.
const heartbeatShards = 16

// heartbeats keeps every agent beating at the server's interval, spread
// evenly over it, from a few goroutines instead of one timer per agent.
// Agents connected meanwhile join the rotation. The pace is computed from
// elapsed time, so a loaded machine that misses ticks catches up instead of
// beating too slowly (the server drops an agent silent for three beats).
func (r *runner) heartbeats(ctx context.Context) {
	var wg sync.WaitGroup
	for shard := range heartbeatShards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.heartbeatShard(ctx, shard)
		}()
	}
	wg.Wait()
}

func (r *runner) heartbeatShard(ctx context.Context, shard int) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	last := time.Now()
	var owed float64 // beats due and not yet sent
	next := shard
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			beat := r.cfg.Heartbeat
			if beat <= 0 {
				beat = time.Duration(r.beat.Load())
			}
			if beat <= 0 {
				beat = 15 * time.Second
			}
			r.mu.Lock()
			sims := r.sims
			r.mu.Unlock()
			mine := (len(sims) - shard + heartbeatShards - 1) / heartbeatShards
			// Beats owed grow with the time since the last tick (not
			// the tick count), capped at one full round.
			owed = min(owed+now.Sub(last).Seconds()/beat.Seconds()*float64(mine), float64(mine))
			last = now
			for ; owed >= 1; owed-- {
				if next >= len(sims) {
					next = shard
				}
				s := sims[next]
				next += heartbeatShards
				if err := s.heartbeat(ctx); err != nil && ctx.Err() == nil {
					r.log.Debug("heartbeat", "agent", s.id.Name, "err", err)
				}
			}
		}
	}
}

// findings sends batches at the configured rate, round-robin over the
// agents.
func (r *runner) findings(ctx context.Context) {
	if r.cfg.FindingsRate <= 0 {
		return
	}
	start := time.Now()
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	var batches int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		due := int64(time.Since(start).Seconds() * r.cfg.FindingsRate / float64(r.cfg.Batch))
		for ; batches < due; batches++ {
			s := r.pick()
			if s == nil {
				continue
			}
			if err := s.sendFindings(ctx, r.cfg.Batch); err != nil {
				if ctx.Err() == nil {
					r.log.Debug("findings", "agent", s.id.Name, "err", err)
				}
				continue
			}
			r.sent.Add(int64(r.cfg.Batch))
		}
	}
}

// pings probes command round trips through the admin API at PingRate,
// each from its own goroutine so that a slow one does not delay the next.
func (r *runner) pings(ctx context.Context) (server, api []float64, errs int) {
	if r.cfg.AdminToken == "" || r.cfg.PingRate <= 0 {
		return nil, nil, 0
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	t := time.NewTicker(time.Duration(float64(time.Second) / r.cfg.PingRate))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return server, api, errs
		case <-t.C:
		}
		s := r.pick()
		if s == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			var out struct {
				RTTms float64 `json:"rtt_ms"`
			}
			err := r.call(context.WithoutCancel(ctx), http.MethodPost, "/api/v1/hosts/"+s.id.AgentID+"/ping", &out)
			d := time.Since(start)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs++
				r.log.Debug("ping", "agent", s.id.Name, "err", err)
				return
			}
			server = append(server, out.RTTms)
			api = append(api, float64(d.Microseconds())/1000)
		}()
	}
}

// serverStats is the part of GET /api/v1/stats the report uses.
type serverStats struct {
	ConnectedAgents  int   `json:"connected_agents"`
	FindingsIngested int64 `json:"findings_ingested"`
	RSSBytes         int64 `json:"rss_bytes"`
}

func (r *runner) stats(ctx context.Context) (serverStats, error) {
	var s serverStats
	if r.cfg.AdminToken == "" {
		return s, fmt.Errorf("no admin token")
	}
	return s, r.call(ctx, http.MethodGet, "/api/v1/stats", &s)
}

func (r *runner) call(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, r.cfg.ServerURL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.cfg.AdminToken)
	resp, err := r.api.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(b)))
	}
	return json.Unmarshal(b, out)
}

// percentile of xs (nearest rank); 0 for none.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	k := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(k, 0), len(s)-1)]
}

// sampler reads a process's RSS and CPU time from /proc once a second. The
// files are opened once: with tens of thousands of connections open the
// descriptor limit leaves none to spare later.
type sampler struct {
	pid          int
	stat, status *os.File
	mu           sync.Mutex
	maxRSS       int64
	cpu0, cpu1   float64
	t0, t1       time.Time
}

func newSampler(pid int) *sampler {
	s := &sampler{pid: pid}
	if pid <= 0 {
		return s
	}
	var err error
	if s.stat, err = os.Open(fmt.Sprintf("/proc/%d/stat", pid)); err != nil {
		s.pid = 0
		return s
	}
	if s.status, err = os.Open(fmt.Sprintf("/proc/%d/status", pid)); err != nil {
		s.stat.Close()
		s.pid = 0
		return s
	}
	s.cpu0, s.t0 = cpuSeconds(s.stat), time.Now()
	return s
}

func (s *sampler) run(ctx context.Context) {
	if s.pid <= 0 {
		return
	}
	defer s.stat.Close()
	defer s.status.Close()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		rss := rssFrom(s.status)
		cpu := cpuSeconds(s.stat)
		s.mu.Lock()
		s.maxRSS = max(s.maxRSS, rss)
		if cpu > 0 {
			s.cpu1, s.t1 = cpu, time.Now()
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// result is the maximum RSS in MiB (at least fallback bytes, the server's
// own last report) and the average CPU use in percent of one core.
func (s *sampler) result(fallback int64) (rssMiB, cpuPct float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rss := max(s.maxRSS, fallback)
	if s.pid > 0 && s.t1.After(s.t0) {
		cpuPct = 100 * (s.cpu1 - s.cpu0) / s.t1.Sub(s.t0).Seconds()
	}
	return float64(rss) / (1 << 20), cpuPct
}

// readAll re-reads an open /proc file from its start.
func readAll(f *os.File) []byte {
	b := make([]byte, 4096)
	n, err := f.ReadAt(b, 0)
	if err != nil && err != io.EOF {
		return nil
	}
	return b[:n]
}

// rssFrom parses VmRSS from a /proc/<pid>/status file, in bytes.
func rssFrom(f *os.File) int64 {
	for line := range strings.Lines(string(readAll(f))) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			if fs := strings.Fields(v); len(fs) > 0 {
				n, _ := strconv.ParseInt(fs[0], 10, 64)
				return n << 10
			}
		}
	}
	return 0
}

// rssSelf is this process's RSS in bytes.
func rssSelf() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	return rssFrom(f)
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

// cpuSeconds is utime+stime from an open /proc/<pid>/stat, 0 when
// unreadable.
func cpuSeconds(f *os.File) float64 {
	b := readAll(f)
	// Fields after the command name, which may contain spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	fs := strings.Fields(string(b[i+1:]))
	if len(fs) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(fs[11], 64)
	st, _ := strconv.ParseFloat(fs[12], 64)
	return (ut + st) / clockTicks
}
