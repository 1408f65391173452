package strmatch

import (
	"strconv"
)

// nodeKind is the type of a node in the syntax tree shared by hex strings
// and regular expressions; both end up on the same matching machine, as in
// libyara.
type nodeKind uint8

const (
	nLit      nodeKind = iota // one byte, compared under mask
	nClass                    // a set of bytes
	nAny                      // '.' or '??'
	nRangeAny                 // '.{n,m}' or a hex jump [n-m]
	nConcat
	nAlt
	nRepeat // child{min,max}; max < 0 is unbounded
	nEmpty
	nBOL
	nEOL
	nWordB
	nNotWordB
)

// reMaxRange is libyara's RE_MAX_RANGE (INT16_MAX), the largest repeat bound.
const reMaxRange = 32767

// chainThreshold is libyara's YR_STRING_CHAINING_THRESHOLD: lazy jumps
// longer than this split a string into chained pieces.
const chainThreshold = 200

type node struct {
	kind     nodeKind
	val      byte
	mask     byte
	cls      *[256]bool
	min, max int
	greedy   bool
	neg      bool // negated class
	kids     []*node
}

// PatternError is a problem in a pattern given to Compile.
type PatternError struct {
	// Index into the slice given to Compile.
	Index int
	// Offset is the byte offset inside Pattern.Hex or Pattern.Regex.
	Offset int
	Msg    string
}

func (e *PatternError) Error() string { return e.Msg }

type parseError struct {
	off int
	msg string
}

// ---- hex strings ----

type hexParser struct {
	s        string
	i        int
	insideOr int
	// fast reports whether the hex string has no alternatives; libyara then
	// matches it with its fast matcher, which reports the shortest match.
	fast bool
}

func parseHex(s string) (root *node, fast bool, err *parseError) {
	p := &hexParser{s: s, fast: true}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*parseError)
			if !ok {
				panic(r)
			}
			root, err = nil, pe
		}
	}()
	n := p.tokens()
	p.skip()
	if p.i < len(p.s) {
		p.fail(p.i, "syntax error")
	}
	return n, p.fast, nil
}

func (p *hexParser) fail(off int, msg string) { panic(&parseError{off, msg}) }

// skip passes white space and comments.
func (p *hexParser) skip() {
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f':
			p.i++
		case c == '/' && p.i+1 < len(p.s) && p.s[p.i+1] == '/':
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				p.i++
			}
		case c == '/' && p.i+1 < len(p.s) && p.s[p.i+1] == '*':
			start := p.i
			p.i += 2
			for {
				if p.i+1 >= len(p.s) {
					p.fail(start, "unterminated comment in hex string")
				}
				if p.s[p.i] == '*' && p.s[p.i+1] == '/' {
					p.i += 2
					break
				}
				p.i++
			}
		default:
			return
		}
	}
}

// tokens parses a sequence that starts and ends with a byte or group and
// may hold jumps in between.
func (p *hexParser) tokens() *node {
	var kids []*node
	for {
		p.skip()
		if p.i >= len(p.s) || p.s[p.i] == '|' || p.s[p.i] == ')' {
			break
		}
		if p.s[p.i] == '[' {
			if len(kids) == 0 {
				p.fail(p.i, "syntax error")
			}
			kids = append(kids, p.jump())
			continue
		}
		kids = append(kids, p.token())
	}
	if len(kids) == 0 {
		p.fail(p.i, "syntax error")
	}
	if kids[len(kids)-1].kind == nRangeAny || kids[len(kids)-1].kind == nAny && kids[len(kids)-1].min == 1 {
		// A jump as last token; [1] was turned into a wildcard byte and is
		// marked with min=1 so that this check still sees it.
		p.fail(p.i, "syntax error")
	}
	for _, k := range kids {
		if k.kind == nAny {
			k.min = 0
		}
	}
	if len(kids) == 1 {
		return kids[0]
	}
	return &node{kind: nConcat, kids: kids}
}

