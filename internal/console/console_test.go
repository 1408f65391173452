package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/server"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
)

// TestPagesByRole opens every page as every role: the allowed ones answer
// 200 with valid, labelled HTML, the others 403.
func TestPagesByRole(t *testing.T) {
	f := newFixture(t, server.Config{})
	f.seed(t)
	pages := []struct {
		path     string
		fragment bool
		allowed  []httpapi.Role // besides admin
	}{
		{"/incidents", false, []httpapi.Role{"responder", "privacy", "auditor", "viewer"}},
		{"/incidents/" + f.incident, false, []httpapi.Role{"responder", "privacy", "auditor", "viewer"}},
		{"/incidents/" + f.incident + "/live", true, []httpapi.Role{"responder", "privacy", "auditor", "viewer"}},
		{"/incidents/" + f.incident + "/drafts", false, []httpapi.Role{"responder", "privacy", "auditor", "viewer"}},
		{"/incidents/" + f.incident + "/timeline?level=high&from=2026-01-01T09:00", false, []httpapi.Role{"responder", "auditor", "viewer"}},
		{"/incidents/" + f.incident + "/campaigns", false, []httpapi.Role{"responder", "privacy", "auditor", "viewer"}},
		{"/incidents/" + f.incident + "/people", false, []httpapi.Role{"responder", "privacy", "auditor", "viewer"}},
		{"/incidents/" + f.incident + "/people?category=email&exposure=present", false, []httpapi.Role{"responder", "privacy", "auditor", "viewer"}},
		{"/incidents/" + f.incident + "/people/p-00/reveal", false, []httpapi.Role{"privacy"}},
		{"/incidents/" + f.incident + "/people/proposals", false, []httpapi.Role{"privacy"}},
		{"/incidents/" + f.incident + "/pii-files", false, []httpapi.Role{"responder", "privacy", "auditor"}},
		{"/hosts", false, []httpapi.Role{"responder", "auditor", "viewer"}},
		{"/hosts/" + f.host, false, []httpapi.Role{"responder", "auditor", "viewer"}},
		{"/hosts/" + f.host + "/state", true, []httpapi.Role{"responder", "auditor", "viewer"}},
		{"/hosts/" + f.host + "/confirm/isolate", false, []httpapi.Role{"responder"}},
		{"/audit", false, []httpapi.Role{"auditor"}},
		{"/rules", false, []httpapi.Role{"responder", "auditor"}},
		{"/sweeps", false, []httpapi.Role{"responder", "auditor"}},
	}
	for _, role := range httpapi.Roles {
		b := f.login(t, roleUsers[role])
		for _, p := range pages {
			want := http.StatusForbidden
			if role == httpapi.RoleAdmin || contains(p.allowed, role) {
				want = http.StatusOK
			}
			resp := b.get(t, p.path)
			if resp.code != want {
				t.Errorf("%s GET %s: %d, want %d: %s", role, p.path, resp.code, want, resp.body)
				continue
			}
			if resp.header.Get("Content-Security-Policy") != csp {
				t.Errorf("%s GET %s: CSP %q", role, p.path, resp.header.Get("Content-Security-Policy"))
			}
			if problems := checkHTML(resp.body, p.fragment); len(problems) > 0 {
				t.Errorf("%s GET %s: HTML problems: %s", role, p.path, strings.Join(problems, "; "))
			}
		}
	}
}

