package sigma

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
)

// cond is a compiled condition over the search identifiers of one rule.
type cond interface {
	eval(st *ruleEval) bool
}

type condRef struct{ idx int }
type condNot struct{ c cond }
type condAnd []cond
type condOr []cond

func (c condRef) eval(st *ruleEval) bool { return st.search(c.idx) }
func (c condNot) eval(st *ruleEval) bool { return !c.c.eval(st) }
func (c condAnd) eval(st *ruleEval) bool {
	for _, x := range c {
		if !x.eval(st) {
			return false
		}
	}
	return true
}
func (c condOr) eval(st *ruleEval) bool {
	for _, x := range c {
		if x.eval(st) {
			return true
		}
	}
	return false
}

type token struct {
	kind string // ident, and, or, not, (, ), of1, allof, them
	text string
	pos  int
}

func lexCondition(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, token{kind: string(c), pos: i})
			i++
		case c == '|':
			return nil, fmt.Errorf("column %d: aggregations after '|' are Sigma 1 syntax; use a correlation rule", i+1)
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()|", rune(s[j])) {
				j++
			}
			w := s[i:j]
			switch strings.ToLower(w) {
			case "and", "or", "not", "of", "them", "all":
				toks = append(toks, token{kind: strings.ToLower(w), text: w, pos: i})
			default:
				toks = append(toks, token{kind: "ident", text: w, pos: i})
			}
			i = j
		}
	}
	return toks, nil
}

// condParser is a recursive-descent parser: or < and < not < primary, the
// precedence the Sigma specification gives.
type condParser struct {
	toks  []token
	i     int
	names []string // search identifiers, in rule order
	index map[string]int
}

func parseCondition(s string, names []string) (cond, error) {
	toks, err := lexCondition(s)
	if err != nil {
		return nil, err
	}
	p := &condParser{toks: toks, names: names, index: map[string]int{}}
	for i, n := range names {
		p.index[n] = i
	}
	if len(toks) == 0 {
		return nil, errors.New("empty condition")
	}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, fmt.Errorf("column %d: unexpected %q", p.toks[p.i].pos+1, p.tokText(p.toks[p.i]))
	}
	return c, nil
}

func (p *condParser) tokText(t token) string {
	if t.text != "" {
		return t.text
	}
	return t.kind
}

func (p *condParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i].kind
	}
	return ""
}

func (p *condParser) or() (cond, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	out := condOr{l}
	for p.peek() == "or" {
		p.i++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if len(out) == 1 {
		return l, nil
	}
	return out, nil
}

func (p *condParser) and() (cond, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	out := condAnd{l}
	for p.peek() == "and" {
		p.i++
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if len(out) == 1 {
		return l, nil
	}
	return out, nil
}

func (p *condParser) not() (cond, error) {
	if p.peek() == "not" {
		p.i++
		c, err := p.not()
		if err != nil {
			return nil, err
		}
		return condNot{c}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (cond, error) {
	if p.i >= len(p.toks) {
		return nil, errors.New("condition ends early")
	}
	t := p.toks[p.i]
	switch t.kind {
	case "(":
		p.i++
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("column %d: missing ')'", t.pos+1)
		}
		p.i++
		return c, nil
	case "ident":
		p.i++
		if p.peek() == "of" {
			return p.of(t)
		}
		idx, ok := p.index[t.text]
		if !ok {
			return nil, fmt.Errorf("column %d: unknown search identifier %q", t.pos+1, t.text)
		}
		return condRef{idx}, nil
	case "all":
		p.i++
		if p.peek() != "of" {
			return nil, fmt.Errorf("column %d: 'all' without 'of'", t.pos+1)
		}
		return p.of(t)
	}
	return nil, fmt.Errorf("column %d: unexpected %q", t.pos+1, p.tokText(t))
}

// of parses "1 of X", "all of X" and "any of X" after the quantifier; X is
// a name, a wildcard pattern or "them" (every identifier not starting with
// an underscore).
func (p *condParser) of(q token) (cond, error) {
	p.i++ // "of"
	if p.i >= len(p.toks) {
		return nil, errors.New("'of' without a target")
	}
	t := p.toks[p.i]
	p.i++
	var refs []cond
	switch t.kind {
	case "them":
		for i, n := range p.names {
			if !strings.HasPrefix(n, "_") {
				refs = append(refs, condRef{i})
			}
		}
	case "ident":
		for i, n := range p.names {
			if ok, _ := path.Match(t.text, n); ok {
				refs = append(refs, condRef{i})
			}
		}
		if len(refs) == 0 {
			return nil, fmt.Errorf("column %d: %q names no search identifier", t.pos+1, t.text)
		}
	default:
		return nil, fmt.Errorf("column %d: 'of' needs a name, pattern or them", t.pos+1)
	}
	sort.Slice(refs, func(a, b int) bool { return refs[a].(condRef).idx < refs[b].(condRef).idx })
	switch {
	case q.kind == "all":
		return condAnd(refs), nil
	case q.text == "1" || strings.EqualFold(q.text, "any"):
		return condOr(refs), nil
	}
	return nil, fmt.Errorf("column %d: quantifier %q (want 1, any or all)", q.pos+1, q.text)
}
