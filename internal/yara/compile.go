package yara

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/mamori-dev/mamori/internal/yara/strmatch"
)

// CompileOptions control compilation.
type CompileOptions struct {
	// Defines are external variables from -d NAME=VALUE: "true"/"false"
	// become booleans, integers and floats numbers, anything else a string
	// (surrounding double quotes removed).
	Defines map[string]string
	// SkipUnsupported drops rules using a feature the engine lacks, with a
	// warning, instead of failing.
	SkipUnsupported bool
	// Warn receives warnings such as skipped rules, formatted
	// "file:line:col: warning: ...".
	Warn func(msg string)
}

// Error is a compile error at a position in a rule file.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg) }

// Rules are compiled rules, safe for concurrent scans.
type Rules struct {
	rules    []*rule
	patterns []strmatch.Pattern
	patRule  []int
	patID    []string
	patPos   []Pos
	patFile  []string
	// patSrc and patOff locate each hex or regex body in its source so that
	// strmatch errors can be reported at file:line:col.
	patSrc []string
	patOff []int

	set        *strmatch.Set
	namespaces []string
	extNames   []string
	extDefault []value
	extTypes   []vtype
	skipped    int
	maxSlots   int
	// pool recycles per-scan state between files and workers.
	pool sync.Pool
}

type rule struct {
	Name, Namespace string
	nsIdx           int
	idx             int
	Private, Global bool
	Tags            []string
	Meta            map[string]any
	strings         []int
	cond            *node
	needsMatch      bool
	nslots          int
}

type namespace struct {
	name    string
	idx     int
	rules   map[string]int
	order   []string
	dropped map[string]bool
	imports map[string]bool
}

type external struct {
	idx int
	t   vtype
}

type compiler struct {
	opts      CompileOptions
	rules     *Rules
	externals map[string]external
	skipped   int
	// committed is the number of patterns belonging to accepted rules.
	committed int
}

func newCompiler(opts CompileOptions) (*compiler, error) {
	c := &compiler{opts: opts, rules: &Rules{}, externals: map[string]external{}}
	names := make([]string, 0, len(opts.Defines))
	for n := range opts.Defines {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v, t := parseDefine(opts.Defines[n])
		c.externals[n] = external{idx: len(c.rules.extNames), t: t}
		c.rules.extNames = append(c.rules.extNames, n)
		c.rules.extDefault = append(c.rules.extDefault, v)
		c.rules.extTypes = append(c.rules.extTypes, t)
	}
	return c, nil
}

// parseDefine types a -d value as the yara command line does: a float
// when it is digits with one dot, an integer (through C's atoi, so 32 bits)
// when it is digits, a boolean for true and false, else a string.
func parseDefine(s string) (value, vtype) {
	digits := strings.TrimPrefix(s, "-")
	switch {
	case isFloatDefine(digits):
		f, _ := strconv.ParseFloat(s, 64)
		return value{f: f, ok: true}, tyFloat
	case digits != "" && strings.Trim(digits, "0123456789") == "":
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			// strtol saturates before atoi truncates.
			i = math.MaxInt64
			if s[0] == '-' {
				i = math.MinInt64
			}
		}
		return intVal(int64(int32(i))), tyInt
	case s == "true":
		return boolVal(true), tyBool
	case s == "false":
		return boolVal(false), tyBool
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	return value{s: s, ok: true}, tyStr
}

func isFloatDefine(s string) bool {
	if s == "" || s[0] == '.' || strings.Count(s, ".") != 1 {
		return false
	}
	return strings.Trim(s, "0123456789.") == ""
}

func (c *compiler) warn(msg string) {
	if c.opts.Warn != nil {
		c.opts.Warn(msg)
	}
}

func (c *compiler) newNamespace(name string) *namespace {
	ns := &namespace{name: name, idx: len(c.rules.namespaces), rules: map[string]int{},
		dropped: map[string]bool{}, imports: map[string]bool{}}
	c.rules.namespaces = append(c.rules.namespaces, name)
	return ns
}

