package workspace

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/audit"
	"github.com/mamori-dev/mamori/internal/incident"
	"github.com/mamori-dev/mamori/internal/obligation"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/store/storetest"
)

// api serves the incident and obligations routes as the server does (the
// routes' role checks through httpapi.Authorize); the bearer token names
// the caller's role.
type api struct {
	t   *testing.T
	srv *httptest.Server
	st  *store.Store
}

func newAPI(t *testing.T, dsn string, now *time.Time) *api {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	env := httpapi.Env{Store: st, Now: func() time.Time { return *now }}
	mux := http.NewServeMux()
	auth := httpapi.AuthenticatorFunc(func(r *http.Request) (httpapi.Principal, error) {
		role := httpapi.Role(httpapi.BearerToken(r))
		return httpapi.Principal{Kind: httpapi.KindUser, Name: string(role) + "-user", Roles: []httpapi.Role{role}}, nil
	})
	for _, build := range []func(httpapi.Env) (httpapi.Capability, error){incident.Capability, Capability} {
		c, err := build(env)
		if err != nil {
			t.Fatal(err)
		}
		for _, rt := range c.Routes() {
			mux.Handle(rt.Method+" "+httpapi.Prefix+rt.Pattern, httpapi.Authorize(auth, &rt))
		}
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &api{t: t, srv: srv, st: st}
}

func (a *api) call(role, method, path string, body any) (int, []byte) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.srv.URL+httpapi.Prefix+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+role)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp.StatusCode, out
}

func (a *api) obligations(role, id string) ObligationsView {
	a.t.Helper()
	code, body := a.call(role, "GET", "/incidents/"+id+"/obligations", nil)
	if code != 200 {
		a.t.Fatalf("GET obligations: %d %s", code, body)
	}
	var v ObligationsView
	if err := json.Unmarshal(body, &v); err != nil {
		a.t.Fatal(err)
	}
	return v
}

func dutyLines(v ObligationsView) []string {
	var out []string
	for _, d := range v.Duties {
		s := d.Law + " " + d.Duty.Duty + "/" + d.Stage + " " + obligation.DueString(d.Duty)
		if d.RemainingSeconds != nil {
			s += " " + time.Duration(*d.RemainingSeconds*int64(time.Second)).String()
		}
		out = append(out, s)
	}
	return out
}

