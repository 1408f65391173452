package scopeapi_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/scope/scopeapi"
	"github.com/mamori-dev/mamori/internal/scope/scopeapi/scopetest"
	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/store/storetest"
)

func TestFileTypeIsTheContract(t *testing.T) {
	if store.PIIFileType != scope.FileResultType {
		t.Fatalf("store routes %q, agents send %q", store.PIIFileType, scope.FileResultType)
	}
}

// corpus sends two hosts' files: the same customer on both (in an
// archive on the second), three others once each.
func corpus(f *fixture) (web, db *scopetest.Agent, incidentID string) {
	web, db = f.enrol("web1"), f.enrol("db1")
	web.SendResults(result("/srv/data/customers.csv", sha('a'),
		subject("", 1, "person_name", "山田太郎", "email", "taro.yamada@example.jp", "phone", "+819012345678"),
		subject("", 2, "person_name", "佐藤花子", "email", "hanako@example.jp"),
		subject("", 3, "person_name", "鈴木一郎", "credit_card", "4111111111111111", "phone", "+819011112222")))
	db.SendResults(result("/backup/export.zip", sha('b'),
		subject("customers.csv", 1, "person_name", "山田太郎", "phone", "+819012345678"),
		subject("customers.csv", 2, "person_name", "高橋健", "email", "ken@example.com")))
	var inc struct{ ID string }
	f.must("POST", "/incidents", map[string]any{"title": "breach", "hosts": []string{web.ID, db.ID}, "reason": "test"}, &inc)
	return web, db, inc.ID
}

func people(f *fixture, id, query string) []scopeapi.PersonView {
	f.t.Helper()
	var ps []scopeapi.PersonView
	f.must("GET", "/incidents/"+id+"/people"+query, nil, &ps)
	return ps
}

func names(ps []scopeapi.PersonView) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	slices.Sort(out)
	return out
}

func TestRegisterFromAgents(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		web, db, id := corpus(f)

		ps := people(f, id, "")
		if diff := cmp.Diff(names(ps), []string{"佐***", "山***", "鈴***", "高**"}); diff != "" {
			t.Fatalf("people (-got +want):\n%s", diff)
		}
		for _, p := range ps {
			if strings.Contains(p.Email+p.Phone, "yamada") || strings.Contains(p.Phone, "12345678") {
				t.Errorf("person %s not masked: %+v", p.ID, p)
			}
			if p.Address != "" {
				t.Errorf("person %s has no address, shown as %q", p.ID, p.Address)
			}
		}
		var sum scopeapi.SummaryView
		f.must("GET", "/incidents/"+id+"/people/summary", nil, &sum)
		if sum.People != 4 || sum.Occurrences != 12 || sum.Files != 2 || sum.FinancialRisk != 1 || len(sum.Hosts) != 2 {
			t.Fatalf("summary: %+v", sum)
		}

		// Paging walks the same people in id order.
		var paged []scopeapi.PersonView
		after := ""
		for {
			page := people(f, id, "?limit=3&after="+after)
			if len(page) == 0 {
				break
			}
			paged = append(paged, page...)
			after = page[len(page)-1].ID
		}
		if diff := cmp.Diff(paged, ps); diff != "" {
			t.Fatalf("paged (-got +want):\n%s", diff)
		}
		if got := names(people(f, id, "?host="+db.ID)); !slices.Equal(got, []string{"山***", "高**"}) {
			t.Errorf("host filter: %q", got)
		}
		if got := names(people(f, id, "?financial_risk=true")); !slices.Equal(got, []string{"鈴***"}) {
			t.Errorf("financial_risk filter: %q", got)
		}
		if code, b := f.call("", "GET", "/incidents/"+id+"/people?category=shoe_size", nil); code != 400 || !bytes.Contains(b, []byte("category")) {
			t.Errorf("bad category filter: %d %s", code, b)
		}

		// Marking the archive exfiltrated raises exactly its people.
		var er scopeapi.ExposureResult
		f.must("POST", "/incidents/"+id+"/exposure", scopeapi.ExposureRequest{Host: db.ID, Path: "*/export*.zip", Level: "exfiltrated", Reason: "uploaded to a file share"}, &er)
		if er.Files != 1 || er.People != 2 {
			t.Fatalf("exposure: %+v", er)
		}
		if got := names(people(f, id, "?exposure=exfiltrated")); !slices.Equal(got, []string{"山***", "高**"}) {
			t.Errorf("exfiltrated: %q", got)
		}
		var files []scopeapi.FileView
		f.must("GET", "/incidents/"+id+"/pii-files", nil, &files)
		if len(files) != 2 || files[1].Exposure != "exfiltrated" || files[1].ExposureBy != "person" || files[0].Exposure != "present" || files[1].Subjects != 2 {
			t.Fatalf("files: %+v", files)
		}

		// Reveal: the raw values of the merged person, with their sources.
		var yamada string
		for _, p := range ps {
			if p.Name == "山***" {
				yamada = p.ID
			}
		}
		var rv scopeapi.RevealView
		f.must("POST", "/incidents/"+id+"/people/"+yamada+"/reveal", map[string]string{"reason": "notice check"}, &rv)
		var got []string
		for _, v := range rv.Values {
			got = append(got, v.Category+"="+v.Value+" "+strings.Join(v.Sources, ","))
		}
		webRec, dbRec := web.ID+":/srv/data/customers.csv#1", db.ID+":/backup/export.zip!customers.csv#1"
		both := []string{webRec, dbRec}
		slices.Sort(both)
		want := []string{
			"email=taro.yamada@example.jp " + webRec,
			"person_name=山田太郎 " + strings.Join(both, ","),
			"phone=+819012345678 " + strings.Join(both, ","),
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Fatalf("reveal (-got +want):\n%s", diff)
		}
		var audit []struct{ Action, Target, Reason string }
		f.must("GET", "/audit", nil, &audit)
		if !slices.ContainsFunc(audit, func(e struct{ Action, Target, Reason string }) bool {
			return e.Action == "scope.reveal" && e.Target == id+"/"+yamada && e.Reason == "notice check"
		}) {
			t.Errorf("no audited reveal in %+v", audit)
		}
		if code, _ := f.call("", "POST", "/incidents/"+id+"/people/"+yamada+"/reveal", map[string]string{"reason": ""}); code != 400 {
			t.Errorf("reveal without reason: %d", code)
		}
		if code, _ := f.call("", "POST", "/incidents/"+id+"/people/p-0000/reveal", map[string]string{"reason": "x"}); code != 404 {
			t.Errorf("reveal of an unknown person: %d", code)
		}

		// No raw value reaches the disk in the clear.
		if !strings.HasPrefix(dsn, "postgres") {
			filepath.WalkDir(f.dir, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, _ := os.ReadFile(p)
				for _, v := range []string{"taro.yamada@example.jp", "4111111111111111", "山田太郎", "+819012345678"} {
					if bytes.Contains(b, []byte(v)) {
						t.Errorf("%s holds %q in the clear", p, v)
					}
				}
				return nil
			})
		}
		if fi, err := os.Stat(filepath.Join(f.dir, scopeapi.KeyFile)); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
			t.Errorf("pii.key: %v %v", fi, err)
		}
	})
}

