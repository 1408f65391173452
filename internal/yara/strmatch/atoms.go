package strmatch

// maxAtom is libyara's YR_MAX_ATOM_LENGTH.
const maxAtom = 4

// litValues lists the bytes a literal node matches.
func litValues(n *node, nocase bool) []byte {
	if n.mask == 0xFF {
		if nocase && altCase(n.val) != n.val {
			return []byte{n.val, altCase(n.val)}
		}
		return []byte{n.val}
	}
	var out []byte
	for x := 0; x < 256; x++ {
		if byte(x)&n.mask == n.val {
			out = append(out, byte(x))
		}
	}
	return out
}

// atomCand is a set of atoms that together cover every match: each atom
// starts where node n starts.
type atomCand struct {
	n    *node
	vals [][]byte
}

// maxQuality is libyara's YR_MAX_ATOM_QUALITY.
const maxQuality = 255

// slowQuality is libyara's YR_ATOM_QUALITY_WARNING_THRESHOLD: strings whose
// atoms rate below it "slow down scanning".
const slowQuality = maxQuality - 22*maxAtom + 38

// windowQuality is libyara's heuristic atom quality for bytes under masks.
func windowQuality(w []*node) int {
	q, unique := 0, 0
	var seen [256]bool
	for _, n := range w {
		m := n.mask
		if n.kind == nAny {
			m = 0
		}
		switch m {
		case 0x00:
			q -= 10
		case 0x0F, 0xF0:
			q += 4
		case 0xFF:
			switch n.val {
			case 0x00, 0x20, 0xCC, 0xFF:
				q += 12
			default:
				if l := lowerByte(n.val); l >= 'a' && l <= 'z' {
					q += 18
				} else {
					q += 20
				}
			}
			if !seen[n.val] {
				seen[n.val] = true
				unique++
			}
		default:
			// Other masks come only from hex nibbles; libyara gives them nothing.
		}
	}
	if unique == 1 && (seen[0x00] || seen[0x20] || seen[0x90] || seen[0xCC] || seen[0xFF]) {
		q -= 10 * len(w)
	} else {
		q += 2 * unique
	}
	return maxQuality - 22*maxAtom + q
}

func isWild(n *node) bool { return n.kind == nAny || n.mask == 0 }

// trimWindow drops leading and trailing wildcards; when wildcards are as
// many as known bytes only the first known byte is kept, as in libyara.
func trimWindow(w []*node) []*node {
	for len(w) > 0 && isWild(w[0]) {
		w = w[1:]
	}
	for len(w) > 0 && isWild(w[len(w)-1]) {
		w = w[:len(w)-1]
	}
	known, wild := 0, 0
	for _, n := range w {
		if isWild(n) {
			wild++
		} else if n.mask == 0xFF {
			known++
		}
	}
	if len(w) > 0 && wild >= known {
		w = w[:1]
	}
	return w
}

// atomTree mirrors libyara's: an OR node picks its best child, an AND node
// (from an alternation) needs the atoms of all its children.
type atomTree struct {
	and    bool
	window []*node // leaf when non-nil
	kids   []*atomTree
}

type atomWalker struct {
	cur *atomTree
	run []*node
}

// flush ends the current run of literal nodes, adding its best window.
func (w *atomWalker) flush() {
	if len(w.run) == 0 {
		return
	}
	var best []*node
	if len(w.run) <= maxAtom {
		best = trimWindow(w.run)
	} else {
		bestQ := -1 << 30
		for i := 0; i+maxAtom <= len(w.run); i++ {
			t := trimWindow(w.run[i : i+maxAtom])
			if q := windowQuality(t); q > bestQ {
				best, bestQ = t, q
			}
		}
	}
	if len(best) > 0 {
		w.cur.kids = append(w.cur.kids, &atomTree{window: best})
	}
	w.run = nil
}

