package strmatch

// fastElem is one step of a hex string without alternatives: a byte under
// a mask, or a jump of min to max bytes. libyara matches such strings with
// a simpler machine that keeps the set of positions reached after each
// step and reports the shortest match; this does the same without
// expanding jumps into programs.
type fastElem struct {
	jump      bool
	val, mask byte
	min, max  int
}

// flattenFast lists the steps of a hex tree without alternatives and where
// each byte node sits among them.
func flattenFast(n *node, out []fastElem, at map[*node]int) []fastElem {
	switch n.kind {
	case nConcat:
		for _, k := range n.kids {
			out = flattenFast(k, out, at)
		}
	case nLit:
		at[n] = len(out)
		out = append(out, fastElem{val: n.val, mask: n.mask})
	case nAny:
		at[n] = len(out)
		out = append(out, fastElem{})
	case nRangeAny:
		out = append(out, fastElem{jump: true, min: n.min, max: n.max})
	}
	return out
}

// runFast matches elems[k:] forwards from off, or elems[:k] backwards from
// just before off. Forwards it returns the shortest match length (-1 for
// none); backwards it fills v.lens with every length, ascending.
func (v *vm) runFast(elems []fastElem, k int, data []byte, off int, back bool) int {
	limit := len(data) - off
	if back {
		limit = off
	}
	limit = min(limit, scanLimit)
	pos := append(v.pos[:0], 0)
	next := v.pos2[:0]
	n := len(elems) - k
	if back {
		n = k
	}
	for i := 0; i < n && len(pos) > 0; i++ {
		var e *fastElem
		if back {
			e = &elems[k-1-i]
		} else {
			e = &elems[k+i]
		}
		next = next[:0]
		if e.jump {
			for _, p := range pos {
				if p >= limit {
					break
				}
				lo, hi := p+e.min, min(p+e.max, limit-1)
				if len(next) > 0 && next[len(next)-1] >= lo {
					lo = next[len(next)-1] + 1
				}
				for q := lo; q <= hi; q++ {
					next = append(next, q)
				}
			}
		} else {
			for _, p := range pos {
				if p >= limit {
					break
				}
				var c byte
				if back {
					c = data[off-1-p]
				} else {
					c = data[off+p]
				}
				if c&e.mask == e.val {
					next = append(next, p+1)
				}
			}
		}
		pos, next = next, pos
	}
	v.pos, v.pos2 = pos, next
	if len(pos) == 0 {
		return -1
	}
	if back {
		v.lens = append(v.lens[:0], pos...)
	}
	return pos[0]
}

// fastPrecheck is prog.precheck for fast steps.
func fastPrecheck(elems []fastElem, k int, back bool) ([]inst, bool) {
	var tests []inst
	for i := 0; ; i++ {
		j := k + i
		if back {
			j = k - 1 - i
		}
		if j < 0 || j >= len(elems) {
			return tests, true
		}
		if elems[j].jump || len(tests) == 64 {
			return tests, false
		}
		tests = append(tests, inst{op: opByte, val: elems[j].val, mask: elems[j].mask})
	}
}
