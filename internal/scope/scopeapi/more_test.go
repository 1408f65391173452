package scopeapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/scope/scopeapi"
	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/store/storetest"
	"github.com/mamori-dev/mamori/internal/timeline"
)

// A file too large for one message comes in parts; a later sweep of the
// same path replaces every part; a re-sent part adds nothing.
func TestPartsAndResweep(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		a := f.enrol("files1")
		var inc struct{ ID string }
		f.must("POST", "/incidents", map[string]any{"title": "parts", "hosts": []string{a.ID}, "reason": "test"}, &inc)
		p0 := result("/data/big.csv", sha('c'), subject("", 1, "email", "one@example.jp"), subject("", 2, "email", "two@example.jp"))
		p1 := result("/data/big.csv", sha('c'), subject("", 3, "email", "three@example.jp"))
		for _, p := range []*scope.FileResult{&p0, &p1} {
			p.Parts, p.Categories = 2, map[string]int{"email": 3}
		}
		p1.Part = 1
		a.SendResults(p0)
		var files []scopeapi.FileView
		f.must("GET", "/incidents/"+inc.ID+"/pii-files", nil, &files)
		if len(files) != 1 || files[0].PartsSeen != 1 || files[0].Subjects != 2 {
			t.Fatalf("after part 0: %+v", files)
		}
		a.SendResults(p1)
		a.SendResults(p1) // re-sent
		f.must("GET", "/incidents/"+inc.ID+"/pii-files", nil, &files)
		if len(files) != 1 || files[0].PartsSeen != 2 || files[0].Subjects != 3 {
			t.Fatalf("after part 1: %+v", files)
		}
		if ps := people(f, inc.ID, ""); len(ps) != 3 {
			t.Fatalf("%d people, want 3", len(ps))
		}
		// The file changed: the new sweep's one part replaces both.
		a.SendResults(result("/data/big.csv", sha('d'), subject("", 1, "email", "four@example.jp")))
		f.must("GET", "/incidents/"+inc.ID+"/pii-files", nil, &files)
		if len(files) != 1 || files[0].SHA256 != sha('d') || files[0].Subjects != 1 || files[0].Parts != 1 {
			t.Fatalf("after the re-sweep: %+v", files)
		}
		if ps := people(f, inc.ID, ""); len(ps) != 1 || ps[0].Email != "fo***@example.jp" {
			t.Fatalf("after the re-sweep: %+v", ps)
		}
	})
}

// streamed builds a part of path as a streaming agent sends it: parts 0
// (more follow) and the part's own counts.
func streamed(path, sha string, part int, subs ...scope.FileSubject) scope.FileResult {
	r := result(path, sha, subs...)
	r.Part, r.Parts = part, 0
	return r
}

func fileOf(t *testing.T, f *fixture, inc, path string) scopeapi.FileView {
	t.Helper()
	var files []scopeapi.FileView
	f.must("GET", "/incidents/"+inc+"/pii-files", nil, &files)
	for _, v := range files {
		if v.Path == path {
			return v
		}
	}
	t.Fatalf("%s not among the files: %+v", path, files)
	return scopeapi.FileView{}
}

