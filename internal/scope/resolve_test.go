package scope

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// rec is one record of a test source: category=value pairs.
type rec []string

type file struct {
	host, path, member string
	recs               []rec
}

func load(r *Resolver, files []file) {
	for _, f := range files {
		src := r.Source(Source{Host: f.host, Path: f.path, Member: f.member})
		for i, rc := range f.recs {
			for _, kv := range rc {
				c, v, _ := strings.Cut(kv, "=")
				r.Add(src, i, c, v)
			}
		}
	}
}

// groups renders a register as sorted "source#record" lists per person.
func groups(r *Resolver, reg *Register) []string {
	var out []string
	for _, p := range reg.People {
		var ns []string
		n := p.root
		for {
			if r.nodes[n].flags&fNoPerson == 0 && !r.sources[r.nodes[n].src].Master {
				ns = append(ns, r.nodeName(n))
			}
			n = r.next[n]
			if n == p.root {
				break
			}
		}
		slices.Sort(ns)
		out = append(out, strings.Join(slices.Compact(ns), " "))
	}
	slices.Sort(out)
	return out
}

var testKey = []byte("0123456789abcdef0123456789abcdef")

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		name      string
		files     []file
		want      []string
		proposals int
	}{
		{
			name: "same name, nothing else shared: two people",
			files: []file{
				{path: "a.csv", recs: []rec{{"person_name=山田 太郎", "email=t1@example.jp"}}},
				{path: "b.csv", recs: []rec{{"person_name=山田太郎", "email=t2@example.jp"}}},
			},
			want: []string{"a.csv#0", "b.csv#0"},
		},
		{
			name: "household phone: different names stay apart, a nameless record is proposed to both and counted as neither",
			files: []file{
				{path: "a.csv", recs: []rec{{"person_name=山田 太郎", "phone=03-1111-2222"}, {"person_name=山田 花子", "phone=03-1111-2222"}}},
				{path: "b.log", recs: []rec{{"phone=+81 3 1111 2222"}}},
			},
			want:      []string{"a.csv#0", "a.csv#1"},
			proposals: 2,
		},
		{
			name: "household phone read after the nameless record: the same, not a silent merge into the first holder",
			files: []file{
				{path: "0.log", recs: []rec{{"phone=+81 3 1111 2222"}}},
				{path: "a.csv", recs: []rec{{"person_name=山田 太郎", "phone=03-1111-2222"}, {"person_name=山田 花子", "phone=03-1111-2222"}}},
			},
			want:      []string{"a.csv#0", "a.csv#1"},
			proposals: 2,
		},
		{
			name: "a nameless record joins the one person holding its phone",
			files: []file{
				{path: "a.csv", recs: []rec{{"person_name=佐藤 花子", "phone=080-2222-3333"}}},
				{path: "b.log", recs: []rec{{"phone=+818022223333", "email=x@example.jp"}}},
				{path: "c.log", recs: []rec{{"email=X@Example.jp"}}},
			},
			want: []string{"a.csv#0 b.log#0 c.log#0"},
		},
		{
			name: "names in different scripts do not disagree",
			files: []file{
				{path: "a.csv", recs: []rec{{"person_name=佐藤 花子", "person_name=サトウ ハナコ", "email=hanako@gmail.com"}}},
				{path: "b.db", member: "users", recs: []rec{{"person_name=Hanako Sato", "email=hana.ko+x@googlemail.com"}}},
			},
			want: []string{"a.csv#0 b.db!users#0"},
		},
		{
			name: "identity keys merge whatever the names",
			files: []file{
				{path: "a.csv", recs: []rec{{"person_name=斎藤 健", "my_number=123456789018"}}},
				{path: "b.csv", recs: []rec{{"person_name=齋藤 健", "date_of_birth=1970-01-02"}}},
				{path: "c.csv", recs: []rec{{"person_name=斎藤健", "date_of_birth=昭和45年1月2日", "my_number=1234 5678 9018"}}},
			},
			want: []string{"a.csv#0 b.csv#0 c.csv#0"},
		},
		{
			name: "near names sharing a phone are proposed, not merged",
			files: []file{
				{path: "a.csv", recs: []rec{{"person_name=斉藤 健", "phone=090-1111-2222"}}},
				{path: "b.csv", recs: []rec{{"person_name=斎藤 健", "phone=090-1111-2222"}}},
			},
			want:      []string{"a.csv#0", "b.csv#0"},
			proposals: 1,
		},
		{
			name: "name and address in written variants",
			files: []file{
				{path: "a.csv", recs: []rec{{"person_name=山田 太郎", "address=東京都千代田区丸の内1丁目2番3号"}}},
				{path: "letter.txt", recs: []rec{{"person_name=山田太郎 様", "address=〒100-0005 東京都千代田区丸の内１－２－３"}}},
				{path: "other.txt", recs: []rec{{"person_name=山田太郎", "address=東京都千代田区丸の内1-2-4"}}},
			},
			want: []string{"a.csv#0 letter.txt#0", "other.txt#0"},
		},
		{
			name: "a record listing many people is split, merging nobody",
			files: []file{
				{path: "a.csv", recs: []rec{{"person_name=A", "email=a@x.jp"}, {"person_name=B", "email=b@x.jp"}, {"person_name=C", "email=c@x.jp"}, {"person_name=D", "email=d@x.jp"}}},
				{path: "list.txt", recs: []rec{{"person_name=担当 者", "email=a@x.jp", "email=b@x.jp", "email=c@x.jp", "email=d@x.jp"}}},
			},
			want: []string{"a.csv#0 list.txt#0", "a.csv#1 list.txt#0", "a.csv#2 list.txt#0", "a.csv#3 list.txt#0"},
		},
		{
			name: "a name alone is a mention of a known person, not another person",
			files: []file{
				{path: "a.csv", recs: []rec{{"person_name=山田 太郎", "email=t1@example.jp"}, {"person_name=山田 太郎", "email=t2@example.jp"}}},
				{path: "letter.txt", recs: []rec{{"person_name=山田太郎 様"}}},
				{path: "memo.txt", recs: []rec{{"person_name=田中 一郎"}, {"person_name=田中一郎"}}},
			},
			want:      []string{"a.csv#0", "a.csv#1", "memo.txt#0 memo.txt#1"},
			proposals: 2,
		},
		{
			name: "free dial numbers identify nobody",
			files: []file{
				{path: "a.txt", recs: []rec{{"person_name=A", "phone=0120-123-456"}, {"person_name=B", "phone=0120-123-456"}}},
			},
			want: []string{"a.txt#0", "a.txt#1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewResolver(Options{Key: testKey})
			load(r, tc.files)
			r.Resolve()
			reg := r.Register()
			if diff := cmp.Diff(groups(r, reg), tc.want); diff != "" {
				t.Errorf("people (-got +want):\n%s", diff)
			}
			if len(reg.Proposals) != tc.proposals {
				t.Errorf("%d proposals, want %d: %+v", len(reg.Proposals), tc.proposals, reg.Proposals)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	r := NewResolver(Options{Key: testKey})
	load(r, []file{
		{path: "a.csv", recs: []rec{{"person_name=斉藤 健", "phone=090-1111-2222"}, {"person_name=斉藤 健二", "phone=090-3333-4444"}}},
		{path: "b.csv", recs: []rec{{"person_name=斎藤 健", "phone=090-1111-2222"}, {"person_name=斎藤 健二", "phone=090-3333-4444"}}},
	})
	r.Resolve()
	reg := r.Register()
	if len(reg.Proposals) != 2 {
		t.Fatalf("proposals: %+v", reg.Proposals)
	}
	if !r.Decide(reg.Proposals[0].ID, true) || !r.Decide(reg.Proposals[1].ID, false) || r.Decide("m-nope", true) {
		t.Fatal("Decide did not know its proposals")
	}
	reg = r.Register()
	if len(reg.People) != 3 || len(reg.Proposals) != 0 {
		t.Errorf("after decisions: %d people, proposals %+v", len(reg.People), reg.Proposals)
	}
	notes := r.AllMergeNotes(reg)
	confirmed := 0
	for _, ns := range notes {
		for _, n := range ns {
			if n.Key == "confirmed" {
				confirmed++
			}
		}
	}
	if confirmed != 1 {
		t.Errorf("merge notes: %+v", notes)
	}
}

func TestRegister(t *testing.T) {
	files := []file{
		{host: "web01", path: "/srv/backup.zip", member: "customers.csv", recs: []rec{
			{"person_name=山田 太郎", "email=taro@example.jp", "credit_card=4111 1111 1111 1111", "date_of_birth=1985-04-12"},
			{"person_name=佐藤 花子", "email=hanako@example.jp", "bank_account=1234567"},
		}},
		{host: "pc01", path: "/home/u/health.csv", recs: []rec{
			{"person_name=山田 太郎", "email=taro@example.jp", "phone=090-1234-5678"},
		}},
		{host: "pc01", path: "/home/u/log.txt", recs: []rec{{"date_of_birth=1990-01-01", "postal_code=100-0005"}}},
	}
	build := func(order []file, exposure []ExposureRule) (*Resolver, *Register) {
		r := NewResolver(Options{Key: testKey})
		load(r, order)
		src := r.Source(Source{Path: "master.csv", Master: true})
		r.AddMaster(src, 0, MasterRow{MName: "山田 太郎", MEmail: "taro@example.jp", MAddress: "東京都千代田区丸の内1-2-3", MLanguage: "ja"})
		r.AddMaster(src, 1, MasterRow{MName: "伊藤 健", MEmail: "ken@example.jp"})
		r.Source(Source{Host: "pc01", Path: "/home/u/health.csv", SpecialCare: []string{"病歴"}})
		r.Source(Source{Host: "web01", Path: "/srv/backup.zip", Member: "customers.csv", Credentials: true})
		r.ApplyExposure(exposure)
		r.Resolve()
		return r, r.Register()
	}
	rules, err := ReadExposure(strings.NewReader("# taken\nexfiltrated,web01:/srv/backup.zip\naccessed\t/home/u/*.csv\n"), "exposure")
	if err != nil {
		t.Fatal(err)
	}
	r, reg := build(files, rules)
	type row struct {
		Name, Email, Address, Lang, Country, Cats, Exp, Special string
		Fin, Master                                             bool
		Sources                                                 string
	}
	var got []row
	for _, p := range reg.People {
		var cats []string
		for _, c := range p.Categories {
			cats = append(cats, c.Category+":"+c.Exposure.String())
		}
		got = append(got, row{p.Name, p.Email, p.Address, p.Language, p.Country, strings.Join(cats, ";"), p.Exposure.String(),
			strings.Join(p.SpecialCare, ";"), p.FinancialRisk, p.MatchedMaster, strings.Join(p.Sources, ";")})
	}
	slices.SortFunc(got, func(a, b row) int { return strings.Compare(a.Email, b.Email) })
	want := []row{
		{"佐藤 花子", "hanako@example.jp", "", "", "", "email:exfiltrated;person_name:exfiltrated;bank_account:exfiltrated", "exfiltrated", "", true, false,
			"web01:/srv/backup.zip!customers.csv"},
		{"山田 太郎", "taro@example.jp", "東京都千代田区丸の内1-2-3", "ja", "JP",
			"email:exfiltrated;phone:accessed;credit_card:exfiltrated;person_name:exfiltrated;date_of_birth:exfiltrated", "exfiltrated", "病歴", true, true,
			"pc01:/home/u/health.csv;web01:/srv/backup.zip!customers.csv"},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("register (-got +want):\n%s", diff)
	}
	sum := Summarize(reg)
	if sum.People != 2 || sum.NoContact != 0 || sum.ByCountry["unknown"] != 1 || sum.ByExposure["exfiltrated"] != 2 || sum.MatchedMaster != 1 || sum.SpecialCare != 1 || sum.FinancialRisk != 2 {
		t.Errorf("summary: %+v", sum)
	}
	if notes := r.AllMergeNotes(reg); len(notes) != 1 {
		t.Errorf("merge notes: %+v", notes)
	}

	// Ids depend on the data, not on the order it came in.
	rev := slices.Clone(files)
	slices.Reverse(rev)
	_, reg2 := build(rev, rules)
	ids := func(reg *Register) (s []string) {
		for _, p := range reg.People {
			s = append(s, p.ID+" "+p.Name)
		}
		return s
	}
	if diff := cmp.Diff(ids(reg2), ids(reg)); diff != "" {
		t.Errorf("ids depend on input order (-got +want):\n%s", diff)
	}
}

func TestIncremental(t *testing.T) {
	files := []file{
		{path: "a.csv", recs: []rec{{"person_name=A", "email=a@x.jp"}, {"person_name=B", "phone=090-1111-2222"}}},
		{path: "b.csv", recs: []rec{{"person_name=A", "email=a@x.jp", "phone=090-3333-4444"}}},
		{path: "c.csv", recs: []rec{{"phone=090-3333-4444"}, {"person_name=B", "phone=090-1111-2222", "email=b@x.jp"}}},
	}
	whole := NewResolver(Options{Key: testKey})
	load(whole, files)
	whole.Resolve()
	inc := NewResolver(Options{Key: testKey})
	for _, f := range files {
		load(inc, []file{f})
		inc.Resolve()
	}
	if diff := cmp.Diff(groups(inc, inc.Register()), groups(whole, whole.Register())); diff != "" {
		t.Errorf("incremental differs (-got +want):\n%s", diff)
	}
}

func TestReadResults(t *testing.T) {
	in := `{"type":"pii","path":"/d/book.xlsx","category":"person_name","offset":1,"line":2,"record":0,"member":"xl/sharedStrings.xml","value":"山田 太郎"}
{"type":"pii","path":"/d/book.xlsx","category":"phone","offset":1,"line":2,"record":0,"member":"xl/worksheets/sheet1.xml","value":"090-1234-5678"}
{"type":"pii","path":"/d/book.xlsx","category":"person_name","offset":1,"line":3,"record":1,"member":"xl/sharedStrings.xml","value":"佐藤 花子"}
{"type":"pii","path":"/d/book.xlsx","category":"person_name","offset":1,"line":2,"record":0,"member":"xl/sharedStrings.xml","value":"鈴木 一郎"}
{"type":"pii","path":"/d/book.xlsx","category":"email","offset":1,"line":2,"record":0,"member":"xl/worksheets/sheet2.xml","value":"ichiro@example.jp"}
{"type":"pii_flag","path":"/d/book.xlsx","member":"xl/worksheets/sheet2.xml","flag":"special_care","terms":["病歴"],"via":"column"}
{"type":"pii_summary","path":"/d/book.xlsx","categories":{},"subjects":3}
`
	r := NewResolver(Options{Key: testKey})
	st, err := r.ReadResults(strings.NewReader(in), "results.ndjson", "pc01")
	if err != nil {
		t.Fatal(err)
	}
	if st.Occurrences != 5 || st.Flags != 1 {
		t.Errorf("stats %+v", st)
	}
	r.Resolve()
	want := []string{"pc01:/d/book.xlsx!sheet1#0", "pc01:/d/book.xlsx!sheet1#1", "pc01:/d/book.xlsx!sheet2#0"}
	if diff := cmp.Diff(groups(r, r.Register()), want); diff != "" {
		t.Errorf("people (-got +want):\n%s", diff)
	}
	for _, bad := range []string{`{"type":"pii","path":"x"}`, `{not json`} {
		if _, err := NewResolver(Options{}).ReadResults(strings.NewReader(bad), "bad.ndjson", ""); err == nil || !strings.Contains(err.Error(), "bad.ndjson:1") {
			t.Errorf("ReadResults(%s): %v", bad, err)
		}
	}
}

func TestReadExposureErrors(t *testing.T) {
	for in, want := range map[string]string{
		"leaked,/x":     "x:1: exposure \"leaked\"",
		"present":       "x:1: want LEVEL,PATTERN",
		"\n\npresent,[": "x:3: pattern \"[\"",
	} {
		if _, err := ReadExposure(strings.NewReader(in), "x"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadExposure(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestProposeMapping(t *testing.T) {
	for _, tc := range []struct {
		headers []string
		want    map[string]string
	}{
		{[]string{"顧客番号", "氏名", "フリガナ", "メールアドレス", "電話番号", "郵便番号", "住所", "生年月日", "言語"},
			map[string]string{"顧客番号": MID, "氏名": MName, "フリガナ": MKana, "メールアドレス": MEmail, "電話番号": MPhone, "郵便番号": MPostal, "住所": MAddress, "生年月日": MDOB, "言語": MLanguage}},
		{[]string{"customer_id", "last_name", "first_name", "Email Address", "Mobile", "Zip", "Address", "Language", "Country"},
			map[string]string{"customer_id": MID, "last_name": MLastName, "first_name": MFirst, "Email Address": MEmail, "Mobile": MPhone, "Zip": MPostal, "Address": MAddress, "Language": MLanguage, "Country": MCountry}},
		{[]string{"姓", "名", "メール"}, map[string]string{"姓": MLastName, "名": MFirst, "メール": MEmail}},
	} {
		if diff := cmp.Diff(ProposeMapping(tc.headers), tc.want); diff != "" {
			t.Errorf("ProposeMapping(%q) (-got +want):\n%s", tc.headers, diff)
		}
	}
	if _, err := ParseMapping("email=Mail,nick=x"); err == nil {
		t.Error("ParseMapping accepted an unknown field")
	}
}

func FuzzReadResults(f *testing.F) {
	f.Add([]byte(`{"type":"pii","path":"/a","category":"email","record":0,"value":"a@b.jp"}` + "\n" +
		`{"type":"pii","path":"/a","member":"xl/sharedStrings.xml","category":"person_name","record":1,"value":"山田 太郎"}` + "\n" +
		`{"type":"pii_flag","path":"/a","flag":"credentials","terms":["pin"]}`))
	f.Add([]byte("present,/a\nexfiltrated h:/b/*\n"))
	f.Add([]byte("proposal_id,decision\nm-1,confirm\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewResolver(Options{Key: testKey})
		r.ReadResults(strings.NewReader(string(data)), "in", "h")
		if rules, err := ReadExposure(strings.NewReader(string(data)), "in"); err == nil {
			r.ApplyExposure(rules)
		}
		r.Resolve()
		reg := r.Register()
		if ds, err := ReadDecisions(strings.NewReader(string(data)), "in"); err == nil {
			for _, d := range ds {
				r.Decide(d.ID, d.Confirm)
			}
		}
		Summarize(reg)
	})
}
