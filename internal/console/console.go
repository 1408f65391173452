package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mamori-dev/mamori/internal/account"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
)

//go:embed static
var staticFS embed.FS

const (
	// IdleTimeout ends a session after this long without a page view.
	IdleTimeout = 30 * time.Minute
	// MaxAge ends a session this long after the login, active or not.
	MaxAge = 12 * time.Hour
	// cookieName is the session cookie; the __Host- prefix makes the
	// browser refuse it unless Secure, Path=/ and without Domain.
	cookieName = "__Host-mamori-session"
	// loginWindow and the two limits bound password guessing: at most
	// loginPerAddr failed logins from one address and loginPerName for one
	// user name per window.
	loginWindow  = 5 * time.Minute
	loginPerAddr = 20
	loginPerName = 5
)

// csp allows the console's own scripts, styles and images and nothing
// inline; forms post only to the console, and no one may frame it.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Console is the web console capability.
type Console struct {
	st  *store.Store
	now func() time.Time
	log *slog.Logger

	mu       sync.Mutex
	sessions map[string]*session
	failures map[string][]time.Time // "addr:..." and "name:..." → failed logins in the window

	api    http.Handler
	routes map[string]*httpapi.Route
	pages  *templates
}

type session struct {
	id, csrf  string
	principal httpapi.Principal
	created   time.Time
	seen      time.Time
}

// Capability builds the console; cmd/mamori lists it after the accounts.
func Capability(env httpapi.Env) (httpapi.Capability, error) {
	t, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	return &Console{st: env.Store, now: env.Now, log: env.Log, sessions: map[string]*session{},
		failures: map[string][]time.Time{}, pages: t}, nil
}

// Routes: the console has no API routes of its own.
func (c *Console) Routes() []httpapi.Route { return nil }

type principalKey struct{}

// Authenticate recognises the console's own in-process API calls, and
// nothing else: only this package can put a principal under principalKey.
func (c *Console) Authenticate(r *http.Request) (httpapi.Principal, error) {
	if p, ok := r.Context().Value(principalKey{}).(httpapi.Principal); ok {
		return p, nil
	}
	return httpapi.Principal{}, httpapi.ErrNoCredentials
}

// Mount returns the console's handler; see httpapi.Mounter.
func (c *Console) Mount(api http.Handler, routes []httpapi.Route) http.Handler {
	c.api = api
	c.routes = map[string]*httpapi.Route{}
	for i := range routes {
		c.routes[routes[i].Method+" "+routes[i].Pattern] = &routes[i]
	}
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /login", c.loginPage)
	mux.HandleFunc("POST /login", c.login)
	mux.HandleFunc("GET /settings", c.settings)
	mux.HandleFunc("POST /logout", c.authed(c.logout))
	mux.HandleFunc("GET /{$}", c.authed(func(w http.ResponseWriter, r *http.Request, s *session) {
		http.Redirect(w, r, "/incidents", http.StatusSeeOther)
	}))
	c.pageRoutes(mux)
	cop := http.NewCrossOriginProtection()
	return secure(cop.Handler(mux))
}

// secure sets the headers every console answer carries.
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			hd.Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// current returns the request's live session, or nil. A page view renews
// its idle clock; htmx polling (HX-Request) does not, so an open tab alone
// does not keep a session alive.
func (c *Console) current(r *http.Request) *session {
	ck, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sessions[ck.Value]
	if s == nil {
		return nil
	}
	if now.Sub(s.seen) > IdleTimeout || now.Sub(s.created) > MaxAge {
		delete(c.sessions, s.id)
		return nil
	}
	if r.Header.Get("HX-Request") == "" {
		s.seen = now
	}
	// A copy: requests of one session run concurrently, and each may
	// refresh its copy's roles.
	cp := *s
	return &cp
}

// authed wraps a handler that needs a session: without one, a page view
// goes to the login page, anything else is 401. The user is looked up
// again so that a disabled user or a changed role takes effect at once.
func (c *Console) authed(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := c.current(r)
		if s != nil {
			u, err := account.Get(r.Context(), c.st, s.principal.Name)
			if err != nil || u.Disabled {
				c.drop(s)
				s = nil
			} else {
				s.principal.Roles = []httpapi.Role{httpapi.Role(u.Role)}
			}
		}
		if s == nil {
			if r.Method == http.MethodGet && r.Header.Get("HX-Request") == "" {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "not logged in", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			// Cross-origin posts were refused before this; the token also
			// stops a same-site page (another app on this host) that the
			// browser would consider same-origin enough.
			if err := r.ParseForm(); err != nil || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(s.csrf)) != 1 {
				c.fail(w, r, s, http.StatusForbidden, messageKey("bad_csrf"))
				return
			}
		}
		h(w, r, s)
	}
}

