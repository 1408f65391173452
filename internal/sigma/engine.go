package sigma

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/mamori-dev/mamori/internal/logevent"
)

// Options configure a Ruleset.
type Options struct {
	// Placeholders gives values for %name% in values with the expand
	// modifier; a placeholder without values matches nothing.
	Placeholders map[string][]string
}

// Ruleset is a set of compiled rules, indexed by log source so an event
// meets only the rules that can match it. Add rules, call Build once, then
// share it between any number of Matchers.
type Ruleset struct {
	Rules        []*Rule // detection rules, in load order
	Correlations []*Rule // correlation rules
	Refused      []Refusal

	c       *compiler
	built   bool
	winAll  *ruleList // product windows without category or service
	byChan  map[string]*chanIndex
	generic *ruleList // every non-Windows rule
	pf      *prefilter
	kwFid   int // pseudo field id the prefilter files keyword needles under
}

type winEntry struct {
	rule *Rule
	src  *winSource
}

type chanIndex struct {
	any   *ruleList
	byEID map[int64]*ruleList
}

// ruleList is the rules one index key selects, split for the prefilter:
// rules with needles are only evaluated when one of them occurs.
type ruleList struct {
	entries []winEntry
	always  []winEntry
	byRule  map[int]winEntry // rules with needles, by rule index
	fids    []int            // the fields those needles are on
}

func (l *ruleList) add(e winEntry) { l.entries = append(l.entries, e) }

func (l *ruleList) split(pf *prefilter) {
	l.byRule = map[int]winEntry{}
	fids := map[int]bool{}
	for _, e := range l.entries {
		if e.rule.needles == nil {
			l.always = append(l.always, e)
			continue
		}
		l.byRule[e.rule.index] = e
		for _, id := range e.rule.needles {
			fids[pf.needles[id].fid] = true
		}
		for _, set := range e.rule.clauses {
			for _, id := range set {
				fids[pf.needles[id].fid] = true
			}
		}
	}
	for f := range fids {
		l.fids = append(l.fids, f)
	}
	sort.Ints(l.fids)
	l.entries = nil
}

// New returns an empty Ruleset.
func New(opts Options) *Ruleset {
	return &Ruleset{c: &compiler{
		fields:       &fieldTable{ids: map[string]int{}},
		placeholders: opts.Placeholders,
	}}
}

// AddFile compiles the rules of one YAML file; rules that do not compile
// are recorded in Refused with the reason.
func (rs *Ruleset) AddFile(name string, data []byte) {
	rules, refused := parseFile(name, data, rs.c)
	rs.Refused = append(rs.Refused, refused...)
	for _, r := range rules {
		if r.Correlation != nil {
			rs.Correlations = append(rs.Correlations, r)
		} else {
			r.index = len(rs.Rules)
			rs.Rules = append(rs.Rules, r)
		}
	}
}

// AddFS adds every .yml and .yaml file under root in fsys, in lexical order.
func (rs *Ruleset) AddFS(fsys fs.FS, root string) error {
	return fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !isRuleFile(p) {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		rs.AddFile(p, data)
		return nil
	})
}

// AddPath adds a rule file, or every rule file under a directory.
func (rs *Ruleset) AddPath(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("sigma rules: %w", err)
	}
	if !st.IsDir() {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("sigma rules: %w", err)
		}
		rs.AddFile(path, data)
		return nil
	}
	return filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("sigma rules: %w", err)
		}
		if d.IsDir() || !isRuleFile(p) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("sigma rules: %w", err)
		}
		rs.AddFile(p, data)
		return nil
	})
}

func isRuleFile(p string) bool {
	return strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")
}

