package sigma

import (
	"regexp/syntax"
	"sort"
)

// The prefilter spares an event most rules of its log source. For each
// rule, Build derives from the condition a set of (field, text) needles of
// which at least one must occur in the lower-cased field value for the
// rule to match at all (an endswith '\cmd.exe' needs "\cmd.exe" in the
// field). Per event, each field some candidate rule needs is scanned once
// for all needles of that field, by their rarest four-byte gram, and a
// rule none of whose needles occur is not evaluated. Rules without such a
// set (negations only, regular expressions, numeric tests) are always
// evaluated.

const gramLen = 4

// maxClauses bounds the clauses checked beyond the triggering one.
const maxClauses = 3

type needle struct {
	fid    int
	s      string // lower-cased
	anchor int    // offset of the gram that indexes it
}

type prefilter struct {
	needles []needle
	rules   [][]int            // by needle: the rules (indexes) it stands for
	byGram  map[uint64][]int32 // fid<<32 | gram -> needles
	bloom   []uint64           // bit per hashed gram key: most positions skip the map
}

const bloomBits = 1 << 20

func bloomHash(k uint64) uint64 { return (k * 0x9E3779B97F4A7C15) >> (64 - 20) }

type needleRef struct {
	fid int
	s   string
}

func gramKey(fid int, s string, i int) uint64 {
	return uint64(fid)<<32 | uint64(s[i])<<24 | uint64(s[i+1])<<16 | uint64(s[i+2])<<8 | uint64(s[i+3])
}

// A clause is a needle set of which one must occur; a rule's clauses must
// all hold. needs returns the clauses necessary for c to hold.
func (r *Rule) needs(c cond, kw int) [][]needleRef {
	switch x := c.(type) {
	case condRef:
		return searchNeeds(r.searches[x.idx], kw)
	case condAnd:
		var all [][]needleRef
		for _, sub := range x {
			all = append(all, r.needs(sub, kw)...)
		}
		return all
	case condOr:
		var union []needleRef
		for _, sub := range x {
			cl := r.needs(sub, kw)
			if len(cl) == 0 {
				return nil
			}
			union = append(union, bestClause(cl)...)
		}
		return [][]needleRef{union}
	}
	return nil // not, constants
}

func bestClause(cl [][]needleRef) []needleRef {
	best := cl[0]
	for _, c := range cl[1:] {
		if better(c, best) {
			best = c
		}
	}
	return best
}

// better prefers the clause whose shortest needle is longest (more
// selective), then the smaller one.
func better(a, b []needleRef) bool {
	ma, mb := minLen(a), minLen(b)
	if ma != mb {
		return ma > mb
	}
	return len(a) < len(b)
}

func minLen(ns []needleRef) int {
	m := 1 << 30
	for _, n := range ns {
		m = min(m, len(n.s))
	}
	return m
}

func searchNeeds(s *search, kw int) [][]needleRef {
	if len(s.alts) == 1 {
		var all [][]needleRef
		for _, ft := range s.alts[0] {
			all = append(all, fieldNeeds(ft, kw)...)
		}
		return all
	}
	var union []needleRef
	for _, alt := range s.alts {
		var cl [][]needleRef
		for _, ft := range alt {
			cl = append(cl, fieldNeeds(ft, kw)...)
		}
		if len(cl) == 0 {
			return nil
		}
		union = append(union, bestClause(cl)...)
	}
	return [][]needleRef{union}
}

// fieldNeeds: kw is the pseudo field of keywords (every value of the
// event).
func fieldNeeds(ft *fieldTest, kw int) [][]needleRef {
	if ft.exists != 0 {
		return nil
	}
	fid := ft.fid
	if fid < 0 {
		fid = kw
	}
	group := func(g []valTest) ([]needleRef, bool) {
		var out []needleRef
		for i := range g {
			lit, ok := g[i].literal()
			if !ok || len(lit) < gramLen {
				return nil, false
			}
			out = append(out, needleRef{fid, lit})
		}
		return out, len(out) > 0
	}
	if ft.all {
		var cl [][]needleRef
		for _, g := range ft.groups {
			if n, ok := group(g); ok {
				cl = append(cl, n)
			}
		}
		return cl
	}
	var union []needleRef
	for _, g := range ft.groups {
		n, ok := group(g)
		if !ok {
			return nil
		}
		union = append(union, n...)
	}
	return [][]needleRef{union}
}

// literal is the longest lower-cased text a value match implies in the
// field.
func (vt *valTest) literal() (string, bool) {
	if vt.kind != vStr {
		return "", false
	}
	m := &vt.str
	switch m.kind {
	case mExact, mPrefix, mSuffix, mContains:
		if m.cased {
			return lower(m.s), true
		}
		return m.s, true
	case mGlob, mRegex:
		return m.globLiteral, m.globLiteral != ""
	}
	return "", false
}

