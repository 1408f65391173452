package pii_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/mamori-dev/mamori/internal/pii"
	"github.com/mamori-dev/mamori/internal/pii/piicorpus"
)

func FuzzDetectText(f *testing.F) {
	for _, s := range []struct{ text, key, prev string }{
		{"TEL 03(1234)5678 / +81 90 1234 5678 / 4111 1111 1111 1111", "", ""},
		{"マイナンバー: 1234 5678 9018 山田 太郎 様 〒100-0001 東京都千代田区千代田1-1", "", ""},
		{"Dear Mr. John Smith, 1600 Pennsylvania Ave NW, Washington, DC 20500", "", "個人番号"},
		{"山田 太郎 <taro@example.jp>", "From", ""},
		{"生年月日：昭和60年4月12日\n氏名: 佐藤 花子", "", ""},
		{"1985-04-12", "birthDate", ""},
		{"+81(0)3-1234-5678 09012345678@docomo.ne.jp", "備考", ""},
	} {
		f.Add(s.text, s.key, s.prev)
	}
	f.Fuzz(func(t *testing.T, text, key, prev string) {
		for _, h := range pii.DetectText(text, key, prev) {
			if h.Start < 0 || h.End > len(text) || h.Start >= h.End {
				t.Fatalf("hit %+v out of range for %d bytes", h, len(text))
			}
			if text[h.Start:h.End] != h.Value {
				t.Fatalf("hit %+v: value is not text[%d:%d]", h, h.Start, h.End)
			}
			if !slices.Contains(pii.Categories, h.Category) {
				t.Fatalf("hit %+v: unknown category", h)
			}
			if utf8.ValidString(text) && !utf8.ValidString(h.Value) {
				t.Fatalf("hit %+v splits a character", h)
			}
			pii.Mask(h.Category, h.Value)
			pii.Normalize(h.Category, h.Value)
		}
	})
}

// FuzzScanBytes runs the whole matcher, readers included, on arbitrary
// bytes under each format's name: errors are fine, panics and offsets
// outside the file are not.
func FuzzScanBytes(f *testing.F) {
	g := piicorpus.New(3)
	for i := 0; i < piicorpus.Kinds; i++ {
		file := g.Next()
		data := file.Data
		if len(data) > 2048 {
			data = data[:2048]
		}
		f.Add(uint8(i), data)
	}
	names := []string{"a.csv", "a.csv", "a.jsonl", "a.txt", "a.tsv", "a.log", "a.eml", "a.json", "a.zip", "a.xlsx", "a.docx", "a"}
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		name := names[int(kind)%len(names)]
		occ, sum, _ := pii.ScanBytes(context.Background(), name, data, pii.Options{Reveal: true})
		for _, o := range occ {
			if o.Member == "" && (o.Offset < 0 || o.Offset > int64(len(data))) {
				t.Fatalf("occurrence %+v: offset outside %d bytes", o, len(data))
			}
			if o.Value == "" || o.Path != name {
				t.Fatalf("occurrence %+v", o)
			}
		}
		if len(occ) > 0 && sum.Subjects > len(occ) {
			t.Fatalf("%d subjects from %d occurrences", sum.Subjects, len(occ))
		}
	})
}

// TestScanBytesSurvivesMutations runs a few thousand deterministic random
// mutations of the corpus seeds through every reader: the go fuzzer is the
// deeper search, this keeps its cheapest finds (a slice-bounds panic in the
// honorific scan) from coming back in a plain test run.
func TestScanBytesSurvivesMutations(t *testing.T) {
	g := piicorpus.New(3)
	var seeds [][]byte
	for i := 0; i < piicorpus.Kinds; i++ {
		d := g.Next().Data
		seeds = append(seeds, d[:min(len(d), 2048)])
	}
	names := []string{"a.csv", "a.jsonl", "a.txt", "a.tsv", "a.log", "a.eml", "a.json", "a.zip", "a.xlsx", "a.docx", "a"}
	splice := []byte("+(0)-:@様〒東京都 1")
	r := rand.New(rand.NewPCG(1, 2))
	for it := 0; it < 3000; it++ {
		d := append([]byte(nil), seeds[r.IntN(len(seeds))]...)
		for k := r.IntN(8); k >= 0; k-- {
			p := r.IntN(len(d))
			switch r.IntN(4) {
			case 0:
				d[p] = byte(r.IntN(256))
			case 1:
				d = slices.Insert(d, p, byte(r.IntN(256)))
			case 2:
				d = d[:p+1]
			default:
				d = append(d[:p], splice[r.IntN(len(splice)):]...)
			}
		}
		occ, _, _ := pii.ScanBytes(context.Background(), names[r.IntN(len(names))], d, pii.Options{Reveal: true})
		for _, o := range occ {
			if o.Member == "" && (o.Offset < 0 || o.Offset > int64(len(d))) {
				t.Fatalf("occurrence %+v: offset outside %d bytes", o, len(d))
			}
		}
	}
}