// Build resolves correlation references and indexes the rules. Rules added
// after Build are not seen.
func (rs *Ruleset) Build() {
	if rs.built {
		return
	}
	rs.built = true
	rs.resolveCorrelations()
	rs.kwFid = rs.c.fields.id("\x00keywords")
	rs.buildPrefilter()
	rs.byChan = map[string]*chanIndex{}
	rs.winAll, rs.generic = &ruleList{}, &ruleList{}
	for _, r := range rs.Rules {
		if !r.src.windows {
			rs.generic.add(winEntry{rule: r})
			continue
		}
		if r.src.wins == nil {
			rs.winAll.add(winEntry{rule: r})
			continue
		}
		for i := range r.src.wins {
			w := &r.src.wins[i]
			key := strings.ToLower(w.channel)
			ci := rs.byChan[key]
			if ci == nil {
				ci = &chanIndex{any: &ruleList{}, byEID: map[int64]*ruleList{}}
				rs.byChan[key] = ci
			}
			if len(w.eventIDs) == 0 {
				ci.any.add(winEntry{r, w})
			}
			for _, id := range w.eventIDs {
				l := ci.byEID[id]
				if l == nil {
					l = &ruleList{}
					ci.byEID[id] = l
				}
				l.add(winEntry{r, w})
			}
		}
	}
	rs.winAll.split(rs.pf)
	rs.generic.split(rs.pf)
	for _, ci := range rs.byChan {
		ci.any.split(rs.pf)
		for _, l := range ci.byEID {
			l.split(rs.pf)
		}
	}
}

func (rs *Ruleset) resolveCorrelations() {
	byName := map[string]*Rule{}
	for _, r := range rs.Rules {
		if r.Name != "" {
			byName[r.Name] = r
		}
		if r.ID != "" {
			byName[r.ID] = r
		}
	}
	for _, r := range rs.Correlations {
		if r.Name != "" {
			byName[r.Name] = r
		}
		if r.ID != "" {
			byName[r.ID] = r
		}
	}
	var ok []*Rule
	for _, r := range rs.Correlations {
		var missing []string
		r.Correlation.refs = nil
		for _, name := range r.Correlation.Rules {
			ref := byName[name]
			if ref == nil || ref == r {
				missing = append(missing, name)
				continue
			}
			r.Correlation.refs = append(r.Correlation.refs, ref)
		}
		if len(missing) > 0 {
			rs.Refused = append(rs.Refused, Refusal{File: r.File, Title: r.Title, Reason: "correlation names unknown rules: " + strings.Join(missing, ", ")})
			continue
		}
		ok = append(ok, r)
	}
	// Drop correlations caught in a cycle or built on a refused one.
	for changed := true; changed; {
		changed = false
		live := map[*Rule]bool{}
		for _, r := range ok {
			live[r] = true
		}
		var keep []*Rule
		for _, r := range ok {
			good := true
			for _, ref := range r.Correlation.refs {
				if ref.Correlation != nil && !live[ref] {
					good = false
				}
			}
			if good {
				keep = append(keep, r)
			} else {
				rs.Refused = append(rs.Refused, Refusal{File: r.File, Title: r.Title, Reason: "correlation builds on a refused correlation"})
				changed = true
			}
		}
		ok = keep
	}
	order, cyclic := topoOrder(ok)
	for _, r := range cyclic {
		rs.Refused = append(rs.Refused, Refusal{File: r.File, Title: r.Title, Reason: "correlation references form a cycle"})
	}
	rs.Correlations = order
	for _, r := range order {
		for _, ref := range r.Correlation.refs {
			ref.correlated = true
			if !r.Correlation.Generate {
				ref.suppressed = true
			}
		}
	}
}

func topoOrder(rules []*Rule) (order, cyclic []*Rule) {
	done := map[*Rule]bool{}
	in := map[*Rule]bool{}
	for _, r := range rules {
		in[r] = true
	}
	for len(order)+len(cyclic) < len(rules) {
		progressed := false
		for _, r := range rules {
			if done[r] {
				continue
			}
			ready := true
			for _, ref := range r.Correlation.refs {
				if ref.Correlation != nil && in[ref] && !done[ref] {
					ready = false
				}
			}
			if ready {
				done[r] = true
				order = append(order, r)
				progressed = true
			}
		}
		if !progressed {
			for _, r := range rules {
				if !done[r] {
					done[r] = true
					cyclic = append(cyclic, r)
				}
			}
		}
	}
	return order, cyclic
}