func (w *atomWalker) visit(n *node) {
	switch n.kind {
	case nLit, nAny:
		w.run = append(w.run, n)
	case nConcat:
		for _, k := range n.kids {
			w.visit(k)
		}
	case nAlt:
		// libyara links the alternation into the tree before it closes the
		// run in front of it, so on equal quality the alternation's atoms
		// win over that run's.
		and := &atomTree{and: true}
		w.cur.kids = append(w.cur.kids, and)
		w.flush()
		saved := w.cur
		for _, k := range n.kids {
			w.cur = &atomTree{}
			w.visit(k)
			w.flush()
			and.kids = append(and.kids, w.cur)
		}
		w.cur = saved
	case nRepeat:
		switch {
		case n.max < 0 && n.min == 1:
			w.visit(n.kids[0])
		case n.max >= 0:
			for i := 0; i < min(n.min, maxAtom); i++ {
				w.visit(n.kids[0])
			}
		}
		w.flush()
	default:
		w.flush()
	}
}

// choose returns the atoms libyara would pick from t and their quality.
func (t *atomTree) choose() ([][]*node, int) {
	if t.window != nil {
		return [][]*node{t.window}, windowQuality(t.window)
	}
	if t.and {
		var all [][]*node
		q := maxQuality
		for _, k := range t.kids {
			a, kq := k.choose()
			all = append(all, a...)
			q = min(q, kq)
		}
		return all, q
	}
	var best [][]*node
	bestQ := 0
	for _, k := range t.kids {
		a, q := k.choose()
		if q > bestQ {
			best, bestQ = a, q
		}
		if bestQ == maxQuality {
			break
		}
	}
	return best, bestQ
}

// chooseAtoms picks the atoms for the tree rooted at n the way libyara
// does, so that verification starts at the same node: a match is verified
// forwards from the atom's first node and backwards from just before it.
func chooseAtoms(n *node, nocase bool) ([]atomCand, int, bool) {
	w := &atomWalker{cur: &atomTree{}}
	w.visit(n)
	w.flush()
	windows, q := w.cur.choose()
	if len(windows) == 0 {
		return nil, 0, false
	}
	var out []atomCand
	for _, win := range windows {
		out = append(out, atomCand{n: win[0], vals: expandWindow(win, nocase)})
	}
	return out, q, true
}

// expandWindow lists every byte string a window of nodes matches.
func expandWindow(win []*node, nocase bool) [][]byte {
	out := [][]byte{nil}
	for _, n := range win {
		var vals []byte
		if n.kind == nAny {
			vals = make([]byte, 256)
			for i := range vals {
				vals[i] = byte(i)
			}
		} else {
			vals = litValues(n, nocase)
		}
		next := make([][]byte, 0, len(out)*len(vals))
		for _, o := range out {
			for _, v := range vals {
				next = append(next, append(append([]byte(nil), o...), v))
			}
		}
		out = next
	}
	return out
}

// bestWindow returns the offset and quality of the best atom of at most
// maxAtom bytes in s.
func bestWindow(s []byte) (int, int) {
	w := make([]*node, min(len(s), maxAtom))
	for i := range w {
		w[i] = &node{kind: nLit, mask: 0xFF}
	}
	best, bestQ := 0, -1<<30
	for d := 0; d+len(w) <= len(s); d++ {
		for i := range w {
			w[i].val = s[d+i]
		}
		if q := windowQuality(w); q > bestQ {
			best, bestQ = d, q
		}
	}
	return best, bestQ
}

// caseVariants returns every ASCII case spelling of a.
func caseVariants(a []byte) [][]byte {
	out := [][]byte{nil}
	for _, b := range a {
		alt := altCase(b)
		next := make([][]byte, 0, len(out)*2)
		for _, o := range out {
			next = append(next, append(append([]byte(nil), o...), b))
			if alt != b {
				next = append(next, append(append([]byte(nil), o...), alt))
			}
		}
		out = next
	}
	return out
}

func widen(s []byte) []byte {
	out := make([]byte, 0, 2*len(s))
	for _, b := range s {
		out = append(out, b, 0)
	}
	return out
}
