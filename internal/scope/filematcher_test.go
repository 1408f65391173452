package scope

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/japanese"
	_ "modernc.org/sqlite"

	"github.com/mamori-dev/mamori/internal/pii"
	"github.com/mamori-dev/mamori/internal/scan"
)

var update = flag.Bool("update", false, "rewrite golden files")

const customersCSV = "氏名,メールアドレス,電話番号,生年月日\n" +
	"山田 太郎,Taro.Yamada+shop@Gmail.com,０９０-１２３４-５６７８,1985/04/12\n" +
	"佐藤 花子,hanako@example.jp,+81 80-2222-3333,1990-01-02\n"

// fileResults runs a FileMatcher over one file and returns what it emits.
func fileResults(t *testing.T, m *FileMatcher, name string, data []byte) []scan.Record {
	t.Helper()
	sum := sha256.Sum256(data)
	f := &scan.File{Path: name, Size: int64(len(data)), Data: data, SHA256: hex.EncodeToString(sum[:])}
	var out []scan.Record
	if err := m.Match(context.Background(), f, func(r scan.Record) { out = append(out, r) }); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

func newTestFileMatcher() *FileMatcher {
	return NewFileMatcher(pii.NewMatcher(pii.Options{Reveal: true}), testKey, "JP")
}

type zfile struct {
	name string
	data []byte
}

func zipOf(t *testing.T, files ...zfile) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, f := range files {
		fw, err := w.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(f.data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// workbook is an xlsx whose second sheet's first row with personal data
// starts with a shared string, at a row number past the first sheet's
// last: the case where naming shared strings by their part made one row
// two subjects.
func workbook(t *testing.T) []byte {
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
	shared := `<?xml version="1.0" encoding="UTF-8"?><sst ` + ns + `>` +
		`<si><t>氏名</t></si><si><t>メール</t></si><si><t>山田 太郎</t></si><si><t>鈴木 一郎</t></si><si><t>病歴</t></si><si><t>電話番号</t></si></sst>`
	sheet1 := `<?xml version="1.0" encoding="UTF-8"?><worksheet ` + ns + `><sheetData>` +
		`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>` +
		`<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="inlineStr"><is><t>taro@example.jp</t></is></c></row>` +
		`</sheetData></worksheet>`
	sheet2 := `<?xml version="1.0" encoding="UTF-8"?><worksheet ` + ns + `><sheetData>` +
		`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>5</v></c><c r="C1" t="s"><v>4</v></c></row>` +
		`<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c></row>` +
		`<row r="3"><c r="A3" t="inlineStr"><is><t>y</t></is></c></row>` +
		`<row r="4"><c r="A4" t="s"><v>3</v></c><c r="B4" t="inlineStr"><is><t>03-1234-5678</t></is></c><c r="C4" t="inlineStr"><is><t>なし</t></is></c></row>` +
		`</sheetData></worksheet>`
	return zipOf(t,
		zfile{"[Content_Types].xml", []byte(`<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"></Types>`)},
		zfile{"xl/workbook.xml", []byte(`<workbook/>`)},
		zfile{"xl/sharedStrings.xml", []byte(shared)},
		zfile{"xl/worksheets/sheet1.xml", []byte(sheet1)},
		zfile{"xl/worksheets/sheet2.xml", []byte(sheet2)},
	)
}

func utf16LE(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func shiftJIS(t *testing.T, s string) []byte {
	b, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sqliteDB(t *testing.T) []byte {
	p := filepath.Join(t.TempDir(), "shop.db")
	db, err := sql.Open("sqlite", p)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT)`,
		`INSERT INTO customers VALUES (1, '山田 太郎', 'taro@example.jp', '090-1234-5678'), (2, '佐藤 花子', 'hanako@example.jp', '080-2222-3333')`,
		`CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER)`,
		`INSERT INTO orders VALUES (1, 1200)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFileMatcherGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		path string
		data func(t *testing.T) []byte
	}{
		{"csv", "/d/customers.csv", func(*testing.T) []byte { return []byte(customersCSV) }},
		{"utf16", "/d/customers-utf16.csv", func(*testing.T) []byte { return utf16LE(customersCSV) }},
		{"shiftjis", "/d/customers-sjis.csv", func(t *testing.T) []byte { return shiftJIS(t, customersCSV) }},
		{"xlsx", "/d/book.xlsx", workbook},
		{"zip", "/d/export.zip", func(t *testing.T) []byte {
			return zipOf(t, zfile{"2024/customers.csv", []byte(customersCSV)}, zfile{"book.xlsx", workbook(t)},
				zfile{"tool.exe", append([]byte("MZ\x90\x00"), make([]byte, 64)...)})
		}},
		{"sqlite", "/d/shop.db", sqliteDB},
		{"binary", "/d/picture.png", func(*testing.T) []byte { return append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs := fileResults(t, newTestFileMatcher(), tc.path, tc.data(t))
			got, err := json.MarshalIndent(recs, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", "filematcher", tc.name+".json")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(got), string(want)); diff != "" {
				t.Errorf("%s (-got +want):\n%s", golden, diff)
			}
		})
	}
}

// TestFileMatcherEncodings checks that the same customers read from UTF-8,
// UTF-16 and Shift_JIS carry the same subjects: only the file differs.
func TestFileMatcherEncodings(t *testing.T) {
	subjects := func(recs []scan.Record) []FileSubject {
		var out []FileSubject
		for _, r := range recs {
			if fr, ok := r.(*FileResult); ok {
				out = append(out, fr.Subjects...)
			}
		}
		return out
	}
	m := newTestFileMatcher()
	want := subjects(fileResults(t, m, "/d/a.csv", []byte(customersCSV)))
	if len(want) != 2 {
		t.Fatalf("UTF-8: %d subjects, want 2", len(want))
	}
	for name, data := range map[string][]byte{"utf16": utf16LE(customersCSV), "sjis": shiftJIS(t, customersCSV)} {
		if diff := cmp.Diff(subjects(fileResults(t, m, "/d/"+name+".csv", data)), want); diff != "" {
			t.Errorf("%s (-got +want):\n%s", name, diff)
		}
	}
}

// checkParts checks a file's parts as an agent emits them: numbered in
// order, each within limit, every part but the last with parts 0 and its
// own counts, the last with the part count and the file's counts, which
// the parts' values do not exceed.
func checkParts(t *testing.T, parts []*FileResult, limit int) {
	t.Helper()
	if len(parts) == 0 {
		return
	}
	last := parts[len(parts)-1]
	sum := map[string]int{}
	for i, p := range parts {
		if enc, _ := json.Marshal(p); len(enc) > limit {
			t.Errorf("part %d: %d bytes, over %d", i, len(enc), limit)
		}
		if err := p.Check(); err != nil {
			t.Errorf("part %d: %v", i, err)
		}
		own := map[string]int{}
		for _, s := range p.Subjects {
			for _, v := range s.Values {
				own[v.Category]++
				sum[v.Category]++
			}
		}
		want := 0
		if p == last {
			want = len(parts)
		} else if diff := cmp.Diff(p.Categories, own); diff != "" || len(p.Flags) > 0 || p.Masked != 0 {
			t.Errorf("part %d: categories (-got +own) %s, %d flags, masked %d", i, diff, len(p.Flags), p.Masked)
		}
		if p.Part != i || p.Parts != want {
			t.Errorf("part %d says part %d of %d, want %d", i, p.Part, p.Parts, want)
		}
	}
	for c, n := range sum {
		if n > last.Categories[c] {
			t.Errorf("%s: %d values in the parts, the file counts %d", c, n, last.Categories[c])
		}
	}
}

// TestFileMatcherParts splits a large CSV into parts that each stay within
// PartBytes, and checks that together they hold every subject once.
func TestFileMatcherParts(t *testing.T) {
	var b strings.Builder
	b.WriteString("氏名,メールアドレス,電話番号\n")
	const rows = 3000
	for i := range rows {
		fmt.Fprintf(&b, "山田 太郎%d,user%d@example.jp,090-%04d-%04d\n", i, i, i/10000, i%10000)
	}
	m := newTestFileMatcher()
	m.PartBytes = 64 << 10
	recs := fileResults(t, m, "/d/big.csv", []byte(b.String()))
	var parts []*FileResult
	for _, r := range recs {
		if fr, ok := r.(*FileResult); ok {
			parts = append(parts, fr)
		}
	}
	if len(parts) < 3 {
		t.Fatalf("%d parts, want several", len(parts))
	}
	checkParts(t, parts, m.PartBytes)
	if got := parts[len(parts)-1].Categories["email"]; got != rows {
		t.Errorf("the last part counts %d e-mail addresses, want %d", got, rows)
	}
	seen := map[int]bool{}
	for _, p := range parts {
		for _, s := range p.Subjects {
			if seen[s.Record] {
				t.Errorf("record %d in two parts", s.Record)
			}
			seen[s.Record] = true
		}
	}
	if len(seen) != rows {
		t.Errorf("%d subjects, want %d", len(seen), rows)
	}
}

// TestPackPartsLargeSubject splits one subject with more values than fit
// a part, or than a part may hold of one subject.
func TestPackPartsLargeSubject(t *testing.T) {
	for _, tc := range []struct {
		values, limit int
	}{{500, 4 << 10}, {2500, 1 << 20}} {
		s := FileSubject{Member: "m", Record: 7, Key: "s-1"}
		for i := range tc.values {
			s.Values = append(s.Values, FileValue{Category: "email", Value: fmt.Sprintf("someone%04d@example.jp", i)})
		}
		head := FileResult{Type: FileResultType, Path: "/d/letter.txt", Categories: map[string]int{"email": tc.values + 1}}
		small := FileSubject{Member: "m", Record: 1, Key: "s-0", Values: []FileValue{{Category: "email", Value: "a@example.jp"}}}
		parts := packParts(head, []FileSubject{small, s}, tc.limit)
		var values []FileValue
		for i, ss := range parts {
			p := head
			p.Part, p.Parts, p.Subjects = i, len(parts), ss
			if enc, _ := json.Marshal(p); len(enc) > tc.limit {
				t.Errorf("%d values: part %d: %d bytes", tc.values, i, len(enc))
			}
			if err := p.Check(); err != nil {
				t.Errorf("%d values: part %d: %v", tc.values, i, err)
			}
			for _, ps := range ss {
				if ps.Record == 7 {
					if ps.Key != "s-1" || ps.Member != "m" {
						t.Errorf("piece %+v lost its subject", ps)
					}
					values = append(values, ps.Values...)
				}
			}
		}
		if tc.limit < 1<<20 && len(parts) < 2 {
			t.Errorf("%d values: %d parts", tc.values, len(parts))
		}
		if diff := cmp.Diff(values, s.Values); diff != "" {
			t.Errorf("%d values (-got +want):\n%s", tc.values, diff)
		}
	}
}

func TestMemberNamer(t *testing.T) {
	var n memberNamer
	for _, tc := range []struct {
		member string
		rec    int
		want   string
	}{
		{"", 0, ""},
		{"dir/a.csv", 3, "dir/a.csv"},
		{"xl/worksheets/sheet1.xml", 0, "sheet1"},
		{"in.zip!xl/worksheets/sheet12.xml", 4, "in.zip!sheet12"},
		{"word/document.xml", 0, ""},
		{"a.zip!b.docx!word/document.xml", 2, "a.zip!b.docx"},
		// Output of earlier scans: shared strings take the sheet of the
		// cells before them, or the next when the row number went back.
		{"x.xlsx!xl/worksheets/sheet2.xml", 5, "x.xlsx!sheet2"},
		{"x.xlsx!xl/sharedStrings.xml", 6, "x.xlsx!sheet2"},
		{"x.xlsx!xl/sharedStrings.xml", 0, "x.xlsx!sheet3"},
	} {
		if got := n.name("f", tc.member, tc.rec); got != tc.want {
			t.Errorf("name(%q, %d) = %q, want %q", tc.member, tc.rec, got, tc.want)
		}
	}
}

// BenchmarkFileMatcher scans a customer CSV of MAMORI_FILEMATCHER_ROWS
// rows (default 100000: name, e-mail, phone, birth date, address) and
// reports the parts it makes and the encoded bytes per subject.
//
//	go test -run X -bench FileMatcher -benchtime 1x ./internal/scope
func BenchmarkFileMatcher(b *testing.B) {
	rows := 100000
	if s := os.Getenv("MAMORI_FILEMATCHER_ROWS"); s != "" {
		fmt.Sscan(s, &rows)
	}
	data := customerRows(rows)
	m := newTestFileMatcher()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	var parts, subjects, encoded int
	for range b.N {
		parts, subjects, encoded = 0, 0, 0
		f := &scan.File{Path: "/d/customers.csv", Size: int64(len(data)), Data: data, SHA256: "00"}
		m.Match(context.Background(), f, func(r scan.Record) {
			if fr, ok := r.(*FileResult); ok {
				enc, _ := json.Marshal(fr)
				parts++
				subjects += len(fr.Subjects)
				encoded += len(enc)
			}
		})
	}
	b.StopTimer()
	if subjects != rows {
		b.Fatalf("%d subjects from %d rows", subjects, rows)
	}
	b.ReportMetric(float64(parts), "parts")
	b.ReportMetric(float64(encoded)/float64(subjects), "B/subject")
}

// FuzzFileMatcher checks the parts of any file (see checkParts), together
// holding each subject's values once.
func FuzzFileMatcher(f *testing.F) {
	f.Add([]byte(customersCSV))
	f.Add([]byte("山田 太郎 様\n〒100-0001 東京都千代田区千代田1-1\n電話 03-1234-5678 taro@example.jp\n"))
	f.Add([]byte(`[{"name":"Taro Yamada","email":"taro@example.jp","tel":"+81 90 1234 5678"}]`))
	m := newTestFileMatcher()
	m.PartBytes = 4 << 10
	f.Fuzz(func(t *testing.T, data []byte) {
		var parts []*FileResult
		if err := m.Match(context.Background(), &scan.File{Path: "/d/x.txt", Size: int64(len(data)), Data: data}, func(r scan.Record) {
			if fr, ok := r.(*FileResult); ok {
				parts = append(parts, fr)
			}
		}); err != nil {
			t.Fatal(err)
		}
		type at struct {
			member string
			record int
		}
		checkParts(t, parts, m.PartBytes)
		values := map[at]map[FileValue]bool{}
		for _, p := range parts {
			for _, s := range p.Subjects {
				k := at{s.Member, s.Record}
				if values[k] == nil {
					values[k] = map[FileValue]bool{}
				}
				for _, v := range s.Values {
					if values[k][v] {
						t.Errorf("%v: %v twice", k, v)
					}
					values[k][v] = true
				}
			}
		}
	})
}

// TestFileResultsResolveAsScanOutput resolves one corpus twice: from saved
// `mamori scan --pii --reveal` output through ReadResults, and from the
// FileResults an agent sends, fed to a resolver as the server does. The
// values an agent normalises must give the same people, with the same
// categories, ids and sources.
func TestFileResultsResolveAsScanOutput(t *testing.T) {
	ctx := context.Background()
	files := map[string][]byte{
		"/h/customers.csv":      []byte(customersCSV),
		"/h/customers-sjis.csv": shiftJIS(t, customersCSV),
		"/h/customers-u16.csv":  utf16LE(customersCSV),
		"/h/book.xlsx":          workbook(t),
		"/h/shop.db":            sqliteDB(t),
		"/h/export.zip":         zipOf(t, zfile{"2024/customers.csv", []byte(customersCSV)}, zfile{"book.xlsx", workbook(t)}),
	}
	scanOut := NewScanMatcher(pii.NewMatcher(pii.Options{Reveal: true}), testKey, true, "JP")
	fm := newTestFileMatcher()
	offline := NewResolver(Options{Key: testKey})
	agent := NewResolver(Options{Key: testKey})
	for path, data := range files {
		f := &scan.File{Path: path, Size: int64(len(data)), Data: data}
		var nd bytes.Buffer
		scanOut.Match(ctx, f, func(r scan.Record) {
			b, _ := json.Marshal(r)
			nd.Write(append(b, '\n'))
		})
		if _, err := offline.ReadResults(&nd, path, "pc01"); err != nil {
			t.Fatal(err)
		}
		fm.Match(ctx, f, func(r scan.Record) {
			fr, ok := r.(*FileResult)
			if !ok {
				return
			}
			for _, fl := range fr.Flags {
				s := Source{Host: "pc01", Path: fr.Path, Member: fl.Member}
				if fl.Flag == "special_care" {
					s.SpecialCare = fl.Terms
				} else {
					s.Credentials = true
				}
				agent.Source(s)
			}
			for _, s := range fr.Subjects {
				src := agent.Source(Source{Host: "pc01", Path: fr.Path, Member: s.Member})
				for _, v := range s.Values {
					agent.AddCountry(src, s.Record, v.Category, v.Value, v.Country)
				}
			}
		})
	}
	offline.Resolve()
	agent.Resolve()
	type person struct {
		ID          string
		Categories  []CategoryExposure
		SpecialCare []string
		Sources     []string
	}
	people := func(reg *Register) []person {
		var out []person
		for _, p := range reg.People {
			src := slices.Clone(p.Sources)
			slices.Sort(src)
			out = append(out, person{p.ID, p.Categories, p.SpecialCare, src})
		}
		slices.SortFunc(out, func(a, b person) int { return strings.Compare(a.ID, b.ID) })
		return out
	}
	want := people(offline.Register())
	if len(want) != 3 {
		t.Errorf("%d people offline, want 3 (山田, 佐藤, 鈴木)", len(want))
	}
	if diff := cmp.Diff(people(agent.Register()), want); diff != "" {
		t.Errorf("register from FileResults (-got +want):\n%s", diff)
	}
}
