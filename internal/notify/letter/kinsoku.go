package letter

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// noStart are characters a Japanese line must not start with (行頭禁則):
// closing brackets, punctuation, small kana, the prolonged sound mark and
// iteration marks; and their ASCII counterparts.
const noStart = "。、，．・：；？！）」』］｝〕〉》】〙〗ゝゞヽヾ々ー…‥ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ" + ")]},.:;!?%"

// noEnd are characters a line must not end with (行末禁則): opening brackets.
const noEnd = "（「『［｛〔〈《【〘〖" + "([{"

func canStart(r rune) bool { return !strings.ContainsRune(noStart, r) }
func canEnd(r rune) bool   { return !strings.ContainsRune(noEnd, r) }

// unit is what a line break cannot split: one CJK character, a run of
// other non-space characters (a Latin word, a number, an address), or a
// run of spaces.
type unit struct {
	s     string
	space bool
}

func units(s string) []unit {
	var out []unit
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		switch {
		case r == ' ' || r == '\t':
			j := n
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			out = append(out, unit{s: s[:j], space: true})
			s = s[j:]
		case wide(r):
			out = append(out, unit{s: s[:n]})
			s = s[n:]
		default:
			j := n
			for j < len(s) {
				r2, n2 := utf8.DecodeRuneInString(s[j:])
				if r2 == ' ' || r2 == '\t' || wide(r2) {
					break
				}
				j += n2
			}
			out = append(out, unit{s: s[:j]})
			s = s[j:]
		}
	}
	return out
}

// wide reports characters of scripts written without spaces, where a line
// may break between any two characters (kinsoku aside).
func wide(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) ||
		(r >= 0x3000 && r <= 0x303F) || (r >= 0xFF00 && r <= 0xFFEF) || r == '…' || r == '‥' || r == '・'
}

// Break splits one paragraph into lines no wider than width, following
// kinsoku rules: no line starts with a character of noStart, none ends with
// one of noEnd. When a line cannot be broken legally within width, the
// offending characters hang past the margin (ぶら下げ) rather than break a
// rule. measure returns a string's width.
func Break(para string, width float64, measure func(string) float64) []string {
	us := units(para)
	w := make([]float64, len(us))
	for i, u := range us {
		w[i] = measure(u.s)
	}
	first := func(i int) rune { r, _ := utf8.DecodeRuneInString(us[i].s); return r }
	last := func(i int) rune { r, _ := utf8.DecodeLastRuneInString(us[i].s); return r }
	// legal reports whether a line may end after unit i-1 and the next
	// start at unit i.
	legal := func(i int) bool {
		if i >= len(us) {
			return true
		}
		if us[i].space || us[i-1].space {
			return true
		}
		return canStart(first(i)) && canEnd(last(i-1))
	}
	var lines []string
	start := 0
	for start < len(us) {
		for start < len(us) && us[start].space {
			start++ // a line does not start with the spaces of a break
		}
		if start >= len(us) {
			break
		}
		// The furthest legal break that fits.
		end, sum, best := start, 0.0, -1
		for end < len(us) && (sum+w[end] <= width || end == start) {
			sum += w[end]
			end++
			if legal(end) {
				best = end
			}
		}
		if end >= len(us) {
			best = len(us)
		}
		if best < 0 {
			// Nothing legal fits: hang until the next legal break.
			best = end
			for best < len(us) && !legal(best) {
				best++
			}
		}
		if best == start+1 && w[start] > width && !us[start].space {
			// One unit wider than the line (a long URL): split it by
			// characters, keeping kinsoku inside it irrelevant.
			lines = append(lines, splitWide(us[start].s, width, measure)...)
			start = best
			continue
		}
		var b strings.Builder
		for i := start; i < best; i++ {
			b.WriteString(us[i].s)
		}
		lines = append(lines, strings.TrimRight(b.String(), " \t"))
		start = best
	}
	return lines
}

func splitWide(s string, width float64, measure func(string) float64) []string {
	var out []string
	cur, sum := "", 0.0
	for _, r := range s {
		cw := measure(string(r))
		if sum+cw > width && cur != "" {
			out = append(out, cur)
			cur, sum = "", 0
		}
		cur += string(r)
		sum += cw
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}