// Suppressed reports whether the rule's hits only feed correlations
// (a correlation references it without generate: true).
func (r *Rule) Suppressed() bool { return r.suppressed }

// Hit is one rule matching one event.
type Hit struct {
	Rule    *Rule
	Matched []FieldMatch
}

// FieldMatch is a field whose test held, with the event's value.
type FieldMatch struct {
	Field string `json:"field"`
	Value string `json:"value"`
}

// Matcher evaluates events against a built Ruleset. It caches per event and
// is not safe for concurrent use: give each goroutine its own.
type Matcher struct {
	rs      *Ruleset
	gen     uint32
	cache   []fieldVal
	all     fieldVal // every value of the event, for keywords
	ev      *logevent.Event
	aliases map[string]string
	lists   []*ruleList
	hits    []Hit

	spacedGen   uint32
	spacedNames map[string]string

	scanned   []uint32 // by field id: gen when the prefilter scanned it
	hitNeedle []uint32 // by needle id: gen when found
	found     []int32  // needles found in this event
	arena     []byte   // lower-cased values of this event
	tried     []uint32 // by rule index: gen when considered through a needle
}

type fieldVal struct {
	gen     uint32
	present bool
	null    bool
	ascii   bool // every value is ASCII
	raw, lo []string
}

// NewMatcher returns a Matcher for rs, building rs if needed.
func (rs *Ruleset) NewMatcher() *Matcher {
	rs.Build()
	n := len(rs.c.fields.names)
	return &Matcher{rs: rs, cache: make([]fieldVal, n), scanned: make([]uint32, n),
		hitNeedle: make([]uint32, len(rs.pf.needles)), tried: make([]uint32, len(rs.Rules))}
}

// Match returns the rules e matches, in rule order. The slice is reused by
// the next call.
func (m *Matcher) Match(e *logevent.Event) []Hit {
	m.gen++
	if m.gen == 0 {
		for i := range m.cache {
			m.cache[i].gen = 0
		}
		clear(m.scanned)
		clear(m.hitNeedle)
		clear(m.tried)
		m.all.gen = 0
		m.gen = 1
	}
	m.ev = e
	m.aliases = nil
	m.hits = m.hits[:0]
	if cap(m.arena) > 1<<20 {
		m.arena = nil // one huge event should not pin its arena
	}
	m.arena = m.arena[:0]
	m.found = m.found[:0]
	lists := m.lists[:0]
	if e.Channel != "" {
		lists = append(lists, m.rs.winAll)
		if ci := m.rs.byChan[strings.ToLower(e.Channel)]; ci != nil {
			lists = append(lists, ci.any)
			if l := ci.byEID[e.EventID]; l != nil {
				lists = append(lists, l)
			}
		}
		if e.EventID == 4688 && strings.EqualFold(e.Channel, "Security") {
			m.aliases = securityAliases
		}
	} else {
		lists = append(lists, m.rs.generic)
	}
	m.lists = lists
	for _, l := range lists {
		for _, fid := range l.fids {
			if m.scanned[fid] != m.gen {
				m.scanField(fid)
			}
		}
	}
	for _, l := range lists {
		for _, c := range l.always {
			m.consider(c)
		}
	}
	for _, id := range m.found {
		for _, ri := range m.rs.pf.rules[id] {
			if m.tried[ri] == m.gen {
				continue
			}
			m.tried[ri] = m.gen
			for _, l := range lists {
				if c, ok := l.byRule[ri]; ok {
					if m.clausesHold(c.rule) {
						m.consider(c)
					}
					break
				}
			}
		}
	}
	if len(m.hits) > 1 {
		sort.Slice(m.hits, func(i, j int) bool { return m.hits[i].Rule.index < m.hits[j].Rule.index })
	}
	return m.hits
}

