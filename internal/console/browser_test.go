package console

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mamori-dev/mamori/internal/agent"
	"github.com/mamori-dev/mamori/internal/contain"
	"github.com/mamori-dev/mamori/internal/pii"
	"github.com/mamori-dev/mamori/internal/server"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
)

// gatedIsolator records isolations instead of touching the firewall, and
// holds each Isolate until the test opens the gate, so that the test sees
// the page before and after the agent reports the host isolated.
type gatedIsolator struct {
	gate   chan struct{}
	mu     sync.Mutex
	active bool
}

func (g *gatedIsolator) Isolate(ctx context.Context, p contain.Policy) error {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	g.mu.Lock()
	g.active = true
	g.mu.Unlock()
	return nil
}

func (g *gatedIsolator) Release(ctx context.Context) error {
	g.mu.Lock()
	g.active = false
	g.mu.Unlock()
	return nil
}

func (g *gatedIsolator) Active(ctx context.Context) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.active, nil
}

// chromium finds the browser, or skips the test.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed (Debian package chromium); skipping the browser tests")
	return ""
}

// TestBrowser drives the console in headless Chromium against a real
// server and a real in-process agent: every role logs in and out; a
// responder isolates the host through the button and its dialog and sees
// the state change without a reload; a forged post is refused; a privacy
// officer reveals a person and the auditor sees it in the audit log. With
// MAMORI_SCREENSHOTS=1 it saves the main pages under docs/.
func TestBrowser(t *testing.T) {
	path := chromium(t)
	start := time.Now()
	defer func() { t.Logf("browser test took %v", time.Since(start)) }()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	f := newFixture(t, server.Config{Now: time.Now, Heartbeat: time.Second})
	if err := f.srv.Listen(); err != nil {
		t.Fatal(err)
	}
	srvCtx, stopSrv := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- f.srv.Serve(srvCtx) }()
	defer func() { stopSrv(); <-served }()
	base := f.srv.URL()

	iso := &gatedIsolator{gate: make(chan struct{})}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(f.srv.CAPEM())
	agentCtx, stopAgent := context.WithCancel(ctx)
	a, err := agent.New(agentCtx, agent.Config{ServerURL: base, Roots: roots, EnrollToken: f.srv.EnrollToken(),
		DataDir: t.TempDir(), Name: "kaikei-pc01", ScanPaths: []string{t.TempDir()}, Isolator: iso,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	agentDone := make(chan struct{})
	go func() { defer close(agentDone); a.Run(agentCtx) }()
	defer func() { stopAgent(); <-agentDone; a.Close() }()

	var hosts []struct {
		ID     string `json:"id"`
		Online bool   `json:"online"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(hosts) == 0 || !hosts[0].Online {
		if time.Now().After(deadline) {
			t.Fatal("the agent did not come online")
		}
		time.Sleep(50 * time.Millisecond)
		f.apiAdmin(t, "GET", "/hosts", "", &hosts)
	}
	f.host = hosts[0].ID
	var in struct {
		ID string `json:"id"`
	}
	aware := time.Now().Add(-60 * time.Hour).UTC().Format(time.RFC3339)
	f.apiAdmin(t, "POST", "/incidents", `{"title":"Ransomware on the accounting PC","severity":"high","aware_at":"`+aware+`","hosts":["`+f.host+`"],"reason":"EDR alert from kaikei-pc01"}`, &in)
	f.incident = in.ID
	f.apiAdmin(t, "PUT", "/incidents/"+f.incident+"/obligations/facts",
		`{"facts":{"cause":"malware","status":"suspected","categories":["email","credit_card"],"people":{"JP":1200,"DE":3},"financial_damage_risk":true},"reason":"first count from scoping"}`, nil)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()),
		// The server's certificate is from its own CA, which this fresh
		// profile does not trust.
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.Flag("lang", "en-US"), chromedp.WindowSize(1280, 900))
	allocCtx, stopAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer stopAlloc()
	bctx, stopBrowser := chromedp.NewContext(allocCtx)
	defer stopBrowser()

	shots := os.Getenv("MAMORI_SCREENSHOTS") == "1"
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.Join(strings.Fields(s), " ")
	}
	shot := func(name string) {
		t.Helper()
		if !shots {
			return
		}
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "console-"+name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	login := func(name string) {
		t.Helper()
		do("log in as "+name,
			chromedp.Navigate(base+"/login"),
			chromedp.WaitVisible(chromedp.CSS("#name")),
			chromedp.SendKeys(chromedp.CSS("#name"), name),
			chromedp.SendKeys(chromedp.CSS("#password"), password),
			chromedp.Submit(chromedp.CSS("#password")),
			chromedp.WaitVisible(chromedp.CSS("header .who strong")))
	}
	logout := func() {
		t.Helper()
		do("log out", chromedp.Click(chromedp.CSS(`header form[action="/logout"] button`)),
			chromedp.WaitVisible(chromedp.CSS("#password")))
	}

	// Every role logs in, sees its own name and only its menu, logs out.
	wantNav := map[httpapi.Role]string{"admin": "Incidents Fleet Sweeps Rules Audit log", "responder": "Incidents Fleet Sweeps Rules",
		"privacy": "Incidents", "auditor": "Incidents Fleet Sweeps Rules Audit log", "viewer": "Incidents Fleet"}
	for _, role := range httpapi.Roles {
		login(roleUsers[role])
		if who, nav := text("header .who strong"), text("header nav"); who != roleUsers[role] || nav != wantNav[role] {
			t.Errorf("%s: signed in as %q with menu %q, want %q", role, who, nav, wantNav[role])
		}
		logout()
	}

	// A responder isolates the host through the button and the dialog.
	login("rei")
	do("incidents", chromedp.Navigate(base+"/incidents"), chromedp.WaitVisible(chromedp.CSS("table")))
	shot("incidents")
	do("incident", chromedp.Navigate(base+"/incidents/"+f.incident), chromedp.WaitVisible(chromedp.CSS("#hosts-live table")))
	shot("incident")
	do("open the dialog", chromedp.Navigate(base+"/hosts/"+f.host),
		chromedp.Click(chromedp.CSS("#btn-isolate")),
		chromedp.WaitVisible(chromedp.CSS("#reason-isolate")))
	shot("isolate-dialog")
	do("confirm", chromedp.SendKeys(chromedp.CSS("#reason-isolate"), "ransom note on the desktop"),
		chromedp.Click(chromedp.CSS("#confirm-isolate")),
		chromedp.WaitVisible(chromedp.CSS("#isolation-state.state-requested")))
	// A mark on this page's window: a reload would lose it.
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[string](`window.mamoriMark = "kept"`)); err != nil {
		t.Fatal(err)
	}
	close(iso.gate)
	do("wait for the isolated state", chromedp.WaitVisible(chromedp.CSS("#isolation-state.state-isolated")))
	if mark, err := chromedp.Run(bctx, chromedp.Evaluate[string](`window.mamoriMark || "reloaded"`)); err != nil || mark != "kept" {
		t.Fatalf("the page was reloaded to show the new state (%q, %v)", mark, err)
	}
	shot("host")

	// A post without the CSRF token from the console's own origin, and a
	// form on another site, are both refused; the host stays isolated.
	status, err := chromedp.Run(bctx, chromedp.Evaluate[int](fmt.Sprintf(
		`fetch("/hosts/%s/release", {method: "POST", body: new URLSearchParams({reason: "forged"})}).then(r => r.status)`, f.host),
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusForbidden {
		t.Errorf("same-origin post without the token: %d, want 403", status)
	}
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!DOCTYPE html><form method="post" action="%s/hosts/%s/release"><input name="reason" value="forged"><button id="go">go</button></form>`, base, f.host)
	}))
	defer evil.Close()
	do("forged form", chromedp.Navigate(evil.URL), chromedp.Click(chromedp.CSS("#go")))
	for deadline := time.Now().Add(20 * time.Second); ; {
		loc, err := chromedp.Run(bctx, chromedp.Location())
		if err == nil && strings.HasPrefix(loc, base) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the forged form did not post: at %q, %v", loc, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := text("body"); !strings.Contains(got, "cross-origin") {
		t.Errorf("forged form answered %q", got)
	}
	if got := f.hostIsolationT(t); got != "isolated" {
		t.Fatalf("after the forged posts the host is %q", got)
	}

	// The auditor sees the isolation, by the responder, in the audit log.
	do("back", chromedp.Navigate(base+"/hosts/"+f.host), chromedp.WaitVisible(chromedp.CSS("header .who strong")))
	logout()
	login("aki")
	do("audit", chromedp.Navigate(base+"/audit"), chromedp.WaitVisible(chromedp.CSS("table")))
	if got := text("main"); !strings.Contains(got, "ransom note on the desktop") || !strings.Contains(got, "valid") {
		t.Errorf("audit page lacks the isolation or a valid checkpoint:\n%s", got)
	}
	shot("audit")
	do("fleet", chromedp.Navigate(base+"/hosts"), chromedp.WaitVisible(chromedp.CSS("table")))
	shot("fleet")
	logout()

	// A privacy officer opens the affected people of an incident whose
	// file server holds a customer list, reveals one person with a reason
	// through the dialog and sees the values; the auditor then finds the
	// reveal in the audit log.
	f.seedPeople(t, "fileserver01")
	yamada := f.personID(t, "山田太郎")
	login("pia")
	do("people", chromedp.Navigate(base+"/incidents/"+f.incident), chromedp.Click(chromedp.CSS("#link-people")),
		chromedp.WaitVisible(chromedp.CSS("#people")))
	if got := text("#people"); strings.Contains(got, "山田太郎") || !strings.Contains(got, pii.Mask(pii.PersonName, "山田太郎")) {
		t.Errorf("people table before the reveal: %q", got)
	}
	shot("people")
	do("open the reveal dialog", chromedp.Click(chromedp.CSS("#reveal-"+yamada)), chromedp.WaitVisible(chromedp.CSS("#reveal-reason")))
	do("reveal", chromedp.SendKeys(chromedp.CSS("#reveal-reason"), "the customer asked which data we hold"),
		chromedp.Click(chromedp.CSS("#confirm-reveal")), chromedp.WaitVisible(chromedp.CSS("#revealed")))
	if got := text("main"); !strings.Contains(got, "山田太郎") || !strings.Contains(got, "taro.yamada@example.jp") || !strings.Contains(got, "+819012345678") {
		t.Errorf("revealed page: %q", got)
	}
	shot("people-revealed")
	logout()
	login("aki")
	do("audit after the reveal", chromedp.Navigate(base+"/audit"), chromedp.WaitVisible(chromedp.CSS("table")))
	if got := text("main"); !strings.Contains(got, "scope.reveal") || !strings.Contains(got, "the customer asked which data we hold") ||
		!strings.Contains(got, f.incident+"/"+yamada) {
		t.Errorf("audit page lacks the reveal:\n%s", got)
	}
}

func (f *fixture) hostIsolationT(t *testing.T) string { return f.hostIsolation(t) }