func (p *hexParser) token() *node {
	c := p.s[p.i]
	if c == '(' {
		p.i++
		p.insideOr++
		alts := []*node{p.tokens()}
		for {
			p.skip()
			if p.i >= len(p.s) {
				p.fail(p.i, "syntax error")
			}
			if p.s[p.i] == ')' {
				p.i++
				break
			}
			// p.s[p.i] == '|'
			p.i++
			p.fast = false
			alts = append(alts, p.tokens())
		}
		p.insideOr--
		if len(alts) == 1 {
			return alts[0]
		}
		// libyara builds a left-leaning tree of binary alternatives; the
		// priority order is the same as a flat list.
		return &node{kind: nAlt, kids: alts}
	}
	hi, lo := p.nibble(p.i), -3
	if p.i+1 < len(p.s) {
		lo = p.nibble(p.i + 1)
	}
	if hi < -1 || lo < -1 {
		if hi >= 0 && lo == -3 {
			p.fail(p.i, "uneven number of digits in hex string")
		}
		p.fail(p.i, "invalid character in hex string")
	}
	p.i += 2
	var v, m byte
	if hi >= 0 {
		v |= byte(hi) << 4
		m |= 0xF0
	}
	if lo >= 0 {
		v |= byte(lo)
		m |= 0x0F
	}
	if m == 0 {
		return &node{kind: nAny}
	}
	return &node{kind: nLit, val: v, mask: m}
}

// nibble returns the digit value, -1 for '?', -2 for a character that is
// neither (and -3 for one that cannot continue a byte, e.g. white space).
func (p *hexParser) nibble(i int) int {
	c := p.s[i]
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	case c == '?':
		return -1
	case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ']' || c == ')' || c == '|' || c == '(' || c == '[' || c == '/':
		return -3
	}
	return -2
}

func (p *hexParser) jump() *node {
	start := p.i
	p.i++ // '['
	skipSp := func() {
		for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\r' || p.s[p.i] == '\n') {
			p.i++
		}
	}
	num := func() (int, bool) {
		skipSp()
		j := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		if j == p.i {
			return 0, false
		}
		v, err := strconv.Atoi(p.s[j:p.i])
		if err != nil || v > 1<<31-1 {
			p.fail(j, "invalid jump length")
		}
		return v, true
	}
	expect := func(c byte) {
		skipSp()
		if p.i >= len(p.s) {
			p.fail(p.i, "syntax error")
		}
		if p.s[p.i] != c {
			if !(p.s[p.i] >= '0' && p.s[p.i] <= '9' || p.s[p.i] == '-' || p.s[p.i] == ']') {
				p.fail(p.i, "invalid character in hex string jump")
			}
			p.fail(p.i, "syntax error")
		}
		p.i++
	}
	lo, okLo := num()
	skipSp()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		if !okLo {
			p.fail(p.i, "syntax error")
		}
		p.i++
		if lo <= 0 {
			p.fail(start, "invalid jump length")
		}
		if p.insideOr > 0 && lo > chainThreshold {
			p.fail(start, "jumps over 200 not allowed inside alternation (|)")
		}
		if lo == 1 {
			return &node{kind: nAny, min: 1}
		}
		return &node{kind: nRangeAny, min: lo, max: lo}
	}
	expect('-')
	hi, okHi := num()
	expect(']')
	if !okHi {
		if p.insideOr > 0 {
			p.fail(start, "unbounded jumps not allowed inside alternation (|)")
		}
		return &node{kind: nRangeAny, min: lo, max: 1<<31 - 1}
	}
	if !okLo {
		p.fail(start, "syntax error")
	}
	if p.insideOr > 0 && (lo > chainThreshold || hi > chainThreshold) {
		p.fail(start, "jumps over 200 not allowed inside alternation (|)")
	}
	if lo > hi {
		p.fail(start, "invalid jump range")
	}
	return &node{kind: nRangeAny, min: lo, max: hi}
}

// ---- regular expressions ----

type reParser struct {
	s      string
	i      int
	greedy bool
	lazy   bool
}

func parseRegex(s string) (root *node, greedy bool, err *parseError) {
	p := &reParser{s: s}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*parseError)
			if !ok {
				panic(r)
			}
			root, err = nil, pe
		}
	}()
	if len(s) == 0 {
		p.fail(0, "syntax error")
	}
	n := p.alternative()
	if p.i < len(p.s) {
		p.fail(p.i, "syntax error")
	}
	if p.greedy && p.lazy {
		p.fail(0, "greedy and ungreedy quantifiers can't be mixed in a regular expression")
	}
	return n, p.greedy, nil
}

func (p *reParser) fail(off int, msg string) { panic(&parseError{off, msg}) }

func (p *reParser) alternative() *node {
	alts := []*node{p.concat()}
	for p.i < len(p.s) && p.s[p.i] == '|' {
		p.i++
		if p.i >= len(p.s) || p.s[p.i] == '|' || p.s[p.i] == ')' {
			alts = append(alts, &node{kind: nEmpty})
			continue
		}
		alts = append(alts, p.concat())
	}
	if len(alts) == 1 {
		return alts[0]
	}
	return &node{kind: nAlt, kids: alts}
}

