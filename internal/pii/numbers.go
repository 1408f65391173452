package pii

import (
	"unicode/utf8"
)

// Separator kinds between digit groups.
const (
	sepSpace = 's'
	sepDash  = 'd'
	sepParen = 'p'
	sepDot   = 'o' // "03.1234.5678": only ever a phone number
)

const maxGroups = 8

// numRun is a run of digit groups joined by single separators, as phone
// and card numbers are printed: "090-1234-5678", "+81 (0)3 1234 5678",
// "4111 1111 1111 1111".
type numRun struct {
	start   int // first byte of the run, '+' or '(' included
	plus    bool
	n       int
	gs, ge  [maxGroups]int  // group byte ranges in the text
	kind    [maxGroups]byte // separator kind after group i
	end     int             // byte after the last digit
	badHead bool            // glued to a word, a decimal point or the like
	badTail bool
}

// dashAt returns the width of a dash-like rune at text[i], 0 if none. Width
// folding leaves U+2010..2015, U+2212 and the katakana prolonged sound mark
// alone, and people type all of them between digits.
func dashAt(text string, i int) int {
	c := text[i]
	if c == '-' {
		return 1
	}
	if c < 0x80 {
		return 0
	}
	r, w := utf8.DecodeRuneInString(text[i:])
	switch r {
	case '‐', '‑', '‒', '–', '—', '―', '−', 'ー', '－', 'ｰ':
		return w
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// scanRun reads the run starting at text[p] (a digit, '+' or '(').
func scanRun(text string, p int) (r numRun, next int) {
	r.start = p
	i := p
	if text[i] == '+' {
		r.plus = true
		i++
	}
	if i < len(text) && text[i] == '(' {
		i++
	}
	for i < len(text) && r.n < maxGroups {
		j := i
		for j < len(text) && isDigit(text[j]) {
			j++
		}
		if j == i {
			break
		}
		r.gs[r.n], r.ge[r.n] = i, j
		r.end = j
		r.n++
		// Separators: at most one dash, one space run and one parenthesis.
		k := j
		var kind byte
		dashes, spaces, parens := 0, 0, 0
		for k < len(text) && k-j < 6 {
			c := text[k]
			if c == ' ' || c == '\t' {
				spaces++
				if kind == 0 {
					kind = sepSpace
				}
				k++
				continue
			}
			if c == '(' || c == ')' {
				parens++
				kind = sepParen
				k++
				continue
			}
			if c == '.' && k == j && k+1 < len(text) && isDigit(text[k+1]) && kind == 0 {
				kind = sepDot
				k++
				break
			}
			if w := dashAt(text, k); w > 0 {
				dashes++
				if kind != sepParen {
					kind = sepDash
				}
				k += w
				continue
			}
			break
		}
		if k == j || k >= len(text) || !isDigit(text[k]) || dashes > 1 || spaces > 2 || parens > 1 {
			break
		}
		r.kind[r.n-1] = kind
		i = k
	}
	next = r.end
	if next <= p {
		next = p + 1
	}
	r.badHead = badBefore(text, p)
	r.badTail = badAfter(text, r.end)
	if r.n == maxGroups {
		// Truncated: whatever follows is more of the same run.
		r.badTail = true
	}
	return r, next
}

// badBefore reports whether the byte before p glues the run to something
// that is not personal data: a word ("SN0312…", "v1"), a decimal or
// thousands separator, a path, a time.
func badBefore(text string, p int) bool {
	if p == 0 {
		return false
	}
	c := text[p-1]
	switch {
	case isAlnum(c), c == '_', c == '/', c == '\\', c == '#', c == '+', c == '%', c == '$', c == '~', c == '^':
		return true
	case c == '.' || c == ',' || c == ':':
		return p >= 2 && isDigit(text[p-2])
	}
	if c >= 0x80 {
		// A dash rune right before: part of a longer hyphenated number.
		start := p - 1
		for start > 0 && text[start]&0xC0 == 0x80 {
			start--
		}
		if dashAt(text, start) == p-start {
			return start > 0 && isDigit(text[start-1])
		}
	}
	if c == '-' {
		return p >= 2 && (isAlnum(text[p-2]))
	}
	return false
}

func badAfter(text string, e int) bool {
	if e >= len(text) {
		return false
	}
	c := text[e]
	switch {
	case c == 'x' && e+1 < len(text) && isDigit(text[e+1]) && e >= 4 && isDigit(text[e-4]):
		return false // an extension: 212-555-0123x1234
	case isAlnum(c), c == '_', c == '@':
		return true
	case c == '.' || c == ',' || c == ':' || c == '/':
		return e+1 < len(text) && isDigit(text[e+1])
	case c == '-':
		return e+1 < len(text) && isAlnum(text[e+1])
	}
	return false
}

// digits appends the digits of groups i..j to buf.
func (r *numRun) digits(text string, i, j int, buf []byte) []byte {
	for g := i; g <= j; g++ {
		buf = append(buf, text[r.gs[g]:r.ge[g]]...)
	}
	return buf
}