func (c *compiler) addPattern(pat strmatch.Pattern, id string, pos Pos, file, src string, bodyOff int) int {
	r := c.rules
	r.patterns = append(r.patterns, pat)
	r.patRule = append(r.patRule, -1)
	r.patID = append(r.patID, id)
	r.patPos = append(r.patPos, pos)
	r.patFile = append(r.patFile, file)
	r.patSrc = append(r.patSrc, src)
	r.patOff = append(r.patOff, bodyOff)
	return len(r.patterns) - 1
}

// commitPatterns accepts the patterns of the rule just parsed.
func (c *compiler) commitPatterns() { c.committed = len(c.rules.patterns) }

// rollback forgets the patterns of a rule that was skipped.
func (c *compiler) rollback() {
	r := c.rules
	n := c.committed
	r.patterns, r.patRule, r.patID, r.patPos = r.patterns[:n], r.patRule[:n], r.patID[:n], r.patPos[:n]
	r.patFile, r.patSrc, r.patOff = r.patFile[:n], r.patSrc[:n], r.patOff[:n]
}

// Compile compiles one source text into namespace "default". filename is
// used in error messages and to resolve includes.
func Compile(src, filename string, opts CompileOptions) (*Rules, error) {
	c, err := newCompiler(opts)
	if err != nil {
		return nil, err
	}
	ns := c.newNamespace("default")
	if err := c.parseFile(filename, src, ns, 0); err != nil {
		return nil, err
	}
	return c.finish()
}

// CompileFiles compiles rule files and directories (searched recursively
// for .yar and .yara files, in lexical order). Each file is its own
// namespace, named by its path.
func CompileFiles(ctx context.Context, paths []string, opts CompileOptions) (*Rules, error) {
	c, err := newCompiler(opts)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("rules: %w", err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				ext := strings.ToLower(filepath.Ext(path))
				if ext == ".yar" || ext == ".yara" {
					files = append(files, path)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("rules: %w", err)
		}
	}
	if len(files) == 0 {
		return nil, errors.New("rules: no .yar or .yara files found")
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("rules: %w", err)
		}
		ns := c.newNamespace(f)
		if err := c.parseFile(f, string(data), ns, 0); err != nil {
			return nil, err
		}
	}
	return c.finish()
}

// finish builds the string matcher over all patterns.
func (c *compiler) finish() (*Rules, error) {
	r := c.rules
	r.skipped = c.skipped
	for {
		set, err := strmatch.Compile(r.patterns)
		if err == nil {
			r.set = set
			break
		}
		var pe *strmatch.PatternError
		if !errors.As(err, &pe) || pe.Index < 0 || pe.Index >= len(r.patterns) {
			return nil, fmt.Errorf("rules: %w", err)
		}
		e := c.patternError(pe)
		ri := r.patRule[pe.Index]
		if !c.opts.SkipUnsupported || ri < 0 {
			return nil, e
		}
		c.warn(fmt.Sprintf("%s:%d:%d: warning: %s; rule %q skipped", e.File, e.Line, e.Col, e.Msg, r.rules[ri].Name))
		c.dropRule(ri)
	}
	// As yarac does, name the strings whose atoms are so poor that they
	// slow every scan down.
	for _, i := range r.set.Slow() {
		if ri := r.patRule[i]; ri >= 0 {
			pos := r.patPos[i]
			c.warn(fmt.Sprintf("%s:%d:%d: warning: rule %q: string %s may slow down scanning", r.patFile[i], pos.Line, pos.Col, r.rules[ri].Name, r.patID[i]))
		}
	}
	// Source positions only serve compile errors.
	r.patPos, r.patFile, r.patSrc, r.patOff = nil, nil, nil, nil
	for i, ru := range r.rules {
		ru.idx = i
		if ru.nslots > r.maxSlots {
			r.maxSlots = ru.nslots
		}
	}
	return r, nil
}

