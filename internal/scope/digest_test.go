package scope

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The register digests below were taken from the resolver as it was before
// its speed-ups (parallel normalisation, sort-based grouping): the same
// corpus must give the same people, ids, merges, proposals and changed
// rows, byte for byte. A change to the rules changes them on purpose;
// a change for speed must not. (The changed-rows digests were retaken once
// when Changed stopped reporting name-only mentions, which the register
// does not count as people; see TestChangedComplete.)

// rng is splitmix64: a generator whose sequence no library version changes.
type rng uint64

func (g *rng) next() uint64 {
	*g += 0x9e3779b97f4a7c15
	z := uint64(*g)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (g *rng) n(k int) int         { return int(g.next() % uint64(k)) }
func (g *rng) p(percent int) bool  { return g.n(100) < percent }
func pick[T any](g *rng, xs []T) T { return xs[g.n(len(xs))] }
func fw(s string) string           { return strings.Map(fullWidth, s) }
func fullWidth(r rune) rune {
	if r >= '!' && r <= '~' {
		return r - '!' + '！'
	}
	return r
}

// corpusPerson is one real person of the digest corpus.
type corpusPerson struct {
	sur, giv, kana, latin   string
	email, phone            string
	mynum, card, passport   string
	y, m, d, block1, block2 int
	pref                    string
}

var (
	corpusSur     = []string{"山田", "佐藤", "鈴木", "高橋", "田中", "渡辺", "斎藤", "斉藤", "中村", "小林", "吉田", "山崎", "清水", "森", "林"}
	corpusSurOld  = map[string]string{"高橋": "髙橋", "渡辺": "渡邊", "斎藤": "齋藤", "山崎": "山﨑"}
	corpusSurKana = []string{"ヤマダ", "サトウ", "スズキ", "タカハシ", "タナカ", "ワタナベ", "サイトウ", "サイトウ", "ナカムラ", "コバヤシ", "ヨシダ", "ヤマザキ", "シミズ", "モリ", "ハヤシ"}
	corpusSurLat  = []string{"Yamada", "Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Saito", "Saito", "Nakamura", "Kobayashi", "Yoshida", "Yamazaki", "Shimizu", "Mori", "Hayashi"}
	corpusGiv     = []string{"太郎", "花子", "一郎", "美咲", "健", "陽菜", "翔", "大輔", "結衣", "拓也", "直樹", "優子"}
	corpusGivKana = []string{"タロウ", "ハナコ", "イチロウ", "ミサキ", "ケン", "ヒナ", "ショウ", "ダイスケ", "ユイ", "タクヤ", "ナオキ", "ユウコ"}
	corpusGivLat  = []string{"Taro", "Hanako", "Ichiro", "Misaki", "Ken", "Hina", "Sho", "Daisuke", "Yui", "Takuya", "Naoki", "Yuko"}
	corpusPref    = []string{"東京都千代田区丸の内", "大阪府大阪市北区梅田", "福岡県福岡市中央区天神", "北海道札幌市中央区北一条西", "神奈川県横浜市西区みなとみらい"}
	corpusKanjiN  = []string{"", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"}
	corpusDomains = []string{"example.jp", "gmail.com", "yahoo.co.jp", "example.com", "outlook.jp", "mail.example.co.jp"}
)

func newCorpusPeople(g *rng, n int) []corpusPerson {
	ps := make([]corpusPerson, n)
	for i := range ps {
		p := &ps[i]
		s, gv := g.n(len(corpusSur)), g.n(len(corpusGiv))
		p.sur, p.giv = corpusSur[s], corpusGiv[gv]
		p.kana = corpusSurKana[s] + " " + corpusGivKana[gv]
		p.latin = corpusGivLat[gv] + " " + corpusSurLat[s]
		dom := pick(g, corpusDomains)
		p.email = "u" + strconv.Itoa(i) + "." + strconv.Itoa(g.n(1000)) + "@" + dom
		p.phone = fmt.Sprintf("0%d0-%04d-%04d", 7+g.n(3), g.n(10000), g.n(10000))
		if g.p(10) && i > 0 {
			p.phone = ps[i-1-g.n(min(i, 5))].phone // a household or a shared line
		}
		p.y, p.m, p.d = 1935+g.n(70), 1+g.n(12), 1+g.n(28)
		p.pref = pick(g, corpusPref)
		p.block1, p.block2 = 1+g.n(12), 1+g.n(30)
		if g.p(12) {
			p.mynum = fmt.Sprintf("%012d", g.next()%1_000_000_000_000)
		}
		if g.p(8) {
			p.card = fmt.Sprintf("4%015d", g.next()%1_000_000_000_000_000)
		}
		if g.p(4) {
			p.passport = fmt.Sprintf("T%c%07d", 'A'+rune(g.n(26)), g.n(10_000_000))
		}
	}
	return ps
}

// written returns one of the ways a field of p is written in files.
func (p *corpusPerson) written(g *rng, field string) string {
	switch field {
	case "person_name":
		sur := p.sur
		if old, ok := corpusSurOld[sur]; ok && g.p(30) {
			sur = old
		}
		switch g.n(6) {
		case 0:
			return sur + p.giv
		case 1:
			return sur + "　" + p.giv
		case 2:
			return sur + " " + p.giv + " 様"
		}
		return sur + " " + p.giv
	case "kana":
		if g.p(50) {
			return strings.ReplaceAll(p.kana, " ", "")
		}
		return p.kana
	case "latin":
		if g.p(50) {
			f := strings.Fields(p.latin)
			return strings.ToUpper(f[1]) + ", " + f[0]
		}
		return p.latin
	case "email":
		local, dom, _ := strings.Cut(p.email, "@")
		switch g.n(5) {
		case 0:
			return strings.ToUpper(p.email)
		case 1:
			if dom == "gmail.com" {
				return strings.ReplaceAll(local, ".", "") + "+shop@googlemail.com"
			}
			return local + "+tag@" + dom // a different address elsewhere
		case 2:
			return " <" + p.email + "> "
		}
		return p.email
	case "phone":
		d := strings.ReplaceAll(p.phone, "-", "")
		switch g.n(5) {
		case 0:
			return "+81 " + d[1:3] + " " + d[3:7] + " " + d[7:]
		case 1:
			return fw(p.phone)
		case 2:
			return "+81(0)" + d[1:]
		case 3:
			return d
		}
		return p.phone
	case "date_of_birth":
		switch g.n(5) {
		case 0:
			return fmt.Sprintf("%d/%d/%d", p.y, p.m, p.d)
		case 1:
			if p.y > 1926 && p.y < 1989 {
				return fmt.Sprintf("昭和%d年%d月%d日", p.y-1925, p.m, p.d)
			}
		case 2:
			return fmt.Sprintf("%d%02d%02d", p.y, p.m, p.d)
		case 3:
			return fmt.Sprintf("%02d/%02d/%d", p.m, p.d, p.y)
		}
		return fmt.Sprintf("%d-%02d-%02d", p.y, p.m, p.d)
	case "address":
		switch g.n(4) {
		case 0:
			return fmt.Sprintf("%s%d丁目%d番%d号", p.pref, p.block1, p.block2, 1+p.block1%3)
		case 1:
			if p.block1 < len(corpusKanjiN) && p.block2 < len(corpusKanjiN) {
				return fmt.Sprintf("〒100-0005 %s%s丁目%s番%d号", p.pref, corpusKanjiN[p.block1], corpusKanjiN[p.block2], 1+p.block1%3)
			}
		case 2:
			return fw(fmt.Sprintf("%d-%d-%d", p.block1, p.block2, 1+p.block1%3)) + " " + p.pref
		}
		return fmt.Sprintf("%s %d-%d-%d", p.pref, p.block1, p.block2, 1+p.block1%3)
	case "postal_code":
		return fmt.Sprintf("%03d-%04d", 100+p.block1, p.block2*7)
	case "my_number":
		if g.p(50) {
			return p.mynum[:4] + " " + p.mynum[4:8] + " " + p.mynum[8:]
		}
		return fw(p.mynum)
	case "credit_card":
		return p.card[:4] + "-" + p.card[4:8] + "-" + p.card[8:12] + "-" + p.card[12:]
	case "passport":
		return strings.ToLower(p.passport)
	}
	return ""
}

// corpusRec is one record of the corpus: its source, number and values.
type corpusRec struct {
	src  int
	num  int
	vals [][2]string // category, value
}

type digestCorpus struct {
	people  []corpusPerson
	sources []Source
	recs    []corpusRec
	master  []MasterRow
}

// newDigestCorpus generates people written many ways in files on several
// hosts, households sharing phones, nameless and name-only records, crowd
// records, near names, shared lines and master rows for half the people.
func newDigestCorpus(seed uint64, people int) *digestCorpus {
	g := rng(seed)
	c := &digestCorpus{people: newCorpusPeople(&g, people)}
	for f := 0; f < 60; f++ {
		s := Source{Host: "host" + strconv.Itoa(f%6), Path: "/data/f" + strconv.Itoa(f) + ".csv"}
		switch f % 10 {
		case 1:
			s.Path, s.Member = "/backup/a"+strconv.Itoa(f)+".zip", "customers"+strconv.Itoa(f%3)+".csv"
		case 2:
			s.Path = "/home/u/letters" + strconv.Itoa(f) + ".txt"
		case 3:
			s.SpecialCare = []string{"病歴"}
		case 4:
			s.Credentials = true
		}
		c.sources = append(c.sources, s)
	}
	next := make([]int, len(c.sources))
	add := func(src int, vals [][2]string) {
		c.recs = append(c.recs, corpusRec{src, next[src], vals})
		next[src]++
	}
	fields := []struct {
		cat string
		pct int
	}{{"person_name", 85}, {"kana", 15}, {"latin", 5}, {"email", 55}, {"phone", 45}, {"date_of_birth", 35},
		{"address", 25}, {"postal_code", 15}, {"my_number", 60}, {"credit_card", 60}, {"passport", 60}, {"bank_account", 5}}
	for i := range c.people {
		p := &c.people[i]
		for range 1 + g.n(4) {
			var vals [][2]string
			for _, f := range fields {
				if !g.p(f.pct) {
					continue
				}
				cat := f.cat
				switch cat {
				case "kana", "latin":
					cat = "person_name"
				case "my_number":
					if p.mynum == "" {
						continue
					}
				case "credit_card":
					if p.card == "" {
						continue
					}
				case "passport":
					if p.passport == "" {
						continue
					}
				case "bank_account":
					vals = append(vals, [2]string{cat, strconv.Itoa(1000000 + i)})
					continue
				}
				vals = append(vals, [2]string{cat, p.written(&g, f.cat)})
			}
			if len(vals) > 0 {
				add(g.n(len(c.sources)), vals)
			}
		}
		// Near names: a typo of the given name, same birth date or phone.
		if g.p(3) {
			giv := []rune(p.giv)
			giv[len(giv)-1] = pick(&g, []rune("郎子介美"))
			v := [][2]string{{"person_name", p.sur + " " + string(giv)}}
			if g.p(50) {
				v = append(v, [2]string{"date_of_birth", p.written(&g, "date_of_birth")})
			} else {
				v = append(v, [2]string{"phone", p.written(&g, "phone")})
			}
			add(g.n(len(c.sources)), v)
		}
	}
	for range people / 15 { // nameless contact records
		p := &c.people[g.n(len(c.people))]
		cat := pick(&g, []string{"email", "phone"})
		add(g.n(len(c.sources)), [][2]string{{cat, p.written(&g, cat)}})
	}
	for range people / 30 { // only a name: a known person's or a stranger's
		p := &c.people[g.n(len(c.people))]
		name := p.written(&g, "person_name")
		if g.p(40) {
			name = pick(&g, corpusSur) + " " + pick(&g, []string{"五郎", "七海", "蓮"})
		}
		add(g.n(len(c.sources)), [][2]string{{"person_name", name}})
	}
	for range people / 100 { // crowd records: a letter listing customers
		var v [][2]string
		for range 5 {
			p := &c.people[g.n(len(c.people))]
			v = append(v, [2]string{"email", p.written(&g, "email")})
		}
		if g.p(50) {
			a, b := &c.people[g.n(len(c.people))], &c.people[g.n(len(c.people))]
			v = append(v, [2]string{"person_name", a.written(&g, "person_name")}, [2]string{"person_name", b.written(&g, "person_name")},
				[2]string{"phone", a.written(&g, "phone")})
		}
		add(g.n(len(c.sources)), v)
	}
	for i := range 25 { // a switchboard on every letter, and a free dial
		p := &c.people[g.n(len(c.people))]
		add(g.n(len(c.sources)), [][2]string{{"person_name", p.written(&g, "person_name")}, {"phone", "03-5555-0000"}})
		if i%5 == 0 {
			add(g.n(len(c.sources)), [][2]string{{"person_name", p.written(&g, "person_name")}, {"phone", "0120-123-456"}})
		}
	}
	for i := range c.people {
		if i%2 == 1 {
			continue
		}
		p := &c.people[i]
		row := MasterRow{MName: p.sur + " " + p.giv, MEmail: p.email, MPhone: p.phone, MLanguage: pick(&g, []string{"ja", "en", ""})}
		if g.p(50) {
			row[MKana] = p.kana
		}
		if g.p(60) {
			row[MAddress] = p.written(&g, "address")
			row[MPostal] = p.written(&g, "postal_code")
		}
		if g.p(30) {
			row[MDOB] = p.written(&g, "date_of_birth")
		}
		if g.p(10) {
			row[MCountry] = "jp"
		}
		c.master = append(c.master, row)
	}
	// Shuffle the records: scans deliver them in any order.
	for i := len(c.recs) - 1; i > 0; i-- {
		j := g.n(i + 1)
		c.recs[i], c.recs[j] = c.recs[j], c.recs[i]
	}
	return c
}

func (c *digestCorpus) feed(r *Resolver, recs []corpusRec) {
	for _, rc := range recs {
		src := r.Source(c.sources[rc.src])
		for _, v := range rc.vals {
			r.Add(src, rc.num, v[0], v[1])
		}
	}
}

func (c *digestCorpus) feedMaster(r *Resolver) {
	src := r.Source(Source{Path: "master.csv", Master: true})
	for i, row := range c.master {
		r.AddMaster(src, i, row)
	}
}

// registerDigest hashes everything a register shows: people.csv, the merge
// notes, the proposals, the summary.
func registerDigest(t *testing.T, h hash.Hash, r *Resolver, reg *Register) {
	t.Helper()
	if err := WritePeopleCSV(h, reg.People); err != nil {
		t.Fatal(err)
	}
	if err := WriteMergesCSV(h, reg.People, r.AllMergeNotes(reg)); err != nil {
		t.Fatal(err)
	}
	if err := WriteProposalsCSV(h, reg.Proposals); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(Summarize(reg))
	if err != nil {
		t.Fatal(err)
	}
	h.Write(b)
}

func changedDigest(t *testing.T, h hash.Hash, changed []*Person) {
	t.Helper()
	changed = slices.Clone(changed)
	slices.SortFunc(changed, func(a, b *Person) int { return strings.Compare(a.ID+a.Name, b.ID+b.Name) })
	if err := WritePeopleCSV(h, changed); err != nil {
		t.Fatal(err)
	}
}

func TestRegisterDigest(t *testing.T) {
	t.Run("batches", func(t *testing.T) {
		// Small batches: values normalised in the background while the
		// next are added must be applied in the order they came.
		defer func(n int) { rawBatch = n }(rawBatch)
		rawBatch = 97
		testRegisterDigest(t)
	})
	testRegisterDigest(t)
}

func testRegisterDigest(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		seed                 uint64
		people               int
		first, changed, last string
		count                int
	}{
		{"small", 1, 400,
			"9b1ca9e88b43bfe9499b728e0c5efeb8aa81fa16d3ac53946d374692afb43e2c",
			"7933c4c6d96fadc125441f785d114c466a59336c04bf30e39ec20e310e577844",
			"bee93219d7ddca90307e378b27ecaad6f56e93e386be9e46f667448b4fc6494a", 521},
		{"larger", 7, 6000,
			"59e6e0c6e8d84a4cece8ed527b34934b850df60a25519d0ed56e43b881c1ba09",
			"49f5f86b61205bafab94dc44c93eac1299a7b5552ab288b99393c5914ed38517",
			"89320492178ee9779aa6ced28f269654d637c5b16bccba45803223fbea1a8c8d", 7504},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newDigestCorpus(tc.seed, tc.people)
			r := NewResolver(Options{Key: testKey})
			c.feedMaster(r)
			cut := len(c.recs) * 95 / 100
			c.feed(r, c.recs[:cut])
			rules, err := ReadExposure(strings.NewReader("exfiltrated,host1:/backup/\naccessed,/home/u/*.txt\n"), "rules")
			if err != nil {
				t.Fatal(err)
			}
			r.ApplyExposure(rules)
			r.Resolve()
			reg := r.Register()
			h := sha256.New()
			registerDigest(t, h, r, reg)
			first := hex.EncodeToString(h.Sum(nil))

			// The incremental step: the rest of the records, then a
			// person's decisions on two proposals.
			c.feed(r, c.recs[cut:])
			r.Resolve()
			h.Reset()
			changedDigest(t, h, r.Changed())
			changed := hex.EncodeToString(h.Sum(nil))
			reg = r.Register()
			if len(reg.Proposals) > 1 {
				r.Decide(reg.Proposals[0].ID, true)
				r.Decide(reg.Proposals[1].ID, false)
			}
			reg = r.Register()
			h.Reset()
			registerDigest(t, h, r, reg)
			last := hex.EncodeToString(h.Sum(nil))
			t.Logf("%d records, %d people, %d proposals, %d mentions", len(c.recs), len(reg.People), len(reg.Proposals), reg.Mentions)
			got := []string{first, changed, last, strconv.Itoa(len(reg.People))}
			want := []string{tc.first, tc.changed, tc.last, strconv.Itoa(tc.count)}
			if !slices.Equal(got, want) {
				t.Errorf("register digests %q, want %q", got, want)
			}
		})
	}
}

