package strmatch

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"sync"
)

// maxMatches is libyara's YR_MAX_STRING_MATCHES: after this many matches a
// string is not searched further in the same scan.
const maxMatches = 1000000

// piece is one unit the scanner verifies: a text string, or a regex or hex
// string, or one part of a hex string split at a long jump.
type piece struct {
	pat int
	// Text strings.
	text       bool
	s          []byte // unescaped text
	nocase     bool
	ascii      bool
	wide       bool
	xor        bool
	fullword   bool
	xmin, xmax int

	// Regex and hex strings.
	fwd, bwd *prog
	// Hex strings without alternatives run as fast steps instead, reporting
	// the shortest match; fpc and bpc in their atom refs are step indexes.
	fast   bool
	elems  []fastElem
	greedy bool // regex with greedy quantifiers: later matches replace
	// Chaining: the previous piece of the same string and the allowed gap
	// between its end and this piece's start.
	prev           int
	gapMin, gapMax int
	next           int
	// entry is where verification starts for a piece without atoms, and
	// pre the byte tests a match from there must pass.
	entry int32
	pre   int32
}

// Set is a compiled group of patterns, safe for concurrent Scan calls.
type Set struct {
	n      int
	pieces []piece
	heads  [][]int // per pattern: its pieces in order
	idx    atomIndex
	slow   []int // patterns without atoms
	// slowPieces are verified at every offset.
	slowPieces []int
	pre        []check
	classes    map[[256]bool]*[256]bool // interned byte classes
	runs       []slowRun
	runTable   [256]uint64
	slowEvery  []int
	pool       sync.Pool
}

// Compile builds a Set. Errors are *PatternError.
func Compile(ps []Pattern) (*Set, error) {
	s := &Set{n: len(ps), heads: make([][]int, len(ps)), classes: map[[256]bool]*[256]bool{}}
	var b indexBuilder
	for i := range ps {
		if err := s.add(i, &ps[i], &b); err != nil {
			return nil, err
		}
	}
	s.idx = b.build()
	s.classes = nil
	s.planSlow()
	s.pool.New = func() any { return &scratch{lists: make([][]pm, len(s.pieces))} }
	return s, nil
}

// Slow lists, in increasing order, the patterns whose atoms are poor or
// missing (then they are verified at every offset of the data): the
// strings for which libyara warns that they slow down scanning.
func (s *Set) Slow() []int { return append([]int(nil), s.slow...) }

func (s *Set) markSlow(i int) {
	if len(s.slow) == 0 || s.slow[len(s.slow)-1] != i {
		s.slow = append(s.slow, i)
	}
}

func (s *Set) add(i int, p *Pattern, b *indexBuilder) error {
	perr := func(off int, msg string) error { return &PatternError{Index: i, Offset: off, Msg: msg} }
	ascii := p.Ascii || !p.Wide
	switch p.Kind {
	case Text:
		if len(p.Text) == 0 {
			return perr(0, "empty string")
		}
		if p.Base64 || p.Base64Wide {
			return s.addBase64(i, p, b)
		}
		pc := piece{pat: i, text: true, s: p.Text, nocase: p.Nocase, ascii: ascii, wide: p.Wide,
			xor: p.Xor, fullword: p.Fullword, xmin: p.XorMin, xmax: p.XorMax, prev: -1, next: -1}
		id := len(s.pieces)
		s.pieces = append(s.pieces, pc)
		s.heads[i] = []int{id}
		s.textAtoms(id, b)
		return nil
	case Hex:
		root, fast, err := parseHex(p.Hex)
		if err != nil {
			return perr(err.off, err.msg)
		}
		return s.addTree(i, root, fast, false, false, true, true, false, p.Fullword, b, perr)
	case Regex:
		root, greedy, err := parseRegex(p.Regex)
		if err != nil {
			return perr(err.off, err.msg)
		}
		return s.addTree(i, root, false, greedy, p.RegexNocase || p.Nocase, p.RegexDotAll, ascii, p.Wide, p.Fullword, b, perr)
	}
	return perr(0, fmt.Sprintf("unknown pattern kind %d", p.Kind))
}

