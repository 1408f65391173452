package console

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/pii"
	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/scope/scopeapi"
	"github.com/mamori-dev/mamori/internal/scope/scopeapi/scopetest"
	"github.com/mamori-dev/mamori/internal/server"
)

// registerValues are the raw values the seeded register holds, as
// category, value pairs per person (one file record each).
var registerValues = [][]string{
	{"person_name", "山田太郎", "email", "taro.yamada@example.jp", "phone", "+819012345678"},
	{"person_name", "佐藤花子", "email", "hanako.sato@example.jp", "credit_card", "4111111111111111"},
	{"person_name", "Emily Carter", "email", "emily.carter@example.co.uk", "postal_code", "100-0005"},
	// A near match of two records: a merge proposal.
	{"person_name", "伊藤 誠", "date_of_birth", "1980-01-02", "email", "makoto.ito@example.jp"},
	{"person_name", "伊藤 誡", "date_of_birth", "1980-01-02", "email", "m.ito@example.net"},
}

// serve starts f's listener (real TLS) for agents; it stops when t ends.
func (f *fixture) serve(t testing.TB) {
	t.Helper()
	if err := f.srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- f.srv.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-served })
}

// seedPeople enrols a test agent named name with f (served) that sends
// the pii_file results of registerValues as a real agent would after a
// sweep, and opens an incident on its host, which become f.host and
// f.incident.
func (f *fixture) seedPeople(t testing.TB, name string) {
	t.Helper()
	a := scopetest.Enrol(t, f.srv.URL(), f.srv.CAPEM(), f.srv.EnrollToken(), name)
	var subs []scope.FileSubject
	for i, kv := range registerValues {
		subs = append(subs, scopetest.Subject("", i+1, kv...))
	}
	a.SendResults(scopetest.Result("/srv/share/customers.csv", strings.Repeat("a", 64), subs[:3]...),
		scopetest.Result("/srv/share/crm/contacts.csv", strings.Repeat("b", 64), subs[3:]...))
	f.host = a.ID
	var v struct {
		ID string `json:"id"`
	}
	f.apiAdmin(t, "POST", "/incidents", `{"title":"Customer list on the file server","severity":"high","hosts":["`+a.ID+`"],"reason":"pii sweep hit"}`, &v)
	f.incident = v.ID
}

// personID is the register's id of the person whose masked name is
// pii.Mask(person_name, name).
func (f *fixture) personID(t testing.TB, name string) string {
	t.Helper()
	var ps []scopeapi.PersonView
	f.apiAdmin(t, "GET", "/incidents/"+f.incident+"/people", "", &ps)
	for _, p := range ps {
		if p.Name == pii.Mask(pii.PersonName, name) {
			return p.ID
		}
	}
	t.Fatalf("no person %s among %+v", name, ps)
	return ""
}

// leaks lists the raw values and masked forms of registerValues that
// body shows (after HTML unescaping: "+" is written &#43;).
func leaks(body string) (raw, masked []string) {
	text := html.UnescapeString(body)
	for _, kv := range registerValues {
		for i := 0; i+1 < len(kv); i += 2 {
			if strings.Contains(text, kv[i+1]) {
				raw = append(raw, kv[i+1])
			}
			if m := pii.Mask(kv[i], kv[i+1]); strings.Contains(text, m) {
				masked = append(masked, m)
			}
		}
	}
	return raw, masked
}

