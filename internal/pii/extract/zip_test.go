package extract

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/japanese"
)

type zfile struct {
	name  string
	data  []byte
	store bool
}

func makeZip(t testing.TB, files ...zfile) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate}
		if f.store {
			h.Method = zip.Store
		}
		fw, err := w.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestZip(t *testing.T) {
	inner := makeZip(t, zfile{name: "c.json", data: []byte(`{"email":"c@example.jp"}`)})
	data := makeZip(t,
		zfile{name: "dir/"},
		zfile{name: "dir/b.csv", data: encode(t, japanese.ShiftJIS, "氏名,電話番号\n山田太郎,090-1234-5678\n")},
		zfile{name: "in.zip", data: inner, store: true},
		zfile{name: "note.txt", data: []byte("mail: a@example.jp\n")},
		zfile{name: "img.bin", data: []byte{0, 1, 2, 3, 0xFF, 0, 0, 9, 8, 7}},
	)
	recs, errs := readAll(t, "a.zip", data)
	if len(errs) != 1 || errs[0].Error() != "img.bin: skipped binary: content of unknown type that is not text" {
		t.Errorf("errors: %v, want only img.bin skipped", errs)
	}
	want := []string{
		"0|dir/b.csv:氏名|山田太郎|2", "0|dir/b.csv:電話番号|090-1234-5678|2",
		"1|in.zip!c.json:email|c@example.jp|1",
		"2|note.txt:mail|a@example.jp|1",
	}
	if diff := cmp.Diff(flat(recs), want); diff != "" {
		t.Errorf("records (-got +want):\n%s", diff)
	}
	// Offsets are in the member's own bytes.
	for _, rec := range recs {
		for _, f := range rec {
			if f.Member == "note.txt" && f.Offset(0) != 6 {
				t.Errorf("note.txt offset = %d, want 6", f.Offset(0))
			}
		}
	}
}

func TestZipLimits(t *testing.T) {
	bomb := makeZip(t, zfile{name: "zeros.txt", data: bytes.Repeat([]byte("0"), 1<<20)})
	deep := makeZip(t, zfile{name: "x.txt", data: []byte("mail: deep@example.jp\n")})
	for i := 0; i < 4; i++ {
		deep = makeZip(t, zfile{name: "n.zip", data: deep})
	}
	many := make([]zfile, 20)
	for i := range many {
		many[i] = zfile{name: strings.Repeat("m", i+1) + ".txt", data: []byte("x@example.jp\n")}
	}
	tests := []struct {
		name    string
		data    []byte
		lim     Limits
		wantErr string
		recs    int
	}{
		{"ratio", bomb, DefaultLimits, "compression ratio above 100", 0},
		{"depth", deep, DefaultLimits, "nested deeper than 3", 0},
		{"depth ok", deep, Limits{MaxDepth: 5, MaxRatio: 100, MaxTotal: 1 << 20, MaxMembers: 100}, "", 1},
		{"members", makeZip(t, many...), Limits{MaxDepth: 3, MaxRatio: 100, MaxTotal: 1 << 20, MaxMembers: 5}, "more than 5 archive members", 5},
		{"total", makeZip(t, many...), Limits{MaxDepth: 3, MaxRatio: 100, MaxTotal: 40, MaxMembers: 100}, "exceed 40 bytes", 3},
		{"truncated", makeZip(t, many...)[:300], DefaultLimits, "reading the", 0},
		{"garbage", []byte("PK\x03\x04garbage"), DefaultLimits, "", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errs []string
			n := 0
			err := Read(t.Context(), "a.zip", tt.data, tt.lim, func(*Record) error { n++; return nil },
				func(err error) { errs = append(errs, err.Error()) })
			if tt.recs < 0 {
				if err == nil {
					t.Error("Read succeeded on garbage")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), tt.wantErr)) {
				t.Errorf("errors %q, want one containing %q", errs, tt.wantErr)
			}
			if tt.recs > 0 && n != tt.recs {
				t.Errorf("%d records, want %d", n, tt.recs)
			}
		})
	}
}

const contentTypes = `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"></Types>`