// textAtoms registers the atoms of a text string: the best window of each
// encoding, with case variants and xor keys.
func (s *Set) textAtoms(id int, b *indexBuilder) {
	pc := &s.pieces[id]
	var encs [][]byte
	if pc.ascii {
		encs = append(encs, pc.s)
	}
	if pc.wide {
		encs = append(encs, widen(pc.s))
	}
	if _, q := bestWindow(pc.s); q < slowQuality {
		s.markSlow(pc.pat)
	}
	for _, e := range encs {
		d, _ := bestWindow(e)
		atom := e[d:min(len(e), d+maxAtom)]
		ref := atomRef{piece: int32(id), back: int32(d), fpc: -1, bpc: -1, pre: -1, bpre: -1}
		var after []byte
		if d+maxAtom < len(e) {
			after = e[d+maxAtom : min(len(e), d+2*maxAtom)]
		}
		switch {
		case pc.nocase:
			ref.next, ref.nextMask = nextCheck(after, 0, true)
			for _, v := range caseVariants(atom) {
				b.add(v, ref)
			}
		case pc.xor:
			for k := pc.xmin; k <= pc.xmax; k++ {
				v := make([]byte, len(atom))
				for j := range atom {
					v[j] = atom[j] ^ byte(k)
				}
				r := ref
				r.next, r.nextMask = nextCheck(after, byte(k), false)
				b.add(v, r)
			}
		default:
			ref.next, ref.nextMask = nextCheck(after, 0, false)
			b.add(atom, ref)
		}
	}
}

// nextCheck packs the bytes expected right after a four-byte atom into a
// value and mask for atomRef; letters compare without case when fold.
func nextCheck(after []byte, xor byte, fold bool) (val, mask uint32) {
	for j, c := range after {
		m := uint32(0xFF)
		if fold && altCase(c) != c {
			m = 0xDF
		}
		val |= uint32(c^xor) & m << (8 * j)
		mask |= m << (8 * j)
	}
	return val, mask
}

// testsCheck is nextCheck for the byte tests of a precheck, from the
// fifth on.
func testsCheck(tests []inst) (val, mask uint32) {
	for j := maxAtom; j < len(tests) && j < 2*maxAtom; j++ {
		if t := tests[j]; t.op == opByte {
			val |= uint32(t.val&t.mask) << (8 * (j - maxAtom))
			mask |= uint32(t.mask) << (8 * (j - maxAtom))
		}
	}
	return val, mask
}

// addBase64 turns a base64 string into the alternation libyara builds: the
// three shifted encodings with their edge characters trimmed.
func (s *Set) addBase64(i int, p *Pattern, b *indexBuilder) error {
	alpha := p.Base64Alphabet
	if alpha == "" {
		alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	}
	if len(alpha) != 64 {
		return &PatternError{Index: i, Msg: "length of base64 alphabet must be 64"}
	}
	var alts []*node
	addEnc := func(src []byte, wide bool) {
		for shift := 0; shift <= 2; shift++ {
			if shift == 1 && len(src) == 1 {
				continue
			}
			enc := base64Shifted(src, alpha, shift, wide)
			lits := make([]*node, len(enc))
			for j, c := range enc {
				lits[j] = &node{kind: nLit, val: c, mask: 0xFF}
			}
			alts = append(alts, &node{kind: nConcat, kids: lits})
		}
	}
	// With wide, libyara encodes the UTF-16 form of the text, first.
	var srcs [][]byte
	if p.Wide {
		srcs = append(srcs, widen(p.Text))
	}
	if p.Ascii || !p.Wide {
		srcs = append(srcs, p.Text)
	}
	for _, src := range srcs {
		if p.Base64 {
			addEnc(src, false)
		}
		if p.Base64Wide {
			addEnc(src, true)
		}
	}
	root := &node{kind: nConcat, kids: []*node{{kind: nAlt, kids: alts}}}
	perr := func(off int, msg string) error { return &PatternError{Index: i, Offset: off, Msg: msg} }
	return s.addTree(i, root, false, false, false, false, true, false, p.Fullword, b, perr)
}

