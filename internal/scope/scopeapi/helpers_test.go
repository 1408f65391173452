package scopeapi_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/incident"
	"github.com/mamori-dev/mamori/internal/investigate"
	"github.com/mamori-dev/mamori/internal/obligation/workspace"
	"github.com/mamori-dev/mamori/internal/scope/scopeapi"
	"github.com/mamori-dev/mamori/internal/scope/scopeapi/scopetest"
	"github.com/mamori-dev/mamori/internal/server"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
)

// fixture is a real server (real TLS, real store) with the incident,
// investigation and scoping capabilities.
type fixture struct {
	t      testing.TB
	srv    *server.Server
	dir    string
	url    string
	client *http.Client
	pool   *x509.CertPool
	// st is the server's store, for what the test sets up below the API.
	st *store.Store
	// svc is the scoping service the server runs.
	svc *scopeapi.Service
}

type noRoutes struct{}

func (noRoutes) Routes() []httpapi.Route { return nil }

func newFixture(t testing.TB, dsn string) *fixture {
	t.Helper()
	dir := t.TempDir()
	var st *store.Store
	var svc *scopeapi.Service
	scoping := func(env httpapi.Env) (httpapi.Capability, error) {
		s, err := scopeapi.New(env)
		svc = s
		return s, err
	}
	grab := func(env httpapi.Env) (httpapi.Capability, error) { st = env.Store; return noRoutes{}, nil }
	ctx, cancel := context.WithCancel(context.Background())
	s, err := server.New(ctx, server.Config{DataDir: dir, DB: dsn, Listen: "127.0.0.1:0", Heartbeat: 30 * time.Second,
		Capabilities: []server.CapabilityFunc{incident.Capability, investigate.Capability, workspace.Capability, scoping, grab}})
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
	return &fixture{t: t, srv: s, dir: dir, url: s.URL(), pool: pool, st: st, svc: svc,
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

// enrol enrols and connects a test agent.
func (f *fixture) enrol(name string) *scopetest.Agent {
	return scopetest.Enrol(f.t, f.url, f.srv.CAPEM(), f.srv.EnrollToken(), name)
}

var (
	subject = scopetest.Subject
	result  = scopetest.Result
)

func sha(c byte) string { return strings.Repeat(string(c), 64) }