func contains(rs []httpapi.Role, r httpapi.Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// TestNavFollowsRoles: the menu offers only the pages the role may open.
func TestNavFollowsRoles(t *testing.T) {
	f := newFixture(t, server.Config{})
	want := map[httpapi.Role][]string{
		"admin":     {"/incidents", "/hosts", "/sweeps", "/rules", "/audit"},
		"responder": {"/incidents", "/hosts", "/sweeps", "/rules"},
		"privacy":   {"/incidents"},
		"auditor":   {"/incidents", "/hosts", "/sweeps", "/rules", "/audit"},
		"viewer":    {"/incidents", "/hosts"},
	}
	for role, hrefs := range want {
		s := &session{principal: httpapi.Principal{Kind: httpapi.KindUser, Name: "x", Roles: []httpapi.Role{role}}}
		f.get0(t)
		v := f.console.newView(httptestRequest("/incidents"), s, "incidents", nil)
		var got []string
		for _, n := range v.Nav {
			got = append(got, n.Href)
		}
		if d := cmp.Diff(got, hrefs); d != "" {
			t.Errorf("%s nav (-got +want):\n%s", role, d)
		}
	}
}

func (f *fixture) get0(t *testing.T) {
	// The route table is handed to the console when the handler is built.
	t.Helper()
	if f.console.routes == nil {
		t.Fatal("console not mounted")
	}
}

func httptestRequest(path string) *http.Request {
	r, _ := http.NewRequest("GET", "https://console.test"+path, nil)
	return r
}

// TestLogin covers the cookie's attributes, wrong passwords, the rate
// limit, idle expiry and logout.
func TestLogin(t *testing.T) {
	f := newFixture(t, server.Config{})
	anon := &browser{f: f}
	if resp := anon.get(t, "/incidents"); resp.code != http.StatusSeeOther || !strings.HasPrefix(resp.header.Get("Location"), "/login?next=") {
		t.Fatalf("anonymous GET /incidents: %d %s", resp.code, resp.header.Get("Location"))
	}
	resp := anon.do(t, "POST", "/login", url.Values{"name": {"rei"}, "password": {password}}, nil)
	c := (&http.Response{Header: resp.header}).Cookies()
	if len(c) != 1 || !c[0].HttpOnly || !c[0].Secure || c[0].SameSite != http.SameSiteStrictMode || c[0].Path != "/" {
		t.Fatalf("session cookie: %+v", c)
	}
	for i := range loginPerName {
		resp := anon.do(t, "POST", "/login", url.Values{"name": {"vic"}, "password": {"wrong"}}, nil)
		if resp.code != http.StatusUnauthorized || !strings.Contains(resp.body, messages["en"]["login_failed"]) {
			t.Fatalf("wrong password %d: %d", i, resp.code)
		}
	}
	resp = anon.do(t, "POST", "/login", url.Values{"name": {"vic"}, "password": {password}}, nil)
	if resp.code != http.StatusTooManyRequests {
		t.Fatalf("login after %d failures: %d, want 429", loginPerName, resp.code)
	}
	f.clock.Add(loginWindow + 1)
	b := f.login(t, "vic")
	if resp := b.get(t, "/incidents"); resp.code != http.StatusOK {
		t.Fatalf("after login: %d", resp.code)
	}
	// Polling does not keep a session alive; a page view does.
	f.clock.Add(IdleTimeout - 1)
	b.do(t, "GET", "/incidents", nil, map[string]string{"HX-Request": "true"})
	f.clock.Add(2)
	if resp := b.get(t, "/incidents"); resp.code != http.StatusSeeOther {
		t.Fatalf("idle session: %d, want a redirect to the login", resp.code)
	}
	b = f.login(t, "vic")
	if resp := b.do(t, "POST", "/logout", url.Values{"csrf": {b.csrf}}, nil); resp.code != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.code)
	}
	if resp := b.get(t, "/incidents"); resp.code != http.StatusSeeOther {
		t.Fatalf("after logout: %d", resp.code)
	}
}