// TestRevealCrowdRecord: a mail naming two customers is split between
// them, and revealing one shows that person's own values from it, never
// the other's.
func TestRevealCrowdRecord(t *testing.T) {
	f := newFixture(t, "")
	mail := f.enrol("mail1")
	mail.SendResults(
		result("/srv/crm/customers.csv", sha('c'),
			subject("", 1, "person_name", "山田太郎", "email", "taro.yamada@example.jp"),
			subject("", 2, "person_name", "佐藤花子", "email", "hanako.sato@example.jp")),
		result("/home/sales/mail/1.eml", sha('d'),
			subject("", 0, "person_name", "山田太郎", "person_name", "佐藤花子",
				"email", "taro.yamada@example.jp", "email", "hanako.sato@example.jp")))
	var inc struct{ ID string }
	f.must("POST", "/incidents", map[string]any{"title": "mail", "hosts": []string{mail.ID}, "reason": "test"}, &inc)
	ps := people(f, inc.ID, "")
	if diff := cmp.Diff(names(ps), []string{"佐***", "山***"}); diff != "" {
		t.Fatalf("people (-got +want):\n%s", diff)
	}
	for _, p := range ps {
		var rv scopeapi.RevealView
		f.must("POST", "/incidents/"+inc.ID+"/people/"+p.ID+"/reveal", map[string]string{"reason": "check"}, &rv)
		var got []string
		for _, v := range rv.Values {
			got = append(got, v.Category+"="+v.Value+" "+strings.Join(v.Sources, ","))
		}
		own, other := "taro.yamada@example.jp", "hanako.sato@example.jp"
		if p.Name == "佐***" {
			own, other = other, own
		}
		csv := mail.ID + ":/srv/crm/customers.csv#"
		eml := mail.ID + ":/home/sales/mail/1.eml#0"
		rec := "2"
		if own == "taro.yamada@example.jp" {
			rec = "1"
		}
		if !slices.Contains(got, "email="+own+" "+eml+","+csv+rec) {
			t.Errorf("%s: own e-mail from both records missing in %q", p.Name, got)
		}
		for _, g := range got {
			if strings.Contains(g, other) {
				t.Errorf("%s: reveal shows the other person's value %q", p.Name, g)
			}
		}
	}
}