// A streaming agent's parts make one file, complete when the last (which
// says the part count and the file's counts) and every part before it
// arrived, in any order. Until then the file counts in the register with
// the values received, and pii-files shows it incomplete.
func TestStreamedParts(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		a := f.enrol("stream1")
		var inc struct{ ID string }
		f.must("POST", "/incidents", map[string]any{"title": "stream", "hosts": []string{a.ID}, "reason": "test"}, &inc)
		const path = "/data/crm.csv"
		p0 := streamed(path, sha('c'), 0, subject("", 1, "email", "one@example.jp"), subject("", 2, "email", "two@example.jp"))
		// Record 2 continues in part 1: one subject, one person.
		p1 := streamed(path, sha('c'), 1, subject("", 2, "phone", "+819012345678"), subject("", 3, "email", "three@example.jp"))
		last := result(path, sha('c'), subject("", 4, "email", "four@example.jp"))
		last.Part, last.Parts, last.Masked = 2, 3, 1
		last.Categories = map[string]int{"email": 5, "phone": 1}
		last.Flags = []scope.FileFlag{{Flag: "special_care", Terms: []string{"病歴"}}}

		a.SendResults(p0)
		got := fileOf(t, f, inc.ID, path)
		if got.Complete || got.Parts != 0 || got.PartsSeen != 1 || got.Categories["email"] != 2 {
			t.Fatalf("after part 0: %+v", got)
		}
		if ps := people(f, inc.ID, ""); len(ps) != 2 {
			t.Fatalf("after part 0: %d people, want the 2 received", len(ps))
		}
		a.SendResults(p1)
		a.SendResults(p1) // re-sent
		got = fileOf(t, f, inc.ID, path)
		if diff := cmp.Diff(got.Categories, map[string]int{"email": 3, "phone": 1}); got.Complete || got.PartsSeen != 2 || diff != "" {
			t.Fatalf("after part 1 twice: %+v %s", got, diff)
		}
		a.SendResults(last)
		got = fileOf(t, f, inc.ID, path)
		if diff := cmp.Diff(got.Categories, last.Categories); !got.Complete || got.Parts != 3 || got.PartsSeen != 3 || got.Masked != 1 || diff != "" {
			t.Fatalf("after the last part: %+v %s", got, diff)
		}
		ps := people(f, inc.ID, "")
		if len(ps) != 4 {
			t.Fatalf("%d people, want 4: %+v", len(ps), ps)
		}
		both := 0
		for _, p := range ps {
			if p.Email != "" && p.Phone != "" {
				both++
			}
			if len(p.SpecialCare) == 0 {
				t.Errorf("%s lost the last part's flags", p.ID)
			}
		}
		if both != 1 {
			t.Errorf("%d people with e-mail and phone, want record 2 as one", both)
		}

		// Parts that disagree with the file are refused, and nothing of
		// them stored.
		rogue := []scope.FileResult{
			streamed(path, sha('c'), 3, subject("", 9, "email", "nine@example.jp")), // past the part count
			streamed(path, sha('c'), 1, subject("", 9, "email", "nine@example.jp"), // more e-mail than the file counts
				subject("", 10, "email", "ten@example.jp"), subject("", 11, "email", "eleven@example.jp")),
		}
		for _, r := range rogue {
			a.SendResults(r)
		}
		// A refused part leaves the rest of its batch stored.
		const other = "/data/other.csv"
		a.SendResults(append(rogue, streamed(other, sha('a'), 0, subject("", 1, "email", "other@example.jp")))...)
		if got := fileOf(t, f, inc.ID, other); got.PartsSeen != 1 {
			t.Errorf("the good part beside refused ones: %+v", got)
		}
		if diff := cmp.Diff(fileOf(t, f, inc.ID, path), got); diff != "" {
			t.Errorf("rogue parts changed the file (-after +before):\n%s", diff)
		}
		if ps := people(f, inc.ID, ""); len(ps) != 5 {
			t.Errorf("%d people, want 5: rogue parts changed them", len(ps))
		}

		// A last part that comes first, and a last part that counts fewer
		// parts, or fewer values, than those stored.
		const early, short, few = "/data/early.csv", "/data/short.csv", "/data/few.csv"
		e2 := result(early, sha('e'), subject("", 3, "email", "e3@example.jp"))
		e2.Part, e2.Parts, e2.Categories = 2, 3, map[string]int{"email": 3}
		a.SendResults(e2)
		if got := fileOf(t, f, inc.ID, early); got.Complete || got.Parts != 3 || got.PartsSeen != 1 {
			t.Fatalf("the last part first: %+v", got)
		}
		a.SendResults(streamed(early, sha('e'), 1, subject("", 2, "email", "e2@example.jp")),
			streamed(early, sha('e'), 0, subject("", 1, "email", "e1@example.jp")))
		if got := fileOf(t, f, inc.ID, early); !got.Complete || got.PartsSeen != 3 || got.Categories["email"] != 3 {
			t.Fatalf("the parts before it: %+v", got)
		}
		a.SendResults(streamed(short, sha('f'), 0, subject("", 1, "email", "s1@example.jp")),
			streamed(short, sha('f'), 1, subject("", 2, "email", "s2@example.jp")))
		s1 := result(short, sha('f'), subject("", 3, "email", "s3@example.jp"))
		s1.Parts, s1.Categories = 1, map[string]int{"email": 3}
		a.SendResults(s1)
		a.SendResults(streamed(few, sha('b'), 0, subject("", 1, "email", "f1@example.jp"), subject("", 2, "email", "f2@example.jp")))
		f1 := result(few, sha('b'), subject("", 3, "email", "f3@example.jp"))
		f1.Part, f1.Parts, f1.Categories = 1, 2, map[string]int{"email": 2}
		a.SendResults(f1)
		for p, seen := range map[string]int{short: 2, few: 1} {
			// Never finished: counted with what arrived, shown incomplete.
			if got := fileOf(t, f, inc.ID, p); got.Complete || got.Parts != 0 || got.PartsSeen != seen || got.Categories["email"] != 2 {
				t.Errorf("%s after a refused last part: %+v", p, got)
			}
		}
		if ps := people(f, inc.ID, ""); len(ps) != 4+1+3+2+2 {
			t.Errorf("%d people, want 12 (4, 1 other, 3 early, 2 short, 2 few)", len(ps))
		}

		// The next sweep's first part replaces the file's parts.
		a.SendResults(streamed(path, sha('d'), 0, subject("", 1, "email", "new@example.jp")))
		if got := fileOf(t, f, inc.ID, path); got.Complete || got.SHA256 != sha('d') || got.PartsSeen != 1 || got.Parts != 0 ||
			got.Masked != 0 || got.Categories["email"] != 1 {
			t.Fatalf("after the re-sweep: %+v", got)
		}
	})
}

