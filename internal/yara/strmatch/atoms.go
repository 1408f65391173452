package strmatch

import "math/bits"

// maxAtom is libyara's YR_MAX_ATOM_LENGTH.
const maxAtom = 4

// maxExpand bounds how many byte strings one atom window may stand for
// (nibble wildcards and case variants multiply).
const maxExpand = 64

// byteQuality scores how rare a byte is in typical files: zero and 0xFF
// fill padding, spaces, int3 and nop fill code and text.
func byteQuality(b byte) int {
	switch b {
	case 0x00, 0xFF:
		return 1
	case 0x20, 0xCC, 0x90, 0x01, 0x0A, 0x0D, 0x02, 0x04, 0x08, 0x10, 0x40, 0x80:
		return 6
	}
	if b >= 'a' && b <= 'z' {
		return 10
	}
	return 12
}

// bytesQuality rates one atom: longer, rarer and more varied is better.
func bytesQuality(v []byte) int {
	q := 0
	var seen [256]bool
	distinct := 0
	for _, b := range v {
		q += byteQuality(b)
		if !seen[b] {
			seen[b] = true
			distinct++
		}
	}
	return q + 4*distinct
}

func setQuality(vals [][]byte) int {
	q := 1 << 30
	for _, v := range vals {
		if x := bytesQuality(v); x < q {
			q = x
		}
	}
	return q - 4*bits.Len(uint(len(vals)-1))
}

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

// expand returns every byte string a run of literal nodes matches, or nil
// when there are more than maxExpand.
func expand(run []*node, nocase bool) [][]byte {
	out := [][]byte{nil}
	for _, n := range run {
		vals := litValues(n, nocase)
		if len(out)*len(vals) > maxExpand {
			return nil
		}
		next := make([][]byte, 0, len(out)*len(vals))
		for _, o := range out {
			for _, v := range vals {
				s := append(append([]byte(nil), o...), v)
				next = append(next, s)
			}
		}
		out = next
	}
	return out
}

// atomCand is a set of atoms that together cover every match: each atom
// starts where node n starts.
type atomCand struct {
	n    *node
	vals [][]byte
}

// chooseAtoms picks the best set of atoms for the tree rooted at n. The
// atoms begin at literal nodes; a match is verified forwards from that node
// and backwards from just before it, as libyara does.
func chooseAtoms(n *node, nocase bool) ([]atomCand, int, bool) {
	switch n.kind {
	case nLit:
		vals := expand([]*node{n}, nocase)
		if vals == nil {
			return nil, 0, false
		}
		return []atomCand{{n, vals}}, setQuality(vals), true
	case nConcat:
		var best []atomCand
		bestQ, found := 0, false
		consider := func(c []atomCand, q int) {
			if !found || q > bestQ {
				best, bestQ, found = c, q, true
			}
		}
		for i := 0; i < len(n.kids); i++ {
			k := n.kids[i]
			if k.kind == nLit {
				end := i
				for end < len(n.kids) && n.kids[end].kind == nLit && end-i < maxAtom {
					end++
				}
				for l := end - i; l >= 1; l-- {
					vals := expand(n.kids[i:i+l], nocase)
					if vals != nil {
						consider([]atomCand{{k, vals}}, setQuality(vals))
						break
					}
				}
				continue
			}
			if c, q, ok := chooseAtoms(k, nocase); ok {
				consider(c, q)
			}
		}
		return best, bestQ, found
	case nAlt:
		var all []atomCand
		q := 1 << 30
		for _, k := range n.kids {
			c, kq, ok := chooseAtoms(k, nocase)
			if !ok {
				return nil, 0, false
			}
			all = append(all, c...)
			if kq < q {
				q = kq
			}
		}
		return all, q - 2*bits.Len(uint(len(n.kids)-1)), true
	case nRepeat:
		// Only a loop whose body is compiled once (x+) has a single place
		// where an atom inside it starts.
		if n.min == 1 && n.max < 0 {
			return chooseAtoms(n.kids[0], nocase)
		}
		// In a counted repeat the atom stands for the first copy; a
		// repeated byte makes an atom of up to four copies.
		if n.min >= 1 && n.max >= 0 {
			if k := n.kids[0]; k.kind == nLit {
				run := make([]*node, min(n.min, maxAtom))
				for i := range run {
					run[i] = k
				}
				if vals := expand(run, nocase); vals != nil {
					return []atomCand{{k, vals}}, setQuality(vals), true
				}
			}
			return chooseAtoms(n.kids[0], nocase)
		}
	}
	return nil, 0, false
}

// bestWindow returns the offset of the best atom of at most maxAtom bytes
// in s.
func bestWindow(s []byte) int {
	if len(s) <= maxAtom {
		return 0
	}
	best, bestQ := 0, -1
	for d := 0; d+maxAtom <= len(s); d++ {
		if q := bytesQuality(s[d : d+maxAtom]); q > bestQ {
			best, bestQ = d, q
		}
	}
	return best
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