// TestViewerSeesNoPersonalData: with a register of known people, no page
// a viewer or an auditor can request shows a raw value, a masked value or
// a name, while the same checks find the masked values on a responder's
// page and the raw values in a privacy officer's reveal (so they can fail).
func TestViewerSeesNoPersonalData(t *testing.T) {
	f := newFixture(t, server.Config{Now: time.Now})
	f.serve(t)
	f.seedPeople(t, "fileserver01")
	yamada := f.personID(t, "山田太郎")
	inc := "/incidents/" + f.incident
	pages := []string{
		"/incidents", inc, inc + "/live", inc + "/drafts", inc + "/timeline", inc + "/campaigns",
		inc + "/people", inc + "/people?category=email", inc + "/people?exposure=present&host=" + f.host,
		inc + "/people/" + yamada + "/reveal", inc + "/people/proposals", inc + "/people/export", inc + "/people/export?format=xlsx",
		inc + "/pii-files", "/hosts", "/hosts/" + f.host, "/hosts/" + f.host + "/state", "/audit", "/rules", "/sweeps",
	}

	// The privacy officer reveals a person first, so that the audit log
	// holds a reveal when the others read it.
	pia := f.login(t, "pia")
	resp := pia.do(t, "POST", inc+"/people/"+yamada+"/reveal", url.Values{"csrf": {pia.csrf}, "reason": {"customer asked what we hold"}}, nil)
	if resp.code != http.StatusOK {
		t.Fatalf("privacy reveal: %d %s", resp.code, resp.body)
	}
	if raw, _ := leaks(resp.body); !contains2(raw, "山田太郎", "taro.yamada@example.jp", "+819012345678") {
		t.Fatalf("the reveal shows %q, want Yamada's name, e-mail and phone:\n%s", raw, resp.body)
	}
	if problems := checkHTML(resp.body, false); len(problems) > 0 {
		t.Errorf("revealed page: HTML problems: %s", strings.Join(problems, "; "))
	}
	// With a register, the pages with a form per row are still valid.
	for _, path := range []string{inc + "/people", inc + "/people/proposals", inc + "/pii-files", inc + "/people/" + yamada + "/reveal"} {
		resp := pia.get(t, path)
		if problems := checkHTML(resp.body, false); resp.code != http.StatusOK || len(problems) > 0 {
			t.Errorf("privacy GET %s: %d, HTML problems: %s", path, resp.code, strings.Join(problems, "; "))
		}
	}
	if resp := pia.do(t, "GET", inc+"/people", nil, map[string]string{"Accept-Language": "ja"}); !strings.Contains(resp.body, "<h1>影響を受けた本人") ||
		!strings.Contains(resp.body, "クレジットカード番号") || !strings.Contains(resp.body, ">開示</a>") {
		t.Errorf("Japanese people page lacks its words:\n%s", resp.body)
	}
	if resp.header.Get("Cache-Control") != "no-store" {
		t.Errorf("revealed page Cache-Control %q", resp.header.Get("Cache-Control"))
	}
	for name, form := range map[string]url.Values{
		"no reason": {"csrf": {pia.csrf}},
		"no token":  {"reason": {"forged"}},
	} {
		resp := pia.do(t, "POST", inc+"/people/"+yamada+"/reveal", form, nil)
		if raw, _ := leaks(resp.body); resp.code/100 != 4 || len(raw) > 0 {
			t.Errorf("reveal with %s: %d, shows %q", name, resp.code, raw)
		}
	}
	resp = pia.do(t, "POST", inc+"/people/export", url.Values{"csrf": {pia.csrf}, "format": {"csv"}, "reason": {"notice letters"}}, nil)
	if raw, _ := leaks(resp.body); resp.code != http.StatusOK || !contains2(raw, "佐藤花子", "hanako.sato@example.jp") ||
		!strings.Contains(resp.header.Get("Content-Disposition"), "revealed.csv") {
		t.Errorf("revealed export: %d %q, values %q", resp.code, resp.header.Get("Content-Disposition"), raw)
	}

	// A responder sees the masked people and downloads them masked.
	rei := f.login(t, "rei")
	for _, path := range []string{inc + "/people", inc + "/people/export"} {
		resp := rei.get(t, path)
		raw, masked := leaks(resp.body)
		if resp.code != http.StatusOK || len(raw) > 0 || !contains2(masked, pii.Mask(pii.PersonName, "山田太郎"), pii.Mask(pii.Email, "taro.yamada@example.jp")) {
			t.Errorf("responder %s: %d, raw %q, masked %q", path, resp.code, raw, masked)
		}
	}
	if resp := rei.get(t, inc+"/people?category=credit_card"); !strings.Contains(resp.body, pii.Mask(pii.PersonName, "佐藤花子")) ||
		strings.Contains(resp.body, pii.Mask(pii.PersonName, "山田太郎")) {
		t.Errorf("filter by credit card:\n%s", resp.body)
	}

	for _, name := range []string{"vic", "aki"} {
		b := f.login(t, name)
		shown := 0
		for _, path := range pages {
			resp := b.get(t, path)
			if resp.code == http.StatusOK {
				shown++
			}
			if raw, masked := leaks(resp.body); len(raw)+len(masked) > 0 {
				t.Errorf("%s GET %s (%d) shows %q %q", name, path, resp.code, raw, masked)
			}
		}
		for path, form := range map[string]url.Values{
			inc + "/people/" + yamada + "/reveal": {"reason": {"curious"}},
			inc + "/people/export":                {"reason": {"curious"}, "format": {"csv"}},
		} {
			form.Set("csrf", b.csrf)
			resp := b.do(t, "POST", path, form, nil)
			if raw, masked := leaks(resp.body); resp.code != http.StatusForbidden || len(raw)+len(masked) > 0 {
				t.Errorf("%s POST %s: %d, shows %q %q", name, path, resp.code, raw, masked)
			}
		}
		// The counts are there: the pages were not empty by accident.
		var sum scopeapi.SummaryView
		f.apiAdmin(t, "GET", inc+"/people/summary", "", &sum)
		resp := b.get(t, inc+"/people")
		if sum.People == 0 || !strings.Contains(resp.body, fmt.Sprintf(`<dd id="count-people">%d</dd>`, sum.People)) {
			t.Errorf("%s: people page without the count:\n%s", name, resp.body)
		}
		if name == "aki" {
			// Refused: the reveal form, the proposals and the two exports.
			if shown != len(pages)-4 {
				t.Errorf("auditor opened %d of %d pages, want all but 4", shown, len(pages))
			}
			audit := html.UnescapeString(b.get(t, "/audit").body)
			for _, want := range []string{"scope.reveal", "customer asked what we hold", "scope.export_revealed", "notice letters"} {
				if !strings.Contains(audit, want) {
					t.Errorf("audit page lacks %q", want)
				}
			}
		}
	}
}

