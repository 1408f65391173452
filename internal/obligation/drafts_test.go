package obligation

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if diff := cmp.Diff(got, string(want)); diff != "" {
		t.Errorf("%s (-got +want):\n%s", name, diff)
	}
}

func sampleContext(t *testing.T) DraftContext {
	t.Helper()
	f, err := os.Open("testdata/context.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := DecodeContext(f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The sample incident, its register and context: every draft in
// every format is a golden file.
func TestDraftsGolden(t *testing.T) {
	f := facts(t, `{"cause":"malware","status":"suspected","categories":["person_name","email","credit_card"],"people":{"JP":1200,"DE":3,"US-CA":40}}`)
	reg := &RegisterSummary{People: 1243,
		ByCategory: map[string]int{"person_name": 1243, "email": 1243, "credit_card": 310},
		ByExposure: map[string]int{"exfiltrated": 310, "accessed": 933},
		ByChannel:  map[string]int{"email": 1200, "letter": 43}}
	drafts := Drafts(f, sampleContext(t), reg)
	var names []string
	for _, d := range drafts {
		names = append(names, d.Name)
		golden(t, "draft-"+d.Name+".md", d.Markdown())
		page, err := d.HTML()
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "draft-"+d.Name+".html", page)
		js, err := d.JSON()
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "draft-"+d.Name+".json", string(js))
	}
	want := []string{"ppc-report", "eu-gdpr-art33", "public-statement-ja", "public-statement-en", "individual-notice-ja", "individual-notice-en"}
	if diff := cmp.Diff(names, want); diff != "" {
		t.Errorf("drafts (-got +want):\n%s", diff)
	}
}

// The PPC report has the nine items of Rules art. 8(1), in order, and with
// a full context and register none is left unknown except what no fact or
// context field gives.
func TestPPCReportNineItems(t *testing.T) {
	f := facts(t, `{"cause":"malware","people":{"JP":5}}`)
	d := Drafts(f, sampleContext(t), &RegisterSummary{People: 5, ByExposure: map[string]int{"exfiltrated": 5}, ByChannel: map[string]int{"email": 5}})[0]
	want := []string{"1. 概要", "2. 漏えい等が発生し、又は発生したおそれがある個人データの項目",
		"3. 漏えい等が発生し、又は発生したおそれがある個人データに係る本人の数", "4. 原因",
		"5. 二次被害又はそのおそれの有無及びその内容", "6. 本人への対応の実施状況", "7. 公表の実施状況",
		"8. 再発防止のための措置", "9. その他参考となる事項"}
	var got []string
	for _, s := range d.Sections[1:] {
		got = append(got, s.Heading)
		for _, fl := range s.Fields {
			if fl.Unknown {
				t.Errorf("%s / %s left unknown with a full context", s.Heading, fl.Label)
			}
		}
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("items (-got +want):\n%s", diff)
	}
	// Without a context, the preliminary report marks what is not known.
	bare := Drafts(f, DraftContext{}, nil)[0].Markdown()
	if n := strings.Count(bare, unknownJA); n < 5 {
		t.Errorf("bare report marks %d items unknown, want at least 5:\n%s", n, bare)
	}
}

func TestNoPPCReportWhenNotRequired(t *testing.T) {
	for _, d := range Drafts(facts(t, `{"people":{"JP":3}}`), DraftContext{}, nil) {
		if d.Name == "ppc-report" || strings.HasSuffix(d.Name, "art33") {
			t.Errorf("draft %s for facts that require no report", d.Name)
		}
	}
}

func TestWriteDraftsShowsDiff(t *testing.T) {
	dir := t.TempDir()
	f := facts(t, `{"cause":"malware","people":{"JP":5}}`)
	diffs, err := WriteDrafts(dir, Drafts(f, DraftContext{}, nil))
	if err != nil || len(diffs) != 0 {
		t.Fatalf("first write: diffs %q, err %v", diffs, err)
	}
	diffs, err = WriteDrafts(dir, Drafts(f, DraftContext{}, nil))
	if err != nil || len(diffs) != 0 {
		t.Fatalf("same facts: diffs %q, err %v", diffs, err)
	}
	f.People["JP"] = 7
	diffs, err = WriteDrafts(dir, Drafts(f, DraftContext{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(diffs, "")
	for _, want := range []string{"-- 本人の数: 5名", "+- 本人の数: 7名", "-- `people=JP:5`", "+- `people=JP:7`"} {
		if !strings.Contains(joined, want) {
			t.Errorf("diff lacks %q:\n%s", want, joined)
		}
	}
}

func TestLineDiff(t *testing.T) {
	got := LineDiff("a", "b", "x\ny\nz\n", "x\nY\nz\nw\n")
	want := "--- a\n+++ b\n@@ -2 +2 @@\n-y\n+Y\n@@ -4 +4 @@\n+w\n"
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("(-got +want):\n%s", diff)
	}
	// A draft that appears is all additions.
	if diff := cmp.Diff(LineDiff("a", "b", "", "x\ny\n"), "--- a\n+++ b\n@@ -1 +1 @@\n+x\n+y\n"); diff != "" {
		t.Errorf("from nothing (-got +want):\n%s", diff)
	}
}
