package sigma

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// search is one search identifier of a detection: an OR of alternatives,
// each an AND of field tests (a list of maps gives several alternatives).
type search struct {
	alts [][]*fieldTest
}

// fieldTest tests one field (fid >= 0) or, for keywords, every field value
// of the event (fid < 0). Each group holds the variants one rule value
// expanded to (windash, base64offset, ...); groups are ORed, or ANDed with
// the all modifier.
type fieldTest struct {
	field  string
	fid    int
	all    bool
	groups [][]valTest
	exists int8 // 1: |exists: true, -1: |exists: false, 0: no exists test
	// asciiGroups are the groups an all-ASCII value can match: a literal
	// with a non-ASCII byte cannot occur in it, and rules listing hundreds
	// of emoji or homoglyphs would otherwise test each against every event.
	asciiGroups [][]valTest
	nonASCII    bool // some group matches only non-ASCII values
}

// setASCIIGroups fills asciiGroups and nonASCII from groups.
func (ft *fieldTest) setASCIIGroups() {
	ft.asciiGroups = ft.asciiGroups[:0]
	for _, g := range ft.groups {
		if needsNonASCII(g) {
			ft.nonASCII = true
		} else {
			ft.asciiGroups = append(ft.asciiGroups, g)
		}
	}
}

// needsNonASCII: every test of g is a literal comparison with a non-ASCII
// byte in its (already folded) text.
func needsNonASCII(g []valTest) bool {
	for i := range g {
		v := &g[i]
		if v.kind != vStr {
			return false
		}
		switch v.str.kind {
		case mExact, mPrefix, mSuffix, mContains:
		default:
			return false
		}
		if isASCII(v.str.s) {
			return false
		}
	}
	return len(g) > 0
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

const (
	vStr = iota
	vNull
	vCIDR
	vCmp
	vRef
	vNever // a placeholder without values: Sigma says it matches nothing
)

type valTest struct {
	kind  uint8
	str   strMatcher
	cidr  *net.IPNet
	op    string // lt, lte, gt, gte
	num   float64
	ref   int // field id of a fieldref
	refOp uint8
	cased bool
}

type compiler struct {
	fields       *fieldTable
	placeholders map[string][]string
}

// fieldTable interns the field names rules name, so an event's values are
// looked up and lower-cased once per event however many rules test them.
type fieldTable struct {
	ids   map[string]int
	names []string
}

func (t *fieldTable) id(name string) int {
	if id, ok := t.ids[name]; ok {
		return id
	}
	id := len(t.names)
	t.ids[name] = id
	t.names = append(t.names, name)
	return id
}

func (c *compiler) search(n *yaml.Node) (*search, error) {
	switch n.Kind {
	case yaml.MappingNode:
		tests, err := c.fieldMap(n)
		if err != nil {
			return nil, err
		}
		return &search{alts: [][]*fieldTest{tests}}, nil
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return nil, errors.New("empty list")
		}
		if n.Content[0].Kind == yaml.MappingNode {
			s := &search{}
			for _, m := range n.Content {
				if m.Kind != yaml.MappingNode {
					return nil, fmt.Errorf("line %d: list mixes maps and values", m.Line)
				}
				tests, err := c.fieldMap(m)
				if err != nil {
					return nil, err
				}
				s.alts = append(s.alts, tests)
			}
			return s, nil
		}
		ft, err := c.fieldTest("", nil, n)
		if err != nil {
			return nil, err
		}
		return &search{alts: [][]*fieldTest{{ft}}}, nil
	case yaml.ScalarNode:
		ft, err := c.fieldTest("", nil, n)
		if err != nil {
			return nil, err
		}
		return &search{alts: [][]*fieldTest{{ft}}}, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

func (c *compiler) fieldMap(n *yaml.Node) ([]*fieldTest, error) {
	var tests []*fieldTest
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := n.Content[i].Value
		parts := strings.Split(key, "|")
		ft, err := c.fieldTest(parts[0], parts[1:], n.Content[i+1])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		tests = append(tests, ft)
	}
	if len(tests) == 0 {
		return nil, errors.New("empty map")
	}
	return tests, nil
}

// rawValue is one rule value as written: text, or null.
type rawValue struct {
	s    string
	null bool
}

func scalarValues(n *yaml.Node) ([]rawValue, error) {
	one := func(n *yaml.Node) (rawValue, error) {
		if n.Kind != yaml.ScalarNode {
			return rawValue{}, fmt.Errorf("line %d: value is not a scalar", n.Line)
		}
		if n.Tag == "!!null" {
			return rawValue{null: true}, nil
		}
		return rawValue{s: n.Value}, nil
	}
	if n.Kind == yaml.SequenceNode {
		out := make([]rawValue, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := one(e)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	v, err := one(n)
	if err != nil {
		return nil, err
	}
	return []rawValue{v}, nil
}

// fieldTest compiles "field|mod|mod: values". Transforming modifiers
// (wide, base64, windash, ...) are applied in the order written, then the
// value is compiled by the matching modifier.
func (c *compiler) fieldTest(field string, mods []string, n *yaml.Node) (*fieldTest, error) {
	vals, err := scalarValues(n)
	if err != nil {
		return nil, err
	}
	ft := &fieldTest{field: field, fid: -1}
	if field != "" {
		ft.fid = c.fields.id(field)
	}
	var (
		match                 string // "", contains, startswith, endswith, re, cidr, lt..., fieldref
		transforms            []string
		cased, reI, reM, reS  bool
		expand, isExists, all bool
	)
	for _, m := range mods {
		switch m {
		case "contains", "startswith", "endswith", "re", "cidr", "lt", "lte", "gt", "gte":
			if match != "" && !(match == "fieldref" && (m == "contains" || m == "startswith" || m == "endswith")) {
				return nil, fmt.Errorf("modifiers %s and %s conflict", match, m)
			}
			if match == "fieldref" {
				match = "fieldref+" + m
			} else {
				match = m
			}
		case "fieldref":
			if match != "" {
				match = "fieldref+" + match
			} else {
				match = "fieldref"
			}
		case "all":
			all = true
		case "cased":
			cased = true
		case "exists":
			isExists = true
		case "expand":
			expand = true
		case "i":
			reI = true
		case "m":
			reM = true
		case "s":
			reS = true
		case "base64", "base64offset", "wide", "utf16le", "utf16be", "utf16", "windash":
			transforms = append(transforms, m)
		default:
			return nil, fmt.Errorf("unknown modifier %q", m)
		}
	}
	if field == "" && match == "" {
		// A keyword is found anywhere in a value, as full-text search does.
		match = "contains"
	}
	if (reI || reM || reS) && match != "re" {
		return nil, errors.New("regular expression flags i, m, s need the re modifier")
	}
	if isExists {
		if len(vals) != 1 || vals[0].null {
			return nil, errors.New("exists takes one boolean")
		}
		b, err := strconv.ParseBool(vals[0].s)
		if err != nil {
			return nil, fmt.Errorf("exists: %w", err)
		}
		if b {
			ft.exists = 1
		} else {
			ft.exists = -1
		}
		if field == "" {
			return nil, errors.New("exists needs a field")
		}
		return ft, nil
	}
	ft.all = all && len(vals) > 1
	for _, rv := range vals {
		if rv.null {
			if match != "" || len(transforms) > 0 {
				return nil, errors.New("null value with a modifier")
			}
			ft.groups = append(ft.groups, []valTest{{kind: vNull}})
			continue
		}
		group, err := c.value(rv.s, match, transforms, cased, expand, reI, reM, reS)
		if err != nil {
			return nil, err
		}
		ft.groups = append(ft.groups, group)
	}
	if len(ft.groups) == 0 {
		return nil, errors.New("no values")
	}
	ft.setASCIIGroups()
	return ft, nil
}

func (c *compiler) value(s, match string, transforms []string, cased, expand, reI, reM, reS bool) ([]valTest, error) {
	switch match {
	case "re":
		if len(transforms) > 0 {
			return nil, errors.New("re with a transforming modifier")
		}
		flags := ""
		if reI {
			flags += "i"
		}
		if reM {
			flags += "m"
		}
		if reS {
			flags += "s"
		}
		expr := s
		if flags != "" {
			expr = "(?" + flags + ")" + s
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("regular expression %q: %w", s, err)
		}
		return []valTest{{kind: vStr, str: strMatcher{kind: mRegex, re: re, globLiteral: requiredLiteral(expr)}}}, nil
	case "cidr":
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			return nil, err
		}
		return []valTest{{kind: vCIDR, cidr: n}}, nil
	case "lt", "lte", "gt", "gte":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%s needs a number: %w", match, err)
		}
		return []valTest{{kind: vCmp, op: match, num: f}}, nil
	case "fieldref", "fieldref+contains", "fieldref+startswith", "fieldref+endswith":
		op := uint8(mExact)
		switch match {
		case "fieldref+contains":
			op = mContains
		case "fieldref+startswith":
			op = mPrefix
		case "fieldref+endswith":
			op = mSuffix
		}
		return []valTest{{kind: vRef, ref: c.fields.id(s), refOp: op, cased: cased}}, nil
	}
	texts := []string{s}
	if expand {
		var err error
		texts, err = c.expand(s)
		if err != nil {
			return nil, err
		}
		if len(texts) == 0 {
			return []valTest{{kind: vNever}}, nil
		}
	}
	var out []valTest
	for _, t := range texts {
		// Transformations work on literal text; wildcards stay only when no
		// transformation is asked for.
		var pats []pattern
		encoded := false
		if len(transforms) == 0 {
			pats = []pattern{parsePattern(t)}
		} else {
			lit, ok := parsePattern(t).literal()
			if !ok && !onlyWindash(transforms) {
				return nil, errors.New("wildcards in a value with an encoding modifier")
			}
			vs := []string{lit}
			if !ok {
				vs = []string{t}
			}
			for _, tr := range transforms {
				vs = applyTransform(tr, vs)
				if tr == "base64" || tr == "base64offset" {
					encoded = true
				}
			}
			for _, v := range vs {
				if ok || encoded {
					pats = append(pats, literalPattern(v))
				} else {
					pats = append(pats, parsePattern(v))
				}
			}
		}
		for _, p := range pats {
			switch match {
			case "contains":
				p = append(append(pattern{{wild: '*'}}, p...), patTok{wild: '*'})
			case "startswith":
				p = append(p, patTok{wild: '*'})
			case "endswith":
				p = append(pattern{{wild: '*'}}, p...)
			}
			// Base64 text is case-sensitive by nature.
			m, err := compileString(p, cased || encoded)
			if err != nil {
				return nil, err
			}
			out = append(out, valTest{kind: vStr, str: m})
		}
	}
	return out, nil
}

func onlyWindash(ts []string) bool {
	for _, t := range ts {
		if t != "windash" {
			return false
		}
	}
	return true
}

func applyTransform(tr string, vs []string) []string {
	var out []string
	for _, v := range vs {
		switch tr {
		case "wide", "utf16le":
			out = append(out, utf16Bytes(v, false, false))
		case "utf16be":
			out = append(out, utf16Bytes(v, true, false))
		case "utf16":
			out = append(out, utf16Bytes(v, false, true))
		case "base64":
			out = append(out, base64.StdEncoding.EncodeToString([]byte(v)))
		case "base64offset":
			out = append(out, base64Offsets(v)...)
		case "windash":
			out = append(out, windash(v)...)
		}
	}
	return out
}

func utf16Bytes(s string, be, bom bool) string {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u)+2)
	if bom {
		b = append(b, 0xff, 0xfe)
	}
	for _, c := range u {
		if be {
			b = append(b, byte(c>>8), byte(c))
		} else {
			b = append(b, byte(c), byte(c>>8))
		}
	}
	return string(b)
}