func (c *compiler) patternError(pe *strmatch.PatternError) *Error {
	r := c.rules
	i := pe.Index
	pos := r.patPos[i]
	if r.patterns[i].Kind != strmatch.Text && r.patSrc[i] != "" {
		l := &lexer{src: r.patSrc[i]}
		pos = l.posAt(r.patOff[i] + pe.Offset)
	}
	return &Error{File: r.patFile[i], Line: pos.Line, Col: pos.Col,
		Msg: fmt.Sprintf("invalid string %q: %s", r.patID[i], pe.Msg)}
}

// dropRule removes rule ri and its patterns after parsing, renumbering the
// patterns of the rules that remain.
func (c *compiler) dropRule(ri int) {
	r := c.rules
	c.skipped++
	r.skipped = c.skipped
	keep := make([]int, 0, len(r.patterns))
	remap := make([]int, len(r.patterns))
	for i := range r.patterns {
		if r.patRule[i] == ri {
			remap[i] = -1
			continue
		}
		remap[i] = len(keep)
		keep = append(keep, i)
	}
	for dst, src := range keep {
		r.patterns[dst], r.patID[dst], r.patPos[dst], r.patFile[dst] = r.patterns[src], r.patID[src], r.patPos[src], r.patFile[src]
		r.patSrc[dst], r.patOff[dst] = r.patSrc[src], r.patOff[src]
		pr := r.patRule[src]
		if pr > ri {
			pr--
		}
		r.patRule[dst] = pr
	}
	n := len(keep)
	r.patterns, r.patID, r.patPos, r.patFile = r.patterns[:n], r.patID[:n], r.patPos[:n], r.patFile[:n]
	r.patSrc, r.patOff, r.patRule = r.patSrc[:n], r.patOff[:n], r.patRule[:n]
	r.rules = append(r.rules[:ri], r.rules[ri+1:]...)
	for _, ru := range r.rules {
		for k, s := range ru.strings {
			ru.strings[k] = remap[s]
		}
		remapNode(ru.cond, remap, ri)
	}
}

func remapNode(n *node, remap []int, deadRule int) {
	if n == nil {
		return
	}
	switch n.op {
	case opStrFound, opStrAt, opStrIn, opStrCount, opStrCountIn, opStrOffset, opStrLength:
		if n.str >= 0 {
			n.str = remap[n.str]
		}
	case opRule:
		if n.slot == deadRule {
			// The rule it referred to is gone: it can no longer match.
			*n = node{op: opConst, t: tyBool, val: boolVal(false), pos: n.pos}
		} else if n.slot > deadRule {
			n.slot--
		}
	}
	for k, s := range n.strs {
		n.strs[k] = remap[s]
	}
	out := n.rules[:0]
	for _, ri := range n.rules {
		if ri == deadRule {
			continue
		}
		if ri > deadRule {
			ri--
		}
		out = append(out, ri)
	}
	n.rules = out
	remapNode(n.a, remap, deadRule)
	remapNode(n.b, remap, deadRule)
	remapNode(n.c, remap, deadRule)
	for _, x := range n.args {
		remapNode(x, remap, deadRule)
	}
}

// Skipped is the number of rules dropped by SkipUnsupported.
func (r *Rules) Skipped() int { return r.skipped }

// NumRules is the number of compiled rules, private and global included.
func (r *Rules) NumRules() int { return len(r.rules) }

// RuleInfo describes one rule for tools that build test data.
type RuleInfo struct {
	Namespace, Name string
	Private, Global bool
	Strings         []NamedPattern
}

// NamedPattern is one string of a rule.
type NamedPattern struct {
	ID string
	strmatch.Pattern
}

// Info describes every rule in declaration order.
func (r *Rules) Info() []RuleInfo {
	out := make([]RuleInfo, 0, len(r.rules))
	for _, ru := range r.rules {
		ri := RuleInfo{Namespace: ru.Namespace, Name: ru.Name, Private: ru.Private, Global: ru.Global}
		for _, s := range ru.strings {
			ri.Strings = append(ri.Strings, NamedPattern{ID: r.patID[s], Pattern: r.patterns[s]})
		}
		out = append(out, ri)
	}
	return out
}