func (p *reParser) concat() *node {
	var kids []*node
	for p.i < len(p.s) && p.s[p.i] != '|' && p.s[p.i] != ')' {
		kids = append(kids, p.repeat())
	}
	if len(kids) == 0 {
		if p.i < len(p.s) {
			p.fail(p.i, "syntax error")
		}
		p.fail(p.i, "syntax error")
	}
	return &node{kind: nConcat, kids: kids}
}

func (p *reParser) repeat() *node {
	start := p.i
	switch p.s[p.i] {
	case '^':
		p.i++
		return &node{kind: nBOL}
	case '$':
		p.i++
		return &node{kind: nEOL}
	case '\\':
		if p.i+1 < len(p.s) && (p.s[p.i+1] == 'b' || p.s[p.i+1] == 'B') {
			k := nWordB
			if p.s[p.i+1] == 'B' {
				k = nNotWordB
			}
			p.i += 2
			return &node{kind: k}
		}
	case '*', '+', '?':
		p.fail(p.i, "syntax error")
	}
	n := p.single()
	if p.i >= len(p.s) {
		return n
	}
	lo, hi := -1, -1
	switch p.s[p.i] {
	case '*':
		lo, hi = 0, -1
		p.i++
	case '+':
		lo, hi = 1, -1
		p.i++
	case '?':
		lo, hi = 0, 1
		p.i++
	case '{':
		var ok bool
		lo, hi, ok = p.bounds()
		if !ok {
			return n
		}
	default:
		return n
	}
	greedy := true
	if p.i < len(p.s) && p.s[p.i] == '?' {
		greedy = false
		p.i++
	}
	if greedy {
		p.greedy = true
	} else {
		p.lazy = true
	}
	_ = start
	if n.kind == nAny && hi >= 0 {
		return &node{kind: nRangeAny, min: lo, max: hi, greedy: greedy}
	}
	return &node{kind: nRepeat, min: lo, max: hi, greedy: greedy, kids: []*node{n}}
}

// bounds parses {n}, {n,}, {,m} and {n,m}; ok is false when the text is
// not a repeat and the brace is then a literal character, as in libyara.
func (p *reParser) bounds() (lo, hi int, ok bool) {
	j := p.i + 1
	d1 := j
	for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
		j++
	}
	n1 := p.s[d1:j]
	if j < len(p.s) && p.s[j] == '}' {
		if n1 == "" {
			return 0, 0, false
		}
		v, err := strconv.Atoi(n1)
		if err != nil || v > reMaxRange {
			p.fail(p.i, "repeat interval too large")
		}
		if v == 0 {
			p.fail(p.i, "bad repeat interval")
		}
		p.i = j + 1
		return v, v, true
	}
	if j >= len(p.s) || p.s[j] != ',' {
		return 0, 0, false
	}
	j++
	d2 := j
	for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
		j++
	}
	n2 := p.s[d2:j]
	if j >= len(p.s) || p.s[j] != '}' {
		return 0, 0, false
	}
	lo = 0
	if n1 != "" {
		v, err := strconv.Atoi(n1)
		if err != nil {
			v = 1 << 30
		}
		lo = v
	}
	hi = reMaxRange
	if n2 != "" {
		v, err := strconv.Atoi(n2)
		if err != nil {
			v = 1 << 30
		}
		hi = v
	}
	if hi > reMaxRange {
		p.fail(p.i, "repeat interval too large")
	}
	if hi < lo || hi == 0 && lo == 0 {
		p.fail(p.i, "bad repeat interval")
	}
	p.i = j + 1
	return lo, hi, true
}

func (p *reParser) single() *node {
	c := p.s[p.i]
	switch c {
	case '(':
		open := p.i
		p.i++
		if p.i >= len(p.s) {
			p.fail(p.i, "syntax error")
		}
		n := p.alternative()
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			p.fail(open, "syntax error")
		}
		p.i++
		return n
	case '.':
		p.i++
		return &node{kind: nAny}
	case '[':
		return p.class()
	case '\\':
		return p.escape()
	}
	p.i++
	return &node{kind: nLit, val: c, mask: 0xFF}
}

func classOf(f func(c int) bool) *[256]bool {
	var b [256]bool
	for c := 0; c < 256; c++ {
		b[c] = f(c)
	}
	return &b
}

func isWordByte(c int) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
func isSpaceByte(c int) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}
func isDigitByte(c int) bool { return c >= '0' && c <= '9' }

