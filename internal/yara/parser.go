package yara

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/mamori-dev/mamori/internal/yara/strmatch"
)

// parseError carries an *Error through panics inside the parser, which
// keeps the recursive descent free of error plumbing.
type parseError struct{ err *Error }

// unsupportedError marks a rule using something the engine lacks.
type unsupportedError struct{ err *Error }

type loopVar struct {
	name string
	t    vtype
	obj  *objType
	slot int
}

// parser parses one file into c.rules. Identifiers are resolved while
// parsing, as in libyara: a rule may only refer to rules declared before it.
type parser struct {
	c    *compiler
	file string
	src  string
	toks []token
	i    int
	ns   *namespace

	// Per-rule state.
	rule       *rule
	strIDs     map[string]int // identifier → pattern index
	strOrder   []string
	referenced map[string]bool
	vars       []loopVar
	nslots     int
	anonDepth  int // nesting of for…of loops, where "$" is bound
	loopDepth  int
	depth      int
	anonSlot   []int
}

func (p *parser) fail(pos Pos, format string, args ...any) {
	panic(parseError{&Error{File: p.file, Line: pos.Line, Col: pos.Col, Msg: fmt.Sprintf(format, args...)}})
}

func (p *parser) unsupported(pos Pos, feature string) {
	name := ""
	if p.rule != nil {
		name = p.rule.Name
	}
	panic(unsupportedError{&Error{File: p.file, Line: pos.Line, Col: pos.Col,
		Msg: fmt.Sprintf("rule %q uses %s, which mamori does not support", name, feature)}})
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekN(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) advance() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (t token) is(kind tokKind, text string) bool {
	return t.kind == kind && t.text == text
}
func (t token) isKw(text string) bool    { return t.is(tKeyword, text) }
func (t token) isPunct(text string) bool { return t.is(tPunct, text) }

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of file"
	case tIdent:
		return fmt.Sprintf("identifier %q", t.text)
	case tKeyword:
		return fmt.Sprintf("keyword %q", t.text)
	case tText:
		return "text string"
	case tRegex:
		return "regular expression"
	case tHex:
		return "hex string"
	case tNumber, tDouble:
		return fmt.Sprintf("number %s", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

func (p *parser) syntax(t token, expecting string) {
	if expecting != "" {
		p.fail(t.pos, "syntax error, unexpected %s, expecting %s", describe(t), expecting)
	}
	p.fail(t.pos, "syntax error, unexpected %s", describe(t))
}

func (p *parser) expectPunct(s string) token {
	t := p.advance()
	if !t.isPunct(s) {
		p.syntax(t, fmt.Sprintf("%q", s))
	}
	return t
}

func (p *parser) expectKw(s string) token {
	t := p.advance()
	if !t.isKw(s) {
		p.syntax(t, fmt.Sprintf("%q", s))
	}
	return t
}

// tokenize lexes the whole source; the parser needs two tokens of
// lookahead.
func tokenize(file, src string) ([]token, *Error) {
	l := newLexer(file, src)
	var toks []token
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.kind == tEOF {
			return toks, nil
		}
	}
}

// parseFile parses src (the content of file) into namespace ns.
func (c *compiler) parseFile(file, src string, ns *namespace, depth int) (err error) {
	toks, lerr := tokenize(file, src)
	if lerr != nil {
		return lerr
	}
	p := &parser{c: c, file: file, src: src, toks: toks, ns: ns}
	for {
		t := p.peek()
		switch {
		case t.kind == tEOF:
			return nil
		case t.isKw("import"):
			p.advance()
			name := p.advance()
			if name.kind != tText {
				return p.errorOf(func() { p.syntax(name, "text string") })
			}
			if _, ok := moduleNames[name.str]; !ok {
				return &Error{File: file, Line: name.pos.Line, Col: name.pos.Col, Msg: fmt.Sprintf("unknown module %q", name.str)}
			}
			ns.imports[name.str] = true
		case t.kind == tIncludeText:
			p.advance()
			if err := c.include(p.file, t, ns, depth); err != nil {
				return err
			}
		case t.isKw("rule") || t.isKw("private") || t.isKw("global"):
			start := p.i
			if err := p.errorOf(p.parseRule); err != nil {
				var e *Error
				if ue, ok := err.(unsupportedWrap); ok && c.opts.SkipUnsupported {
					e = ue.err
					c.warn(fmt.Sprintf("%s:%d:%d: warning: %s; rule skipped", e.File, e.Line, e.Col, e.Msg))
					c.skipped++
					if p.rule != nil {
						ns.dropped[p.rule.Name] = true
					}
					c.rollback()
					p.skipRule(start)
					continue
				}
				if ue, ok := err.(unsupportedWrap); ok {
					return ue.err
				}
				return err
			}
		default:
			return p.errorOf(func() { p.syntax(t, "rule, import or include") })
		}
	}
}

// unsupportedWrap distinguishes an unsupported feature from a plain error.
type unsupportedWrap struct{ err *Error }

func (u unsupportedWrap) Error() string { return u.err.Error() }

// errorOf runs f, turning parser panics into errors.
func (p *parser) errorOf(f func()) (err error) {
	defer func() {
		switch r := recover().(type) {
		case nil:
		case parseError:
			err = r.err
		case unsupportedError:
			err = unsupportedWrap(r)
		default:
			panic(r)
		}
	}()
	f()
	return nil
}

// skipRule moves past the rule starting at token start: to the token after
// the closing brace that ends its condition, found by balancing braces.
func (p *parser) skipRule(start int) {
	p.i = start
	for p.peek().kind != tEOF && !p.peek().isPunct("{") {
		p.advance()
	}
	depth := 0
	for p.peek().kind != tEOF {
		t := p.advance()
		if t.isPunct("{") {
			depth++
		} else if t.isPunct("}") {
			depth--
			if depth == 0 {
				return
			}
		}
	}
}

func (c *compiler) include(from string, t token, ns *namespace, depth int) error {
	path := t.str
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(from), path)
	}
	if depth >= 16 {
		return &Error{File: from, Line: t.pos.Line, Col: t.pos.Col, Msg: "includes circular or too deep"}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return &Error{File: from, Line: t.pos.Line, Col: t.pos.Col, Msg: fmt.Sprintf("can't open include file: %s", t.str)}
	}
	return c.parseFile(path, string(data), ns, depth+1)
}