func TestXLSX(t *testing.T) {
	shared := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="5" uniqueCount="5">` +
		`<si><t>氏名</t></si><si><t>電話番号</t></si><si><t>メール</t></si>` +
		`<si><r><t>山田</t></r><r><t xml:space="preserve"> 太郎</t></r><rPh sb="0" eb="2"><t>ヤマダ</t></rPh></si>` +
		`<si><t>a&amp;b@example.jp</t></si><si><t>生年月日</t></si></sst>`
	sheet := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
		`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>5</v></c></row>` +
		`<row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2" t="inlineStr"><is><t>０９０-1234-5678</t></is></c><c r="C2" t="s"><v>4</v></c><c r="D2" s="3"><v>31149</v></c></row>` +
		`<row r="5"><c r="B5"><v>312345678</v></c><c r="D5" t="str"><v>extra</v></c></row>` +
		`</sheetData></worksheet>`
	data := makeZip(t,
		zfile{name: "[Content_Types].xml", data: []byte(contentTypes)},
		zfile{name: "xl/workbook.xml", data: []byte(`<workbook/>`)},
		zfile{name: "xl/sharedStrings.xml", data: []byte(shared)},
		zfile{name: "xl/worksheets/sheet1.xml", data: []byte(sheet)},
	)
	recs, errs := readAll(t, "book.xlsx", data)
	if len(errs) > 0 {
		t.Errorf("errors: %v", errs)
	}
	want := []string{
		"0|xl/worksheets/sheet1.xml:氏名|山田 太郎|2",
		"0|xl/worksheets/sheet1.xml:電話番号|090-1234-5678|2",
		"0|xl/worksheets/sheet1.xml:メール|a&b@example.jp|2",
		"0|xl/worksheets/sheet1.xml:生年月日|1985/04/12|2",
		"1|xl/worksheets/sheet1.xml:電話番号|312345678|5",
		"1|xl/worksheets/sheet1.xml:生年月日|extra|5",
	}
	if diff := cmp.Diff(flat(recs), want); diff != "" {
		t.Errorf("records (-got +want):\n%s", diff)
	}
	// A date serial number and a shared string: every character maps to
	// the cell's value in the sheet.
	cellValue := map[string]string{"1985/04/12": "31149", "山田 太郎": "3", "a&b@example.jp": "4"}
	for _, rec := range recs {
		for _, f := range rec {
			if v, ok := cellValue[f.Text]; ok {
				for _, i := range []int{0, len(f.Text) / 2} {
					if o := f.Offset(i); sheet[o:o+int64(len(v))] != v {
						t.Errorf("%q at %d: %q, want the cell's %q", f.Text, o, sheet[o:o+int64(len(v))], v)
					}
				}
				continue
			}
			checkOffsets(t, []byte(sheet), UTF8, [][]Field{{f}})
		}
	}
}

func TestDOCX(t *testing.T) {
	doc := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` +
		`<w:p><w:r><w:t>山田</w:t></w:r><w:r><w:t xml:space="preserve"> 太郎 様</w:t></w:r></w:p>` +
		`<w:p><w:r><w:t>電話：０３-1234-5678</w:t></w:r></w:p>` +
		`<w:p/>` +
		`<w:tbl><w:tr><w:tc><w:p><w:r><w:t>氏名</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>メール</w:t></w:r></w:p></w:tc></w:tr>` +
		`<w:tr><w:tc><w:p><w:r><w:t>佐藤 花子</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>h&amp;k@example.jp</w:t></w:r></w:p></w:tc></w:tr></w:tbl>` +
		`<w:p><w:r><w:t>以上</w:t></w:r></w:p>` +
		`</w:body></w:document>`
	data := makeZip(t,
		zfile{name: "[Content_Types].xml", data: []byte(contentTypes)},
		zfile{name: "word/document.xml", data: []byte(doc)},
	)
	recs, errs := readAll(t, "letter.docx", data)
	if len(errs) > 0 {
		t.Errorf("errors: %v", errs)
	}
	m := "word/document.xml:"
	want := []string{
		"0|" + m + "氏名|佐藤 花子|0", "0|" + m + "メール|h&k@example.jp|0",
		"1|" + m + "|山田 太郎 様|0", "1|" + m + "電話|03-1234-5678|0", "1|" + m + "|以上|0",
	}
	if diff := cmp.Diff(flat(recs), want); diff != "" {
		t.Errorf("records (-got +want):\n%s", diff)
	}
	for _, rec := range recs {
		checkOffsets(t, []byte(doc), UTF8, [][]Field{rec})
	}
}

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tarball(t testing.TB, files ...zfile) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	for _, f := range files {
		if err := w.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGzipTar(t *testing.T) {
	log := []byte("2024-01-01 a mail=a@example.jp\n2024-01-02 b\n2024-01-03 c\n")
	csv := []byte("name,email\nTaro,t@example.jp\n")
	tests := []struct {
		name, file string
		data       []byte
		want       []string
		wantErr    string
	}{
		{"gzip", "app.log.gz", gz(t, log), []string{"0|app.log:|2024-01-01 a mail=a@example.jp|1", "1|app.log:|2024-01-02 b|2", "2|app.log:|2024-01-03 c|3"}, ""},
		{"tar", "b.tar", tarball(t, zfile{name: "d/c.csv", data: csv}), []string{"0|d/c.csv:name|Taro|2", "0|d/c.csv:email|t@example.jp|2"}, ""},
		{"tgz", "b.tgz", gz(t, tarball(t, zfile{name: "c.csv", data: csv})), []string{"0|b.tar!c.csv:name|Taro|2", "0|b.tar!c.csv:email|t@example.jp|2"}, ""},
		{"gzip bomb", "z.gz", gz(t, bytes.Repeat([]byte{'0'}, 1<<20)), nil, "compression ratio above 100"},
		{"truncated gzip", "app.log.gz", gz(t, log)[:30], []string{"0|app.log:|2024-01-01 a mail=a|1"}, "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, errs := readAll(t, tt.file, tt.data)
			if diff := cmp.Diff(flat(recs), tt.want); diff != "" {
				t.Errorf("records (-got +want):\n%s", diff)
			}
			var msgs []string
			for _, e := range errs {
				msgs = append(msgs, e.Error())
			}
			if got := strings.Join(msgs, "\n"); tt.wantErr == "" && got != "" || !strings.Contains(got, tt.wantErr) {
				t.Errorf("errors %q, want %q", got, tt.wantErr)
			}
		})
	}
}