// TestActionsCSRF: a host action without the session's token, or from
// another site, is refused and changes nothing; with it, the API's own
// logic runs as the user and the audit log names the user and role.
func TestActionsCSRF(t *testing.T) {
	f := newFixture(t, server.Config{})
	f.seed(t)
	b := f.login(t, "rei")
	path := "/hosts/" + f.host + "/isolate"
	for name, tc := range map[string]struct {
		form    url.Values
		headers map[string]string
	}{
		"no token":    {url.Values{"reason": {"forged"}}, nil},
		"wrong token": {url.Values{"reason": {"forged"}, "csrf": {"00"}}, nil},
		"cross-site":  {url.Values{"reason": {"forged"}, "csrf": {b.csrf}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
	} {
		if resp := b.do(t, "POST", path, tc.form, tc.headers); resp.code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, resp.code)
		}
	}
	if got := f.hostIsolation(t); got != "none" {
		t.Fatalf("after forged posts the host is %q", got)
	}
	v := f.login(t, "vic")
	if resp := v.do(t, "POST", path, url.Values{"reason": {"try"}, "csrf": {v.csrf}}, nil); resp.code != http.StatusForbidden {
		t.Errorf("viewer isolate: %d, want 403", resp.code)
	}
	resp := b.do(t, "POST", path, url.Values{"reason": {"ransom note found"}, "csrf": {b.csrf}}, map[string]string{"Sec-Fetch-Site": "same-origin"})
	if resp.code != http.StatusSeeOther {
		t.Fatalf("isolate: %d %s", resp.code, resp.body)
	}
	if got := f.hostIsolation(t); got != "requested" {
		t.Fatalf("after isolate the host is %q, want requested (its agent is offline)", got)
	}
	var entries []struct{ Actor, Role, Action, Target, Reason string }
	f.apiAdmin(t, "GET", "/audit?target="+f.host, "", &entries)
	last := entries[len(entries)-1]
	if last.Actor != "rei" || last.Role != "responder" || last.Reason != "ransom note found" {
		t.Fatalf("audit entry: %+v", last)
	}
	// Approving a campaign is privacy's: others are refused before the API
	// is asked, privacy reaches it (no such campaign here: 404).
	for name, want := range map[string]int{"rei": http.StatusForbidden, "vic": http.StatusForbidden, "pia": http.StatusNotFound} {
		u := f.login(t, name)
		resp := u.do(t, "POST", "/incidents/"+f.incident+"/campaigns/c-00/approve", url.Values{"reason": {"ok"}, "csrf": {u.csrf}}, nil)
		if resp.code != want {
			t.Errorf("%s approve: %d, want %d", name, resp.code, want)
		}
	}
	// A missing reason is the API's 400, shown as an error page.
	if resp := b.do(t, "POST", "/hosts/"+f.host+"/heighten", url.Values{"csrf": {b.csrf}}, nil); resp.code/100 == 5 {
		t.Fatalf("heighten without reason: %d", resp.code)
	}
}

func (f *fixture) hostIsolation(t *testing.T) string {
	var h struct {
		Isolation string `json:"isolation"`
	}
	f.apiAdmin(t, "GET", "/hosts/"+f.host, "", &h)
	return h.Isolation
}

// TestLanguages: Accept-Language picks Japanese, the switch overrides it,
// and both languages have every message.
func TestLanguages(t *testing.T) {
	for k := range messages["en"] {
		if messages["ja"][k] == "" {
			t.Errorf("ja lacks %q", k)
		}
	}
	for k := range messages["ja"] {
		if messages["en"][k] == "" {
			t.Errorf("en lacks %q", k)
		}
	}
	for _, tc := range []struct{ header, cookie, want string }{
		{"", "", "en"},
		{"ja,en;q=0.8", "", "ja"},
		{"en-US,ja;q=0.9", "", "en"},
		{"fr;q=1, ja;q=0.5", "", "ja"},
		{"ja", "en", "en"},
	} {
		r := httptestRequest("/")
		r.Header.Set("Accept-Language", tc.header)
		if tc.cookie != "" {
			r.AddCookie(&http.Cookie{Name: "lang", Value: tc.cookie})
		}
		if got := language(r); got != tc.want {
			t.Errorf("Accept-Language %q cookie %q: %s, want %s", tc.header, tc.cookie, got, tc.want)
		}
	}
	f := newFixture(t, server.Config{})
	f.seed(t)
	b := f.login(t, "rei")
	resp := b.do(t, "GET", "/incidents", nil, map[string]string{"Accept-Language": "ja"})
	if !strings.Contains(resp.body, "インシデント") || !strings.Contains(resp.body, `lang="ja"`) || !strings.Contains(resp.body, " JST") {
		t.Errorf("Japanese page lacks Japanese words or Tokyo times:\n%s", resp.body)
	}
}

