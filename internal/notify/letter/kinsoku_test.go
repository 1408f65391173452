package letter

import (
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// mono measures every character as one unit wide, so tests count columns.
func mono(s string) float64 { return float64(utf8.RuneCountInString(s)) }

func TestBreak(t *testing.T) {
	for _, tc := range []struct {
		name  string
		text  string
		width float64
		want  []string
	}{
		{"plain", "あいうえおかきくけこ", 4, []string{"あいうえ", "おかきく", "けこ"}},
		{"period pushes a char down", "あいう。えお", 3, []string{"あい", "う。え", "お"}},
		{"comma pushes a char down", "あいう、えおか", 3, []string{"あい", "う、え", "おか"}},
		{"closing bracket", "あい「うえ」お", 5, []string{"あい「う", "え」お"}},
		{"opening bracket not at end", "あいう「えお」", 4, []string{"あいう", "「えお」"}},
		{"small kana", "あいうっと", 3, []string{"あい", "うっと"}},
		{"latin words stay whole", "mamori は breach を扱う", 9, []string{"mamori は", "breach を扱", "う"}},
		{"period run hangs when nothing fits", "あ。。。。", 2, []string{"あ。。。。"}},
		{"long word split", "https://example.jp/abcdef", 10, []string{"https://ex", "ample.jp/a", "bcdef"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Break(tc.text, tc.width, mono)
			if d := cmp.Diff(got, tc.want); d != "" {
				t.Errorf("Break(%q, %v) (-got +want):\n%s", tc.text, tc.width, d)
			}
		})
	}
}

func FuzzBreak(f *testing.F) {
	for _, s := range []string{"あいう。えお", "「あ」、い。", "abc def", "ーーー", ""} {
		f.Add(s, 3.0)
	}
	f.Fuzz(func(t *testing.T, s string, width float64) {
		if !utf8.ValidString(s) || width < 1 || width > 100 {
			return
		}
		lines := Break(s, width, mono)
		joined := ""
		for i, l := range lines {
			joined += l
			if i > 0 && l != "" {
				r, _ := utf8.DecodeRuneInString(l)
				p, _ := utf8.DecodeLastRuneInString(lines[i-1])
				if !canStart(r) && wide(r) && wide(p) && canEnd(p) {
					// only legal when the previous line had nothing to give
					if mono(lines[i-1]) > 1 && mono(lines[i-1]) <= width {
						t.Errorf("line %d of %q starts with %q: %q", i, s, r, lines)
					}
				}
			}
		}
		strip := func(x string) string {
			out := []rune{}
			for _, r := range x {
				if r != ' ' && r != '\t' {
					out = append(out, r)
				}
			}
			return string(out)
		}
		if strip(joined) != strip(s) {
			t.Errorf("Break lost characters: %q → %q", s, lines)
		}
	})
}
