package extract

import (
	"context"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
)

func encode(t testing.TB, e encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := e.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return b
}

func utf16le(s string, bom bool) []byte {
	var b []byte
	if bom {
		b = append(b, 0xFF, 0xFE)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func utf16be(s string, bom bool) []byte {
	var b []byte
	if bom {
		b = append(b, 0xFE, 0xFF)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

const sample = "氏名：山田 太郎\n電話：０３－１２３４－５６７８\nﾔﾏﾀﾞ ﾀﾛｳ ﾊﾟｿｺﾝ\nメール：ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ\n住所：東京都千代田区千代田１－１\n"

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		enc  Encoding
		skip int
	}{
		{"ascii", []byte("hello, world\n"), UTF8, 0},
		{"utf8", []byte(sample), UTF8, 0},
		{"utf8 bom", append([]byte("\xEF\xBB\xBF"), sample...), UTF8, 3},
		{"utf16le bom", utf16le(sample, true), UTF16LE, 2},
		{"utf16be bom", utf16be(sample, true), UTF16BE, 2},
		{"utf16le no bom", utf16le("name,phone\nTaro,090-1234-5678\n", false), UTF16LE, 0},
		{"utf16be no bom", utf16be("name,phone\nTaro,090-1234-5678\n", false), UTF16BE, 0},
		{"utf16le japanese no bom", utf16le("氏名\t電話\n山田太郎\t０９０１２３４５６７８\n佐藤花子\t０８０１１１１２２２２\n", false), UTF16LE, 0},
		{"utf16be japanese no bom", utf16be("氏名\t電話\n山田太郎\t０９０１２３４５６７８\n", false), UTF16BE, 0},
		{"ascii with a stray nul", []byte("name,email\nTaro,t@example.jp\n\xff\xfe\x00bad\n"), UTF8, 0},
		{"shift_jis", encode(t, japanese.ShiftJIS, sample), ShiftJIS, 0},
		{"euc-jp", encode(t, japanese.EUCJP, sample), EUCJP, 0},
		{"iso-2022-jp", encode(t, japanese.ISO2022JP, "山田太郎様\nこんにちは\n"), ISO2022JP, 0},
		{"short sjis", encode(t, japanese.ShiftJIS, "氏名,電話番号\n"), ShiftJIS, 0},
		{"short euc", encode(t, japanese.EUCJP, "氏名,電話番号\n"), EUCJP, 0},
		{"sjis kana", encode(t, japanese.ShiftJIS, "あいうえお、かきくけこ。"), ShiftJIS, 0},
		{"euc kana", encode(t, japanese.EUCJP, "あいうえお、かきくけこ。"), EUCJP, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, skip := Detect(tt.data)
			if enc != tt.enc || skip != tt.skip {
				t.Errorf("Detect = %v, %d; want %v, %d", enc, skip, tt.enc, tt.skip)
			}
		})
	}
}

// readAll reads data and returns its records' fields.
func readAll(t testing.TB, name string, data []byte) ([][]Field, []error) {
	t.Helper()
	var recs [][]Field
	var errs []error
	err := Read(context.Background(), name, data, DefaultLimits, func(r *Record) error {
		recs = append(recs, append([]Field(nil), r.Fields...))
		return nil
	}, func(err error) { errs = append(errs, err) })
	if err != nil {
		t.Fatalf("Read(%s): %v", name, err)
	}
	return recs, errs
}

// checkOffsets verifies that every character of every field maps to
// original bytes that decode (and fold) to that character.
func checkOffsets(t *testing.T, data []byte, enc Encoding, recs [][]Field) {
	t.Helper()
	for _, rec := range recs {
		for _, f := range rec {
			for i, r := range f.Text {
				o := f.Offset(i)
				if o < 0 || o > int64(len(data)) {
					t.Fatalf("field %q: Offset(%d) = %d out of [0, %d]", f.Text, i, o, len(data))
				}
				var st uint8
				if enc == ISO2022JP {
					st = isoState(data, int(o))
				}
				got, _, _, _ := step(data, int(o), enc, st)
				folded, _ := foldRune(nil, got, 0)
				want, _ := foldRune(nil, r, 0)
				// Escapes (JSON \u, XML &#) stand for other characters.
				escape := o < int64(len(data)) && (data[o] == '\\' || data[o] == '&')
				if string(folded) != string(want) && !composed(r) && !escape {
					t.Errorf("field %q: Text[%d] = %q but original bytes at %d decode to %q", f.Text, i, r, o, got)
				}
			}
			if end := f.Offset(len(f.Text)); end < f.Offset(0) || end > int64(len(data)) {
				t.Errorf("field %q: end offset %d", f.Text, end)
			}
		}
	}
}

// composed reports characters folding made from two half-width ones.
func composed(r rune) bool {
	for i := range voiced {
		if voiced[i] == r || semivoiced[i] == r {
			return true
		}
	}
	return false
}

// isoState returns the ISO-2022-JP shift state in force at offset o.
func isoState(data []byte, o int) uint8 {
	var st uint8
	for p := 0; p < o; {
		_, n, s, _ := step(data, p, ISO2022JP, st)
		st = s
		p += n
	}
	return st
}

func TestOffsetsMapToOriginalBytes(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		enc  Encoding
	}{
		{"utf8", []byte(sample), UTF8},
		{"utf8 bom", append([]byte("\xEF\xBB\xBF"), sample...), UTF8},
		{"utf8 invalid", []byte("名前: 山田\xff\xfe太郎\n"), UTF8},
		{"utf16le", utf16le(sample+"𠮷野家\n", true), UTF16LE},
		{"utf16be", utf16be(sample, true), UTF16BE},
		{"sjis", encode(t, japanese.ShiftJIS, sample), ShiftJIS},
		{"eucjp", encode(t, japanese.EUCJP, sample), EUCJP},
		{"iso2022jp", encode(t, japanese.ISO2022JP, "山田太郎様\n電話：０３－１２３４－５６７８\n"), ISO2022JP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if enc, _ := Detect(tt.data); enc != tt.enc {
				t.Fatalf("Detect = %v, want %v", enc, tt.enc)
			}
			recs, _ := readAll(t, "a.txt", tt.data)
			if len(recs) == 0 {
				t.Fatal("no records")
			}
			checkOffsets(t, tt.data, tt.enc, recs)
		})
	}
}