func TestObligationsWorkspace(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC) // 10:00 JST
		a := newAPI(t, dsn, &now)
		audited := &[]audit.Entry{}
		a.st.OnAudit(func(_ context.Context, _ *store.Tx, e audit.Entry) error {
			*audited = append(*audited, e)
			return nil
		})
		code, body := a.call("responder", "POST", "/incidents", map[string]any{"title": "Emotet on pc-7", "summary": "マルウェア感染端末から顧客情報の外部送信",
			"severity": "high", "aware_at": "2026-03-02T10:00:00+09:00", "reason": "EDR alert"})
		if code != 201 {
			t.Fatalf("open incident: %d %s", code, body)
		}
		var in struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(body, &in); err != nil || in.ID == "" {
			t.Fatalf("incident id from %s: %v", body, err)
		}

		// Derived: no people counted yet, so no duties; cause other until a
		// detection is linked, malware after.
		v := a.obligations("viewer", in.ID)
		if v.FactsSource != "derived" || len(v.Duties) != 0 || factsOf(t, v).Cause != "other" {
			t.Errorf("derived view: source %s, duties %v, facts %s", v.FactsSource, dutyLines(v), v.Facts)
		}
		ctx := context.Background()
		if err := a.st.InTx(ctx, func(tx *store.Tx) error {
			return tx.CreateHost(ctx, &store.Host{ID: "h-1", Name: "pc-7", EnrolledAt: now, Monitoring: "normal", CertSerial: "s1"})
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.st.InsertDetections(ctx, []store.Detection{{HostID: "h-1", FindingID: "f1", Type: "yara", Rule: "Emotet", SeenAt: now, ReceivedAt: now}}); err != nil {
			t.Fatal(err)
		}
		dets, err := a.st.Detections(ctx, store.DetectionFilter{HostID: "h-1"})
		if err != nil || len(dets) != 1 {
			t.Fatalf("detections %v: %v", dets, err)
		}
		if code, body := a.call("responder", "POST", "/incidents/"+in.ID+"/detections", map[string]any{"detection_id": dets[0].ID, "reason": "same host"}); code != 200 {
			t.Fatalf("link detection: %d %s", code, body)
		}
		if f := factsOf(t, a.obligations("viewer", in.ID)); f.Cause != "malware" || !f.AwareAt.Equal(now) {
			t.Errorf("derived facts with a detection linked: %+v", f)
		}

		// Only privacy sets facts; a reason is required; fields are named.
		facts := json.RawMessage(`{"cause":"malware","categories":["person_name","email","credit_card"],"people":{"JP":1200,"DE":3}}`)
		if code, body := a.call("responder", "PUT", "/incidents/"+in.ID+"/obligations/facts", ObligationFactsChange{Facts: facts, Reason: "x"}); code != 403 || !strings.Contains(string(body), "privacy") {
			t.Errorf("responder sets facts: %d %s, want 403 naming privacy", code, body)
		}
		if code, body := a.call("privacy", "PUT", "/incidents/"+in.ID+"/obligations/facts", ObligationFactsChange{Facts: facts}); code != 400 || !strings.Contains(string(body), "reason") {
			t.Errorf("no reason: %d %s", code, body)
		}
		bad := json.RawMessage(`{"cause":"malware","categories":["email"],"people":{"XX":1}}`)
		if code, body := a.call("privacy", "PUT", "/incidents/"+in.ID+"/obligations/facts", ObligationFactsChange{Facts: bad, Reason: "x"}); code != 400 || !strings.Contains(string(body), "facts.people.XX") {
			t.Errorf("bad country: %d %s, want 400 naming facts.people.XX", code, body)
		}
		other := json.RawMessage(`{"aware_at":"2026-03-01T10:00:00+09:00","cause":"malware","categories":["email"],"people":{"JP":1}}`)
		if code, body := a.call("privacy", "PUT", "/incidents/"+in.ID+"/obligations/facts", ObligationFactsChange{Facts: other, Reason: "x"}); code != 400 || !strings.Contains(string(body), "facts.aware_at") {
			t.Errorf("other aware_at: %d %s, want 400 naming facts.aware_at", code, body)
		}
		if code, body := a.call("privacy", "PUT", "/incidents/i-0000000000000000/obligations/facts", ObligationFactsChange{Facts: facts, Reason: "x"}); code != 404 {
			t.Errorf("unknown incident: %d %s, want 404", code, body)
		}

		code, body = a.call("privacy", "PUT", "/incidents/"+in.ID+"/obligations/facts", ObligationFactsChange{Facts: facts, Reason: "scoping counted 1,203 people",
			Context: &obligation.DraftContext{Organization: "株式会社サンプル商事", Contact: "0120-000-000"}})
		if code != 200 {
			t.Fatalf("set facts: %d %s", code, body)
		}
		var changed ObligationsView
		if err := json.Unmarshal(body, &changed); err != nil {
			t.Fatal(err)
		}
		if changed.FactsSource != "set" || changed.FactsSetBy != "privacy-user" || changed.FactsReason != "scoping counted 1,203 people" {
			t.Errorf("set view: %+v", changed)
		}
		if len(changed.DraftDiffs) == 0 || !strings.Contains(strings.Join(changed.DraftDiffs, ""), "+- 本人の数: 1203名") {
			t.Errorf("draft diffs lack the new count: %q", changed.DraftDiffs)
		}
		want := []string{
			"JP-APPI report_regulator/preliminary 2026-03-05T23:59:59+09:00 85h59m59s",
			"JP-APPI report_regulator/final 2026-04-30T23:59:59+09:00 1429h59m59s",
			"JP-APPI notify_individuals/ promptly, as the situation allows (速やかに)",
			"EU-GDPR report_regulator/ 2026-03-05T01:00:00Z 72h0m0s",
			"EU-GDPR notify_individuals/ without undue delay",
		}
		if diff := cmp.Diff(dutyLines(a.obligations("auditor", in.ID)), want); diff != "" {
			t.Errorf("duties (-got +want):\n%s", diff)
		}

		// The change was audited with its reason (the hook saw it append).
		found := false
		for _, e := range *audited {
			if e.Action == "obligation.facts" && e.Target == in.ID && e.Actor == "privacy-user" && e.Role == "privacy" &&
				e.Reason == "scoping counted 1,203 people" && strings.Contains(e.Detail, `"JP":1200`) {
				found = true
			}
		}
		if !found {
			t.Errorf("no audit entry for the facts change in %+v", *audited)
		}

		// A day before the GDPR deadline: warnings on the incident and in the list.
		now = time.Date(2026, 3, 4, 2, 0, 0, 0, time.UTC)
		if v := a.obligations("viewer", in.ID); len(v.Warnings) != 1 || !strings.Contains(v.Warnings[0], "EU-GDPR report_regulator is due 2026-03-05T01:00:00Z: 23h 00m left") {
			t.Errorf("warnings = %q", v.Warnings)
		}
		code, body = a.call("viewer", "GET", "/obligations/warnings", nil)
		var ws []ObligationWarnings
		if code != 200 || json.Unmarshal(body, &ws) != nil || len(ws) != 1 || ws[0].IncidentID != in.ID {
			t.Errorf("warnings list: %d %s", code, body)
		}

		// Drafts: the PPC report names the organisation set in the context.
		code, body = a.call("viewer", "GET", "/incidents/"+in.ID+"/obligations/drafts/ppc-report?format=markdown", nil)
		if code != 200 || !strings.Contains(string(body), "株式会社サンプル商事") || !strings.Contains(string(body), "9. その他参考となる事項") {
			t.Errorf("PPC draft: %d %s", code, body)
		}
		if code, body := a.call("viewer", "GET", "/incidents/"+in.ID+"/obligations/drafts/nope", nil); code != 404 || !strings.Contains(string(body), "ppc-report") {
			t.Errorf("unknown draft: %d %s, want 404 listing the drafts", code, body)
		}
		code, body = a.call("viewer", "GET", "/incidents/"+in.ID+"/obligations/drafts", nil)
		var all []obligation.Draft
		if code != 200 || json.Unmarshal(body, &all) != nil || len(all) != 6 {
			t.Errorf("drafts: %d, %d drafts", code, len(all))
		}

		// Reset: derived again, audited; a second reset is a conflict.
		if code, body := a.call("privacy", "DELETE", "/incidents/"+in.ID+"/obligations/facts", ObligationFactsReset{Reason: "recount"}); code != 200 {
			t.Errorf("reset: %d %s", code, body)
		}
		if v := a.obligations("viewer", in.ID); v.FactsSource != "derived" {
			t.Errorf("after reset: %s", v.FactsSource)
		}
		if code, body := a.call("privacy", "DELETE", "/incidents/"+in.ID+"/obligations/facts", ObligationFactsReset{Reason: "again"}); code != 409 {
			t.Errorf("second reset: %d %s, want 409", code, body)
		}
	})
}

