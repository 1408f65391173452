package extract

import (
	"strings"
	"unicode/utf8"
)

// Plain text is read as records of lines, one field per line:
//   - a log (by extension or because most lines start with a timestamp)
//     gives one record per line: its lines are unrelated events;
//   - a short text (a letter, a form) is one record: everything in it is
//     about the person it addresses;
//   - a list (most lines carry an e-mail address or a long number) gives
//     one record per line;
//   - a longer text gives one record per blank-line separated block, and a
//     block of many lines one record per line, since such a block is a
//     list rather than a paragraph.
//
// A line "label: value" with a short label (氏名：山田太郎, TEL: 03-…) gives
// a field with Key label and Text value, so that labels work as context
// just like column headers.

const (
	letterLines = 80 // texts up to this many lines are one record
	blockLines  = 12 // blocks longer than this are lists
)

func (r *reader) readText(d *doc, member string, log bool) error {
	e := r.emitter(d, member)
	text := d.text
	perLine := log || looksLikeList(text)
	if !perLine && strings.Count(text, "\n") < letterLines {
		line := 1
		for a := 0; a < len(text); line++ {
			c := lineEnd(text, a)
			e.addLine(a, c, line)
			a = c + 1
		}
		return e.flush()
	}
	// Split into blocks of non-blank lines.
	type ln struct{ a, c, line int }
	var block []ln
	flushBlock := func() error {
		if len(block) == 0 {
			return nil
		}
		split := perLine || len(block) > blockLines
		for _, l := range block {
			e.addLine(l.a, l.c, l.line)
			if split {
				if err := e.flush(); err != nil {
					return err
				}
			}
		}
		block = block[:0]
		return e.flush()
	}
	line := 1
	for a := 0; a < len(text); line++ {
		c := lineEnd(text, a)
		if x, y := trim(text, a, c); x == y {
			if err := flushBlock(); err != nil {
				return err
			}
		} else {
			block = append(block, ln{a, c, line})
		}
		a = c + 1
	}
	return flushBlock()
}

// lineEnd returns the position of the '\n' ending the line at a, or
// len(text).
func lineEnd(text string, a int) int {
	if i := strings.IndexByte(text[a:], '\n'); i >= 0 {
		return a + i
	}
	return len(text)
}

// addLine adds text[a:c] as a field, split at a label when it has one.
func (e *emitter) addLine(a, c, line int) {
	text := e.b.d.text
	a, c = trim(text, a, c)
	if a >= c {
		return
	}
	if k, v := labelEnd(text[a:c]); k > 0 {
		va, vc := trim(text, a+v, c)
		if va < vc {
			if labelHoldsMore(text[a : a+k]) {
				e.add(a, a+k, "", line)
			}
			e.add(va, vc, foldKey(text[a:a+k]), line)
			return
		}
	}
	e.add(a, c, "", line)
}

// labelHoldsMore reports a label that may hold more than a column word, a
// name above all ("山田太郎様 TEL:"): one with a space or an honorific. It
// is kept as a free-text field of its own beside the keyed value.
func labelHoldsMore(label string) bool {
	return strings.ContainsAny(strings.TrimSpace(label), " \u3000") || strings.Contains(label, "様") ||
		strings.Contains(label, "殿") || strings.Contains(label, "さん")
}

// labelEnd finds a leading "label:" in s: 1 to 20 characters without
// digits or URL and path punctuation, then an ASCII or full-width colon.
// It returns the label's length and where the value starts, or 0, 0.
func labelEnd(s string) (int, int) {
	n := 0
	for i, r := range s {
		switch {
		case r == ':' || r == '：':
			v := i + utf8.RuneLen(r)
			if n == 0 || strings.HasPrefix(s[v:], "//") {
				return 0, 0
			}
			return i, v
		case r >= '0' && r <= '9', r >= '０' && r <= '９', r == '/', r == '\\', r == '=', r == '<',
			r == '>', r == '"', r == '{', r == '[', r == '@', r == '\t':
			return 0, 0
		}
		n++
		if n > 20 {
			return 0, 0
		}
	}
	return 0, 0
}

// looksLikeList reports a text whose lines (the first hundred) each carry
// a value (an '@' or a run of eight digits, hyphens allowed): a list of
// people, one a line, rather than a letter about one.
func looksLikeList(text string) bool {
	var lines, values int
	for a := 0; a < len(text) && lines < 100; {
		c := lineEnd(text, a)
		l := text[a:c]
		a = c + 1
		if x, y := trim(l, 0, len(l)); x == y {
			continue
		}
		lines++
		if strings.IndexByte(l, '@') >= 0 || digitRun(l, 8) {
			values++
		}
	}
	return lines >= 4 && values*10 >= lines*8
}

// digitRun reports whether s has n digits in a row, counting across
// hyphens and full-width digits (EF BC 90..99 in UTF-8).
func digitRun(s string, n int) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			run++
		case c == 0xEF && i+2 < len(s) && s[i+1] == 0xBC && s[i+2] >= 0x90 && s[i+2] <= 0x99:
			run++
			i += 2
		case c == '-':
		case c == 0xEF && i+2 < len(s) && s[i+1] == 0xBC && s[i+2] == 0x8D: // －
			i += 2
		default:
			run = 0
		}
		if run >= n {
			return true
		}
	}
	return false
}

// looksLikeLog reports whether most of the first lines start with a date or
// time: such lines are independent events.
func looksLikeLog(text string) bool {
	var lines, stamped int
	for a := 0; a < len(text) && lines < 50; {
		c := lineEnd(text, a)
		l := strings.TrimLeft(text[a:c], "[( ")
		a = c + 1
		if strings.TrimSpace(l) == "" {
			continue
		}
		lines++
		if stampPrefix(l) {
			stamped++
		}
	}
	return lines >= 3 && stamped*10 >= lines*7
}

var months = []string{"Jan ", "Feb ", "Mar ", "Apr ", "May ", "Jun ", "Jul ", "Aug ", "Sep ", "Oct ", "Nov ", "Dec "}

// stampPrefix recognises 2024-01-02, 2024/01/02, 12:34:56, 1700000000 and
// syslog's "Jan  2" at the start of a line.
func stampPrefix(l string) bool {
	for _, m := range months {
		if strings.HasPrefix(l, m) {
			return true
		}
	}
	digits := 0
	for digits < len(l) && l[digits] >= '0' && l[digits] <= '9' {
		digits++
	}
	switch {
	case digits == 4 && len(l) > 7 && (l[4] == '-' || l[4] == '/' || l[4] == '.'):
		return l[5] >= '0' && l[5] <= '9'
	case digits == 2 && len(l) > 5 && l[2] == ':':
		return l[3] >= '0' && l[3] <= '9'
	case digits >= 10 && digits <= 13:
		return len(l) == digits || l[digits] == ' ' || l[digits] == '.' || l[digits] == '\t'
	}
	return false
}