func (p *parser) parseRule() {
	var private, global bool
	for {
		t := p.peek()
		if t.isKw("private") {
			private = true
		} else if t.isKw("global") {
			global = true
		} else {
			break
		}
		p.advance()
	}
	p.expectKw("rule")
	nameTok := p.advance()
	if nameTok.kind != tIdent {
		p.syntax(nameTok, "identifier")
	}
	name := nameTok.text
	if _, dup := p.ns.rules[name]; dup || p.ns.dropped[name] {
		p.fail(nameTok.pos, "duplicated identifier %q", name)
	}
	if _, isMod := p.ns.imports[name]; isMod {
		p.fail(nameTok.pos, "duplicated identifier %q", name)
	}
	if _, isExt := p.c.externals[name]; isExt {
		p.fail(nameTok.pos, "duplicated identifier %q", name)
	}
	r := &rule{Name: name, Namespace: p.ns.name, nsIdx: p.ns.idx, Private: private, Global: global,
		Tags: []string{}, Meta: map[string]any{}}
	p.rule = r
	p.strIDs = map[string]int{}
	p.strOrder = nil
	p.referenced = map[string]bool{}
	p.vars = nil
	p.nslots = 0
	p.anonDepth = 0
	p.loopDepth = 0
	p.anonSlot = nil

	if p.peek().isPunct(":") {
		p.advance()
		seen := map[string]bool{}
		for p.peek().kind == tIdent || p.peek().kind == tKeyword && !p.peek().isPunct("{") {
			t := p.peek()
			if t.kind != tIdent {
				p.syntax(t, "identifier")
			}
			p.advance()
			if seen[t.text] {
				p.fail(t.pos, "duplicated tag identifier %q", t.text)
			}
			seen[t.text] = true
			r.Tags = append(r.Tags, t.text)
		}
		if len(r.Tags) == 0 {
			p.syntax(p.peek(), "identifier")
		}
	}
	p.expectPunct("{")
	if p.peek().isKw("meta") {
		p.advance()
		p.expectPunct(":")
		p.parseMeta(r)
	}
	var patterns []int
	if p.peek().isKw("strings") {
		p.advance()
		p.expectPunct(":")
		patterns = p.parseStrings()
	}
	p.expectKw("condition")
	p.expectPunct(":")
	cond := p.boolean(p.parseExpr())
	p.expectPunct("}")
	for _, id := range p.strOrder {
		if !p.referenced[id] {
			pi := p.strIDs[id]
			p.fail(p.c.rules.patPos[pi], "unreferenced string %q", id)
		}
	}
	r.cond = cond
	r.strings = patterns
	// A count in a range can abort the scan (see errCountIn), so such
	// rules run even when none of their strings matched, as in libyara.
	r.needsMatch = requiresMatch(cond) && !hasOp(cond, opStrCountIn)
	idx := len(p.c.rules.rules)
	r.idx = idx
	p.c.rules.rules = append(p.c.rules.rules, r)
	for _, pi := range patterns {
		p.c.rules.patRule[pi] = idx
	}
	p.ns.rules[name] = idx
	p.ns.order = append(p.ns.order, name)
	p.c.commitPatterns()
}

func (p *parser) parseMeta(r *rule) {
	if p.peek().kind != tIdent {
		p.syntax(p.peek(), "identifier")
	}
	for p.peek().kind == tIdent || p.peek().kind == tKeyword && !p.peek().isKw("strings") && !p.peek().isKw("condition") {
		key := p.advance()
		if key.kind != tIdent {
			p.syntax(key, "identifier")
		}
		p.expectPunct("=")
		v := p.advance()
		var val any
		switch {
		case v.kind == tText:
			val = v.str
		case v.kind == tNumber:
			val = v.i
		case v.isPunct("-") && p.peek().kind == tNumber:
			val = -p.advance().i
		case v.isKw("true"):
			val = true
		case v.isKw("false"):
			val = false
		default:
			p.syntax(v, "text string, number or boolean")
		}
		r.Meta[key.text] = val
	}
}

func (p *parser) parseStrings() []int {
	var out []int
	for {
		idTok := p.peek()
		if idTok.kind != tStrID {
			break
		}
		p.advance()
		id := idTok.text
		if id != "$" {
			if _, dup := p.strIDs[id]; dup {
				p.fail(idTok.pos, "duplicated string identifier %q", id)
			}
		}
		p.expectPunct("=")
		v := p.advance()
		var pat strmatch.Pattern
		bodyOff := v.off
		switch v.kind {
		case tText:
			if len(v.str) == 0 {
				p.fail(idTok.pos, "empty string %q", id)
			}
			pat.Kind = strmatch.Text
			pat.Text = []byte(v.str)
			p.textModifiers(&pat)
		case tHex:
			pat.Kind = strmatch.Hex
			pat.Hex = blankComments(v.str)
			for p.peek().isKw("private") {
				p.advance()
				pat.Private = true
			}
			p.rejectModifiers("hex strings")
		case tRegex:
			pat.Kind = strmatch.Regex
			pat.Regex = v.str
			pat.RegexNocase = v.reNocase
			pat.RegexDotAll = v.reDotAll
			p.regexModifiers(&pat)
		default:
			p.syntax(v, "text string, hex string or regular expression")
		}
		if !pat.Wide {
			pat.Ascii = true
		}
		if pat.RegexNocase {
			pat.Nocase = true
		}
		pi := p.c.addPattern(pat, id, idTok.pos, p.file, p.src, bodyOff)
		if id == "$" {
			// Anonymous strings are distinct; give each a unique key that
			// no identifier can spell.
			id = fmt.Sprintf("$#%d", len(out))
		}
		p.strIDs[id] = pi
		p.strOrder = append(p.strOrder, id)
		out = append(out, pi)
	}
	if len(out) == 0 {
		p.syntax(p.peek(), "string identifier")
	}
	return out
}