func base64Shifted(src []byte, alpha string, shift int, wide bool) []byte {
	in := make([]byte, 0, len(src)+shift)
	for j := 0; j < shift; j++ {
		in = append(in, 'A')
	}
	in = append(in, src...)
	pad := 0
	if r := len(in) % 3; r != 0 {
		pad = 3 - r
	}
	var out []byte
	j := 0
	for ; len(in)-j >= 3; j += 3 {
		out = append(out, alpha[in[j]>>2], alpha[(in[j]&3)<<4|in[j+1]>>4],
			alpha[(in[j+1]&0xf)<<2|in[j+2]>>6], alpha[in[j+2]&0x3f])
	}
	switch len(in) - j {
	case 1:
		out = append(out, alpha[in[j]>>2], alpha[(in[j]&3)<<4], '=', '=')
	case 2:
		out = append(out, alpha[in[j]>>2], alpha[(in[j]&3)<<4|in[j+1]>>4], alpha[(in[j+1]&0xf)<<2], '=')
	}
	lead, trail := 0, 0
	if shift > 0 {
		lead = shift + 1
	}
	if pad > 0 {
		trail = pad + 1
	}
	out = out[lead : len(out)-trail]
	if wide {
		return widen(out)
	}
	return out
}

// addTree compiles a regex or hex tree, splitting it at long lazy jumps
// into chained pieces as libyara does.
func (s *Set) addTree(i int, root *node, fast, greedy, nocase, dotall, ascii, wide, fullword bool, b *indexBuilder, perr func(int, string) error) error {
	parts := [][]*node{}
	gaps := [][2]int{}
	if root.kind == nConcat {
		cur := []*node{}
		for j, k := range root.kids {
			if k.kind == nRangeAny && !k.greedy && j > 0 && j < len(root.kids)-1 && len(cur) > 0 &&
				(k.min > chainThreshold || k.max > chainThreshold) {
				parts = append(parts, cur)
				gaps = append(gaps, [2]int{k.min, k.max})
				cur = []*node{}
				continue
			}
			cur = append(cur, k)
		}
		parts = append(parts, cur)
	} else {
		parts = append(parts, []*node{root})
	}
	prev := -1
	for pi, part := range parts {
		var tree *node
		if len(part) == 1 && root.kind != nConcat {
			tree = part[0]
		} else {
			tree = &node{kind: nConcat, kids: part}
		}
		pc := piece{pat: i, fast: fast, greedy: greedy, nocase: nocase,
			ascii: ascii, wide: wide, fullword: fullword, prev: prev, next: -1}
		var fwd, bwd *prog
		var elemAt map[*node]int
		if fast {
			elemAt = map[*node]int{}
			pc.elems = flattenFast(tree, nil, elemAt)
		} else {
			var err error
			if fwd, err = compileProg(tree, nocase, dotall, false, s.classes); err != nil {
				return perr(0, err.Error())
			}
			if bwd, err = compileProg(tree, nocase, dotall, true, s.classes); err != nil {
				return perr(0, err.Error())
			}
			pc.fwd, pc.bwd = fwd, bwd
		}
		if pi > 0 {
			pc.gapMin, pc.gapMax = gaps[pi-1][0], gaps[pi-1][1]
		}
		pc.pre = -1
		switch {
		case fast:
			pc.pre = s.addCheck(fastPrecheck(pc.elems, 0, false))
		case !wide:
			pc.entry = entryPC(tree)
			pc.pre = s.addCheck(fwd.precheck(pc.entry, 256))
		default:
			pc.entry = entryPC(tree)
		}
		id := len(s.pieces)
		s.pieces = append(s.pieces, pc)
		if prev >= 0 {
			s.pieces[prev].next = id
		}
		prev = id
		s.heads[i] = append(s.heads[i], id)

		cands, q, ok := chooseAtoms(tree, nocase)
		if !ok || q < slowQuality {
			s.markSlow(i)
		}
		if !ok {
			s.slowPieces = append(s.slowPieces, id)
			continue
		}
		for _, c := range cands {
			ref := atomRef{piece: int32(id), pre: -1, bpre: -1}
			switch {
			case fast:
				k := int32(elemAt[c.n])
				ref.fpc, ref.bpc = k, k
				ref.pre = s.addCheck(fastPrecheck(pc.elems, int(k), false))
				ref.bpre = s.addCheck(fastPrecheck(pc.elems, int(k), true))
				ref.next, ref.nextMask = testsCheck(s.pre[ref.pre].tests)
			case !wide:
				ref.fpc, ref.bpc = fwd.at[c.n], bwd.at[c.n]
				ref.pre = s.addCheck(fwd.precheck(ref.fpc, 256))
				ref.bpre = s.addCheck(bwd.precheck(ref.bpc, 256))
				ref.next, ref.nextMask = testsCheck(s.pre[ref.pre].tests)
			default:
				ref.fpc, ref.bpc = fwd.at[c.n], bwd.at[c.n]
			}
			for _, v := range c.vals {
				if ascii {
					b.add(v, ref)
				}
				if wide {
					b.add(widen(v[:min(2, len(v))]), ref)
				}
			}
		}
	}
	return nil
}

