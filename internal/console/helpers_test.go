package console

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/account"
	"github.com/mamori-dev/mamori/internal/incident"
	"github.com/mamori-dev/mamori/internal/investigate"
	"github.com/mamori-dev/mamori/internal/notify/notifyapi"
	"github.com/mamori-dev/mamori/internal/obligation/workspace"
	"github.com/mamori-dev/mamori/internal/scope/scopeapi"
	"github.com/mamori-dev/mamori/internal/server"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
)

// password is every test user's password.
const password = "correct horse battery staple"

// roleUsers names a test user per role.
var roleUsers = map[httpapi.Role]string{
	httpapi.RoleAdmin: "ada", httpapi.RoleResponder: "rei", httpapi.RolePrivacy: "pia",
	httpapi.RoleAuditor: "aki", httpapi.RoleViewer: "vic",
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a server with the console, accounts and incidents, one user
// per role, and (when seeded) a host linked to an incident.
type fixture struct {
	srv      *server.Server
	h        http.Handler
	st       *store.Store
	console  *Console
	clock    *clock
	incident string
	host     string
}

// newFixture builds the server in dir (a temporary directory when empty)
// without a listener: the tests drive its handler directly.
func newFixture(t testing.TB, cfg server.Config) *fixture {
	t.Helper()
	f := &fixture{clock: &clock{t: time.Now().UTC()}}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Now == nil {
		cfg.Now = f.clock.Now
	}
	cfg.Capabilities = []server.CapabilityFunc{account.Capability, incident.Capability, workspace.Capability, investigate.Capability, notifyapi.Capability, scopeapi.Capability,
		func(env httpapi.Env) (httpapi.Capability, error) {
			c, err := Capability(env)
			if err == nil {
				f.console, f.st = c.(*Console), env.Store
			}
			return c, err
		}}
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	f.srv, f.h = srv, srv.Handler()
	hash, err := account.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = f.st.InTx(ctx, func(tx *store.Tx) error {
		for role, name := range roleUsers {
			if _, err := account.Add(ctx, tx, account.User{Name: name, Role: account.Role(role), CreatedAt: f.clock.Now(), CreatedBy: "test"}); err != nil {
				return err
			}
			if err := account.SetPassword(ctx, tx, name, hash); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// seed adds a host (as if enrolled) and an incident it is linked to.
func (f *fixture) seed(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	f.host = "h-00000000000000aa"
	err := f.st.InTx(ctx, func(tx *store.Tx) error {
		return tx.CreateHost(ctx, &store.Host{ID: f.host, Name: "kaikei-pc01", Hostname: "kaikei-pc01", OS: "linux", Arch: "amd64",
			IPs: []string{"192.0.2.10"}, EnrolledAt: f.clock.Now(), Monitoring: "normal", Isolation: "none",
			KeySHA256: strings.Repeat("ab", 32), CertPEM: "-"})
	})
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		ID string `json:"id"`
	}
	// Aware 60 hours ago: GDPR's 72-hour report is due within a day.
	aware := f.clock.Now().Add(-60 * time.Hour).Format(time.RFC3339)
	f.apiAdmin(t, "POST", "/incidents", `{"title":"Ransomware on accounting PC","severity":"high","aware_at":"`+aware+`","hosts":["`+f.host+`"],"reason":"EDR alert"}`, &v)
	f.incident = v.ID
	f.apiAdmin(t, "PUT", "/incidents/"+f.incident+"/obligations/facts",
		`{"facts":{"cause":"malware","status":"suspected","categories":["email","credit_card"],"people":{"JP":1200,"DE":3},"financial_damage_risk":true},"reason":"first count from scoping"}`, nil)
}

// apiAdmin calls the API with the bootstrap admin token.
func (f *fixture) apiAdmin(t testing.TB, method, path, body string, out any) {
	t.Helper()
	req := httptest.NewRequest(method, httpapi.Prefix+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.srv.AdminToken())
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatal(err)
		}
	}
}

// browser is a logged-in user agent: its session cookie and CSRF token.
type browser struct {
	f      *fixture
	cookie *http.Cookie
	csrf   string
}

type response struct {
	code   int
	header http.Header
	body   string
}

func (b *browser) do(t testing.TB, method, path string, form url.Values, headers map[string]string) response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, "https://console.test"+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.cookie != nil {
		req.AddCookie(b.cookie)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	b.f.h.ServeHTTP(rec, req)
	return response{code: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

func (b *browser) get(t testing.TB, path string) response { return b.do(t, "GET", path, nil, nil) }

// login logs in as name and returns the browser.
func (f *fixture) login(t testing.TB, name string) *browser {
	t.Helper()
	b := &browser{f: f}
	resp := b.do(t, "POST", "/login", url.Values{"name": {name}, "password": {password}}, nil)
	if resp.code != http.StatusSeeOther {
		t.Fatalf("login %s: %d %s", name, resp.code, resp.body)
	}
	for _, c := range (&http.Response{Header: resp.header}).Cookies() {
		if c.Name == cookieName {
			b.cookie = c
		}
	}
	if b.cookie == nil {
		t.Fatalf("login %s: no session cookie", name)
	}
	f.console.mu.Lock()
	b.csrf = f.console.sessions[b.cookie.Value].csrf
	f.console.mu.Unlock()
	return b
}
