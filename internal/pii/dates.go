package pii

import (
	"regexp"
	"strconv"
	"strings"
)

// dateRE matches the ways a date of birth is written: ISO and slashed
// dates, 1985年4月12日, era dates (昭和60年4月12日, S60.4.12), US and
// European day/month orders, and "April 12, 1985".
var dateRE = regexp.MustCompile(`(?i)` +
	`((?:19|20)\d\d)\s*[-/.年ー‐−–—]\s*(\d{1,2})\s*[-/.月ー‐−–—]\s*(\d{1,2})日?` +
	`|(明治|大正|昭和|平成|令和|[MTSHR])\s*(元|\d{1,2})\s*[年.]\s*(\d{1,2})\s*[月.]\s*(\d{1,2})日?` +
	`|(\d{1,2})[/.-](\d{1,2})[/.-]((?:19|20)\d\d)` +
	`|(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?\s+(\d{1,2}),?\s+((?:19|20)\d\d)` +
	`|(\d{1,2})\s+(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?\s+((?:19|20)\d\d)`)

// findDate returns the byte range of the first plausible date in v.
func findDate(v string) (int, int) {
	if len(v) > 80 {
		v = v[:80]
	}
	for off := 0; off < len(v); {
		m := dateRE.FindStringSubmatchIndex(v[off:])
		if m == nil {
			return 0, 0
		}
		s, e := off+m[0], off+m[1]
		if plausibleDate(v[off:], m) && (s == 0 || !isAlnum(v[s-1])) && (e == len(v) || !isAlnum(v[e]) || v[e-1] >= 0x80) {
			return s, e
		}
		off = s + 1
	}
	return 0, 0
}

func atoiSub(v string, m []int, g int) int {
	if m[2*g] < 0 {
		return -1
	}
	s := v[m[2*g]:m[2*g+1]]
	if s == "元" {
		return 1
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

func plausibleDate(v string, m []int) bool {
	var mo, day int
	switch {
	case m[2] >= 0:
		mo, day = atoiSub(v, m, 2), atoiSub(v, m, 3)
	case m[8] >= 0:
		mo, day = atoiSub(v, m, 6), atoiSub(v, m, 7)
		if y := atoiSub(v, m, 5); y < 1 || y > 64 {
			return false
		}
	case m[16] >= 0:
		a, b := atoiSub(v, m, 8), atoiSub(v, m, 9)
		if a > 12 {
			a, b = b, a
		}
		mo, day = a, b
	case m[22] >= 0:
		mo, day = 1, atoiSub(v, m, 12)
	default:
		mo, day = 1, atoiSub(v, m, 14)
	}
	return mo >= 1 && mo <= 12 && day >= 1 && day <= 31
}

// dobWords start a date-of-birth context in free text.
var dobWords = []string{"生年月日", "誕生日", "生まれ", "date of birth", "birth date", "birthdate", "birthday", "dob", "born", "d.o.b"}

// dobKeyword checks for a date-of-birth keyword at text[at] and takes the
// date that follows it.
func (d *detector) dobKeyword(at int) {
	t := d.text
	if at > 0 && isAlnum(t[at-1]) {
		return
	}
	rest := t[at:]
	if len(rest) > 16 {
		rest = rest[:16]
	}
	lower := strings.ToLower(rest)
	for _, w := range dobWords {
		if !strings.HasPrefix(lower, w) || len(t) > at+len(w) && w[0] < 0x80 && isAlnum(t[at+len(w)]) && w != "born" {
			continue
		}
		p := at + len(w)
		e := p + 60
		if e > len(t) {
			e = len(t)
		}
		if nl := strings.IndexByte(t[p:e], '\n'); nl >= 0 {
			e = p + nl
		}
		if s, de := findDate(t[p:e]); de > s && s <= 24 && dobGap(t[p:p+s]) {
			d.emit(DateOfBirth, p+s, p+de)
		}
		return
	}
}

// dobGap reports whether the text between a birth keyword and a date is
// only what joins a label to its value ("Date of birth: ", "born on ",
// "生年月日は"), not words: "Happy Birthday Lina (2009-02-28)" is a release.
func dobGap(g string) bool {
	g = strings.TrimSpace(strings.Trim(strings.TrimSpace(g), ":：-=)】]"))
	switch strings.ToLower(g) {
	case "", "is", "on", "was", "in", "は", "：", "(", "（", "date", "date:", "on:", "of birth":
		return true
	}
	return false
}
