package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/wire"
)

// Version is the agent version reported in the inventory.
const Version = "0.1.0"

// Defaults for Config's zero values.
const (
	DefaultScanInterval           = time.Hour
	DefaultHeightenedScanInterval = 5 * time.Minute
	DefaultCollectInterval        = 10 * time.Second
	defaultHeartbeat              = 15 * time.Second
	// ackTimeout bounds how long a findings batch may wait for its Ack
	// before the connection is considered broken and re-established.
	ackTimeout = time.Minute
	// batchSize stays well under wire.MaxFindingsPerBatch: findings carry
	// their record as detail, and small batches commit quickly.
	batchSize = 250
	// sendWindow is how many batches may be unacknowledged at once.
	sendWindow = 4
	// batchBytes bounds the findings of one batch by their encoded size,
	// leaving room under wire.MaxMessageBytes for the message around
	// them: a few hundred personal-data results of 500 KiB each would
	// not fit one message.
	batchBytes = wire.MaxMessageBytes - 64<<10
)

// Config configures an Agent.
type Config struct {
	// ServerURL is the server's base URL, https://HOST:PORT.
	ServerURL string
	// Roots verify the server's certificate (the fleet CA from --ca).
	Roots *x509.CertPool
	// EnrollToken is needed only for the first start; later starts reuse
	// the identity in DataDir.
	EnrollToken string
	DataDir     string
	Name        string
	Labels      map[string]string
	ScanPaths   []string
	// LogPaths are the logs (globs) incident collections read; nil means
	// DefaultLogPaths.
	LogPaths []string
	// ScanInterval is the scheduled scan interval in normal monitoring;
	// HeightenedScanInterval in heightened, unless the server sets one.
	ScanInterval           time.Duration
	HeightenedScanInterval time.Duration
	// CollectInterval is how often heightened-mode collectors run.
	CollectInterval time.Duration
	// Isolator enforces isolation; nil means internal/contain's for this
	// platform, created when first needed.
	Isolator Isolator
	Logger   *slog.Logger
}

// Agent is one running endpoint agent.
type Agent struct {
	cfg     Config
	id      *Identity
	st      *store
	log     *slog.Logger
	wsURL   string
	tlsConf *tls.Config
	http    *http.Client
	cache   bundleCache

	// procRoot and fsRoot are where collectors look; tests point them at
	// fixtures.
	procRoot, fsRoot string

	mu         sync.Mutex
	conn       *websocket.Conn
	bundle     *compiled
	monitoring string
	heightened time.Duration // scan interval set by the server for heightened
	isolation  string
	isoErr     string
	// sweepStops ends the scan of a running sweep; cancelledSweeps are
	// the sweeps the server cancelled while this process runs.
	sweepStops      map[string]context.CancelCauseFunc
	cancelledSweeps map[string]bool
	// contacted is closed once the first session got its Welcome or
	// failed: held sweeps wait for it, as the Welcome names those
	// cancelled meanwhile.
	contacted   chan struct{}
	contactOnce sync.Once

	cmds      chan *wire.Message
	scanNow   chan struct{}
	schedWake chan struct{}
	monWake   chan struct{}
	sweepWake chan struct{}
	acks      chan uint64

	// pii is the personal-data matcher, built on first use.
	piiOnce sync.Once
	pii     *scope.FileMatcher
	piiErr  error
}

// persisted state keys
const (
	stateBundle     = "bundle"
	stateMonitoring = "monitoring"
	stateIsolation  = "isolation"
	stateLastScan   = "last_scan"
)

type monitoringState struct {
	Level               string `json:"level"`
	ScanIntervalSeconds int    `json:"scan_interval_seconds"`
	Reason              string `json:"reason,omitempty"`
}

