package scopeapi_test

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
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/mamori-dev/mamori/internal/incident"
	"github.com/mamori-dev/mamori/internal/investigate"
	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/scope/scopeapi"
	"github.com/mamori-dev/mamori/internal/server"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/wire"
)

// fixture is a real server (real TLS, real store) with the incident,
// investigation and scoping capabilities.
type fixture struct {
	t      *testing.T
	srv    *server.Server
	dir    string
	url    string
	client *http.Client
	pool   *x509.CertPool
	// st is the server's store, for what the test sets up below the API.
	st *store.Store
}

type noRoutes struct{}

func (noRoutes) Routes() []httpapi.Route { return nil }

func newFixture(t *testing.T, dsn string) *fixture {
	t.Helper()
	dir := t.TempDir()
	var st *store.Store
	grab := func(env httpapi.Env) (httpapi.Capability, error) { st = env.Store; return noRoutes{}, nil }
	ctx, cancel := context.WithCancel(context.Background())
	s, err := server.New(ctx, server.Config{DataDir: dir, DB: dsn, Listen: "127.0.0.1:0", Heartbeat: 30 * time.Second,
		Capabilities: []server.CapabilityFunc{incident.Capability, investigate.Capability, scopeapi.Capability, grab}})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM())
	return &fixture{t: t, srv: s, dir: dir, url: s.URL(), pool: pool, st: st,
		client: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
}

// call calls the API as the bootstrap admin (token "" ) or with token and
// returns the status and body.
func (f *fixture) call(token, method, path string, body any) (int, []byte) {
	f.t.Helper()
	if token == "" {
		token = f.srv.AdminToken()
	}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(body)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, f.url+"/api/v1"+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// must calls the API as admin, wants 2xx and decodes into out.
func (f *fixture) must(method, path string, body, out any) {
	f.t.Helper()
	code, b := f.call("", method, path, body)
	if code/100 != 2 {
		f.t.Fatalf("%s %s: %d %s", method, path, code, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			f.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// agent speaks internal/wire over mutual TLS like a real agent, minus the
// scanning.
type agent struct {
	t    *testing.T
	id   string
	ws   *websocket.Conn
	msgs chan *wire.Message
	seq  uint64
}

func (f *fixture) enrol(name string) *agent {
	t := f.t
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}}, key)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(wire.EnrollRequest{CSR: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), Name: name, Hostname: name})
	req, _ := http.NewRequest("POST", f.url+wire.EnrollPath, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.srv.EnrollToken())
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var er wire.EnrollResponse
	err = json.NewDecoder(resp.Body).Decode(&er)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("enrol %s: %d %v", name, resp.StatusCode, err)
	}
	blk, _ := pem.Decode([]byte(er.Certificate))
	cert := tls.Certificate{Certificate: [][]byte{blk.Bytes}, PrivateKey: key}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.pool, Certificates: []tls.Certificate{cert}}}}
	ws, _, err := websocket.Dial(ctx, strings.Replace(f.url, "https://", "wss://", 1)+wire.WebSocketPath, &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(wire.MaxMessageBytes)
	a := &agent{t: t, id: er.AgentID, ws: ws, msgs: make(chan *wire.Message, 100)}
	t.Cleanup(func() { ws.CloseNow() })
	a.send(&wire.Message{Type: wire.TypeHello, Hello: &wire.Hello{AgentID: a.id, Inventory: wire.Inventory{Hostname: name, OS: "linux",
		AgentVersion: "test", Monitoring: wire.MonitoringNormal, Isolation: wire.IsolationNone}}})
	go func() {
		defer close(a.msgs)
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			m, err := wire.Decode(b)
			if err != nil {
				return
			}
			if m.ID != "" {
				a.send(&wire.Message{Type: wire.TypeCommandAck, CommandAck: &wire.CommandAck{ID: m.ID}})
			}
			a.msgs <- m
		}
	}()
	a.expect(wire.TypeWelcome)
	return a
}

func (a *agent) send(m *wire.Message) {
	b, err := wire.Encode(m)
	if err != nil {
		a.t.Error(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a.ws.Write(ctx, websocket.MessageText, b)
}

func (a *agent) expect(typ wire.Type) *wire.Message {
	a.t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case m, ok := <-a.msgs:
			if !ok {
				a.t.Fatalf("agent %s: closed while waiting for %s", a.id, typ)
			}
			if m.Type == typ {
				return m
			}
		case <-timeout:
			a.t.Fatalf("agent %s: no %s within 30s", a.id, typ)
		}
	}
}

// sendResults sends results as pii_file findings in one batch and waits
// for the acknowledgement.
func (a *agent) sendResults(rs ...scope.FileResult) {
	a.t.Helper()
	var fs []wire.Finding
	for _, r := range rs {
		b, _ := json.Marshal(r)
		var detail map[string]any
		json.Unmarshal(b, &detail)
		a.seq++
		fs = append(fs, wire.Finding{ID: fmt.Sprintf("pii-%d-%d", a.seq, len(fs)), Type: scope.FileResultType, Path: r.Path,
			SHA256: r.SHA256, Size: r.Size, SeenAt: time.Now(), Detail: detail})
	}
	a.send(&wire.Message{Type: wire.TypeFindings, Findings: &wire.Findings{Seq: a.seq, Findings: fs}})
	if m := a.expect(wire.TypeAck); m.Ack.Seq != a.seq {
		a.t.Fatalf("ack %d, want %d", m.Ack.Seq, a.seq)
	}
}

// subject builds a subject from category=value pairs.
func subject(member string, record int, kv ...string) scope.FileSubject {
	s := scope.FileSubject{Member: member, Record: record, Key: fmt.Sprintf("k%d", record)}
	for i := 0; i+1 < len(kv); i += 2 {
		s.Values = append(s.Values, scope.FileValue{Category: kv[i], Value: kv[i+1]})
	}
	return s
}

// result builds a one-part result counting its subjects' categories.
func result(path, sha string, subs ...scope.FileSubject) scope.FileResult {
	r := scope.FileResult{Type: scope.FileResultType, Path: path, SHA256: sha, Size: 1000, Parts: 1, Categories: map[string]int{}, Subjects: subs,
		ModTime: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	for _, s := range subs {
		for _, v := range s.Values {
			r.Categories[v.Category]++
		}
	}
	return r
}

func sha(c byte) string { return strings.Repeat(string(c), 64) }