// Results no agent sends are refused at the gateway and stored nowhere.
func TestRogueResults(t *testing.T) {
	f := newFixture(t, "")
	a := f.enrol("rogue")
	var inc struct{ ID string }
	f.must("POST", "/incidents", map[string]any{"title": "rogue", "hosts": []string{a.ID}, "reason": "test"}, &inc)
	good := func() scope.FileResult { return result("/x.csv", sha('e'), subject("", 1, "email", "a@example.jp")) }
	bad := []func(*scope.FileResult){
		func(r *scope.FileResult) { r.Categories = map[string]int{"email": 1, "shoe_size": 1} },
		func(r *scope.FileResult) { r.Part = 3 },
		func(r *scope.FileResult) { r.Parts = -1 },
		func(r *scope.FileResult) { r.Parts, r.Masked = 0, 1 }, // only a last part counts masked values
		func(r *scope.FileResult) { r.Parts, r.Part = 0, scope.MaxFileParts },
		func(r *scope.FileResult) { r.Size = -1 },
		func(r *scope.FileResult) { r.SHA256 = "not-a-hash" },
		func(r *scope.FileResult) { r.Path = "" },
		func(r *scope.FileResult) { r.Subjects[0].Values[0].Value = strings.Repeat("x", 5000) },
		func(r *scope.FileResult) { r.Subjects[0].Values[0].Category = "phone" },
		func(r *scope.FileResult) { r.Subjects[0].Record = -1 },
		func(r *scope.FileResult) { r.Flags = []scope.FileFlag{{Flag: "evil"}} },
		func(r *scope.FileResult) { r.Categories["email"] = -5 },
		func(r *scope.FileResult) { r.Categories["email"] = 0 },
	}
	for i, mutate := range bad {
		r := good()
		r.Path = "/bad" + string(rune('a'+i)) + ".csv"
		mutate(&r)
		a.SendResults(r)
	}
	var files []scopeapi.FileView
	f.must("GET", "/incidents/"+inc.ID+"/pii-files", nil, &files)
	if len(files) != 0 {
		t.Fatalf("stored rogue results: %+v", files)
	}
	var ds []any
	f.must("GET", "/detections", nil, &ds)
	if len(ds) != 0 {
		t.Fatalf("pii_file findings became detections: %v", ds)
	}
	a.SendResults(good())
	f.must("GET", "/incidents/"+inc.ID+"/pii-files", nil, &files)
	if len(files) != 1 {
		t.Fatalf("the good result after the bad: %+v", files)
	}
}