// rejectModifiers reports text-string modifiers after a hex string.
func (p *parser) rejectModifiers(what string) {
	t := p.peek()
	switch {
	case t.isKw("wide"), t.isKw("ascii"), t.isKw("nocase"), t.isKw("fullword"), t.isKw("xor"), t.isKw("base64"), t.isKw("base64wide"):
		p.syntax(t, "")
	}
}

func (p *parser) textModifiers(pat *strmatch.Pattern) {
	seen := map[string]bool{}
	for {
		t := p.peek()
		if t.kind != tKeyword {
			break
		}
		switch t.text {
		case "wide", "ascii", "nocase", "fullword", "private", "xor", "base64", "base64wide":
		default:
			goto done
		}
		p.advance()
		if seen[t.text] {
			p.fail(t.pos, "duplicated modifier")
		}
		seen[t.text] = true
		switch t.text {
		case "wide":
			pat.Wide = true
		case "ascii":
			pat.Ascii = true
		case "nocase":
			pat.Nocase = true
		case "fullword":
			pat.Fullword = true
		case "private":
			pat.Private = true
		case "xor":
			pat.Xor, pat.XorMin, pat.XorMax = true, 0, 255
			if p.peek().isPunct("(") {
				p.advance()
				lo := p.advance()
				if lo.kind != tNumber {
					p.syntax(lo, "number")
				}
				if lo.i < 0 || lo.i > 255 {
					p.fail(lo.pos, "invalid modifier: xor range must be in 0-255")
				}
				pat.XorMin, pat.XorMax = int(lo.i), int(lo.i)
				if p.peek().isPunct("-") {
					p.advance()
					hi := p.advance()
					if hi.kind != tNumber {
						p.syntax(hi, "number")
					}
					if hi.i < 0 || hi.i > 255 {
						p.fail(hi.pos, "invalid modifier: xor range must be in 0-255")
					}
					if hi.i < lo.i {
						p.fail(hi.pos, "invalid modifier: xor lower bound exceeds upper bound")
					}
					pat.XorMax = int(hi.i)
				}
				p.expectPunct(")")
			}
		case "base64", "base64wide":
			if t.text == "base64" {
				pat.Base64 = true
			} else {
				pat.Base64Wide = true
			}
			if p.peek().isPunct("(") {
				p.advance()
				alpha := p.advance()
				if alpha.kind != tText {
					p.syntax(alpha, "text string")
				}
				if len(alpha.str) != 64 {
					p.fail(alpha.pos, "invalid modifier: length of base64 alphabet must be 64")
				}
				if pat.Base64Alphabet != "" && pat.Base64Alphabet != alpha.str {
					p.fail(alpha.pos, "invalid modifier: can not specify multiple alphabets")
				}
				pat.Base64Alphabet = alpha.str
				p.expectPunct(")")
			}
		}
	}
done:
	base := ""
	if pat.Base64 {
		base = "base64"
	} else if pat.Base64Wide {
		base = "base64wide"
	}
	pos := p.toks[p.i-1].pos
	switch {
	case pat.Xor && pat.Nocase:
		p.fail(pos, "invalid modifier combination: xor nocase")
	case base != "" && pat.Nocase:
		p.fail(pos, "invalid modifier combination: %s nocase", base)
	case base != "" && pat.Fullword:
		p.fail(pos, "invalid modifier combination: %s fullword", base)
	case base != "" && pat.Xor:
		p.fail(pos, "invalid modifier combination: %s xor", base)
	}
}

func (p *parser) regexModifiers(pat *strmatch.Pattern) {
	seen := map[string]bool{}
	for {
		t := p.peek()
		if t.kind != tKeyword {
			return
		}
		switch t.text {
		case "wide", "ascii", "nocase", "fullword", "private":
		case "xor", "base64", "base64wide":
			p.syntax(t, "")
		default:
			return
		}
		p.advance()
		if seen[t.text] {
			p.fail(t.pos, "duplicated modifier")
		}
		seen[t.text] = true
		switch t.text {
		case "wide":
			pat.Wide = true
		case "ascii":
			pat.Ascii = true
		case "nocase":
			pat.Nocase = true
			pat.RegexNocase = true
		case "fullword":
			pat.Fullword = true
		case "private":
			pat.Private = true
		}
	}
}

// blankComments replaces comments in a hex string body by spaces (keeping
// newlines) so that offsets into it still point at the source.
func blankComments(s string) string {
	if !strings.Contains(s, "/") {
		return s
	}
	b := []byte(s)
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '/' && b[i+1] == '*' {
			j := i
			for ; j < len(b); j++ {
				if j > i+1 && b[j-1] == '*' && b[j] == '/' {
					break
				}
				if b[j] != '\n' {
					b[j] = ' '
				}
			}
			if j < len(b) {
				b[j] = ' '
			}
			i = j
		} else if b[i] == '/' && b[i+1] == '/' {
			for ; i < len(b) && b[i] != '\n'; i++ {
				b[i] = ' '
			}
		}
	}
	return string(b)
}

// ---- conditions ----

