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

// fastPos is one position of runFast's list: bytes consumed so far and
// the step it is to run next.
type fastPos struct {
	n, round   int
	prev, next int32
}

// runFast matches elems[k:] forwards from off, or elems[:k] backwards from
// just before off, with libyara's fast-matcher algorithm step for step:
// a list of positions ordered as libyara orders it (including its quirks,
// such as dropping a new jump target equal to a position that has not yet
// taken the same step). Forwards it returns the length reached by the first
// position in the list to finish (-1 for none); backwards it fills v.lens
// with every length reached.
func (v *vm) runFast(elems []fastElem, k int, data []byte, off int, back bool) int {
	limit := len(data) - off
	if back {
		limit = off
	}
	limit = min(limit, scanLimit)
	at := func(n int) byte {
		if back {
			return data[off-1-n]
		}
		return data[off+n]
	}
	steps := len(elems) - k
	if back {
		steps = k
	}
	elem := func(i int) *fastElem {
		if back {
			return &elems[k-1-i]
		}
		return &elems[k+i]
	}
	nodes := append(v.fnodes[:0], fastPos{n: 0, round: 0, prev: -1, next: -1})
	head := int32(0)
	defer func() { v.fnodes = nodes }()
	v.lens = v.lens[:0]
	remove := func(i int32) {
		p, n := nodes[i].prev, nodes[i].next
		if p >= 0 {
			nodes[p].next = n
		} else {
			head = n
		}
		if n >= 0 {
			nodes[n].prev = p
		}
	}
	for round := 0; head >= 0; round++ {
		if round == steps {
			// Every surviving position has matched; libyara reports the
			// first in its list, or all of them when exhaustive.
			if !back {
				return nodes[head].n
			}
			for i := head; i >= 0; i = nodes[i].next {
				v.lens = append(v.lens, min(nodes[i].n, limit))
			}
			return v.lens[0]
		}
		e := elem(round)
		for cur := head; cur >= 0; {
			next := nodes[cur].next
			if nodes[cur].round != round {
				cur = next
				continue
			}
			bm := nodes[cur].n
			ok := false
			switch {
			case bm >= limit:
			case !e.jump:
				if at(bm)&e.mask == e.val {
					ok = true
					nodes[cur].n++
				}
			default:
				ok = true
				ins := cur
				var lit *fastElem
				if round+1 < steps {
					if x := elem(round + 1); !x.jump && x.mask == 0xFF {
						lit = x
					}
				}
				for j := e.min + 1; j <= e.max; j++ {
					if bm+j >= limit {
						break
					}
					n := bm + j
					for nodes[ins].next >= 0 && n >= nodes[nodes[ins].next].n {
						ins = nodes[ins].next
					}
					if n == nodes[ins].n {
						continue
					}
					if lit != nil && at(n) != lit.val {
						continue
					}
					nodes = append(nodes, fastPos{n: n, round: round + 1, prev: ins, next: nodes[ins].next})
					id := int32(len(nodes) - 1)
					if nodes[ins].next >= 0 {
						nodes[nodes[ins].next].prev = id
					}
					nodes[ins].next = id
				}
				nodes[cur].n += e.min
			}
			if ok {
				nodes[cur].round = round + 1
			} else {
				remove(cur)
			}
			cur = next
		}
	}
	return -1
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