// base64Offsets gives the three encodings of s as it may appear at any byte
// offset inside a longer base64 text, trimmed of the characters that depend
// on the unknown neighbours.
func base64Offsets(s string) []string {
	start := [3]int{0, 2, 3}
	end := [3]int{0, 3, 2}
	var out []string
	for i := 0; i < 3; i++ {
		enc := base64.StdEncoding.EncodeToString(append([]byte(strings.Repeat(" ", i)), s...))
		e := len(enc) - end[(len(s)+i)%3]
		if start[i] >= e {
			continue
		}
		out = append(out, enc[start[i]:e])
	}
	return out
}

// windashChars are the characters Windows command-line parsers accept where
// a dash introduces an option.
var windashChars = []string{"-", "/", "\u2013", "\u2014", "\u2015"}

// windash expands every option dash or slash (one at the start of a word)
// to each character Windows accepts there, in every combination up to four
// positions and with one character for all positions beyond that.
func windash(s string) []string {
	var pos []int
	for i := 0; i < len(s); i++ {
		if (s[i] == '-' || s[i] == '/') && (i == 0 || !isWord(s[i-1])) && i+1 < len(s) && isWord(s[i+1]) {
			pos = append(pos, i)
		}
	}
	if len(pos) == 0 {
		return []string{s}
	}
	build := func(choice []int) string {
		var b strings.Builder
		last := 0
		for k, p := range pos {
			b.WriteString(s[last:p])
			b.WriteString(windashChars[choice[k]])
			last = p + 1
		}
		b.WriteString(s[last:])
		return b.String()
	}
	var out []string
	if len(pos) > 4 {
		for c := range windashChars {
			choice := make([]int, len(pos))
			for k := range choice {
				choice[k] = c
			}
			out = append(out, build(choice))
		}
		return out
	}
	choice := make([]int, len(pos))
	for {
		out = append(out, build(choice))
		k := 0
		for ; k < len(choice); k++ {
			choice[k]++
			if choice[k] < len(windashChars) {
				break
			}
			choice[k] = 0
		}
		if k == len(choice) {
			return out
		}
	}
}

func isWord(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

var placeholderRE = regexp.MustCompile(`%[A-Za-z0-9_.-]+%`)

// expand replaces %name% placeholders by each configured value; a value
// naming a placeholder nobody configured expands to nothing.
func (c *compiler) expand(s string) ([]string, error) {
	out := []string{s}
	for _, ph := range placeholderRE.FindAllString(s, -1) {
		vals := c.placeholders[strings.Trim(ph, "%")]
		var next []string
		for _, o := range out {
			for _, v := range vals {
				next = append(next, strings.Replace(o, ph, v, 1))
			}
		}
		out = next
	}
	return out, nil
}
