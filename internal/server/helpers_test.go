package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/mamori-dev/mamori/internal/wire"
)

// testServer is a real server on a loopback port with real TLS.
type testServer struct {
	*Server
	url    string
	client *http.Client
	cancel context.CancelFunc
	done   chan error
}

func startServer(t *testing.T, dir, dsn string) *testServer {
	t.Helper()
	return startServerWith(t, Config{DataDir: dir, DB: dsn})
}

// startServerWith starts a server with cfg; an empty DataDir is a fresh
// temporary directory.
func startServerWith(t *testing.T, cfg Config) *testServer {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	cfg.Listen = "127.0.0.1:0"
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = 30 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		cancel()
		t.Fatal(err)
	}
	ts := &testServer{Server: s, url: s.URL(), cancel: cancel, done: make(chan error, 1)}
	ts.client = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.ca.pool}}}
	go func() { ts.done <- s.Serve(ctx) }()
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) stop() {
	if ts.cancel == nil {
		return
	}
	ts.cancel()
	ts.cancel = nil
	<-ts.done
}

// api calls the admin API and decodes a JSON answer into out (if not nil),
// returning the status code.
func (ts *testServer) api(t *testing.T, method, path string, body, out any) int {
	t.Helper()
	return apiCall(t, ts.client, ts.url, ts.AdminToken(), method, path, body, out)
}

func apiCall(t *testing.T, c *http.Client, base, token, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// testAgent speaks internal/wire like a real agent, minus the scanning.
type testAgent struct {
	t      *testing.T
	id     string
	cert   tls.Certificate
	roots  *x509.CertPool
	ws     *websocket.Conn
	msgs   chan *wire.Message
	inv    wire.Inventory
	sweeps []string
	// welcome is the last Welcome received.
	welcome *wire.Welcome
}

func enroll(t *testing.T, ts *testServer, token, name string) (*testAgent, int) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}}, key)
	if err != nil {
		t.Fatal(err)
	}
	req := wire.EnrollRequest{CSR: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), Name: name, Hostname: name}
	var resp wire.EnrollResponse
	code := apiCall(t, ts.client, ts.url, token, "POST", wire.EnrollPath, req, &resp)
	if code != http.StatusOK {
		return nil, code
	}
	blk, _ := pem.Decode([]byte(resp.Certificate))
	if blk == nil {
		t.Fatalf("enrol: certificate is not PEM: %q", resp.Certificate)
	}
	a := &testAgent{t: t, id: resp.AgentID, roots: ts.ca.pool,
		cert: tls.Certificate{Certificate: [][]byte{blk.Bytes}, PrivateKey: key},
		inv:  wire.Inventory{Hostname: name, OS: "linux", AgentVersion: "test", Monitoring: wire.MonitoringNormal, Isolation: wire.IsolationNone}}
	return a, code
}

func mustEnroll(t *testing.T, ts *testServer, name string) *testAgent {
	t.Helper()
	a, code := enroll(t, ts, ts.EnrollToken(), name)
	if code != http.StatusOK {
		t.Fatalf("enrol %s: status %d", name, code)
	}
	return a
}

// connect opens the WebSocket, says hello and waits for welcome. It returns
// the HTTP status when the server refuses the upgrade.
func (a *testAgent) connect(ts *testServer) (int, error) {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: a.roots, Certificates: []tls.Certificate{a.cert}}}}
	ws, resp, err := websocket.Dial(ctx, strings.Replace(ts.url, "https://", "wss://", 1)+wire.WebSocketPath, &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		if resp != nil {
			return resp.StatusCode, err
		}
		return 0, err
	}
	ws.SetReadLimit(wire.MaxMessageBytes)
	a.ws = ws
	a.msgs = make(chan *wire.Message, 100)
	a.send(&wire.Message{Type: wire.TypeHello, Hello: &wire.Hello{AgentID: a.id, Inventory: a.inv, Sweeps: a.sweeps}})
	go a.read(ws, a.msgs)
	m := a.expect(wire.TypeWelcome)
	if m.Welcome.AgentID != a.id {
		return 0, fmt.Errorf("welcome for %s, want %s", m.Welcome.AgentID, a.id)
	}
	a.welcome = m.Welcome
	return http.StatusSwitchingProtocols, nil
}

func (a *testAgent) mustConnect(ts *testServer) {
	a.t.Helper()
	if code, err := a.connect(ts); err != nil {
		a.t.Fatalf("connect %s: status %d: %v", a.id, code, err)
	}
}

// read acknowledges commands like a real agent and passes every message on.
func (a *testAgent) read(ws *websocket.Conn, out chan<- *wire.Message) {
	defer close(out)
	for {
		_, b, err := ws.Read(context.Background())
		if err != nil {
			return
		}
		m, err := wire.Decode(b)
		if err != nil {
			a.t.Errorf("agent %s: %v", a.id, err)
			return
		}
		if m.ID != "" {
			a.send(&wire.Message{Type: wire.TypeCommandAck, CommandAck: &wire.CommandAck{ID: m.ID}})
		}
		out <- m
	}
}

func (a *testAgent) send(m *wire.Message) {
	a.t.Helper()
	b, err := wire.Encode(m)
	if err != nil {
		a.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.ws.Write(ctx, websocket.MessageText, b); err != nil {
		a.t.Errorf("agent %s: send %s: %v", a.id, m.Type, err)
	}
}

// expect returns the next message of type typ, skipping others.
func (a *testAgent) expect(typ wire.Type) *wire.Message {
	a.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-a.msgs:
			if !ok {
				a.t.Fatalf("agent %s: connection closed while waiting for %s", a.id, typ)
			}
			if m.Type == typ {
				return m
			}
		case <-timeout:
			a.t.Fatalf("agent %s: no %s within 10s", a.id, typ)
		}
	}
}

// closed waits for the server to close the connection.
func (a *testAgent) closed() error {
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-a.msgs:
			if !ok {
				return nil
			}
		case <-timeout:
			return errors.New("connection still open")
		}
	}
}

func (a *testAgent) disconnect() {
	a.ws.Close(websocket.StatusNormalClosure, "")
	for range a.msgs {
	}
}

// sendFindings sends a batch and waits for its ack.
func (a *testAgent) sendFindings(seq uint64, fs ...wire.Finding) {
	a.t.Helper()
	a.send(&wire.Message{Type: wire.TypeFindings, Findings: &wire.Findings{Seq: seq, Findings: fs}})
	if m := a.expect(wire.TypeAck); m.Ack.Seq != seq {
		a.t.Fatalf("ack for batch %d, want %d", m.Ack.Seq, seq)
	}
}

func (ts *testServer) host(t *testing.T, id string) Host {
	t.Helper()
	var h Host
	if code := ts.api(t, "GET", "/api/v1/hosts/"+id, nil, &h); code != http.StatusOK {
		t.Fatalf("GET host %s: %d", id, code)
	}
	return h
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// rawCall calls the API with extra headers and returns the status and the
// raw body.
func rawCall(t *testing.T, ts *testServer, token, method, path string, body any, headers map[string]string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, ts.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// clock is a settable clock for Config.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