// boolean wraps a non-boolean expression for use as a condition.
func (p *parser) boolean(n *node) *node {
	switch n.t {
	case tyBool, tyAny:
		return n
	case tyInt, tyFloat, tyStr:
		return &node{op: opToBool, t: tyBool, a: n, pos: n.pos}
	case tyRegex:
		// libyara tests the regexp's address: always true.
		return &node{op: opConst, t: tyBool, val: boolVal(true), pos: n.pos}
	}
	p.fail(n.pos, "wrong type \"%s\" for boolean expression", n.t)
	return nil
}

func (p *parser) parseExpr() *node {
	left := p.parseAnd()
	for p.peek().isKw("or") {
		t := p.advance()
		right := p.parseAnd()
		left = &node{op: opOr, t: tyBool, a: p.boolean(left), b: p.boolean(right), pos: t.pos}
	}
	return left
}

func (p *parser) parseAnd() *node {
	left := p.parseNot()
	for p.peek().isKw("and") {
		t := p.advance()
		right := p.parseNot()
		left = &node{op: opAnd, t: tyBool, a: p.boolean(left), b: p.boolean(right), pos: t.pos}
	}
	return left
}

// maxNesting bounds expression nesting so that hostile rules cannot
// exhaust the stack (bison gives up much earlier in libyara).
const maxNesting = 1000

func (p *parser) nest(t token) func() {
	p.depth++
	if p.depth > maxNesting {
		p.fail(t.pos, "expression nested too deeply")
	}
	return func() { p.depth-- }
}

func (p *parser) parseNot() *node {
	t := p.peek()
	defer p.nest(t)()
	if t.isKw("not") {
		p.advance()
		return &node{op: opNot, t: tyBool, a: p.boolean(p.parseNot()), pos: t.pos}
	}
	if t.isKw("defined") {
		p.advance()
		return &node{op: opDefined, t: tyBool, a: p.boolean(p.parseNot()), pos: t.pos}
	}
	return p.parseCmp()
}

var cmpOps = map[string]op{
	"==": opEQ, "!=": opNE, "contains": opContains, "icontains": opIContains,
	"startswith": opStartsWith, "istartswith": opIStartsWith, "endswith": opEndsWith,
	"iendswith": opIEndsWith, "iequals": opIEquals, "matches": opMatches,
}

var relOps = map[string]op{"<": opLT, "<=": opLE, ">": opGT, ">=": opGE}

func (p *parser) parseCmp() *node {
	left := p.parseRel()
	for {
		t := p.peek()
		o, ok := cmpOps[t.text]
		if !ok || t.kind != tPunct && t.kind != tKeyword {
			return left
		}
		p.advance()
		if o == opMatches {
			re := p.advance()
			if re.kind != tRegex {
				p.syntax(re, "regular expression")
			}
			if left.t != tyStr && left.t != tyAny {
				p.fail(t.pos, "wrong type \"%s\" for \"matches\" operator", left.t)
			}
			left = &node{op: opMatches, t: tyBool, a: left, re: p.compileRegex(re), pos: t.pos}
			continue
		}
		right := p.parseRel()
		left = p.compare(o, t, left, right)
	}
}

func (p *parser) parseRel() *node {
	left := p.parseArith(0)
	if n := p.maybeOf(left); n != nil {
		return n
	}
	for {
		t := p.peek()
		o, ok := relOps[t.text]
		if !ok || t.kind != tPunct {
			return left
		}
		p.advance()
		right := p.parseArith(0)
		left = p.compare(o, t, left, right)
	}
}

func (p *parser) compare(o op, t token, left, right *node) *node {
	n := &node{op: o, t: tyBool, a: left, b: right, pos: t.pos}
	if left.t == tyAny || right.t == tyAny {
		return n
	}
	switch o {
	case opContains, opIContains, opStartsWith, opIStartsWith, opEndsWith, opIEndsWith, opIEquals:
		if left.t != tyStr || right.t != tyStr {
			bad := left.t
			if left.t == tyStr {
				bad = right.t
			}
			p.fail(t.pos, "wrong type \"%s\" for \"%s\" operator", bad, t.text)
		}
		return n
	}
	num := func(t vtype) bool { return t == tyInt || t == tyFloat }
	switch {
	case left.t == tyStr && right.t == tyStr:
	case num(left.t) && num(right.t):
		n.float = left.t == tyFloat || right.t == tyFloat
	default:
		p.fail(t.pos, "mismatching types for %s operator", t.text)
	}
	return n
}

// Binary arithmetic levels, loosest first.
var arithLevels = [][]string{
	{"|"}, {"^"}, {"&"}, {"<<", ">>"}, {"+", "-"}, {"*", "\\", "%"},
}

var arithOps = map[string]op{
	"|": opBitOr, "^": opBitXor, "&": opBitAnd, "<<": opShl, ">>": opShr,
	"+": opAdd, "-": opSub, "*": opMul, "\\": opDiv, "%": opMod,
}

