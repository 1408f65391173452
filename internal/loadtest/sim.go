package loadtest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/mamori-dev/mamori/internal/wire"
)

// sim is one simulated agent's connection.
type sim struct {
	id *identity
	ws *websocket.Conn
	r  *runner

	mu         sync.Mutex
	monitoring string
	pending    map[uint64]int // findings batch seq -> findings in it
	seq        uint64
	dirty      bool // inventory changed since the last heartbeat
}

// dialer spreads connections over several loopback source addresses when
// the server is on loopback, so that 20,000 connections do not exhaust
// one address's ephemeral ports.
type dialer struct {
	addrs []net.IP
	next  atomic.Uint64
}

func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := net.Dialer{Timeout: 30 * time.Second}
	if len(d.addrs) > 0 {
		ip := d.addrs[d.next.Add(1)%uint64(len(d.addrs))]
		nd.LocalAddr = &net.TCPAddr{IP: ip}
	}
	return nd.DialContext(ctx, network, addr)
}

func (cfg *Config) dialer() *dialer {
	d := &dialer{}
	u, err := url.Parse(cfg.ServerURL)
	if err != nil {
		return d
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	if host == "localhost" {
		ip = net.IPv4(127, 0, 0, 1)
	}
	if ip == nil || ip.To4() == nil || !ip.IsLoopback() {
		return d
	}
	for i := range cfg.SourceAddrs {
		d.addrs = append(d.addrs, net.IPv4(127, 0, byte(1+i/250), byte(1+i%250)))
	}
	return d
}

func (r *runner) newInventory(s *sim) wire.Inventory {
	return wire.Inventory{Hostname: s.id.Name, OS: "linux", Arch: "amd64", AgentVersion: "loadtest",
		Monitoring: s.monitoring, Isolation: wire.IsolationNone}
}

// connect dials, says hello and waits for welcome.
func (r *runner) connect(ctx context.Context, id *identity) (*sim, error) {
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: r.cfg.Roots, Certificates: []tls.Certificate{id.tls}, MinVersion: tls.VersionTLS12},
		DialContext:       r.dial.DialContext,
		DisableKeepAlives: true,
	}
	dctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(dctx, r.wsURL, &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		return nil, fmt.Errorf("%s: dial: %w", id.Name, err)
	}
	ws.SetReadLimit(wire.MaxMessageBytes)
	s := &sim{id: id, ws: ws, r: r, monitoring: wire.MonitoringNormal, pending: map[uint64]int{}}
	if err := s.write(dctx, &wire.Message{Type: wire.TypeHello, Hello: &wire.Hello{AgentID: id.AgentID, Inventory: r.newInventory(s)}}); err != nil {
		ws.CloseNow()
		return nil, fmt.Errorf("%s: hello: %w", id.Name, err)
	}
	_, b, err := ws.Read(dctx)
	if err != nil {
		ws.CloseNow()
		return nil, fmt.Errorf("%s: waiting for welcome: %w", id.Name, err)
	}
	m, err := wire.Decode(b)
	if err != nil || m.Type != wire.TypeWelcome {
		ws.CloseNow()
		return nil, fmt.Errorf("%s: expected welcome, got %v %v", id.Name, m, err)
	}
	r.beat.Store(int64(time.Duration(m.Welcome.HeartbeatSeconds) * time.Second))
	return s, nil
}

func (s *sim) write(ctx context.Context, m *wire.Message) error {
	b, err := wire.Encode(m)
	if err != nil {
		return err
	}
	// Cancelling a write's context closes the connection, so the end of
	// the measured phase must not reach a write in flight.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return s.ws.Write(ctx, websocket.MessageText, b)
}

// readLoop answers the server until the connection ends.
func (s *sim) readLoop(ctx context.Context) error {
	for {
		_, b, err := s.ws.Read(ctx)
		if err != nil {
			return err
		}
		m, err := wire.Decode(b)
		if errors.Is(err, wire.ErrUnknownType) {
			continue
		}
		if err != nil {
			return err
		}
		if err := s.handle(ctx, m); err != nil {
			return err
		}
	}
}

func (s *sim) handle(ctx context.Context, m *wire.Message) error {
	if m.Type == wire.TypeAck {
		s.mu.Lock()
		n, ok := s.pending[m.Ack.Seq]
		delete(s.pending, m.Ack.Seq)
		s.mu.Unlock()
		if ok {
			s.r.acked.Add(int64(n))
		}
		return nil
	}
	if m.ID == "" {
		return nil
	}
	s.r.commands.Add(1)
	if err := s.write(ctx, &wire.Message{Type: wire.TypeCommandAck, CommandAck: &wire.CommandAck{ID: m.ID}}); err != nil {
		return err
	}
	var reply *wire.Message
	switch m.Type {
	case wire.TypeBundle:
		reply = &wire.Message{Type: wire.TypeBundleStatus, BundleStatus: &wire.BundleStatus{Version: m.Bundle.Version, Loaded: true}}
	case wire.TypeSweep:
		reply = &wire.Message{Type: wire.TypeSweepStatus, SweepStatus: &wire.SweepStatus{SweepID: m.Sweep.SweepID, State: wire.SweepDone}}
	case wire.TypeSetMonitoring:
		s.mu.Lock()
		s.monitoring, s.dirty = m.SetMonitoring.Level, true
		s.mu.Unlock()
	case wire.TypeIsolate:
		reply = &wire.Message{Type: wire.TypeIsolationStatus, IsolationStatus: &wire.IsolationStatus{
			State: wire.IsolationFailed, Error: "simulated agent: no network to isolate", CommandID: m.ID}}
	case wire.TypeRelease:
		reply = &wire.Message{Type: wire.TypeIsolationStatus, IsolationStatus: &wire.IsolationStatus{State: wire.IsolationNone, CommandID: m.ID}}
	}
	if reply != nil {
		return s.write(ctx, reply)
	}
	return nil
}

func (s *sim) heartbeat(ctx context.Context) error {
	hb := &wire.Heartbeat{}
	s.mu.Lock()
	if s.dirty {
		inv := s.r.newInventory(s)
		hb.Inventory, s.dirty = &inv, false
	}
	s.mu.Unlock()
	return s.write(ctx, &wire.Message{Type: wire.TypeHeartbeat, Heartbeat: hb})
}

// sendFindings sends one batch of n synthetic findings, each with a fresh
// id so that the server stores every one.
func (s *sim) sendFindings(ctx context.Context, n int) error {
	now := time.Now().UTC()
	batch := &wire.Findings{Findings: make([]wire.Finding, n)}
	var raw [32]byte
	for i := range batch.Findings {
		rand.Read(raw[:])
		h := hex.EncodeToString(raw[:])
		batch.Findings[i] = wire.Finding{ID: h[:32], Type: "ioc", Source: wire.SourceScheduled, Rule: "loadtest",
			Indicator: "sha256:" + h, Path: "/srv/loadtest/" + h[:12], SHA256: h, Size: 4096, SeenAt: now}
	}
	s.mu.Lock()
	s.seq++
	batch.Seq = s.seq
	s.pending[batch.Seq] = n
	s.mu.Unlock()
	return s.write(ctx, &wire.Message{Type: wire.TypeFindings, Findings: batch})
}