// New enrols (or loads the identity from cfg.DataDir) and opens the
// agent's store. Close releases it.
func New(ctx context.Context, cfg Config) (*Agent, error) {
	base, err := ServerURL(cfg.ServerURL)
	if err != nil {
		return nil, fmt.Errorf("server URL: %w", err)
	}
	cfg.ServerURL = base
	u, _ := url.Parse(base)
	if cfg.DataDir == "" {
		return nil, errors.New("no data directory")
	}
	if cfg.ScanInterval <= 0 {
		cfg.ScanInterval = DefaultScanInterval
	}
	if cfg.HeightenedScanInterval <= 0 {
		cfg.HeightenedScanInterval = DefaultHeightenedScanInterval
	}
	if cfg.CollectInterval <= 0 {
		cfg.CollectInterval = DefaultCollectInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	id, err := Enroll(ctx, cfg.DataDir, cfg.ServerURL, cfg.Roots, cfg.EnrollToken, cfg.Name, cfg.Labels)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	tlsConf := id.TLSConfig(cfg.Roots)
	ws := *u
	ws.Scheme = "wss"
	ws.Path = wire.WebSocketPath
	a := &Agent{
		cfg: cfg, id: id, st: st,
		log:        cfg.Logger.With("agent_id", id.AgentID),
		wsURL:      ws.String(),
		tlsConf:    tlsConf,
		http:       &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf, ForceAttemptHTTP2: false}},
		procRoot:   "/proc",
		fsRoot:     "/",
		monitoring: wire.MonitoringNormal,
		isolation:  wire.IsolationNone,
		cmds:       make(chan *wire.Message, 64),
		scanNow:    make(chan struct{}, 1),
		schedWake:  make(chan struct{}, 1),
		monWake:    make(chan struct{}, 1),
		sweepWake:  make(chan struct{}, 1),
		contacted:  make(chan struct{}),
		acks:       make(chan uint64, 16),
	}
	if err := a.restore(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

// ID is the agent id the server assigned at enrolment.
func (a *Agent) ID() string { return a.id.AgentID }

// Close releases the agent's store. Call it after Run returned.
func (a *Agent) Close() error { return a.st.Close() }

// restore loads the bundle and monitoring level kept from the last run.
func (a *Agent) restore(ctx context.Context) error {
	var b wire.Bundle
	if ok, err := a.st.GetState(ctx, stateBundle, &b); err != nil {
		return err
	} else if ok {
		c, err := a.cache.get(b)
		if err != nil {
			// A bundle that loaded before and fails now means a changed
			// engine; run without it until the server sends a new one.
			a.log.Warn("stored bundle does not load", "version", b.Version, "err", err)
		} else {
			a.bundle = c
		}
	}
	var m monitoringState
	if ok, err := a.st.GetState(ctx, stateMonitoring, &m); err != nil {
		return err
	} else if ok {
		a.monitoring = m.Level
		a.heightened = time.Duration(m.ScanIntervalSeconds) * time.Second
	}
	return nil
}

// wake signals ch without blocking; one pending wake-up is enough.
func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// ErrRevoked is what Run returns when the server refuses the agent's
// certificate: it was revoked (or the host deleted), and retrying cannot
// help.
var ErrRevoked = errors.New("the server refused this agent's certificate: it was revoked or its host deleted; enrol it again with a new --data directory")

// Run keeps the agent connected and working until ctx ends, or until the
// server refuses it for good (ErrRevoked). Isolation kept from an earlier
// run is re-applied before the first connection.
func (a *Agent) Run(ctx context.Context) error {
	if err := a.reapplyIsolation(ctx); err != nil {
		a.log.Error("re-applying isolation", "err", err)
	}
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	connect := func(ctx context.Context) { a.connectLoop(ctx, stop) }
	var wg sync.WaitGroup
	for _, f := range []func(context.Context){connect, a.commandLoop, a.scheduler, a.sweeper, a.monitor} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(ctx)
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); errors.Is(err, ErrRevoked) {
		return err
	}
	return ctx.Err()
}