func (m *Matcher) consider(c winEntry) {
	if c.src != nil && !m.sourceDetail(c.src) {
		return
	}
	if !c.rule.src.windows && !c.rule.src.matchGeneric(m.ev) {
		return
	}
	st := ruleEval{m: m, r: c.rule}
	if c.rule.cond.eval(&st) {
		m.hits = append(m.hits, Hit{Rule: c.rule, Matched: m.explain(c.rule)})
	}
}

func (m *Matcher) sourceDetail(w *winSource) bool {
	e := m.ev
	if w.provider != "" && e.Provider != "" && !strings.EqualFold(w.provider, e.Provider) {
		return false
	}
	if len(w.eventTypes) > 0 {
		v, _ := e.Get("EventType")
		s := logevent.String(v)
		for _, t := range w.eventTypes {
			if strings.EqualFold(s, t) {
				return true
			}
		}
		return false
	}
	return true
}

// ruleEval is the state of evaluating one rule on one event.
type ruleEval struct {
	m *Matcher
	r *Rule
}

func (st *ruleEval) search(idx int) bool {
	for _, alt := range st.r.searches[idx].alts {
		if st.m.alt(alt) {
			return true
		}
	}
	return false
}

func (m *Matcher) alt(tests []*fieldTest) bool {
	for _, ft := range tests {
		if !m.test(ft) {
			return false
		}
	}
	return true
}

func (m *Matcher) field(fid int) *fieldVal {
	fv := &m.cache[fid]
	if fv.gen == m.gen {
		return fv
	}
	fv.gen = m.gen
	fv.raw, fv.lo = fv.raw[:0], fv.lo[:0]
	fv.ascii = true
	name := m.rs.c.fields.names[fid]
	v, ok := m.ev.Get(name)
	if !ok && m.aliases != nil {
		if a, has := m.aliases[name]; has {
			v, ok = m.ev.Get(a)
		}
	}
	if !ok {
		v, ok = m.spaced(name)
	}
	fv.present, fv.null = ok, ok && v == nil
	if ok {
		m.add(fv, v)
	}
	return fv
}

// spaced finds a field the record names with spaces where rules write it
// without (Defender's "Threat Name" is ThreatName in Sigma rules).
func (m *Matcher) spaced(name string) (any, bool) {
	if m.spacedGen != m.gen {
		m.spacedGen = m.gen
		clear(m.spacedNames)
		for k := range m.ev.Fields {
			if strings.IndexByte(k, ' ') >= 0 {
				if m.spacedNames == nil {
					m.spacedNames = map[string]string{}
				}
				m.spacedNames[strings.ReplaceAll(k, " ", "")] = k
			}
		}
	}
	if k, ok := m.spacedNames[name]; ok {
		return m.ev.Fields[k], true
	}
	return nil, false
}

func (m *Matcher) add(fv *fieldVal, v any) {
	if l, ok := v.([]any); ok {
		for _, x := range l {
			m.add(fv, x)
		}
		return
	}
	s := logevent.String(v)
	fv.ascii = fv.ascii && isASCII(s)
	fv.raw = append(fv.raw, s)
	fv.lo = append(fv.lo, m.lower(s))
}

// lower is lower() without an allocation per value for ASCII text: the
// lower-cased copies live in an arena reused from event to event (no
// lower-cased value outlives the event it was made for).
func (m *Matcher) lower(s string) string {
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return strings.ToLower(s)
		}
		upper = upper || c >= 'A' && c <= 'Z'
	}
	if !upper {
		return s
	}
	start := len(m.arena)
	m.arena = append(m.arena, s...)
	b := m.arena[start:]
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return unsafe.String(&b[0], len(b))
}

func (m *Matcher) allValues() *fieldVal {
	fv := &m.all
	if fv.gen == m.gen {
		return fv
	}
	fv.gen = m.gen
	fv.raw, fv.lo = fv.raw[:0], fv.lo[:0]
	fv.ascii = true
	fv.present = true
	for _, v := range m.ev.Fields {
		m.add(fv, v)
	}
	return fv
}

