package extract

import (
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// Width folding, the NFKC subset that matters for personal data: full-width
// ASCII (ＡＢＣ０１２＠－＋) becomes ASCII, half-width katakana become
// full-width (ｶﾞ becomes ガ, composing the voiced mark), the ideographic
// space becomes a space, and the dash look-alikes that Japanese documents
// put in phone and postal numbers (‐ ‑ ‒ – — ― − ﹣ －) become '-'. Other
// NFKC mappings (①, ㈱, ㍻) are left alone: they would turn symbols into
// digits that were never written as numbers.

// fullBlock holds the folded form of U+FF00..U+FFEF, "" where unchanged.
var fullBlock [0x100]string

// voiced[b] and semivoiced[b] hold the composition of the full-width form of
// half-width kana b (index b-0xFF00) with ﾞ or ﾟ, 0 where none exists.
var voiced, semivoiced [0x100]rune

func init() {
	for r := rune(0xFF00); r <= 0xFFEF; r++ {
		p := width.LookupRune(r)
		var f rune
		switch p.Kind() {
		case width.EastAsianFullwidth:
			f = p.Narrow()
		case width.EastAsianHalfwidth:
			if r >= 0xFF61 && r <= 0xFF9F {
				f = p.Wide()
			}
		}
		if f != 0 && f != r {
			fullBlock[r-0xFF00] = string(f)
		}
	}
	fullBlock[0x0D] = "-"
	for r := rune(0xFF66); r <= 0xFF9D; r++ {
		base := []rune(fullBlock[r-0xFF00])
		if len(base) != 1 {
			continue
		}
		if c := compose(base[0], 0x3099); c != 0 {
			voiced[r-0xFF00] = c
		}
		if c := compose(base[0], 0x309A); c != 0 {
			semivoiced[r-0xFF00] = c
		}
	}
}

func compose(base, mark rune) rune {
	s := norm.NFC.String(string([]rune{base, mark}))
	if r, n := utf8.DecodeRuneInString(s); n == len(s) && r != base {
		return r
	}
	return 0
}

// foldsRune reports whether r changes under folding.
func foldsRune(r rune) bool {
	switch {
	case r < 0x2010:
		return false
	case r <= 0x2015, r == 0x2212, r == 0x3000, r == 0xFE63:
		return true
	case r >= 0xFF00 && r <= 0xFFEF:
		return fullBlock[r-0xFF00] != ""
	}
	return false
}

// needsFold reports whether any rune of s changes under folding. Every
// folded rune is three bytes long in UTF-8, so the check looks at byte
// patterns: E2 80 90..95 (dashes), E2 88 92 (minus), E3 80 80 (ideographic
// space), EF B9 A3 (small hyphen-minus) and EF BC..BF (the U+FFxx forms).
// Kana and kanji (E3..E9 with other second bytes) pass without decoding.
func needsFold(s string) bool {
	for i := 0; i+2 < len(s); i++ {
		switch s[i] {
		case 0xE2:
			if s[i+1] == 0x80 && s[i+2] >= 0x90 && s[i+2] <= 0x95 || s[i+1] == 0x88 && s[i+2] == 0x92 {
				return true
			}
		case 0xE3:
			if s[i+1] == 0x80 && s[i+2] == 0x80 {
				return true
			}
		case 0xEF:
			if s[i+1] == 0xB9 && s[i+2] == 0xA3 {
				return true
			}
			if s[i+1] >= 0xBC {
				r, _ := utf8.DecodeRuneInString(s[i:])
				if foldsRune(r) {
					return true
				}
			}
		default:
			continue
		}
		i += 2
	}
	return false
}

// foldRune appends the folded form of r (followed by next, when the two
// compose) to dst and reports how many runes it consumed (1 or 2).
func foldRune(dst []byte, r, next rune) ([]byte, int) {
	switch {
	case r >= 0x2010 && r <= 0x2015, r == 0x2212, r == 0xFE63:
		return append(dst, '-'), 1
	case r == 0x3000:
		return append(dst, ' '), 1
	case r >= 0xFF00 && r <= 0xFFEF:
		i := r - 0xFF00
		if next == 0xFF9E && voiced[i] != 0 {
			return utf8.AppendRune(dst, voiced[i]), 2
		}
		if next == 0xFF9F && semivoiced[i] != 0 {
			return utf8.AppendRune(dst, semivoiced[i]), 2
		}
		if f := fullBlock[i]; f != "" {
			return append(dst, f...), 1
		}
	}
	return utf8.AppendRune(dst, r), 1
}