// connectLoop keeps one session up, reconnecting with backoff. A server
// that refuses the certificate stops the agent.
func (a *Agent) connectLoop(ctx context.Context, stop context.CancelCauseFunc) {
	b := backoff{base: 500 * time.Millisecond, max: 30 * time.Second}
	for ctx.Err() == nil {
		start := time.Now()
		welcomed, err := a.session(ctx)
		a.markContacted()
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, ErrRevoked) {
			a.log.Error("stopping", "err", err)
			stop(err)
			return
		}
		// A session that got as far as Welcome and lasted a while means
		// the server is healthy again: start the backoff over.
		if welcomed && time.Since(start) > 10*time.Second {
			b.Reset()
		}
		wait := b.Next()
		a.log.Warn("disconnected from server", "err", err, "retry_in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// send writes one message on the current connection; without one it
// reports errOffline.
func (a *Agent) send(ctx context.Context, m *wire.Message) error {
	a.mu.Lock()
	c := a.conn
	a.mu.Unlock()
	if c == nil {
		return errOffline
	}
	return writeMsg(ctx, c, m)
}

var errOffline = errors.New("not connected to the server")

func writeMsg(ctx context.Context, c *websocket.Conn, m *wire.Message) error {
	b, err := wire.Encode(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return c.Write(ctx, websocket.MessageText, b)
}

func readMsg(ctx context.Context, c *websocket.Conn) (*wire.Message, error) {
	_, b, err := c.Read(ctx)
	if err != nil {
		return nil, err
	}
	return wire.Decode(b)
}

// dialWS opens the agent's WebSocket, bounded to 30 s.
func dialWS(ctx context.Context, a *Agent) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return websocket.Dial(ctx, a.wsURL, &websocket.DialOptions{HTTPClient: a.http})
}

// session runs one connection from dial to failure.
func (a *Agent) session(ctx context.Context) (welcomed bool, err error) {
	c, resp, err := dialWS(ctx, a)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusForbidden {
			return false, ErrRevoked
		}
		return false, fmt.Errorf("dial %s: %w", a.wsURL, err)
	}
	defer c.CloseNow()
	c.SetReadLimit(wire.MaxMessageBytes)

	sweeps, err := a.st.Sweeps(ctx, time.Now())
	if err != nil {
		return false, err
	}
	hello := &wire.Hello{AgentID: a.id.AgentID, Inventory: a.inventory()}
	// Every sweep known here, queued ones included: they run from the
	// store, so the server need not send them again.
	for _, s := range sweeps {
		hello.Sweeps = append(hello.Sweeps, s.status.SweepID)
	}
	if err := writeMsg(ctx, c, &wire.Message{Type: wire.TypeHello, Hello: hello}); err != nil {
		return false, fmt.Errorf("hello: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	m, err := readMsg(wctx, c)
	cancel()
	if err != nil {
		return false, fmt.Errorf("waiting for welcome: %w", err)
	}
	if m.Type != wire.TypeWelcome {
		return false, fmt.Errorf("server answered hello with %s, want welcome", m.Type)
	}
	beat := time.Duration(m.Welcome.HeartbeatSeconds) * time.Second
	if beat <= 0 {
		beat = defaultHeartbeat
	}
	a.log.Info("connected", "server", a.cfg.ServerURL)

	sctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	a.mu.Lock()
	a.conn = c
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.conn = nil
		a.mu.Unlock()
	}()
	welcome := m.Welcome
	for _, id := range welcome.CancelledSweeps {
		a.cancelSweep(sctx, id)
	}
	a.markContacted()
	// Statuses the server may have missed while we were away.
	for _, s := range sweeps {
		if !s.accepted && !slices.Contains(welcome.CancelledSweeps, s.status.SweepID) {
			st := s.status
			if err := a.send(sctx, &wire.Message{Type: wire.TypeSweepStatus, SweepStatus: &st}); err != nil {
				return true, err
			}
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(2)
	go func() { defer wg.Done(); stop(a.heartbeats(sctx, c, beat)) }()
	go func() { defer wg.Done(); stop(a.sendFindings(sctx, c)) }()
	for {
		m, err := readMsg(sctx, c)
		if errors.Is(err, wire.ErrUnknownType) {
			continue // from a newer server
		}
		if err != nil {
			if cause := context.Cause(sctx); cause != nil && sctx.Err() != nil {
				err = cause
			}
			stop(err)
			return true, err
		}
		a.dispatch(sctx, c, m)
	}
}

// dispatch handles one server message. Commands are acknowledged at once
// and queued for the command loop, so a slow command never delays the
// next one's acknowledgement.
func (a *Agent) dispatch(ctx context.Context, c *websocket.Conn, m *wire.Message) {
	switch m.Type {
	case wire.TypeAck:
		select {
		case a.acks <- m.Ack.Seq:
		case <-ctx.Done():
		}
		return
	case wire.TypeWelcome:
		return
	}
	if m.ID != "" {
		if err := writeMsg(ctx, c, &wire.Message{Type: wire.TypeCommandAck, CommandAck: &wire.CommandAck{ID: m.ID}}); err != nil {
			a.log.Warn("acknowledging command", "id", m.ID, "err", err)
		}
	}
	if m.Type == wire.TypePing {
		return
	}
	select {
	case a.cmds <- m:
	case <-ctx.Done():
	}
}

// heartbeats sends a heartbeat every beat, with the inventory when it
// changed since the last one sent on this connection.
func (a *Agent) heartbeats(ctx context.Context, c *websocket.Conn, beat time.Duration) error {
	last := a.inventory()
	t := time.NewTicker(beat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		a.guardIsolation(ctx)
		hb := &wire.Heartbeat{}
		if inv := a.inventory(); !sameInventory(inv, last) {
			hb.Inventory, last = &inv, inv
		}
		if err := writeMsg(ctx, c, &wire.Message{Type: wire.TypeHeartbeat, Heartbeat: hb}); err != nil {
			return fmt.Errorf("heartbeat: %w", err)
		}
	}
}

// sendInventory sends a heartbeat carrying the inventory now, so that a
// change (monitoring level, isolation, bundle) shows on the server without
// waiting for the next beat.
func (a *Agent) sendInventory(ctx context.Context) {
	inv := a.inventory()
	if err := a.send(ctx, &wire.Message{Type: wire.TypeHeartbeat, Heartbeat: &wire.Heartbeat{Inventory: &inv}}); err != nil && !errors.Is(err, errOffline) {
		a.log.Warn("sending inventory", "err", err)
	}
}

// sendFindings drains the queue over c. Findings leave the queue only when
// the server acknowledged their batch; on a new connection everything
// still queued is sent again and the server drops what it already has.
func (a *Agent) sendFindings(ctx context.Context, c *websocket.Conn) error {
	type span struct {
		first, last int64
		sent        time.Time
	}
	inflight := map[uint64]span{}
	var after int64
	check := time.NewTicker(5 * time.Second)
	defer check.Stop()
	for {
		if len(inflight) < sendWindow {
			batch, first, last, err := a.nextBatch(ctx, after)
			if err != nil {
				return err
			}
			if batch != nil {
				if err := writeMsg(ctx, c, &wire.Message{Type: wire.TypeFindings, Findings: batch}); err != nil {
					return fmt.Errorf("sending findings: %w", err)
				}
				inflight[batch.Seq] = span{first, last, time.Now()}
				after = last
				continue
			}
			if last > after {
				after = last // dropped: too large to send
				continue
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-a.st.notify:
		case seq := <-a.acks:
			s, ok := inflight[seq]
			if !ok {
				continue // from an earlier connection; re-sent since
			}
			delete(inflight, seq)
			if err := a.st.Delete(ctx, s.first, s.last); err != nil {
				return err
			}
		case <-check.C:
			for _, s := range inflight {
				if time.Since(s.sent) > ackTimeout {
					return fmt.Errorf("findings batch up to %d unacknowledged for %v", s.last, ackTimeout)
				}
			}
		}
	}
}

// nextBatch reads the findings queued after seq after into one batch of
// at most batchSize findings and batchBytes bytes; nil when none are
// queued. A finding too large for any message can never be delivered and
// would stop every later one: it is dropped from the queue, logged, and
// nextBatch returns a nil batch with last past it.
func (a *Agent) nextBatch(ctx context.Context, after int64) (batch *wire.Findings, first, last int64, err error) {
	items, err := a.st.Pending(ctx, after, batchSize)
	if err != nil || len(items) == 0 {
		return nil, 0, 0, err
	}
	if q := items[0]; q.size > batchBytes {
		a.log.Error("dropping a finding too large for one message", "id", q.finding.ID, "type", q.finding.Type,
			"path", q.finding.Path, "bytes", q.size, "limit", batchBytes)
		return nil, 0, q.seq, a.st.Delete(ctx, q.seq, q.seq)
	}
	n, size := 0, 0
	for n < len(items) && size+items[n].size+1 <= batchBytes {
		size += items[n].size + 1
		n++
	}
	items = items[:n]
	batch = &wire.Findings{Seq: uint64(items[n-1].seq)}
	for _, q := range items {
		batch.Findings = append(batch.Findings, q.finding)
	}
	return batch, items[0].seq, items[n-1].seq, nil
}

// commandLoop carries out server commands one at a time.
func (a *Agent) commandLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-a.cmds:
			a.command(ctx, m)
		}
	}
}

func (a *Agent) command(ctx context.Context, m *wire.Message) {
	switch m.Type {
	case wire.TypeBundle:
		a.loadBundle(ctx, *m.Bundle)
	case wire.TypeSweep:
		added, err := a.st.AddSweep(ctx, *m.Sweep)
		if err != nil {
			a.log.Error("recording sweep", "sweep", m.Sweep.SweepID, "err", err)
			return
		}
		if !added {
			a.resendSweepStatus(ctx, m.Sweep.SweepID)
		}
		wake(a.sweepWake)
	case wire.TypeScan:
		wake(a.scanNow)
	case wire.TypeSetMonitoring:
		a.setMonitoring(ctx, *m.SetMonitoring)
	case wire.TypeIsolate:
		a.isolate(ctx, m.ID, *m.Isolate)
	case wire.TypeRelease:
		a.release(ctx, m.ID)
	case wire.TypeCancelSweep:
		a.cancelSweep(ctx, m.CancelSweep.SweepID)
	default:
		a.log.Warn("ignoring unexpected message", "type", m.Type)
	}
}

func (a *Agent) loadBundle(ctx context.Context, b wire.Bundle) {
	status := wire.BundleStatus{Version: b.Version, Loaded: true}
	c, err := a.cache.get(b)
	if err == nil {
		err = a.st.PutState(ctx, stateBundle, b)
	}
	if err != nil {
		status.Loaded, status.Error = false, err.Error()
		a.log.Error("loading bundle", "version", b.Version, "err", err)
	} else {
		a.mu.Lock()
		changed := a.bundle == nil || a.bundle.digest != c.digest
		a.bundle = c
		a.mu.Unlock()
		a.log.Info("bundle loaded", "version", b.Version, "name", b.Name)
		if changed {
			// New indicators are worth a look now, not at the next
			// scheduled scan.
			wake(a.scanNow)
		}
	}
	if err := a.send(ctx, &wire.Message{Type: wire.TypeBundleStatus, BundleStatus: &status}); err != nil && !errors.Is(err, errOffline) {
		a.log.Warn("sending bundle status", "err", err)
	}
	a.sendInventory(ctx)
}

func (a *Agent) setMonitoring(ctx context.Context, s wire.SetMonitoring) {
	if err := a.st.PutState(ctx, stateMonitoring, monitoringState{Level: s.Level, ScanIntervalSeconds: s.ScanIntervalSeconds, Reason: s.Reason}); err != nil {
		a.log.Error("storing monitoring level", "err", err)
	}
	a.mu.Lock()
	a.monitoring = s.Level
	a.heightened = time.Duration(s.ScanIntervalSeconds) * time.Second
	a.mu.Unlock()
	a.log.Info("monitoring level set", "level", s.Level, "reason", s.Reason)
	wake(a.schedWake)
	wake(a.monWake)
	a.sendInventory(ctx)
}

func (a *Agent) currentBundle() *compiled {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.bundle
}

func (a *Agent) level() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.monitoring
}

// ServerURL checks the server's base URL and returns it in the form the
// agent uses, https://HOST[:PORT] with no trailing slash. The gateway's
// paths are fixed (wire.EnrollPath, wire.WebSocketPath), so a URL with a
// path, a query or credentials is refused rather than half used.
func ServerURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("%q: %w", raw, err)
	case u.Scheme != "https" || u.Host == "" || u.Opaque != "":
		return "", fmt.Errorf("%q: want https://HOST:PORT", raw)
	case u.Path != "" && u.Path != "/":
		return "", fmt.Errorf("%q has a path (%s): want https://HOST:PORT; the server serves its agent gateway at the root", raw, u.Path)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("%q: want https://HOST:PORT, without credentials, query or fragment", raw)
	}
	return "https://" + u.Host, nil
}
