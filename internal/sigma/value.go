package sigma

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// pattern is one Sigma string value split into literal text and wildcards,
// after the escapes \*, \? and \\ are resolved.
type pattern []patTok

type patTok struct {
	lit  string // literal text; empty for a wildcard
	wild byte   // '*' or '?' for a wildcard, 0 for literal text
}

// parsePattern reads Sigma's escaping: a backslash escapes *, ? and itself;
// before any other character it is an ordinary backslash (so Windows paths
// need no doubling).
func parsePattern(s string) pattern {
	var p pattern
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p = append(p, patTok{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			lit.WriteByte(s[i+1])
			i++
		case c == '*' || c == '?':
			flush()
			p = append(p, patTok{wild: c})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return p
}

func literalPattern(s string) pattern {
	if s == "" {
		return nil
	}
	return pattern{{lit: s}}
}

func (p pattern) literal() (string, bool) {
	var b strings.Builder
	for _, t := range p {
		if t.wild != 0 {
			return "", false
		}
		b.WriteString(t.lit)
	}
	return b.String(), true
}

// match kinds of a compiled string matcher, cheapest first.
const (
	mExact = iota
	mPrefix
	mSuffix
	mContains
	mGlob
	mRegex
	mAny // a lone '*': any value, even empty
)

// strMatcher matches one text value. Unless cased, s is lower-cased at
// compile time and compared with the lower-cased event value.
type strMatcher struct {
	kind  uint8
	cased bool
	s     string
	re    *regexp.Regexp
	// globLiteral is the longest literal run of a glob or the longest
	// literal a regular expression requires, lower-cased, for the
	// prefilter.
	globLiteral string
}

// compileString turns a pattern into the cheapest matcher that has its
// meaning: a literal becomes an equality, prefix, suffix or substring test,
// and only wildcards inside the text fall back to a regular expression.
func compileString(p pattern, cased bool) (strMatcher, error) {
	low := func(s string) string {
		if cased {
			return s
		}
		return lower(s)
	}
	// Collapse runs of '*' so "**" is "*".
	var q pattern
	for _, t := range p {
		if t.wild == '*' && len(q) > 0 && q[len(q)-1].wild == '*' {
			continue
		}
		q = append(q, t)
	}
	switch {
	case len(q) == 0:
		return strMatcher{kind: mExact, cased: cased}, nil
	case len(q) == 1 && q[0].wild == '*':
		return strMatcher{kind: mAny}, nil
	case len(q) == 1 && q[0].wild == 0:
		return strMatcher{kind: mExact, cased: cased, s: low(q[0].lit)}, nil
	case len(q) == 2 && q[0].wild == 0 && q[1].wild == '*':
		return strMatcher{kind: mPrefix, cased: cased, s: low(q[0].lit)}, nil
	case len(q) == 2 && q[0].wild == '*' && q[1].wild == 0:
		return strMatcher{kind: mSuffix, cased: cased, s: low(q[1].lit)}, nil
	case len(q) == 3 && q[0].wild == '*' && q[1].wild == 0 && q[2].wild == '*':
		return strMatcher{kind: mContains, cased: cased, s: low(q[1].lit)}, nil
	}
	var b strings.Builder
	b.WriteString("(?s)^")
	for _, t := range q {
		switch t.wild {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(low(t.lit)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return strMatcher{}, err
	}
	return strMatcher{kind: mGlob, cased: cased, re: re, globLiteral: lower(longestLiteral(q))}, nil
}

// match tests raw (the value as the event has it) and lo (its lower-cased
// form, computed once per event and field).
func (m *strMatcher) match(raw, lo string) bool {
	v := lo
	if m.cased {
		v = raw
	}
	switch m.kind {
	case mExact:
		return v == m.s
	case mPrefix:
		return strings.HasPrefix(v, m.s)
	case mSuffix:
		return strings.HasSuffix(v, m.s)
	case mContains:
		return strings.Contains(v, m.s)
	case mGlob:
		return m.re.MatchString(v)
	case mRegex:
		return m.re.MatchString(raw)
	case mAny:
		return true
	}
	return false
}

// lower is Sigma's case folding: ASCII fast path, Unicode otherwise.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return strings.ToLower(s)
		}
		if c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