// buildPrefilter indexes every rule's needles.
func (rs *Ruleset) buildPrefilter() {
	pf := &prefilter{byGram: map[uint64][]int32{}, bloom: make([]uint64, bloomBits/64)}
	ids := map[needleRef]int32{}
	intern := func(n needleRef) int32 {
		id, ok := ids[n]
		if !ok {
			id = int32(len(pf.needles))
			ids[n] = id
			pf.needles = append(pf.needles, needle{fid: n.fid, s: n.s})
			pf.rules = append(pf.rules, nil)
		}
		return id
	}
	for _, r := range rs.Rules {
		cl := r.needs(r.cond, rs.kwFid)
		if len(cl) == 0 {
			continue
		}
		// The most selective clause triggers the rule; up to maxClauses
		// more are checked before it is evaluated.
		sort.SliceStable(cl, func(i, j int) bool { return better(cl[i], cl[j]) })
		if len(cl) > maxClauses+1 {
			cl = cl[:maxClauses+1]
		}
		for k, c := range cl {
			seen := map[int32]bool{}
			var set []int32
			for _, n := range c {
				id := intern(n)
				if !seen[id] {
					seen[id] = true
					set = append(set, id)
				}
			}
			if k == 0 {
				r.needles = set
				for _, id := range set {
					pf.rules[id] = append(pf.rules[id], r.index)
				}
			} else {
				r.clauses = append(r.clauses, set)
			}
		}
	}
	// Anchor each needle at its rarest gram among the field's needles.
	count := map[uint64]int{}
	for _, n := range pf.needles {
		for i := 0; i+gramLen <= len(n.s); i++ {
			count[gramKey(n.fid, n.s, i)]++
		}
	}
	for id := range pf.needles {
		n := &pf.needles[id]
		best := 0
		for i := 1; i+gramLen <= len(n.s); i++ {
			if count[gramKey(n.fid, n.s, i)] < count[gramKey(n.fid, n.s, best)] {
				best = i
			}
		}
		n.anchor = best
		k := gramKey(n.fid, n.s, best)
		pf.byGram[k] = append(pf.byGram[k], int32(id))
		h := bloomHash(k)
		pf.bloom[h/64] |= 1 << (h % 64)
	}
	rs.pf = pf
}

// scanField marks the needles found in the field's lower-cased values.
func (m *Matcher) scanField(fid int) {
	m.scanned[fid] = m.gen
	var fv *fieldVal
	if fid == m.rs.kwFid {
		fv = m.allValues()
	} else {
		fv = m.field(fid)
	}
	pf := m.rs.pf
	for _, v := range fv.lo {
		if len(v) < gramLen {
			continue
		}
		hi := uint64(fid) << 32
		k := uint64(v[0])<<16 | uint64(v[1])<<8 | uint64(v[2])
		for i := 0; i+gramLen <= len(v); i++ {
			k = (k<<8 | uint64(v[i+3])) & 0xffffffff
			key := hi | k
			h := bloomHash(key)
			if pf.bloom[h/64]&(1<<(h%64)) == 0 {
				continue
			}
			for _, id := range pf.byGram[key] {
				n := &pf.needles[id]
				start := i - n.anchor
				if start >= 0 && start+len(n.s) <= len(v) && v[start:start+len(n.s)] == n.s && m.hitNeedle[id] != m.gen {
					m.hitNeedle[id] = m.gen
					m.found = append(m.found, id)
				}
			}
		}
	}
}

// longestLiteral is the longest literal run of a glob pattern.
func longestLiteral(p pattern) string {
	best := ""
	for _, t := range p {
		if t.wild == 0 && len(t.lit) > len(best) {
			best = t.lit
		}
	}
	return best
}

// requiredLiteral is the longest text every match of a regular expression
// contains (as the prefilter compares lower-cased text, case folding does
// not matter), or "".
func requiredLiteral(expr string) string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return ""
	}
	var walk func(re *syntax.Regexp) string
	walk = func(re *syntax.Regexp) string {
		switch re.Op {
		case syntax.OpLiteral:
			return string(re.Rune)
		case syntax.OpCapture, syntax.OpPlus:
			return walk(re.Sub[0])
		case syntax.OpRepeat:
			if re.Min >= 1 {
				return walk(re.Sub[0])
			}
		case syntax.OpConcat:
			best := ""
			for _, sub := range re.Sub {
				if l := walk(sub); len(l) > len(best) {
					best = l
				}
			}
			return best
		}
		return ""
	}
	return lower(walk(re))
}

// clausesHold checks a triggered rule's other clauses.
func (m *Matcher) clausesHold(r *Rule) bool {
	for _, set := range r.clauses {
		ok := false
		for _, id := range set {
			if m.hitNeedle[id] == m.gen {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