// entryPC mirrors where libyara's code for a whole expression begins: for
// an expression starting with an optional item (x? or x??) it points past
// the split, at the item itself, so such an item is then required.
func entryPC(n *node) int32 {
	for n.kind == nConcat && len(n.kids) > 0 {
		n = n.kids[0]
	}
	if n.kind == nRepeat && n.min == 0 && n.max == 1 {
		return 1
	}
	return 0
}

// check is a precheck (see prog.precheck).
type check struct {
	tests []inst
	full  bool
}

func (s *Set) addCheck(tests []inst, full bool) int32 {
	s.pre = append(s.pre, check{tests, full})
	return int32(len(s.pre) - 1)
}

// pm is a match of one piece.
type pm struct {
	off int64
	n   int32
}

type scratch struct {
	vm       vm
	lists    [][]pm
	touched  []int
	full     []bool
	pats     []int
	runStart []int

	// ctx is polled every 64 verifications, so that a timeout or
	// a signal ends a scan that hostile patterns or data keep busy.
	ctx     context.Context
	tick    uint32
	stopped bool
}

// halt reports whether the scan must stop, polling ctx now and then.
func (sc *scratch) halt() bool {
	if sc.stopped {
		return true
	}
	sc.tick++
	if sc.tick&63 == 0 && sc.ctx.Err() != nil {
		sc.stopped = true
	}
	return sc.stopped
}

// Scan reports every match of every pattern in data, grouped by pattern
// in index order and sorted by offset within a pattern.
func (s *Set) Scan(data []byte, visit func(Match)) {
	s.ScanContext(context.Background(), data, visit)
}

// ScanContext is Scan that gives up when ctx is done, returning ctx's error
// (matches found until then are not reported). full lists, in order, the
// patterns that reached libyara's limit of matches per string and were not
// searched further: their matches are incomplete.
func (s *Set) ScanContext(ctx context.Context, data []byte, visit func(Match)) (full []int, err error) {
	sc := s.pool.Get().(*scratch)
	defer s.pool.Put(sc)
	if len(sc.full) != len(s.pieces) {
		sc.full = make([]bool, len(s.pieces))
	}
	sc.ctx, sc.tick, sc.stopped = ctx, 0, false
	defer func() { sc.ctx = nil }()
	s.idx.each(data, func(r *atomRef, at int) {
		if sc.halt() {
			return
		}
		if r.nextMask != 0 && at+2*maxAtom <= len(data) &&
			binary.LittleEndian.Uint32(data[at+maxAtom:])&r.nextMask != r.next {
			return
		}
		pc := &s.pieces[r.piece]
		if sc.full[r.piece] {
			return
		}
		if pc.text {
			if st := at - int(r.back); st >= 0 {
				s.verifyText(sc, int(r.piece), data, st)
			}
			return
		}
		s.verifyTree(sc, int(r.piece), data, at, r.fpc, r.bpc, r.pre, r.bpre)
	})
	s.scanRuns(sc, data)
	for _, id := range s.slowEvery {
		pc := &s.pieces[id]
		for at := 0; at < len(data) && !sc.full[id] && !sc.halt(); at++ {
			s.verifyTree(sc, id, data, at, pc.entry, -1, pc.pre, -1)
		}
	}
	if sc.stopped {
		err = ctx.Err()
	} else {
		s.deliver(sc, visit)
	}
	for _, id := range sc.touched {
		if sc.full[id] && (len(full) == 0 || full[len(full)-1] != s.pieces[id].pat) {
			full = append(full, s.pieces[id].pat)
		}
		sc.lists[id] = sc.lists[id][:0]
		sc.full[id] = false
	}
	sc.touched = sc.touched[:0]
	sort.Ints(full)
	full = slices.Compact(full)
	return full, err
}

// slowRun describes a piece without atoms whose matches start with a run
// of h equal byte tests (as in [\x01-\x7F]{44}): only offsets starting a
// long enough run need verifying, and when the piece is nothing but that
// run (every), each such offset is a match.
type slowRun struct {
	id    int
	h     int
	every bool
}