func (c *Console) drop(s *session) {
	c.mu.Lock()
	delete(c.sessions, s.id)
	c.mu.Unlock()
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limited reports whether logins from addr or for name are over their
// limit, forgetting failures older than the window.
func (c *Console) limited(addr, name string) bool {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	over := false
	for key, max := range map[string]int{"addr:" + addr: loginPerAddr, "name:" + name: loginPerName} {
		fs := c.failures[key]
		for len(fs) > 0 && now.Sub(fs[0]) > loginWindow {
			fs = fs[1:]
		}
		if len(fs) == 0 {
			delete(c.failures, key)
		} else {
			c.failures[key] = fs
		}
		if len(fs) >= max {
			over = true
		}
	}
	return over
}

func (c *Console) failed(addr, name string) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures["addr:"+addr] = append(c.failures["addr:"+addr], now)
	c.failures["name:"+name] = append(c.failures["name:"+name], now)
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, nil, http.StatusOK, "login", loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

type loginData struct {
	Next, Name string
	Error      string
}

// safeNext keeps a post-login redirect on the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/incidents"
	}
	return next
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	name, password := strings.TrimSpace(r.PostForm.Get("name")), r.PostForm.Get("password")
	next := safeNext(r.PostForm.Get("next"))
	addr := clientAddr(r)
	if c.limited(addr, name) {
		c.render(w, r, nil, http.StatusTooManyRequests, "login", loginData{Next: next, Name: name, Error: "login_limited"})
		return
	}
	u, err := account.CheckLogin(r.Context(), c.st, name, password)
	if err != nil {
		if !errors.Is(err, account.ErrPasswordMismatch) {
			c.log.Error("console login", "err", err)
		}
		c.failed(addr, name)
		c.render(w, r, nil, http.StatusUnauthorized, "login", loginData{Next: next, Name: name, Error: "login_failed"})
		return
	}
	now := c.now()
	s := &session{id: randomHex(32), csrf: randomHex(32), created: now, seen: now,
		principal: httpapi.Principal{Kind: httpapi.KindUser, Name: u.Name, Roles: []httpapi.Role{httpapi.Role(u.Role)}}}
	c.mu.Lock()
	for id, old := range c.sessions {
		if now.Sub(old.seen) > IdleTimeout || now.Sub(old.created) > MaxAge {
			delete(c.sessions, id)
		}
	}
	c.sessions[s.id] = s
	c.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: s.id, Path: "/", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode, MaxAge: int(MaxAge / time.Second)})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *session) {
	c.drop(s)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// settings stores the language and time zone the switch picked, in
// cookies that hold only those preferences.
func (c *Console) settings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	set := func(name, v string) {
		http.SetCookie(w, &http.Cookie{Name: name, Value: v, Path: "/", Secure: true, HttpOnly: true,
			SameSite: http.SameSiteStrictMode, MaxAge: 365 * 24 * 3600})
	}
	if _, ok := messages[q.Get("lang")]; ok {
		set("lang", q.Get("lang"))
	}
	for _, z := range zones {
		if z == q.Get("zone") {
			set("zone", z)
		}
	}
	http.Redirect(w, r, safeNext(q.Get("next")), http.StatusSeeOther)
}

// apiError is a non-2xx answer of an in-process API call.
type apiError struct {
	Code int
	Msg  string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Msg) }

// call makes an API call in process as the session's user: the route's
// role check, validation and audit apply exactly as to a token holder.
// The JSON answer is decoded into out.
func (c *Console) call(r *http.Request, s *session, method, path string, body, out any) error {
	b, err := c.do(r, s, method, path, body)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("console: %s %s: %w", method, path, err)
	}
	return nil
}

// callRaw is call for an answer that is not JSON.
func (c *Console) callRaw(r *http.Request, s *session, method, path string) ([]byte, error) {
	return c.do(r, s, method, path, nil)
}

func (c *Console) do(r *http.Request, s *session, method, path string, body any) ([]byte, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	ctx := context.WithValue(r.Context(), principalKey{}, s.principal)
	req, err := http.NewRequestWithContext(ctx, method, httpapi.Prefix+path, rd)
	if err != nil {
		return nil, err
	}
	req.RemoteAddr = r.RemoteAddr
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := &recorder{header: http.Header{}, code: http.StatusOK}
	c.api.ServeHTTP(rec, req)
	if rec.code/100 != 2 {
		var eb httpapi.ErrorBody
		json.Unmarshal(rec.body.Bytes(), &eb)
		return nil, &apiError{Code: rec.code, Msg: eb.Error}
	}
	return rec.body.Bytes(), nil
}

// recorder is the ResponseWriter of an in-process call.
type recorder struct {
	header http.Header
	code   int
	wrote  bool
	body   bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.header }
func (w *recorder) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
}
func (w *recorder) Write(b []byte) (int, error) {
	w.wrote = true
	return w.body.Write(b)
}

// allowed reports whether the session's user may call the API route key
// ("GET /hosts/{id}"), by the route table's roles.
func (c *Console) allowed(s *session, key string) bool {
	rt := c.routes[key]
	return rt != nil && s.principal.Role(rt) != ""
}