// The investigation's exfiltration evidence raises the files it names;
// a person's setting wins over it, even when lower.
func TestExposureFromInvestigation(t *testing.T) {
	f := newFixture(t, "")
	web, db, id := corpus(f)
	body, _ := json.Marshal(timeline.Finding{Kind: timeline.Exfiltration, Rule: "archive_then_upload", Host: db.ID,
		Files: []string{"/backup/export.zip"}, First: time.Now(), Last: time.Now()})
	err := f.st.InTx(context.Background(), func(tx *store.Tx) error {
		return tx.SaveFinding(context.Background(), id, store.InvestigationFinding{ID: "f-1", Kind: timeline.Exfiltration, Rule: "archive_then_upload", Body: body}, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(people(f, id, "?exposure=exfiltrated")); !slices.Equal(got, []string{"山***", "高**"}) {
		t.Fatalf("exfiltrated by the investigation: %q", got)
	}
	// An event that changes no file's exposure keeps the register: the
	// build time (to the second) stays.
	var before, after scopeapi.SummaryView
	f.must("GET", "/incidents/"+id+"/people/summary", nil, &before)
	time.Sleep(1100 * time.Millisecond)
	err = f.st.InTx(context.Background(), func(tx *store.Tx) error {
		_, err := tx.InsertTimeline(context.Background(), id, []store.TimelineEvent{{HostID: web.ID, Key: "e-0", At: time.Now(), Source: "collector",
			Kind: "process", Fields: map[string]string{"image": "/usr/bin/bash"}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	f.must("GET", "/incidents/"+id+"/people/summary", nil, &after)
	if after.BuiltAt != before.BuiltAt {
		t.Errorf("an event changing no exposure rebuilt the register: built at %s, then %s", before.BuiltAt, after.BuiltAt)
	}
	// The file collector saw the customer list read in the window.
	err = f.st.InTx(context.Background(), func(tx *store.Tx) error {
		_, err := tx.InsertTimeline(context.Background(), id, []store.TimelineEvent{{HostID: web.ID, Key: "e-1", At: time.Now(), Source: "collector",
			Kind: "file", Fields: map[string]string{"path": "/srv/data/customers.csv", "action": "accessed"}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(people(f, id, "?exposure=accessed")); !slices.Equal(got, []string{"佐***", "鈴***"}) {
		t.Fatalf("accessed by the file events: %q", got)
	}
	var files []scopeapi.FileView
	f.must("GET", "/incidents/"+id+"/pii-files?host="+db.ID, nil, &files)
	if len(files) != 1 || files[0].ExposureBy != "investigation" {
		t.Fatalf("files: %+v", files)
	}
	f.must("POST", "/incidents/"+id+"/exposure", scopeapi.ExposureRequest{Path: "/backup/export.zip", Level: "present", Reason: "the upload failed"}, nil)
	if got := people(f, id, "?exposure=exfiltrated"); len(got) != 0 {
		t.Fatalf("a person's present did not win: %+v", got)
	}
	for _, bad := range []scopeapi.ExposureRequest{{Path: "/x", Level: "stolen", Reason: "r"}, {Path: "", Level: "present", Reason: "r"}, {Path: "/x", Level: "present"}} {
		if code, b := f.call("", "POST", "/incidents/"+id+"/exposure", bad); code != 400 {
			t.Errorf("%+v: %d %s", bad, code, b)
		}
	}
}

func TestExportMasterProposals(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		_, _, id := corpus(f)
		code, csvMasked := f.call("", "GET", "/incidents/"+id+"/people/export", nil)
		lines := strings.Split(strings.TrimSpace(string(csvMasked)), "\n")
		if code != 200 || len(lines) != 5 || !strings.HasPrefix(lines[0], strings.Join(scope.PeopleHeader, ",")) || bytes.Contains(csvMasked, []byte("taro.yamada")) {
			t.Fatalf("masked csv: %d %s", code, csvMasked)
		}
		code, revealed := f.call("", "POST", "/incidents/"+id+"/people/export", scopeapi.ExportRequest{Format: "csv", Reason: "notice letters"})
		if code != 200 || !bytes.Contains(revealed, []byte("taro.yamada@example.jp")) {
			t.Fatalf("revealed csv: %d %s", code, revealed)
		}
		code, x := f.call("", "GET", "/incidents/"+id+"/people/export?format=xlsx", nil)
		if code != 200 {
			t.Fatalf("xlsx: %d", code)
		}
		zr, err := zip.NewReader(bytes.NewReader(x), int64(len(x)))
		if err != nil {
			t.Fatal(err)
		}
		var sheet []byte
		for _, zf := range zr.File {
			if zf.Name == "xl/worksheets/sheet1.xml" {
				rc, _ := zf.Open()
				sheet, _ = io.ReadAll(rc)
				rc.Close()
			}
		}
		if !bytes.Contains(sheet, []byte("person_id")) || bytes.Count(sheet, []byte("<row ")) != 5 {
			t.Fatalf("sheet: %s", sheet)
		}
		if code, _ := f.call("", "GET", "/incidents/"+id+"/people/export?format=pdf", nil); code != 400 {
			t.Errorf("pdf export: %d", code)
		}

		// The master data names the customer and matches him.
		master := "氏名,メールアドレス,電話番号\n山田太郎,taro.yamada@example.jp,090-1234-5678\n田中一,hajime@example.jp,\n"
		var mv scopeapi.MasterView
		code, b := f.call("", "POST", "/incidents/"+id+"/master?name=customers.csv&reason=crm+export", []byte(master))
		if code != 200 || json.Unmarshal(b, &mv) != nil || mv.Rows != 2 {
			t.Fatalf("master: %d %s", code, b)
		}
		if got := names(people(f, id, "?matched=true")); !slices.Equal(got, []string{"山***"}) {
			t.Fatalf("matched: %q", got)
		}
		if code, b := f.call("", "POST", "/incidents/"+id+"/master?name=customers.csv", []byte(master)); code != 400 || !bytes.Contains(b, []byte("reason")) {
			t.Errorf("master without reason: %d %s", code, b)
		}

		// A near match is proposed, confirmed, and applied.
		a := f.enrol("crm")
		f.must("POST", "/incidents/"+id+"/hosts", map[string]any{"host_id": a.ID, "reason": "crm"}, nil)
		a.SendResults(result("/crm/a.csv", sha('f'),
			subject("", 1, "person_name", "伊藤 誠", "date_of_birth", "1980-01-02", "email", "makoto@example.jp"),
			subject("", 2, "person_name", "伊藤 誡", "date_of_birth", "1980-01-02", "email", "m.ito@example.net")))
		before := len(people(f, id, ""))
		var ps []scopeapi.ProposalView
		f.must("GET", "/incidents/"+id+"/people/proposals", nil, &ps)
		if len(ps) == 0 {
			t.Fatalf("no proposals")
		}
		var dv scopeapi.ProposalView
		f.must("POST", "/incidents/"+id+"/people/proposals/"+ps[0].ID+"/decision", scopeapi.DecisionRequest{Decision: "confirm", Reason: "same customer"}, &dv)
		if dv.Decision != "confirm" {
			t.Fatalf("decision: %+v", dv)
		}
		if after := len(people(f, id, "")); after != before-1 {
			t.Fatalf("people %d after confirming, want %d", after, before-1)
		}
		if code, _ := f.call("", "POST", "/incidents/"+id+"/people/proposals/nope/decision", scopeapi.DecisionRequest{Decision: "confirm", Reason: "x"}); code != 404 {
			t.Errorf("unknown proposal: %d", code)
		}
		var audit []struct{ Action string }
		f.must("GET", "/audit", nil, &audit)
		for _, want := range []string{"scope.export_revealed", "scope.master", "scope.proposal_confirm"} {
			if !slices.ContainsFunc(audit, func(e struct{ Action string }) bool { return e.Action == want }) {
				t.Errorf("no %s in the audit log", want)
			}
		}
	})
}

// The obligations workspace derives its facts from the register's counts.
func TestObligationFactsFromRegister(t *testing.T) {
	f := newFixture(t, "")
	_, _, id := corpus(f)
	var sum scopeapi.SummaryView
	f.must("GET", "/incidents/"+id+"/people/summary", nil, &sum)
	var ob struct {
		Facts struct {
			Categories          []string
			People              map[string]int
			FinancialDamageRisk *bool `json:"financial_damage_risk"`
		}
		FactsSource string `json:"facts_source"`
	}
	f.must("GET", "/incidents/"+id+"/obligations", nil, &ob)
	if ob.FactsSource != "derived" || ob.Facts.People["JP"] != 4 || ob.Facts.FinancialDamageRisk == nil || !*ob.Facts.FinancialDamageRisk ||
		!slices.Contains(ob.Facts.Categories, "credit_card") {
		t.Fatalf("facts: %+v", ob)
	}
}

// A sweep with pii: true asks its agents for personal data, and needs no
// rules; the results name it.
func TestPIISweep(t *testing.T) {
	f := newFixture(t, "")
	a := f.enrol("files2")
	var sw struct{ ID string }
	f.must("POST", "/sweeps", map[string]any{"paths": []string{"/srv"}, "hosts": []string{a.ID}, "pii": true}, &sw)
	got := a.Sweep()
	if got.SweepID != sw.ID || !got.PII {
		t.Fatalf("sweep sent: %+v", got)
	}
	var view struct{ PII bool }
	f.must("GET", "/sweeps/"+sw.ID, nil, &view)
	if !view.PII {
		t.Fatalf("sweep view without pii")
	}
	a.SweepID = sw.ID
	a.SendResults(result("/srv/c.csv", sha('9'), subject("", 1, "email", "x@example.jp")))
	var inc struct{ ID string }
	f.must("POST", "/incidents", map[string]any{"title": "sweep", "hosts": []string{a.ID}, "reason": "test"}, &inc)
	var files []scopeapi.FileView
	f.must("GET", "/incidents/"+inc.ID+"/pii-files", nil, &files)
	if len(files) != 1 || files[0].SweepID != sw.ID {
		t.Fatalf("files: %+v", files)
	}
	if code, b := f.call("", "POST", "/sweeps", map[string]any{"paths": []string{"/srv"}, "hosts": []string{a.ID}}); code != 400 {
		t.Errorf("a sweep with neither rules nor pii: %d %s", code, b)
	}
}

// An xlsx master (written by WriteXLSX, so mamori's reader opens what its
// export writes) matches like a CSV one.
func TestMasterXLSX(t *testing.T) {
	f := newFixture(t, "")
	_, _, id := corpus(f)
	var x bytes.Buffer
	if err := scopeapi.WriteXLSX(&x, "顧客", [][]string{{"氏名", "メールアドレス"}, {"佐藤花子", "hanako@example.jp"}}); err != nil {
		t.Fatal(err)
	}
	code, b := f.call("", "POST", "/incidents/"+id+"/master?name=crm.xlsx&reason=crm&map=name=氏名,email=メールアドレス", x.Bytes())
	if code != 200 {
		t.Fatalf("xlsx master: %d %s", code, b)
	}
	if got := names(people(f, id, "?matched=true")); !slices.Equal(got, []string{"佐***"}) {
		t.Fatalf("matched: %q", got)
	}
}