// TestBenchDigest checks the benchmark's corpus the same way, at a size a
// test can afford: what the benchmark times is what the rules give.
func TestBenchDigest(t *testing.T) {
	g := newBenchGen(100000)
	r := NewResolver(Options{Key: testKey})
	g.feedMaster(r)
	srcs := g.sources(r, 0)
	main := g.people - g.people/100
	g.feed(r, srcs, 0, main)
	r.Resolve()
	reg := r.Register()
	h := sha256.New()
	registerDigest(t, h, r, reg)
	first := hex.EncodeToString(h.Sum(nil))
	g.feed(r, g.sources(r, 1000), main, g.people)
	r.Resolve()
	h.Reset()
	changedDigest(t, h, r.Changed())
	changed := hex.EncodeToString(h.Sum(nil))
	got := []string{first, changed, strconv.Itoa(len(reg.People))}
	want := []string{"94c02b9b636b475958f7a888628aca1a36a5bd2e78724aea6ed729b39f70b69e",
		"dbecc3fc278c6c307247764ebcd1b407c64eaa21ecbc70f875ba386546b84f79", "19800"}
	if !slices.Equal(got, want) {
		t.Errorf("benchmark register digests %q, want %q", got, want)
	}
}

// TestChangedComplete adds the last 1% of a corpus to a resolved
// Resolver: every row Changed returns is the row a full Register then
// shows, and every row that differs from the register before is among
// them.
func TestChangedComplete(t *testing.T) {
	c := newDigestCorpus(11, 3000)
	r := NewResolver(Options{Key: testKey})
	c.feedMaster(r)
	cut := len(c.recs) * 99 / 100
	c.feed(r, c.recs[:cut])
	r.Resolve()
	row := func(p *Person) string {
		var b strings.Builder
		if err := WritePeopleCSV(&b, []*Person{p}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	before := map[string]bool{}
	for _, p := range r.Register().People {
		before[row(p)] = true
	}
	c.feed(r, c.recs[cut:])
	r.Resolve()
	changed := map[string]bool{}
	for _, p := range r.Changed() {
		changed[row(p)] = true
	}
	after := map[string]bool{}
	for _, p := range r.Register().People {
		after[row(p)] = true
		if !before[row(p)] && !changed[row(p)] {
			t.Errorf("row changed but not reported:\n%s", row(p))
		}
	}
	for rw := range changed {
		if !after[rw] {
			t.Errorf("Changed row not in the register:\n%s", rw)
		}
	}
	if len(changed) == 0 {
		t.Fatal("nothing changed")
	}
	t.Logf("%d of %d rows changed", len(changed), len(after))
}