// planSlow sorts the pieces without atoms into those found through runs
// (at most 64, sharing one table of which bytes start whose runs) and the
// rest, verified at every offset.
func (s *Set) planSlow() {
	for _, id := range s.slowPieces {
		pc := &s.pieces[id]
		if pc.pre < 0 || len(s.runs) == 64 {
			s.slowEvery = append(s.slowEvery, id)
			continue
		}
		c := &s.pre[pc.pre]
		h := 0
		for h < len(c.tests) && c.tests[h] == c.tests[0] {
			h++
		}
		if h == 0 {
			s.slowEvery = append(s.slowEvery, id)
			continue
		}
		bit := uint64(1) << len(s.runs)
		for b := 0; b < 256; b++ {
			if c.tests[0].test(byte(b)) {
				s.runTable[b] |= bit
			}
		}
		s.runs = append(s.runs, slowRun{id: id, h: h, every: c.full && h == len(c.tests) && !pc.fullword})
	}
}

// scanRuns finds the runs of all run-based pieces in one pass.
func (s *Set) scanRuns(sc *scratch, data []byte) {
	if len(s.runs) == 0 {
		return
	}
	starts := sc.runStart[:0]
	for range s.runs {
		starts = append(starts, 0)
	}
	sc.runStart = starts
	var prev uint64
	n := len(data)
	for at := 0; at <= n; at++ {
		var v uint64
		if at < n {
			v = s.runTable[data[at]]
		}
		ch := v ^ prev
		if ch == 0 {
			continue
		}
		for ch != 0 {
			i := bits.TrailingZeros64(ch)
			ch &= ch - 1
			if v>>i&1 == 1 {
				starts[i] = at
			} else {
				s.runEnded(sc, &s.runs[i], data, starts[i], at)
			}
		}
		prev = v
	}
}

func (s *Set) runEnded(sc *scratch, r *slowRun, data []byte, start, end int) {
	pc := &s.pieces[r.id]
	for at := start; at <= end-r.h && !sc.full[r.id] && !sc.halt(); at++ {
		if r.every {
			s.record(sc, r.id, at, r.h, false)
			continue
		}
		s.verifyTree(sc, r.id, data, at, pc.entry, -1, pc.pre, -1)
	}
}

func (s *Set) record(sc *scratch, id int, off int, n int, replace bool) {
	l := sc.lists[id]
	if len(l) == 0 {
		sc.touched = append(sc.touched, id)
	} else if last := &l[len(l)-1]; last.off == int64(off) {
		if replace {
			last.n = int32(n)
		}
		return
	}
	sc.lists[id] = append(l, pm{int64(off), int32(n)})
	if len(sc.lists[id]) >= maxMatches {
		sc.full[id] = true
	}
}

