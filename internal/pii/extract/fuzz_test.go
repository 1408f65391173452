package extract

import (
	"bytes"
	"context"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
)

// checkRead reads data and checks the invariants every reader keeps:
// valid UTF-8 text, offsets within the original bytes (for the file's own
// fields) and never decreasing along a field.
func checkRead(t *testing.T, name string, data []byte) {
	lim := Limits{MaxDepth: 3, MaxRatio: 100, MaxTotal: 8 << 20, MaxMembers: 100}
	err := Read(context.Background(), name, data, lim, func(r *Record) error {
		for _, f := range r.Fields {
			if !utf8.ValidString(f.Text) {
				t.Fatalf("invalid UTF-8 text %q", f.Text)
			}
			prev := int64(-1)
			for i := 0; i <= len(f.Text); i++ {
				o := f.Offset(i)
				if o < 0 || f.Member == "" && o > int64(len(data)) {
					t.Fatalf("field %q: Offset(%d) = %d outside [0, %d]", f.Text, i, o, len(data))
				}
				if o < prev {
					t.Fatalf("field %q: Offset(%d) = %d < Offset(%d) = %d", f.Text, i, o, i-1, prev)
				}
				prev = o
			}
		}
		return nil
	}, func(error) {})
	if err != nil && len(data) > 0 && !isZip(data) && !isGzip(data) {
		t.Fatalf("Read: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(sample))
	f.Add(encode(f, japanese.ShiftJIS, sample))
	f.Add(encode(f, japanese.EUCJP, sample))
	f.Add(encode(f, japanese.ISO2022JP, "山田太郎様\nｶﾞｷﾞ\n"))
	f.Add(utf16le(sample, true))
	f.Add(utf16be(sample, false))
	f.Add([]byte("\xEF\xBB\xBFabc\xff\xfe"))
	f.Add(encode(f, charmap.Windows1252, latinSample))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := decode(data)
		if !utf8.ValidString(d.text) {
			t.Fatal("decoded text is not UTF-8")
		}
		// Walking the text character by character, each maps to bytes
		// that decode to it.
		for p := 0; p < len(d.text); {
			r, n := utf8.DecodeRuneInString(d.text[p:])
			o := d.orig(p)
			var st uint8
			if !d.ident {
				st = d.cur.st
			}
			if o < 0 || o >= len(data) {
				t.Fatalf("orig(%d) = %d outside [0, %d)", p, o, len(data))
			}
			got, _, _, _ := step(data, o, d.enc, st)
			if got != r {
				t.Fatalf("text[%d] = %q but bytes at %d decode to %q (%v)", p, r, o, got, d.enc)
			}
			p += n
		}
		checkRead(t, "f.txt", data)
		LooksLikeText(data)
	})
}

func FuzzCSV(f *testing.F) {
	f.Add([]byte("氏名,電話番号\n山田,\"03-1234\"\"5678\"\n\"a\nb\",c\n"))
	f.Add(encode(f, japanese.ShiftJIS, "氏名,電話番号\n山田,090\n"))
	f.Add([]byte("a\tb\n\"x"))
	f.Fuzz(func(t *testing.T, data []byte) { checkRead(t, "f.csv", data) })
}

func FuzzJSON(f *testing.F) {
	f.Add([]byte(`{"a":"x\u0041\ud83d\ude00","b":[{"c":1e5}],"d":{"e":null}}`))
	f.Add([]byte("{\"a\":1}\n{\"a\":\"b\n"))
	f.Add([]byte(`[[[[{"a":"b"}]]]]`))
	f.Fuzz(func(t *testing.T, data []byte) { checkRead(t, "f.json", data) })
}

func FuzzText(f *testing.F) {
	f.Add([]byte("氏名：山田\nTEL: 03-1234-5678\n\nfoo\n"))
	f.Add([]byte("2024-01-01 a\n2024-01-02 b\n2024-01-03 c\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkRead(t, "f", data) })
}

func FuzzEML(f *testing.F) {
	f.Add([]byte("From: =?UTF-8?B?5bGx55Sw?= <a@b.jp>\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: quoted-printable\n\nx=E4=BD=8F=\ny\n--b\nContent-Type: application/zip; name=a.zip\nContent-Transfer-Encoding: base64\n\nUEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\n--b--\n"))
	f.Add([]byte("Subject: x\nContent-Type: text/html; charset=iso-2022-jp\n\n<p>\x1b$B;3ED\x1b(B</p><script>"))
	f.Add([]byte("From a Mon\nFrom: a@b.jp\n\nx\n\nFrom b Tue\r\nSubject: y\r\n\r\nz"))
	f.Fuzz(func(t *testing.T, data []byte) { checkRead(t, "f.eml", data) })
}

func FuzzZip(f *testing.F) {
	f.Add(makeZip(f, zfile{name: "a.csv", data: []byte("name,email\nTaro,t@example.jp\n")},
		zfile{name: "b.zip", data: makeZip(f, zfile{name: "c.txt", data: []byte("x")}), store: true}))
	f.Add(makeZip(f, zfile{name: "a.txt", data: bytes.Repeat([]byte("a"), 5000)})[:60])
	f.Add(gz(f, tarball(f, zfile{name: "c.csv", data: []byte("name\nTaro\n")})))
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\x4a\x4c\x4a\x06\x04\x00\x00\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) { checkRead(t, "f.zip", data) })
}

func FuzzXLSX(f *testing.F) {
	f.Add([]byte(`<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>a&amp;b</t></is></c><c r="ZZZZZ2"><v>1</v></c></row></sheetData></worksheet>`),
		[]byte(`<sst><si><t>氏名</t></si><si><r><t>x</t></r><rPh><t>y</t></rPh></si></sst>`))
	f.Fuzz(func(t *testing.T, sheet, shared []byte) {
		data := makeZip(t,
			zfile{name: "xl/workbook.xml", data: []byte("<workbook/>")},
			zfile{name: "xl/sharedStrings.xml", data: shared},
			zfile{name: "xl/worksheets/sheet1.xml", data: sheet})
		checkRead(t, "f.xlsx", data)
	})
}

func FuzzDOCX(f *testing.F) {
	f.Add([]byte(`<w:document><w:body><w:p><w:r><w:t>a&#x41;</w:t><w:tab/></w:r></w:p><w:tbl><w:tr><w:tc><w:p><w:r><w:t>氏名</w:t></w:r></w:p></w:tc></w:tr><w:tr><w:tc><w:p><w:r><w:t>x</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:body></w:document>`))
	f.Fuzz(func(t *testing.T, document []byte) {
		data := makeZip(t, zfile{name: "word/document.xml", data: document})
		checkRead(t, "f.docx", data)
	})
}
