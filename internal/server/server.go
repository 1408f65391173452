package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/wire"
)

// Config configures a Server. Zero durations take the defaults below.
type Config struct {
	// DataDir holds ca.pem, ca-key.pem, enroll.token, admin.token and, by
	// default, the SQLite database mamori.db.
	DataDir string
	// Listen is the HOST:PORT of the TLS listener.
	Listen string
	// Listener, when set, is an already bound socket Listen uses instead
	// of binding Listen's address (whose host still names the server in
	// its certificate). Tests and socket activation pass one in.
	Listener net.Listener
	// DB is a store DSN (postgres://… or a SQLite path); empty means
	// DataDir/mamori.db.
	DB string
	// SANs are extra DNS names or IPs for the server certificate, besides
	// the listen host.
	SANs []string
	// Heartbeat is the interval agents are told to beat at (default 15 s);
	// a connection silent for four intervals is closed.
	Heartbeat time.Duration
	// ScanInterval and HeightenedScanInterval are the scheduled scan
	// intervals sent with each monitoring level (default 1 h and 5 min).
	ScanInterval, HeightenedScanInterval time.Duration
	// SweepTTL is how long a sweep waits for offline hosts (default 24 h).
	SweepTTL time.Duration
	// Isolation is what an isolated host may still reach besides the
	// server; nil means DNS to its own resolvers and DHCP.
	Isolation *IsolationPolicy
	Logger    *slog.Logger
	// HeaderTimeout bounds the TLS handshake and reading a request's
	// headers (default 10 s); IdleTimeout closes idle keep-alive
	// connections (default and at most 60 s).
	HeaderTimeout, IdleTimeout time.Duration
	// MaxConnsPerAddress caps the connections one source address holds
	// open besides established agent WebSockets (default
	// DefaultMaxConnsPerAddress; negative: no cap).
	MaxConnsPerAddress int
	// FindingsPerSecond is the rate of findings one agent may send after
	// a burst of five seconds' worth (default 1000); past it the agent's
	// findings wait in its own queue.
	FindingsPerSecond int
	// Now is the clock; nil means time.Now. Tests inject one to move
	// past expiries without sleeping.
	Now func() time.Time
	// Capabilities are built once the store is open; their routes join
	// the fleet's, their Start hooks run until the server closes, and a
	// capability that is an httpapi.Authenticator authenticates API
	// callers after the bootstrap admin token.
	Capabilities []CapabilityFunc
	// CheckpointEvery is how often the audit log's tree is signed while
	// entries arrive (default 1 min); one more is signed at shutdown.
	CheckpointEvery time.Duration
}

