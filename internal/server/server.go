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
	"sync"
	"sync/atomic"
	"time"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
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
	// Now is the clock; nil means time.Now. Tests inject one to move
	// past expiries without sleeping.
	Now func() time.Time
	// Capabilities are built once the store is open; their routes join
	// the fleet's, their Start hooks run until the server closes, and a
	// capability that is an httpapi.Authenticator authenticates API
	// callers after the bootstrap admin token.
	Capabilities []CapabilityFunc
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
	if c.Now == nil {
		c.Now = time.Now
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
	routes []httpapi.Route
	caps   []httpapi.Capability
	auth   httpapi.Chain
	// stateMu serialises read-modify-write changes of a host's monitoring
	// and isolation state, which are rare next to heartbeats and findings.
	stateMu sync.Mutex
	started time.Time
	cmdSeq  atomic.Uint64
	stats   struct {
		findings, batches, duplicates atomic.Int64
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

// New prepares the data directory (CA, tokens, database) and the handlers.
// Serve starts listening.
func New(ctx context.Context, cfg Config) (*Server, error) {
	cfg.defaults()
	if cfg.DataDir == "" {
		return nil, errors.New("server: no data directory")
	}
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("server: --listen %q: %w", cfg.Listen, err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	c, err := loadOrCreateCA(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("server: CA: %w", err)
	}
	enroll, err := loadOrCreateToken(filepath.Join(cfg.DataDir, enrollTokenFile))
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	admin, err := loadOrCreateToken(filepath.Join(cfg.DataDir, adminTokenFile))
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if host == "" {
		host = "localhost"
	}
	cert, err := c.serverCert(host, cfg.SANs)
	if err != nil {
		return nil, fmt.Errorf("server: certificate: %w", err)
	}
	st, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
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
	s.seen = newLastSeen()
	s.ingest = newIngester(st)
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if err := s.build(); err != nil {
		s.cancel()
		st.Close()
		return nil, fmt.Errorf("server: %w", err)
	}
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

// build makes the capabilities, the route table and the authenticators.
func (s *Server) build() error {
	env := httpapi.Env{Store: s.st, Log: s.log, Now: s.cfg.Now}
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
		return fmt.Errorf("server: %w", err)
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
		return errors.New("server: Serve before Listen")
	}
	s.http = &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         s.tls,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(tls.NewListener(s.ln, s.tls)) }()
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
		err = errors.Join(err, fmt.Errorf("server: shutdown: %w", serr))
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
			s.closeErr = fmt.Errorf("server: closing the store: %w", err)
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
