// Package scopetest is a test agent for scoping: it enrols with a server,
// connects over mutual TLS and sends scope.FileResult records as pii_file
// findings through internal/wire, as a real agent does after a sweep with
// pii: true, minus the scanning.
package scopetest

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
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/wire"
)

// Agent is an enrolled, connected test agent.
type Agent struct {
	t    testing.TB
	ID   string
	ws   *websocket.Conn
	msgs chan *wire.Message
	seq  uint64
	// SweepID, when set, is the sweep the results answer.
	SweepID string
}

// Enrol enrols an agent named name with the server at url (whose CA is
// caPEM) and connects it; the connection closes when t ends.
func Enrol(t testing.TB, url string, caPEM []byte, enrollToken, name string) *Agent {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}}, key)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(wire.EnrollRequest{CSR: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), Name: name, Hostname: name})
	req, _ := http.NewRequest("POST", url+wire.EnrollPath, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+enrollToken)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var er wire.EnrollResponse
	err = json.NewDecoder(resp.Body).Decode(&er)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("enrol %s: %d %v", name, resp.StatusCode, err)
	}
	blk, _ := pem.Decode([]byte(er.Certificate))
	if blk == nil {
		t.Fatalf("enrol %s: certificate is not PEM", name)
	}
	cert := tls.Certificate{Certificate: [][]byte{blk.Bytes}, PrivateKey: key}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}}}
	ws, _, err := websocket.Dial(ctx, strings.Replace(url, "https://", "wss://", 1)+wire.WebSocketPath, &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(wire.MaxMessageBytes)
	a := &Agent{t: t, ID: er.AgentID, ws: ws, msgs: make(chan *wire.Message, 100)}
	t.Cleanup(func() { ws.CloseNow() })
	a.send(&wire.Message{Type: wire.TypeHello, Hello: &wire.Hello{AgentID: a.ID, Inventory: wire.Inventory{Hostname: name, OS: "linux",
		AgentVersion: "test", Monitoring: wire.MonitoringNormal, Isolation: wire.IsolationNone}}})
	go a.read()
	a.expect(wire.TypeWelcome)
	return a
}

// read acknowledges commands and passes every message on.
func (a *Agent) read() {
	defer close(a.msgs)
	for {
		_, b, err := a.ws.Read(context.Background())
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
}

func (a *Agent) send(m *wire.Message) {
	b, err := wire.Encode(m)
	if err != nil {
		a.t.Error(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a.ws.Write(ctx, websocket.MessageText, b)
}

func (a *Agent) expect(typ wire.Type) *wire.Message {
	a.t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case m, ok := <-a.msgs:
			if !ok {
				a.t.Fatalf("agent %s: closed while waiting for %s", a.ID, typ)
			}
			if m.Type == typ {
				return m
			}
		case <-timeout:
			a.t.Fatalf("agent %s: no %s within 60s", a.ID, typ)
		}
	}
}

// Sweep waits for the next sweep the server sends.
func (a *Agent) Sweep() *wire.Sweep {
	a.t.Helper()
	return a.expect(wire.TypeSweep).Sweep
}

// SendResults sends results as pii_file findings in one batch and waits
// until the server acknowledges (commits) it.
func (a *Agent) SendResults(rs ...scope.FileResult) {
	a.t.Helper()
	var fs []wire.Finding
	for _, r := range rs {
		b, _ := json.Marshal(r)
		var detail map[string]any
		json.Unmarshal(b, &detail)
		fs = append(fs, wire.Finding{ID: fmt.Sprintf("pii-%d-%d", a.seq+1, len(fs)), Type: scope.FileResultType, Path: r.Path,
			SHA256: r.SHA256, Size: r.Size, SeenAt: time.Now(), SweepID: a.SweepID, Detail: detail})
	}
	a.seq++
	a.send(&wire.Message{Type: wire.TypeFindings, Findings: &wire.Findings{Seq: a.seq, Findings: fs}})
	if m := a.expect(wire.TypeAck); m.Ack.Seq != a.seq {
		a.t.Fatalf("ack %d, want %d", m.Ack.Seq, a.seq)
	}
}

// Subject builds a subject of member and record from category, value
// pairs.
func Subject(member string, record int, kv ...string) scope.FileSubject {
	s := scope.FileSubject{Member: member, Record: record, Key: fmt.Sprintf("k%d", record)}
	for i := 0; i+1 < len(kv); i += 2 {
		s.Values = append(s.Values, scope.FileValue{Category: kv[i], Value: kv[i+1]})
	}
	return s
}

// Result builds a one-part result of path with content hash sha, counting
// its subjects' categories.
func Result(path, sha string, subs ...scope.FileSubject) scope.FileResult {
	r := scope.FileResult{Type: scope.FileResultType, Path: path, SHA256: sha, Size: 1000, Parts: 1, Categories: map[string]int{}, Subjects: subs,
		ModTime: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	for _, s := range subs {
		for _, v := range s.Values {
			r.Categories[v.Category]++
		}
	}
	return r
}