func TestFold(t *testing.T) {
	recs, _ := readAll(t, "a.txt", []byte(sample))
	var got []string
	for _, f := range recs[0] {
		got = append(got, f.Key+"="+f.Text)
	}
	want := []string{
		"氏名=山田 太郎",
		"電話=03-1234-5678",
		"=ヤマダ タロウ パソコン",
		"メール=taro@example.jp",
		"住所=東京都千代田区千代田1-1",
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("fields (-got +want):\n%s", diff)
	}
}

func TestLooksLikeText(t *testing.T) {
	bin := make([]byte, 1000)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	tests := []struct {
		name string
		data []byte
		want bool
	}{
		{"utf8", []byte(sample), true},
		{"sjis", encode(t, japanese.ShiftJIS, sample), true},
		{"utf16", utf16le(sample, true), true},
		{"utf16 no bom", utf16le(strings.Repeat("hello world\n", 20), false), true},
		{"binary", bin, false},
		{"elf", append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00"), bin...), false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LooksLikeText(tt.data); got != tt.want {
				t.Errorf("LooksLikeText = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNewField(t *testing.T) {
	f := NewField("taro@example.jp", "email", 3, 100)
	for i := 0; i <= len(f.Text); i++ {
		if got := f.Offset(i); got != int64(100+i) {
			t.Errorf("Offset(%d) = %d, want %d", i, got, 100+i)
		}
	}
	if !utf8.ValidString(f.Text) {
		t.Error("invalid text")
	}
}