func (p *reParser) escape() *node {
	if p.i+1 >= len(p.s) {
		p.fail(p.i, "illegal escape sequence")
	}
	e := p.s[p.i+1]
	var cls *[256]bool
	switch e {
	case 'w':
		cls = classOf(isWordByte)
	case 'W':
		cls = classOf(func(c int) bool { return !isWordByte(c) })
	case 's':
		cls = classOf(isSpaceByte)
	case 'S':
		cls = classOf(func(c int) bool { return !isSpaceByte(c) })
	case 'd':
		cls = classOf(isDigitByte)
	case 'D':
		cls = classOf(func(c int) bool { return !isDigitByte(c) })
	}
	if cls != nil {
		p.i += 2
		return &node{kind: nClass, cls: cls}
	}
	if e >= '0' && e <= '9' {
		p.fail(p.i, "backreferences are not allowed")
	}
	v, n, ok := escapedChar(p.s[p.i:])
	if !ok {
		p.fail(p.i, "illegal escape sequence")
	}
	p.i += n
	return &node{kind: nLit, val: v, mask: 0xFF}
}

// escapedChar decodes the escape at the start of s ("\x41", "\n", "\.");
// n is the number of bytes it spans.
func escapedChar(s string) (v byte, n int, ok bool) {
	if len(s) < 2 || s[1] == 0 {
		return 0, 0, false
	}
	switch s[1] {
	case 'x':
		if len(s) < 4 || !isHex(s[2]) || !isHex(s[3]) {
			return 0, 0, false
		}
		x, _ := strconv.ParseUint(s[2:4], 16, 8)
		return byte(x), 4, true
	case 'n':
		return '\n', 2, true
	case 't':
		return '\t', 2, true
	case 'r':
		return '\r', 2, true
	case 'f':
		return '\f', 2, true
	case 'a':
		return '\a', 2, true
	}
	return s[1], 2, true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (p *reParser) class() *node {
	start := p.i
	var b [256]bool
	neg := false
	p.i++
	if p.i < len(p.s) && p.s[p.i] == '^' {
		neg = true
		p.i++
	}
	if p.i < len(p.s) && p.s[p.i] == ']' {
		b[']'] = true
		p.i++
	}
	for {
		if p.i >= len(p.s) {
			p.fail(start, "missing terminating ] for character class")
		}
		c := p.s[p.i]
		if c == ']' {
			p.i++
			break
		}
		// A range: first element is a single char or escape (not a class
		// shorthand), then '-', then anything but ']'.
		first, flen, isChar := p.classChar()
		if isChar && p.i+flen+1 < len(p.s) && p.s[p.i+flen] == '-' && p.s[p.i+flen+1] != ']' {
			p.i += flen + 1
			last, llen, ok := p.classChar()
			if !ok {
				// "\w" etc. as range end: libyara reads the escaped char.
				v, n, ok2 := escapedChar(p.s[p.i:])
				if !ok2 {
					p.fail(p.i, "illegal escape sequence")
				}
				last, llen = v, n
			}
			if last < first {
				p.fail(p.i, "bad character range")
			}
			for x := int(first); x <= int(last); x++ {
				b[x] = true
			}
			p.i += llen
			continue
		}
		if c == '\\' {
			if p.i+1 >= len(p.s) {
				p.fail(start, "missing terminating ] for character class")
			}
			var f func(int) bool
			switch p.s[p.i+1] {
			case 'w':
				f = isWordByte
			case 'W':
				f = func(c int) bool { return !isWordByte(c) }
			case 's':
				f = isSpaceByte
			case 'S':
				f = func(c int) bool { return !isSpaceByte(c) }
			case 'd':
				f = isDigitByte
			case 'D':
				f = func(c int) bool { return !isDigitByte(c) }
			}
			if f != nil {
				for x := 0; x < 256; x++ {
					if f(x) {
						b[x] = true
					}
				}
				p.i += 2
				continue
			}
			v, n, ok := escapedChar(p.s[p.i:])
			if !ok {
				p.fail(p.i, "illegal escape sequence")
			}
			b[v] = true
			p.i += n
			continue
		}
		if c < 32 || c >= 127 {
			p.fail(p.i, "non-ascii character")
		}
		b[c] = true
		p.i++
	}
	return &node{kind: nClass, cls: &b, neg: neg}
}

// classChar reads one class element that can start a range: a plain
// character or an escape other than a class shorthand.
func (p *reParser) classChar() (v byte, n int, ok bool) {
	c := p.s[p.i]
	if c != '\\' {
		return c, 1, true
	}
	if p.i+1 < len(p.s) {
		switch p.s[p.i+1] {
		case 'w', 'W', 's', 'S', 'd', 'D':
			return 0, 0, false
		}
	}
	v, n, ok = escapedChar(p.s[p.i:])
	return v, n, ok
}