func contains2(got []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			return false
		}
	}
	return true
}

// TestPeopleActions: the exposure form and the proposal decisions go
// through the API as the user, with the reason, and show in the counts.
func TestPeopleActions(t *testing.T) {
	f := newFixture(t, server.Config{Now: time.Now})
	f.serve(t)
	f.seedPeople(t, "fileserver01")
	inc := "/incidents/" + f.incident
	rei := f.login(t, "rei")
	form := url.Values{"csrf": {rei.csrf}, "host": {f.host}, "path": {"/srv/share/customers.csv"}, "level": {"exfiltrated"}, "reason": {"seen in the proxy log"}}
	if resp := rei.do(t, "POST", inc+"/exposure", form, nil); resp.code != http.StatusSeeOther {
		t.Fatalf("set exposure: %d %s", resp.code, resp.body)
	}
	var sum scopeapi.SummaryView
	f.apiAdmin(t, "GET", inc+"/people/summary", "", &sum)
	if sum.ByExposure["exfiltrated"] != 3 {
		t.Errorf("after the exposure form: %v", sum.ByExposure)
	}
	if resp := rei.get(t, inc+"/pii-files"); !strings.Contains(resp.body, messages["en"]["by_person"]) {
		t.Errorf("files page does not show the person's setting:\n%s", resp.body)
	}
	form.Del("csrf")
	if resp := rei.do(t, "POST", inc+"/exposure", form, nil); resp.code != http.StatusForbidden {
		t.Errorf("exposure without the token: %d", resp.code)
	}

	pia := f.login(t, "pia")
	var ps []scopeapi.ProposalView
	f.apiAdmin(t, "GET", inc+"/people/proposals", "", &ps)
	if len(ps) == 0 {
		t.Fatal("the seeded register has no proposal")
	}
	if resp := pia.get(t, inc+"/people/proposals"); !strings.Contains(resp.body, `action="`+inc+"/people/proposals/"+ps[0].ID+`/decision"`) {
		t.Fatalf("proposals page lacks the decision form:\n%s", resp.body)
	}
	resp := pia.do(t, "POST", inc+"/people/proposals/"+ps[0].ID+"/decision", url.Values{"csrf": {pia.csrf}, "decision": {"reject"}, "reason": {"different birth places"}}, nil)
	if resp.code != http.StatusSeeOther {
		t.Fatalf("decision: %d %s", resp.code, resp.body)
	}
	// A decided pair is no longer proposed; the audit log has the decision.
	if resp := pia.get(t, inc+"/people/proposals"); strings.Contains(resp.body, ps[0].ID) {
		t.Errorf("the decided proposal is still open:\n%s", resp.body)
	}
	var entries []struct{ Actor, Action, Reason string }
	f.apiAdmin(t, "GET", "/audit?target="+url.QueryEscape(f.incident+"/"+ps[0].ID), "", &entries)
	if len(entries) != 1 || entries[0].Actor != "pia" || entries[0].Action != "scope.proposal_reject" || entries[0].Reason != "different birth places" {
		t.Errorf("audit of the decision: %+v", entries)
	}
	if resp := rei.do(t, "POST", inc+"/people/proposals/"+ps[0].ID+"/decision", url.Values{"csrf": {rei.csrf}, "decision": {"confirm"}, "reason": {"x"}}, nil); resp.code != http.StatusForbidden {
		t.Errorf("responder decision: %d", resp.code)
	}
}