func (m *Matcher) test(ft *fieldTest) bool {
	var fv *fieldVal
	if ft.fid < 0 {
		fv = m.allValues()
	} else {
		fv = m.field(ft.fid)
	}
	if ft.exists != 0 {
		return fv.present == (ft.exists > 0)
	}
	groups := ft.groups
	if fv.ascii {
		if ft.all && ft.nonASCII {
			return false
		}
		groups = ft.asciiGroups
	}
	if ft.all {
		for _, g := range groups {
			if !m.group(fv, g) {
				return false
			}
		}
		return true
	}
	for _, g := range groups {
		if m.group(fv, g) {
			return true
		}
	}
	return false
}

func (m *Matcher) group(fv *fieldVal, g []valTest) bool {
	for i := range g {
		if m.value(fv, &g[i]) {
			return true
		}
	}
	return false
}

func (m *Matcher) value(fv *fieldVal, vt *valTest) bool {
	switch vt.kind {
	case vNull:
		if !fv.present || fv.null {
			return true
		}
		for _, s := range fv.raw {
			if s != "" {
				return false
			}
		}
		return true
	case vNever:
		return false
	}
	if !fv.present {
		return false
	}
	for i, raw := range fv.raw {
		switch vt.kind {
		case vStr:
			if vt.str.match(raw, fv.lo[i]) {
				return true
			}
		case vCIDR:
			if ip := net.ParseIP(strings.TrimSpace(raw)); ip != nil && vt.cidr.Contains(ip) {
				return true
			}
		case vCmp:
			f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
			if err != nil {
				continue
			}
			switch vt.op {
			case "lt":
				if f < vt.num {
					return true
				}
			case "lte":
				if f <= vt.num {
					return true
				}
			case "gt":
				if f > vt.num {
					return true
				}
			case "gte":
				if f >= vt.num {
					return true
				}
			}
		case vRef:
			other := m.field(vt.ref)
			for j := range other.raw {
				a, b := fv.lo[i], other.lo[j]
				if vt.cased {
					a, b = raw, other.raw[j]
				}
				var ok bool
				switch vt.refOp {
				case mExact:
					ok = a == b
				case mContains:
					ok = strings.Contains(a, b)
				case mPrefix:
					ok = strings.HasPrefix(a, b)
				case mSuffix:
					ok = strings.HasSuffix(a, b)
				}
				if ok {
					return true
				}
			}
		}
	}
	return false
}

// explain lists the fields whose tests held in the searches that held.
func (m *Matcher) explain(r *Rule) []FieldMatch {
	var out []FieldMatch
	seen := map[string]bool{}
	for _, s := range r.searches {
		for _, alt := range s.alts {
			if !m.alt(alt) {
				continue
			}
			for _, ft := range alt {
				name := ft.field
				var fv *fieldVal
				if ft.fid < 0 {
					name = "keywords"
					fv = m.allValues()
				} else {
					fv = m.field(ft.fid)
				}
				val := ""
				for i := range fv.raw {
					if ft.fid >= 0 || m.anyGroup(fv.raw[i], fv.lo[i], ft) {
						val = fv.raw[i]
						break
					}
				}
				if ft.fid >= 0 && len(fv.raw) > 1 {
					val = strings.Join(fv.raw, ", ")
				}
				if seen[name+"\x00"+val] {
					continue
				}
				seen[name+"\x00"+val] = true
				out = append(out, FieldMatch{Field: name, Value: val})
			}
			break
		}
	}
	return out
}

func (m *Matcher) anyGroup(raw, lo string, ft *fieldTest) bool {
	one := fieldVal{gen: m.gen, present: true, raw: []string{raw}, lo: []string{lo}}
	for _, g := range ft.groups {
		if m.group(&one, g) {
			return true
		}
	}
	return false
}

// Correlated reports whether some correlation references the rule.
func (r *Rule) Correlated() bool { return r.correlated }