func isAlnum(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// fullwordOK applies libyara's fullword rule to a match at off of n bytes.
func fullwordOK(data []byte, off, n int, wide bool) bool {
	if wide {
		if off >= 2 && data[off-1] == 0 && isAlnum(data[off-2]) {
			return false
		}
		if off+n+1 < len(data) && data[off+n+1] == 0 && isAlnum(data[off+n]) {
			return false
		}
		return true
	}
	if off >= 1 && isAlnum(data[off-1]) {
		return false
	}
	if off+n < len(data) && isAlnum(data[off+n]) {
		return false
	}
	return true
}

func (s *Set) verifyText(sc *scratch, id int, data []byte, st int) {
	pc := &s.pieces[id]
	if pc.ascii && pc.wide && 2*len(pc.s) <= maxAtom {
		s.verifyTextFits(sc, id, data, st)
		return
	}
	rest := data[st:]
	n := len(pc.s)
	fm := 0
	if pc.nocase {
		if pc.ascii && len(rest) >= n && eqFold(rest, pc.s) {
			fm = n
		}
		if fm == 0 && pc.wide && len(rest) >= 2*n && eqWide(rest, pc.s, true, 0) {
			fm = 2 * n
		}
	} else {
		if pc.ascii && len(rest) >= n && string(rest[:n]) == string(pc.s) {
			fm = n
		}
		if fm == 0 && pc.wide && len(rest) >= 2*n && eqWide(rest, pc.s, false, 0) {
			fm = 2 * n
		}
		if fm == 0 && pc.xor {
			k := rest[0] ^ pc.s[0]
			if pc.wide && len(rest) >= 2*n && eqWide(rest, pc.s, false, k) {
				fm = 2 * n
			}
			if fm == 0 && len(rest) >= n && eqXor(rest, pc.s, k) {
				fm = n
			}
		}
	}
	if fm == 0 {
		return
	}
	if pc.fullword && !fullwordOK(data, st, fm, fm == 2*n) {
		return
	}
	s.record(sc, id, st, fm, false)
}

// verifyTextFits handles ascii+wide strings whose wide form fits in one
// atom. libyara then takes the match length from the atom that hit, not
// from comparing variants in turn: the ascii atom (ending first) and the
// wide atom are verified separately, each with its own fullword check, and
// the first one recorded at an offset wins.
func (s *Set) verifyTextFits(sc *scratch, id int, data []byte, st int) {
	pc := &s.pieces[id]
	rest := data[st:]
	n := len(pc.s)
	asciiHit := func() bool {
		switch {
		case len(rest) < n:
			return false
		case pc.nocase:
			return eqFold(rest, pc.s)
		case string(rest[:n]) == string(pc.s):
			return true
		case pc.xor:
			k := rest[0] ^ pc.s[0]
			return int(k) >= pc.xmin && int(k) <= pc.xmax && eqXor(rest, pc.s, k)
		}
		return false
	}
	wideHit := func() bool {
		switch {
		case len(rest) < 2*n:
			return false
		case eqWide(rest, pc.s, pc.nocase, 0):
			return true
		case pc.xor && !pc.nocase:
			k := rest[0] ^ pc.s[0]
			return int(k) >= pc.xmin && int(k) <= pc.xmax && eqWide(rest, pc.s, false, k)
		}
		return false
	}
	for _, v := range []struct {
		hit func() bool
		len int
	}{{asciiHit, n}, {wideHit, 2 * n}} {
		if !v.hit() {
			continue
		}
		if pc.fullword && !fullwordOK(data, st, v.len, v.len == 2*n) {
			continue
		}
		s.record(sc, id, st, v.len, false)
		return
	}
}

func eqFold(d, s []byte) bool {
	for i, c := range s {
		if lowerByte(d[i]) != lowerByte(c) {
			return false
		}
	}
	return true
}

func eqXor(d, s []byte, k byte) bool {
	for i, c := range s {
		if d[i] != c^k {
			return false
		}
	}
	return true
}

// eqWide compares d with s interleaved with zeros, all xored with k.
func eqWide(d, s []byte, fold bool, k byte) bool {
	for i, c := range s {
		a := d[2*i]
		if fold {
			if lowerByte(a) != lowerByte(c) {
				return false
			}
		} else if a != c^k {
			return false
		}
		if d[2*i+1] != k {
			return false
		}
	}
	return true
}

// verifyTree checks a regex or hex piece whose atom (or, with bpc < 0, the
// whole piece) starts at at: forwards from the atom, then every way
// backwards, like libyara's forward and backward code.
func (s *Set) verifyTree(sc *scratch, id int, data []byte, at int, fpc, bpc, pre, bpre int32) {
	pc := &s.pieces[id]
	mode := modePriority
	if pc.fast {
		mode = modeShortest
	}
	fm, cs := -1, 1
	if pre >= 0 {
		// Only ascii-only pieces have prechecks.
		c := &s.pre[pre]
		if !passes(c.tests, data, at, false) {
			return
		}
		if c.full {
			fm = len(c.tests)
		}
	}
	if pc.fast && fm < 0 {
		fm = sc.vm.runFast(pc.elems, int(fpc), data, at, false)
	} else if pc.ascii && fm < 0 {
		fm = sc.vm.run(pc.fwd, fpc, data, at, false, 1, mode)
	}
	if fm == -1 && pc.wide && !pc.fast {
		fm = sc.vm.run(pc.fwd, fpc, data, at, false, 2, mode)
		cs = 2
	}
	if fm == -1 || fm == 0 && bpc < 0 {
		return
	}
	if bpc < 0 {
		s.treeMatch(sc, id, data, at, fm, cs == 2)
		return
	}
	if bpre >= 0 {
		c := &s.pre[bpre]
		if !passes(c.tests, data, at, true) {
			return
		}
		if c.full {
			s.treeMatch(sc, id, data, at-len(c.tests), len(c.tests)+fm, false)
			return
		}
	}
	if pc.fast {
		if sc.vm.runFast(pc.elems, int(bpc), data, at, true) < 0 {
			return
		}
	} else {
		sc.vm.run(pc.bwd, bpc, data, at, true, cs, modeExhaustive)
	}
	if len(sc.vm.lens) == 1 {
		s.treeMatch(sc, id, data, at-sc.vm.lens[0], sc.vm.lens[0]+fm, cs == 2)
		return
	}
	lens := append([]int(nil), sc.vm.lens...)
	for _, b := range lens {
		s.treeMatch(sc, id, data, at-b, b+fm, cs == 2)
	}
}

func (s *Set) treeMatch(sc *scratch, id int, data []byte, off, n int, wide bool) {
	pc := &s.pieces[id]
	if pc.fullword && !fullwordOK(data, off, n, wide) {
		return
	}
	s.record(sc, id, off, n, pc.greedy && pc.prev < 0 && pc.next < 0)
}

// sortDedup orders a piece's matches by offset, keeping the first found at
// each offset (or the last found when later matches replace earlier ones).
func sortDedup(l []pm, replace bool) []pm {
	if sort.SliceIsSorted(l, func(a, b int) bool { return l[a].off < l[b].off }) {
		return l
	}
	sort.SliceStable(l, func(a, b int) bool { return l[a].off < l[b].off })
	out := l[:0]
	for _, m := range l {
		if len(out) > 0 && out[len(out)-1].off == m.off {
			if replace {
				out[len(out)-1] = m
			}
			continue
		}
		out = append(out, m)
	}
	return out
}

func (s *Set) deliver(sc *scratch, visit func(Match)) {
	// Only patterns with a matching piece need work; a chained pattern
	// needs all its pieces, so it is enough to look at its first.
	pats := sc.pats[:0]
	for _, id := range sc.touched {
		if pc := &s.pieces[id]; pc.prev < 0 {
			pats = append(pats, pc.pat)
		}
	}
	sort.Ints(pats)
	sc.pats = pats
	for _, pat := range pats {
		ids := s.heads[pat]
		if len(ids) == 1 {
			id := ids[0]
			l := sortDedup(sc.lists[id], s.pieces[id].greedy)
			for _, m := range l {
				visit(Match{Pattern: pat, Offset: m.off, Length: int(m.n)})
			}
			continue
		}
		s.deliverChain(sc, pat, ids, visit)
	}
}

// deliverChain reports the matches of a string split into chained pieces:
// a match of the first piece counts when each following piece matches
// within its gap of the previous one; it extends to the end of the
// nearest completing match of the last piece.
func (s *Set) deliverChain(sc *scratch, pat int, ids []int, visit func(Match)) {
	lists := make([][]pm, len(ids))
	for k, id := range ids {
		lists[k] = sortDedup(sc.lists[id], false)
		if len(lists[k]) == 0 {
			return
		}
	}
	// reach[k][j] is the offset and end of the earliest last-piece match
	// that completes the chain from match j of piece k, or off -1.
	last := len(ids) - 1
	reach := make([]pm, len(lists[last]))
	for j, m := range lists[last] {
		reach[j] = pm{m.off, int32(m.n)}
	}
	for k := last - 1; k >= 0; k-- {
		next := lists[k+1]
		nr := make([]pm, len(lists[k]))
		gmin, gmax := int64(s.pieces[ids[k+1]].gapMin), int64(s.pieces[ids[k+1]].gapMax)
		for j, m := range lists[k] {
			nr[j] = pm{-1, 0}
			end := m.off + int64(m.n)
			lo := sort.Search(len(next), func(x int) bool { return next[x].off >= end+gmin })
			for x := lo; x < len(next) && next[x].off <= end+gmax; x++ {
				if r := reach[x]; r.off >= 0 && (nr[j].off < 0 || r.off < nr[j].off) {
					nr[j] = r
				}
			}
		}
		reach = nr
	}
	for j, m := range lists[0] {
		if r := reach[j]; r.off >= 0 {
			visit(Match{Pattern: pat, Offset: m.off, Length: int(r.off + int64(r.n) - m.off)})
		}
	}
}