// The routes document themselves in the server's OpenAPI document beside
// the incident workspace's, with no clash of type names.
// TestFactsRoundTrip: the facts GET answers go back unchanged with PUT,
// also when the incident's aware_at has milliseconds (an incident opened
// by a detection) and the facts document gives it to the second; a time
// a second off is still refused.
func TestFactsRoundTrip(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		a := newAPI(t, dsn, &now)
		code, body := a.call("responder", "POST", "/incidents", map[string]any{"title": "pc-7", "severity": "high",
			"aware_at": "2026-03-02T10:00:00.250+09:00", "reason": "EDR alert"})
		if code != 201 {
			t.Fatalf("open incident: %d %s", code, body)
		}
		var in struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(body, &in); err != nil || in.ID == "" {
			t.Fatalf("incident id from %s: %v", body, err)
		}
		got := a.obligations("privacy", in.ID)
		if code, body := a.call("privacy", "PUT", "/incidents/"+in.ID+"/obligations/facts", ObligationFactsChange{Facts: got.Facts, Reason: "as derived"}); code != 200 {
			t.Errorf("PUT the facts GET gave (%s): %d %s", got.Facts, code, body)
		}
		var doc map[string]any
		if err := json.Unmarshal(got.Facts, &doc); err != nil {
			t.Fatal(err)
		}
		doc["aware_at"] = "2026-03-02T10:00:01+09:00"
		off, _ := json.Marshal(doc)
		if code, body := a.call("privacy", "PUT", "/incidents/"+in.ID+"/obligations/facts", ObligationFactsChange{Facts: off, Reason: "x"}); code != 400 || !strings.Contains(string(body), "facts.aware_at") {
			t.Errorf("aware_at a second off: %d %s, want 400 naming facts.aware_at", code, body)
		}
	})
}

func TestOpenAPI(t *testing.T) {
	var routes []httpapi.Route
	for _, build := range []func(httpapi.Env) (httpapi.Capability, error){incident.Capability, Capability} {
		c, err := build(httpapi.Env{Store: openStore(t), Now: time.Now})
		if err != nil {
			t.Fatal(err)
		}
		routes = append(routes, c.Routes()...)
	}
	doc, err := httpapi.Document(httpapi.Info{Title: "mamori"}, routes)
	if err != nil {
		t.Fatal(err)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for _, name := range []string{"ObligationsView", "ObligationFactsChange", "TimedDuty", "Draft", "DraftContext"} {
		if schemas[name] == nil {
			t.Errorf("no schema %s", name)
		}
	}
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir()+"/mamori.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func factsOf(t *testing.T, v ObligationsView) obligation.Facts {
	t.Helper()
	f, err := obligation.DecodeFacts(bytes.NewReader(v.Facts))
	if err != nil {
		t.Fatalf("facts %s: %v", v.Facts, err)
	}
	return f
}