// TestStaticHasNoInlineCode: the pages reference only the console's own
// static files, which exist.
func TestStatic(t *testing.T) {
	f := newFixture(t, server.Config{})
	b := &browser{f: f}
	for _, p := range []string{"/static/htmx.min.js", "/static/console.js", "/static/console.css", "/static/htmx.LICENSE"} {
		if resp := b.get(t, p); resp.code != http.StatusOK || resp.body == "" {
			t.Errorf("GET %s: %d", p, resp.code)
		}
	}
	if resp := b.get(t, "/api/v1/nope"); resp.code != http.StatusNotFound || !strings.Contains(resp.body, `"error"`) {
		t.Errorf("unknown API path: %d %s", resp.code, resp.body)
	}
}

// TestDutiesDueSoon: the incident page shows a duty's countdown in red
// exactly when the API flags it due within 24 hours or overdue.
func TestDutiesDueSoon(t *testing.T) {
	f := newFixture(t, server.Config{})
	f.seed(t)
	var cd struct {
		Duties []struct {
			DueSoon bool `json:"due_soon"`
			Overdue bool `json:"overdue"`
		} `json:"duties"`
	}
	f.apiAdmin(t, "GET", "/incidents/"+f.incident+"/obligations", "", &cd)
	flagged := 0
	for _, d := range cd.Duties {
		if d.DueSoon || d.Overdue {
			flagged++
		}
	}
	// The seed's incident became known 60 hours ago: GDPR's 72 hours end
	// within a day, APPI's preliminary report is further off.
	if flagged == 0 || flagged == len(cd.Duties) {
		t.Fatalf("%d of %d duties flagged, want some", flagged, len(cd.Duties))
	}
	body := f.login(t, "vic").get(t, "/incidents/"+f.incident).body
	if got := strings.Count(body, `<span class="due-soon">`); got != flagged {
		t.Errorf("%d red countdowns, want %d", got, flagged)
	}
	f.clock.Add(13 * time.Hour)
	body = f.login(t, "vic").get(t, "/incidents/"+f.incident).body
	if !strings.Contains(body, `<span class="due-soon">-`) {
		t.Error("an overdue duty is not red")
	}
}

// TestIncidentNavFollowsRoles: an incident's pages link its other pages,
// only those the role may open.
func TestIncidentNavFollowsRoles(t *testing.T) {
	f := newFixture(t, server.Config{})
	all := []string{"", "/timeline", "/people", "/pii-files", "/drafts", "/campaigns"}
	want := map[httpapi.Role][]string{
		"admin":     all,
		"responder": all,
		"privacy":   {"", "/people", "/pii-files", "/drafts", "/campaigns"},
		"auditor":   all,
		"viewer":    {"", "/timeline", "/people", "/drafts", "/campaigns"},
	}
	for role, suffixes := range want {
		s := &session{principal: httpapi.Principal{Kind: httpapi.KindUser, Name: "x", Roles: []httpapi.Role{role}}}
		r := httptestRequest("/incidents/i-1/people")
		r.SetPathValue("id", "i-1")
		v := f.console.newView(r, s, "people", nil)
		var got, wantHrefs []string
		for _, n := range v.IncidentNav {
			got = append(got, n.Href)
		}
		for _, sfx := range suffixes {
			wantHrefs = append(wantHrefs, "/incidents/i-1"+sfx)
		}
		if d := cmp.Diff(got, wantHrefs); d != "" {
			t.Errorf("%s incident nav (-got +want):\n%s", role, d)
		}
	}
}