func (c *Config) defaults() {
	if c.Heartbeat <= 0 {
		c.Heartbeat = 15 * time.Second
	}
	if c.ScanInterval <= 0 {
		c.ScanInterval = time.Hour
	}
	if c.HeightenedScanInterval <= 0 {
		c.HeightenedScanInterval = 5 * time.Minute
	}
	if c.SweepTTL <= 0 {
		c.SweepTTL = 24 * time.Hour
	}
	if c.Isolation == nil {
		c.Isolation = &IsolationPolicy{AllowDNS: true, AllowDHCP: true}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.HeaderTimeout <= 0 {
		c.HeaderTimeout = 10 * time.Second
	}
	if c.IdleTimeout <= 0 || c.IdleTimeout > time.Minute {
		c.IdleTimeout = time.Minute
	}
	if c.MaxConnsPerAddress == 0 {
		c.MaxConnsPerAddress = DefaultMaxConnsPerAddress
	}
	if c.FindingsPerSecond <= 0 {
		c.FindingsPerSecond = defaultFindingsPerSec
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.CheckpointEvery <= 0 {
		c.CheckpointEvery = time.Minute
	}
	if c.DB == "" {
		c.DB = filepath.Join(c.DataDir, "mamori.db")
	}
}

// IsolationPolicy is the exception list sent with every isolate command.
type IsolationPolicy struct {
	AllowDNS bool
	// Resolvers are the DNS servers allowed; empty means the host's own.
	Resolvers []string
	AllowDHCP bool
}

// Server is a running fleet server.
type Server struct {
	cfg   Config
	log   *slog.Logger
	ca    *ca
	st    *store.Store
	admin string
	// enroll is the current enrolment token; rotation swaps it.
	enroll atomic.Pointer[string]
	tls    *tls.Config
	hub    *hub
	seen   *lastSeen
	ingest *ingester
	alog   *auditLog
	routes []httpapi.Route
	caps   []httpapi.Capability
	auth   httpapi.Chain
	// stateMu serialises read-modify-write changes of a host's monitoring
	// and isolation state, which are rare next to heartbeats and findings.
	stateMu sync.Mutex
	// enrolLimit rate-limits enrolment per source address, findingsLimit
	// findings per agent.
	enrolLimit, findingsLimit *limiter
	started                   time.Time
	cmdSeq                    atomic.Uint64
	stats                     struct {
		findings, batches, duplicates, refused atomic.Int64
	}

	// agents tracks live agent connections, so shutdown can wait for them
	// before the background work; publishMu keeps bundle pushes in version
	// order.
	agents    group
	publishMu sync.Mutex

	ln   net.Listener
	http *http.Server
	// bg tracks every other goroutine that may touch the store; Close
	// waits for it, after the agents, before closing the store.
	bg group
	// ctx lives from New to Close; agent connections and background work
	// run under it.
	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
	closeErr  error
}

// New prepares the data directory (database, CA, tokens) and the
// handlers, and starts the background work; Serve starts listening. The
// database is opened first, so that a server that cannot reach it writes
// nothing. Errors name what failed without a "server:" prefix: the caller
// adds its own.
func New(ctx context.Context, cfg Config) (*Server, error) {
	cfg.defaults()
	if cfg.DataDir == "" {
		return nil, errors.New("no data directory")
	}
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: %w", cfg.Listen, err)
	}
	if err := prepareDataDir(cfg.DataDir, cfg.Logger); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	c, enroll, admin, cert, err := loadSecrets(cfg, host)
	if err != nil {
		st.Close()
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, ca: c, st: st, admin: admin, started: time.Now()}
	s.enroll.Store(&enroll)
	s.tls = &tls.Config{
		Certificates: []tls.Certificate{cert},
		// API callers have no certificate; the gateway insists on one.
		ClientAuth: tls.VerifyClientCertIfGiven,
		ClientCAs:  c.pool,
		MinVersion: tls.VersionTLS12,
	}
	s.hub = newHub()
	// 20 enrolments at once from one address, then one every 3 s.
	s.enrolLimit = newLimiter(1.0/3, 20, cfg.Now)
	s.findingsLimit = newLimiter(float64(cfg.FindingsPerSecond), float64(max(5*cfg.FindingsPerSecond, wire.MaxFindingsPerBatch)), time.Now)
	s.seen = newLastSeen()
	s.ingest = newIngester(st)
	if s.alog, err = newAuditLog(ctx, st, cfg.DataDir, s.log, cfg.Now); err != nil {
		st.Close()
		return nil, fmt.Errorf("server: %w", err)
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if err := s.build(); err != nil {
		s.cancel()
		st.Close()
		return nil, err
	}
	s.bg.Go(func() { s.alog.run(s.ctx, cfg.CheckpointEvery) })
	s.bg.Go(func() { s.seen.run(s.ctx, s.st, s.log) })
	s.bg.Go(func() { s.ingest.run(s.ctx) })
	for _, c := range s.caps {
		if st, ok := c.(httpapi.Starter); ok {
			s.bg.Go(func() {
				if err := st.Start(s.ctx); err != nil && !errors.Is(err, context.Canceled) {
					s.log.Error("capability stopped", "capability", fmt.Sprintf("%T", c), "err", err)
				}
			})
		}
	}
	return s, nil
}

// loadSecrets loads or creates the CA, the tokens and the server's
// certificate for host.
func loadSecrets(cfg Config, host string) (c *ca, enroll, admin string, cert tls.Certificate, err error) {
	c, err = loadOrCreateCA(cfg.DataDir)
	if err != nil {
		return nil, "", "", cert, fmt.Errorf("certificate authority: %w", err)
	}
	if enroll, err = loadOrCreateToken(filepath.Join(cfg.DataDir, enrollTokenFile)); err != nil {
		return nil, "", "", cert, err
	}
	if admin, err = loadOrCreateToken(filepath.Join(cfg.DataDir, adminTokenFile)); err != nil {
		return nil, "", "", cert, err
	}
	if host == "" {
		host = "localhost"
	}
	if cert, err = c.serverCert(host, cfg.SANs); err != nil {
		return nil, "", "", cert, fmt.Errorf("server certificate: %w", err)
	}
	return c, enroll, admin, cert, nil
}

// prepareDataDir creates the data directory readable by its owner only,
// and tightens one that others could read: it holds the CA key and the
// tokens.
func prepareDataDir(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("data directory was readable by others; changed to 0700", "dir", dir, "was", fmt.Sprintf("%04o", fi.Mode().Perm()))
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
	}
	return nil
}

// build makes the capabilities, the route table and the authenticators.
func (s *Server) build() error {
	env := httpapi.Env{Store: s.st, Log: s.log, Now: s.cfg.Now, DataDir: s.cfg.DataDir}
	s.routes = s.fleetRoutes()
	auth := httpapi.Chain{httpapi.AuthenticatorFunc(s.adminToken)}
	for _, f := range s.cfg.Capabilities {
		c, err := f(env)
		if err != nil {
			return err
		}
		s.caps = append(s.caps, c)
		s.routes = append(s.routes, c.Routes()...)
		if a, ok := c.(httpapi.Authenticator); ok {
			auth = append(auth, a)
		}
	}
	s.auth = append(auth, httpapi.AuthenticatorFunc(rejectToken), httpapi.AuthenticatorFunc(agentCert))
	seen := map[string]bool{}
	for _, r := range s.routes {
		k := r.Method + " " + r.Pattern
		if seen[k] {
			return fmt.Errorf("route %s is declared twice", k)
		}
		seen[k] = true
	}
	_, err := s.openAPI()
	return err
}

func (s *Server) now() time.Time { return s.cfg.Now() }

// Listen binds the listener; Addr then reports the bound address (useful
// with port 0).
func (s *Server) Listen() error {
	if s.cfg.Listener != nil {
		s.ln = s.cfg.Listener
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return err
	}
	s.ln = ln
	return nil
}

// Addr is the bound listen address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL is the base URL agents and API clients use.
func (s *Server) URL() string {
	host, _, _ := net.SplitHostPort(s.cfg.Listen)
	if host == "" {
		host = "localhost"
	}
	_, port, _ := net.SplitHostPort(s.ln.Addr().String())
	return "https://" + net.JoinHostPort(host, port)
}

// Serve serves until ctx ends or Close is called, then shuts down:
// connections are closed, pending heartbeats flushed and the store closed.
// Listen must have been called.
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		return errors.New("no listener: call Listen before Serve")
	}
	s.http = &http.Server{
		Handler:   s.Handler(),
		TLSConfig: s.tls,
		// The header timeout also bounds the TLS handshake; idle
		// keep-alive connections close after a minute. Agent WebSockets
		// are hijacked, which clears these deadlines; their liveness is
		// the heartbeat.
		ReadHeaderTimeout: s.cfg.HeaderTimeout,
		ReadTimeout:       time.Minute,
		IdleTimeout:       s.cfg.IdleTimeout,
		ConnState:         connState,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
	ln := s.ln
	if s.cfg.MaxConnsPerAddress > 0 {
		ln = newLimitListener(ln, s.cfg.MaxConnsPerAddress, true, func(addr string) {
			s.log.Debug("connection refused: too many from one address", "addr", addr, "max", s.cfg.MaxConnsPerAddress)
		})
	}
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(tls.NewListener(ln, s.tls)) }()
	var err error
	select {
	case <-ctx.Done():
	case <-s.ctx.Done():
	case err = <-errc:
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	s.hub.closeAll()
	if serr := s.http.Shutdown(sctx); serr != nil {
		err = errors.Join(err, fmt.Errorf("shutting down: %w", serr))
	}
	return errors.Join(err, s.Close())
}

// Close ends the server: background work and agent connections stop, and
// the store is closed once nothing uses it. It is safe to call at any point
// after New, more than once, with or without Serve.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.hub.closeAll()
		if s.http != nil {
			s.http.Close()
		}
		s.agents.closeAndWait()
		s.bg.closeAndWait()
		if err := s.st.Close(); err != nil {
			s.closeErr = fmt.Errorf("closing the database: %w", err)
		}
	})
	return s.closeErr
}

// AdminToken is the bearer token of the admin API.
func (s *Server) AdminToken() string { return s.admin }

// EnrollToken is the current enrolment token.
func (s *Server) EnrollToken() string { return *s.enroll.Load() }

// CAPEM is the CA certificate agents pin.
func (s *Server) CAPEM() []byte { return s.ca.pem }

func (s *Server) nextCommandID() string {
	return fmt.Sprintf("%x-%d", s.started.UnixNano(), s.cmdSeq.Add(1))
}