func (p *parser) parseArith(level int) *node {
	if level == len(arithLevels) {
		return p.parseUnary()
	}
	left := p.parseArith(level + 1)
	for {
		t := p.peek()
		if t.kind != tPunct || !contains(arithLevels[level], t.text) {
			return left
		}
		if t.text == "%" && p.peekN(1).isKw("of") {
			return left
		}
		p.advance()
		right := p.parseArith(level + 1)
		left = p.arith(arithOps[t.text], t, left, right)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (p *parser) arith(o op, t token, left, right *node) *node {
	n := &node{op: o, a: left, b: right, pos: t.pos, t: tyInt}
	if left.t == tyAny || right.t == tyAny {
		n.t = tyAny
		return n
	}
	switch o {
	case opAdd, opSub, opMul, opDiv:
		for _, x := range []*node{left, right} {
			if x.t != tyInt && x.t != tyFloat {
				p.fail(t.pos, "wrong type \"%s\" for \"%s\" operator", x.t, t.text)
			}
		}
		if left.t == tyFloat || right.t == tyFloat {
			n.t, n.float = tyFloat, true
		}
	default:
		for _, x := range []*node{left, right} {
			if x.t != tyInt {
				p.fail(t.pos, "wrong type \"%s\" for \"%s\" operator", x.t, t.text)
			}
		}
	}
	if left.op == opConst && right.op == opConst && n.t == tyInt {
		x, y := left.val.i, right.val.i
		overflow := false
		switch o {
		case opAdd:
			overflow = y > 0 && x > math.MaxInt64-y || y < 0 && x < math.MinInt64-y
		case opSub:
			overflow = y < 0 && x > math.MaxInt64+y || y > 0 && x < math.MinInt64+y
		case opMul:
			overflow = y != 0 && abs64(x) > math.MaxInt64/abs64(y)
		}
		if overflow {
			p.fail(t.pos, "integer overflow in \"%d %s %d\"", x, t.text, y)
		}
	}
	if right.op == opConst && right.t == tyInt && n.t == tyInt {
		switch {
		case (o == opDiv || o == opMod) && right.val.i == 0:
			p.fail(t.pos, "division by zero")
		case (o == opShl || o == opShr) && right.val.i < 0:
			p.fail(t.pos, "invalid operand for \"%s\"", t.text)
		}
	}
	return p.fold(n)
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// fold evaluates operations on integer constants at compile time, so that
// constant quantifiers and ranges can be checked as libyara does.
func (p *parser) fold(n *node) *node {
	if n.a == nil || n.a.op != opConst || n.b != nil && n.b.op != opConst || n.t != tyInt {
		return n
	}
	v := (&scanCtx{}).eval(n)
	return &node{op: opConst, t: n.t, val: v, pos: n.pos}
}

func (p *parser) parseUnary() *node {
	t := p.peek()
	defer p.nest(t)()
	if t.isPunct("-") {
		p.advance()
		x := p.parseUnary()
		if x.t != tyInt && x.t != tyFloat && x.t != tyAny {
			p.fail(t.pos, "wrong type \"%s\" for \"-\" operator", x.t)
		}
		return p.fold(&node{op: opNeg, t: x.t, a: x, pos: t.pos, float: x.t == tyFloat})
	}
	if t.isPunct("~") {
		p.advance()
		x := p.parseUnary()
		if x.t != tyInt && x.t != tyAny {
			p.fail(t.pos, "wrong type \"%s\" for \"~\" operator", x.t)
		}
		return p.fold(&node{op: opBitNot, t: x.t, a: x, pos: t.pos})
	}
	return p.parsePrimary()
}

func (p *parser) expectInt(n *node, what string) {
	if n.t != tyInt && n.t != tyAny {
		p.fail(n.pos, "wrong type \"%s\" for %s", n.t, what)
	}
}

func (p *parser) parsePrimary() *node {
	t := p.advance()
	switch t.kind {
	case tNumber:
		return &node{op: opConst, t: tyInt, val: intVal(t.i), pos: t.pos}
	case tDouble:
		return &node{op: opConst, t: tyFloat, val: value{f: t.f, ok: true}, pos: t.pos}
	case tText:
		return &node{op: opConst, t: tyStr, val: value{s: t.str, ok: true}, pos: t.pos}
	case tRegex:
		return &node{op: opConst, t: tyRegex, re: p.compileRegex(t), pos: t.pos}
	case tIntFunc:
		p.expectPunct("(")
		arg := p.parseArith(0)
		p.expectInt(arg, fmt.Sprintf("%q argument", t.text))
		p.expectPunct(")")
		return &node{op: opReadInt, t: tyInt, a: arg, val: intVal(intFuncCode(t.text)), pos: t.pos}
	case tStrID:
		return p.stringRef(t)
	case tStrCount:
		s := p.lookupString(t)
		if p.peek().isKw("in") {
			p.advance()
			lo, hi := p.parseRange()
			return &node{op: opStrCountIn, t: tyInt, str: s, a: lo, b: hi, slot: p.anonSlotFor(s), pos: t.pos}
		}
		return &node{op: opStrCount, t: tyInt, str: s, slot: p.anonSlotFor(s), pos: t.pos}
	case tStrOffset, tStrLength:
		s := p.lookupString(t)
		o := opStrOffset
		if t.kind == tStrLength {
			o = opStrLength
		}
		var idx *node
		if p.peek().isPunct("[") {
			p.advance()
			// libyara does not check the index's type either.
			idx = p.parseArith(0)
			p.expectPunct("]")
		} else {
			idx = &node{op: opConst, t: tyInt, val: intVal(1), pos: t.pos}
		}
		return &node{op: o, t: tyInt, str: s, a: idx, slot: p.anonSlotFor(s), pos: t.pos}
	case tIdent:
		return p.identifier(t)
	case tKeyword:
		switch t.text {
		case "true":
			return &node{op: opConst, t: tyBool, val: boolVal(true), pos: t.pos}
		case "false":
			return &node{op: opConst, t: tyBool, val: boolVal(false), pos: t.pos}
		case "filesize":
			return &node{op: opFilesize, t: tyInt, pos: t.pos}
		case "entrypoint":
			return &node{op: opEntrypoint, t: tyInt, pos: t.pos}
		case "for":
			return p.parseFor(t)
		case "all", "any", "none":
			q := map[string]int{"all": qAll, "any": qAny, "none": qNone}[t.text]
			if !p.peek().isKw("of") {
				p.syntax(p.peek(), "\"of\"")
			}
			return p.parseOf(&node{op: opConst, t: tyInt, quant: q, pos: t.pos}, false)
		}
	case tPunct:
		if t.text == "(" {
			n := p.parseExpr()
			p.expectPunct(")")
			return n
		}
	}
	p.syntax(t, "")
	return nil
}

func intFuncCode(name string) int64 {
	// bits 0-7: size in bytes; bit 8: signed; bit 9: big-endian.
	var code int64
	switch {
	case strings.Contains(name, "8"):
		code = 1
	case strings.Contains(name, "16"):
		code = 2
	default:
		code = 4
	}
	if !strings.HasPrefix(name, "u") {
		code |= 1 << 8
	}
	if strings.HasSuffix(name, "be") {
		code |= 1 << 9
	}
	return code
}

// maybeOf parses "<quantifier> of <set>" and "<n>% of <set>" after a
// primary expression used as the quantifier.
func (p *parser) maybeOf(q *node) *node {
	if p.peek().isKw("of") {
		// libyara does not check the quantifier's type.
		q = &node{op: opConst, t: tyInt, quant: qExpr, a: q, pos: q.pos}
		return p.parseOf(q, false)
	}
	if p.peek().isPunct("%") && p.peekN(1).isKw("of") {
		p.expectInt(q, "percentage")
		if q.op == opConst && (q.val.i < 1 || q.val.i > 100) {
			p.fail(q.pos, "invalid value in condition: \"%d\"", q.val.i)
		}
		p.advance()
		q = &node{op: opConst, t: tyInt, quant: qExpr, a: q, pos: q.pos}
		return p.parseOf(q, true)
	}
	return nil
}

// parseOf parses "of <set> [in <range>]" with quantifier q (quant set; for
// qExpr the count expression is q.a).
func (p *parser) parseOf(q *node, percent bool) *node {
	ofTok := p.expectKw("of")
	n := &node{op: opOf, t: tyBool, quant: q.quant, a: q.a, pos: q.pos}
	if percent {
		n.op = opOfPercent
	}
	if p.isRuleSet() {
		n.rules = p.parseRuleSet()
		n.str = -2
		if q.quant == qExpr && q.a.op == opConst && q.a.val.i > int64(len(n.rules)) && !percent {
			// libyara accepts it; the condition can simply never be true.
			_ = ofTok
		}
		return n
	}
	n.strs = p.parseStringSet()
	if p.peek().isKw("in") {
		if percent {
			p.syntax(p.peek(), "")
		}
		p.advance()
		n.op = opOfIn
		n.b, n.c = p.parseRange()
	}
	return n
}

func (p *parser) isRuleSet() bool {
	return p.peek().isPunct("(") && p.peekN(1).kind == tIdent
}

func (p *parser) parseRuleSet() []int {
	p.expectPunct("(")
	var out []int
	for {
		t := p.advance()
		if t.kind != tIdent {
			p.syntax(t, "identifier")
		}
		if p.peek().isPunct("*") {
			p.advance()
			found := false
			for _, name := range p.ns.order {
				if strings.HasPrefix(name, t.text) {
					out = append(out, p.ns.rules[name])
					found = true
				}
			}
			if strings.HasPrefix(p.rule.Name, t.text) {
				out = append(out, len(p.c.rules.rules))
				found = true
			}
			for name := range p.ns.dropped {
				if strings.HasPrefix(name, t.text) {
					p.unsupported(t.pos, fmt.Sprintf("skipped rule %q", name))
				}
			}
			if !found {
				p.fail(t.pos, "undefined identifier \"%s*\"", t.text)
			}
		} else {
			idx, ok := p.ns.rules[t.text]
			if t.text == p.rule.Name {
				idx, ok = len(p.c.rules.rules), true
			}
			if !ok {
				if p.ns.dropped[t.text] {
					p.unsupported(t.pos, fmt.Sprintf("skipped rule %q", t.text))
				}
				p.fail(t.pos, "undefined identifier %q", t.text)
			}
			out = append(out, idx)
		}
		if p.peek().isPunct(",") {
			p.advance()
			continue
		}
		p.expectPunct(")")
		return out
	}
}

func (p *parser) parseStringSet() []int {
	t := p.advance()
	if t.isKw("them") {
		if len(p.strOrder) == 0 {
			p.fail(t.pos, "undefined string identifier \"$*\"")
		}
		var out []int
		for _, id := range p.strOrder {
			p.referenced[id] = true
			out = append(out, p.strIDs[id])
		}
		return out
	}
	if !t.isPunct("(") {
		p.syntax(t, "\"(\" or \"them\"")
	}
	var out []int
	for {
		s := p.advance()
		switch s.kind {
		case tStrID:
			if s.text == "$" {
				p.fail(s.pos, "undefined string identifier \"$\"")
			}
			idx, ok := p.strIDs[s.text]
			if !ok {
				p.fail(s.pos, "undefined string identifier %q", s.text)
			}
			p.referenced[s.text] = true
			out = append(out, idx)
		case tStrIDWild:
			prefix := strings.TrimSuffix(s.text, "*")
			found := false
			for _, id := range p.strOrder {
				if strings.HasPrefix(id, prefix) {
					p.referenced[id] = true
					out = append(out, p.strIDs[id])
					found = true
				}
			}
			if !found {
				p.fail(s.pos, "undefined string identifier %q", s.text)
			}
		default:
			p.syntax(s, "string identifier")
		}
		if p.peek().isPunct(",") {
			p.advance()
			continue
		}
		p.expectPunct(")")
		return out
	}
}

// parseRange parses "(lo..hi)".
func (p *parser) parseRange() (*node, *node) {
	p.expectPunct("(")
	lo := p.parseArith(0)
	p.expectInt(lo, "range bound")
	p.expectPunct("..")
	hi := p.parseArith(0)
	p.expectInt(hi, "range bound")
	p.expectPunct(")")
	return lo, hi
}

// lookupString resolves $name, #name, @name or !name; "$" alone (index -1)
// is the string of the innermost for…of loop.
func (p *parser) lookupString(t token) int {
	if t.text == "$" {
		if p.anonDepth == 0 {
			p.fail(t.pos, "wrong use of anonymous string")
		}
		return -1
	}
	idx, ok := p.strIDs[t.text]
	if !ok {
		p.fail(t.pos, "undefined string identifier %q", t.text)
	}
	p.referenced[t.text] = true
	return idx
}

func (p *parser) anonSlotFor(s int) int {
	if s == -1 {
		return p.anonSlot[len(p.anonSlot)-1]
	}
	return 0
}

func (p *parser) stringRef(t token) *node {
	s := p.lookupString(t)
	slot := p.anonSlotFor(s)
	if p.peek().isKw("at") {
		p.advance()
		at := p.parseArith(0)
		p.expectInt(at, "\"at\" offset")
		return &node{op: opStrAt, t: tyBool, str: s, a: at, slot: slot, pos: t.pos}
	}
	if p.peek().isKw("in") {
		p.advance()
		lo, hi := p.parseRange()
		return &node{op: opStrIn, t: tyBool, str: s, a: lo, b: hi, slot: slot, pos: t.pos}
	}
	return &node{op: opStrFound, t: tyBool, str: s, slot: slot, pos: t.pos}
}

// maxLoopNesting is libyara's YR_MAX_LOOP_NESTING.
const maxLoopNesting = 4

func (p *parser) parseFor(forTok token) *node {
	if p.loopDepth >= maxLoopNesting {
		p.fail(forTok.pos, "loop nesting limit exceeded")
	}
	p.loopDepth++
	defer func() { p.loopDepth-- }()
	n := &node{op: opForIn, t: tyBool, pos: forTok.pos}
	p.parseQuantifier(n)
	if p.peek().isKw("of") {
		return p.parseForOf(forTok, n)
	}
	names := p.parseLoopVars()
	p.expectKw("in")
	types, objs := p.parseIterator(n)
	if len(names) != len(types) {
		p.fail(names[0].pos, "iterator yields %d values per item, %d loop variables given", len(types), len(names))
	}
	n.nvars = len(names)
	base := len(p.vars)
	for i, v := range names {
		slot := p.newSlot()
		if i == 0 {
			n.slot = slot
		}
		p.vars = append(p.vars, loopVar{name: v.text, t: types[i], obj: objs[i], slot: slot})
	}
	p.expectPunct(":")
	p.expectPunct("(")
	n.b = p.boolean(p.parseExpr())
	p.expectPunct(")")
	p.vars = p.vars[:base]
	return n
}

// parseQuantifier reads all, any, none or an expression into n.
func (p *parser) parseQuantifier(n *node) {
	t := p.peek()
	switch {
	case t.isKw("all"):
		p.advance()
		n.quant = qAll
	case t.isKw("any"):
		p.advance()
		n.quant = qAny
	case t.isKw("none"):
		p.advance()
		n.quant = qNone
	default:
		n.quant = qExpr
		n.a = p.parseArith(0)
	}
}

// parseForOf reads the rest of "for <quantifier> of <string set> : (...)",
// whose body sees the anonymous string $.
func (p *parser) parseForOf(forTok token, n *node) *node {
	if p.anonDepth > 0 {
		p.fail(forTok.pos, "'for <quantifier> of <string set>' loops can't be nested")
	}
	p.advance()
	n.op = opForOf
	n.strs = p.parseStringSet()
	p.expectPunct(":")
	p.expectPunct("(")
	n.slot = p.newSlot()
	p.anonDepth++
	p.anonSlot = append(p.anonSlot, n.slot)
	n.b = p.boolean(p.parseExpr())
	p.anonSlot = p.anonSlot[:len(p.anonSlot)-1]
	p.anonDepth--
	p.expectPunct(")")
	return n
}

// parseLoopVars reads the comma-separated loop variables, refusing names
// already bound by an enclosing loop.
func (p *parser) parseLoopVars() []token {
	var names []token
	for {
		v := p.advance()
		if v.kind != tIdent {
			p.syntax(v, "identifier")
		}
		for _, lv := range p.vars {
			if lv.name == v.text {
				p.fail(v.pos, "duplicated loop variable %q", v.text)
			}
		}
		names = append(names, v)
		if !p.peek().isPunct(",") {
			return names
		}
		p.advance()
	}
}

// parseIterator reads what a for-in loop iterates over (a range, an
// enumeration, or a module array or dictionary) into n, and returns the
// types of the values each iteration binds.
func (p *parser) parseIterator(n *node) ([]vtype, []*objType) {
	if p.peek().isPunct("(") {
		p.advance()
		first := p.parseArith(0)
		p.expectInt(first, "loop bound")
		if p.peek().isPunct("..") {
			p.advance()
			hi := p.parseArith(0)
			p.expectInt(hi, "loop bound")
			p.expectPunct(")")
			n.iterKind = iterRange
			n.args = []*node{first, hi}
		} else {
			n.iterKind = iterEnum
			n.args = []*node{first}
			for p.peek().isPunct(",") {
				p.advance()
				e := p.parseArith(0)
				p.expectInt(e, "enumeration item")
				n.args = append(n.args, e)
			}
			p.expectPunct(")")
		}
		return []vtype{tyInt}, []*objType{nil}
	}
	idt := p.advance()
	if idt.kind != tIdent {
		p.syntax(idt, "identifier or \"(\"")
	}
	obj := p.identifier(idt)
	n.c = obj
	switch obj.t {
	case tyArray:
		n.iterKind = iterArray
		return []vtype{obj.obj.elem.kind}, []*objType{obj.obj.elem}
	case tyDict:
		n.iterKind = iterDict
		return []vtype{tyStr, obj.obj.elem.kind}, []*objType{nil, obj.obj.elem}
	case tyAny:
		return []vtype{tyAny, tyAny}, []*objType{nil, nil}
	}
	p.fail(idt.pos, "identifier %q is not iterable", idt.text)
	return nil, nil
}

func (p *parser) newSlot() int {
	s := p.nslots
	p.nslots++
	if p.nslots > p.rule.nslots {
		p.rule.nslots = p.nslots
	}
	return s
}

// identifier resolves an identifier and its chain of field accesses,
// indexes and calls.
func (p *parser) identifier(t token) *node {
	var n *node
	for i := len(p.vars) - 1; i >= 0; i-- {
		if p.vars[i].name == t.text {
			lv := p.vars[i]
			n = &node{op: opVar, t: lv.t, obj: lv.obj, slot: lv.slot, pos: t.pos}
			break
		}
	}
	if n == nil {
		if ext, ok := p.c.externals[t.text]; ok {
			n = &node{op: opExternal, t: ext.t, slot: ext.idx, pos: t.pos}
		} else if p.ns.imports[t.text] {
			mod := moduleNames[t.text]
			if mod == nil {
				p.unsupported(t.pos, fmt.Sprintf("module %q", t.text))
			}
			n = &node{op: opModule, t: tyStruct, obj: mod.root, slot: mod.id, pos: t.pos}
		} else if idx, ok := p.ns.rules[t.text]; ok {
			return &node{op: opRule, t: tyBool, slot: idx, pos: t.pos}
		} else if p.ns.dropped[t.text] {
			p.unsupported(t.pos, fmt.Sprintf("skipped rule %q", t.text))
		} else if p.rule != nil && t.text == p.rule.Name {
			// A rule may refer to itself; it is false while being evaluated.
			return &node{op: opRule, t: tyBool, slot: len(p.c.rules.rules), pos: t.pos}
		} else {
			p.fail(t.pos, "undefined identifier %q", t.text)
		}
	}
	path := t.text
	for {
		nt := p.peek()
		switch {
		case nt.isPunct("."):
			p.advance()
			f := p.advance()
			if f.kind != tIdent && f.kind != tKeyword && f.kind != tIntFunc {
				p.syntax(f, "identifier")
			}
			if n.t != tyStruct {
				p.fail(f.pos, "%q is not a structure", path)
			}
			ft, ok := n.obj.fields[f.text]
			path += "." + f.text
			if !ok {
				p.fail(f.pos, "invalid field name %q", f.text)
			}
			n = &node{op: opField, t: ft.kind, obj: ft, a: n, pos: f.pos}
		case nt.isPunct("["):
			p.advance()
			switch n.t {
			case tyArray:
				idx := p.parseArith(0)
				p.expectInt(idx, "array index")
				p.expectPunct("]")
				n = &node{op: opIndex, t: n.obj.elem.kind, obj: n.obj.elem, a: n, b: idx, pos: nt.pos}
			case tyDict:
				key := p.parseArith(0)
				if key.t != tyStr {
					p.fail(key.pos, "wrong type \"%s\" for dictionary key", key.t)
				}
				p.expectPunct("]")
				n = &node{op: opLookup, t: n.obj.elem.kind, obj: n.obj.elem, a: n, b: key, pos: nt.pos}
			default:
				p.fail(nt.pos, "%q is not an array or dictionary", path)
			}
			path += "[]"
		case nt.isPunct("("):
			p.advance()
			if n.t != tyFunc {
				p.fail(nt.pos, "%q is not a function", path)
			}
			var args []*node
			var sig strings.Builder
			for !p.peek().isPunct(")") {
				var a *node
				if p.peek().kind == tRegex {
					rt := p.advance()
					a = &node{op: opConst, t: tyRegex, re: p.compileRegex(rt), pos: rt.pos}
				} else {
					a = p.parseExpr()
				}
				args = append(args, a)
				switch a.t {
				case tyInt:
					sig.WriteByte('i')
				case tyFloat:
					sig.WriteByte('f')
				case tyStr:
					sig.WriteByte('s')
				case tyRegex:
					sig.WriteByte('r')
				case tyBool:
					sig.WriteByte('b')
				default:
					p.fail(a.pos, "wrong type \"%s\" for argument of %q", a.t, path)
				}
				if !p.peek().isPunct(",") {
					break
				}
				p.advance()
			}
			p.expectPunct(")")
			var fn *function
			for _, f := range n.obj.funcs {
				if f.args == sig.String() {
					fn = f
				}
			}
			if fn == nil {
				p.fail(nt.pos, "wrong arguments for function %q", path)
			}
			n = &node{op: opCall, t: fn.ret, fn: fn, a: n, args: args, pos: nt.pos}
		default:
			if n.t == tyFunc {
				p.fail(nt.pos, "function %q called without arguments", path)
			}
			return n
		}
	}
}

// compileRegex converts a regex literal for matches and module functions.
func (p *parser) compileRegex(t token) *regexp.Regexp {
	re, err := translateRegex(t.str, t.reNocase, t.reDotAll)
	if err != nil {
		p.fail(t.pos, "invalid regular expression \"/%s/\": %v", t.str, err)
	}
	return re
}

func hasOp(n *node, o op) bool {
	if n == nil {
		return false
	}
	if n.op == o || hasOp(n.a, o) || hasOp(n.b, o) || hasOp(n.c, o) {
		return true
	}
	for _, x := range n.args {
		if hasOp(x, o) {
			return true
		}
	}
	return false
}

// requiresMatch reports whether n can only be true when at least one
// string of its rule matched, so that rules without any string match need
// not be evaluated.
func requiresMatch(n *node) bool {
	switch n.op {
	case opStrFound, opStrAt, opStrIn:
		return n.str >= 0
	case opAnd:
		return requiresMatch(n.a) || requiresMatch(n.b)
	case opOr:
		return requiresMatch(n.a) && requiresMatch(n.b)
	case opOf, opOfIn:
		if n.str == -2 {
			return false
		}
		switch n.quant {
		case qAny, qAll:
			return true
		case qExpr:
			return n.a.op == opConst && n.a.val.i >= 1
		}
	case opOfPercent:
		return n.a.op == opConst && n.a.val.i >= 1
	}
	return false
}
