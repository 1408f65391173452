package strmatch

import "fmt"

// scanLimit is libyara's YR_RE_SCAN_LIMIT: a regex or hex string never
// consumes more than this many bytes in either direction from its atom.
const scanLimit = 4096

// maxProg bounds the size of one compiled program.
const maxProg = 1 << 17

type opcode uint8

const (
	opByte   opcode = iota // (c & mask) == val
	opClass                // cls[c]
	opAny                  // any byte but '\n'
	opAnyAll               // any byte
	opSplit                // try x, then y
	opJmp
	opMatch
	opBOL
	opEOL
	opWordB
	opNotWordB
)

type inst struct {
	op        opcode
	val, mask byte
	cls       *[256]bool
	x, y      int32
}

// prog is a program for a Pike-style machine that follows threads in
// priority order, like libyara's fibers.
type prog struct {
	insts []inst
	// at records, for nodes that may start an atom, the pc of their first
	// instruction (forward program) or the pc right after it (backward
	// program).
	at map[*node]int32
	// eolOnly[pc], for forward programs that have a "$" somewhere, is set
	// when every way from pc to a match passes "$" (the end of the data):
	// a run from pc can then only match where the data ends within
	// scanLimit bytes, and is not started elsewhere. Without it /(a+)+$/
	// reads 4096 bytes from every "a" of a file of them.
	eolOnly []bool
}

type compiler struct {
	p       *prog
	classes map[[256]bool]*[256]bool
	nocase  bool
	dotall  bool
	rev     bool
	err     error
}

// compileProg compiles a tree; classes interns byte-class tables shared by
// all programs of a Set.
func compileProg(root *node, nocase, dotall, rev bool, classes map[[256]bool]*[256]bool) (*prog, error) {
	c := &compiler{p: &prog{at: map[*node]int32{}}, classes: classes, nocase: nocase, dotall: dotall, rev: rev}
	c.emit(root)
	c.add(inst{op: opMatch})
	if c.err != nil {
		return nil, c.err
	}
	if !rev {
		c.p.markEOLOnly()
	}
	return c.p, nil
}

// markEOLOnly fills eolOnly (see prog), leaving it nil when a match is
// reachable from every pc without "$".
func (p *prog) markEOLOnly() {
	free := make([]bool, len(p.insts)) // a match is reachable without "$"
	for changed := true; changed; {
		changed = false
		for pc := len(p.insts) - 1; pc >= 0; pc-- {
			if free[pc] {
				continue
			}
			in := &p.insts[pc]
			var f bool
			switch in.op {
			case opMatch:
				f = true
			case opEOL:
			case opJmp:
				f = free[in.x]
			case opSplit:
				f = free[in.x] || free[in.y]
			default:
				f = pc+1 < len(p.insts) && free[pc+1]
			}
			if f {
				free[pc], changed = true, true
			}
		}
	}
	for pc, f := range free {
		if !f {
			if p.eolOnly == nil {
				p.eolOnly = make([]bool, len(p.insts))
			}
			p.eolOnly[pc] = true
		}
	}
}

func (c *compiler) add(i inst) int32 {
	if len(c.p.insts) >= maxProg {
		if c.err == nil {
			c.err = fmt.Errorf("regular expression is too large")
		}
		return int32(len(c.p.insts) - 1)
	}
	c.p.insts = append(c.p.insts, i)
	return int32(len(c.p.insts) - 1)
}

func (c *compiler) pc() int32 { return int32(len(c.p.insts)) }

func lowerByte(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 32
	}
	return b
}

func altCase(b byte) byte {
	switch {
	case b >= 'A' && b <= 'Z':
		return b + 32
	case b >= 'a' && b <= 'z':
		return b - 32
	}
	return b
}

// mark records where an atom starting at n begins verification. A node
// inside a counted repeat is emitted once per copy: the atom stands for
// the first copy, which is the first emitted forwards and the last
// emitted backwards.
func (c *compiler) mark(n *node) {
	if c.rev {
		c.p.at[n] = c.pc()
		return
	}
	if _, ok := c.p.at[n]; !ok {
		c.p.at[n] = c.pc() - 1
	}
}

func (c *compiler) emit(n *node) {
	if c.err != nil {
		return
	}
	switch n.kind {
	case nLit:
		if c.nocase && n.mask == 0xFF && altCase(n.val) != n.val {
			var b [256]bool
			b[n.val], b[altCase(n.val)] = true, true
			c.add(inst{op: opClass, cls: c.intern(&b)})
		} else {
			c.add(inst{op: opByte, val: n.val, mask: n.mask})
		}
		c.mark(n)
	case nClass:
		var b [256]bool
		for x := 0; x < 256; x++ {
			in := n.cls[x] || c.nocase && n.cls[altCase(byte(x))]
			b[x] = in != n.neg
		}
		c.add(inst{op: opClass, cls: c.intern(&b)})
	case nAny:
		c.emitAny()
	case nRangeAny:
		c.repeat(n.min, n.max, n.greedy, func() { c.emitAny() })
	case nConcat:
		if c.rev {
			for i := len(n.kids) - 1; i >= 0; i-- {
				c.emit(n.kids[i])
			}
		} else {
			for _, k := range n.kids {
				c.emit(k)
			}
		}
	case nAlt:
		// split L1, next; L1: a; jmp end; next: split L2, ... ; last: z
		var jmps []int32
		for i, k := range n.kids {
			if i == len(n.kids)-1 {
				c.emit(k)
				break
			}
			sp := c.add(inst{op: opSplit})
			c.p.insts[sp].x = c.pc()
			c.emit(k)
			jmps = append(jmps, c.add(inst{op: opJmp}))
			c.p.insts[sp].y = c.pc()
		}
		for _, j := range jmps {
			c.p.insts[j].x = c.pc()
		}
	case nRepeat:
		max := n.max
		if max < 0 && n.min >= 1 {
			for i := 0; i < n.min-1; i++ {
				c.emit(n.kids[0])
			}
			body := c.pc()
			c.emit(n.kids[0])
			sp := c.add(inst{op: opSplit})
			if n.greedy {
				c.p.insts[sp].x, c.p.insts[sp].y = body, c.pc()
			} else {
				c.p.insts[sp].x, c.p.insts[sp].y = c.pc(), body
			}
			return
		}
		c.repeat(n.min, max, n.greedy, func() { c.emit(n.kids[0]) })
	case nEmpty:
	case nBOL:
		c.add(inst{op: opBOL})
	case nEOL:
		c.add(inst{op: opEOL})
	case nWordB:
		c.add(inst{op: opWordB})
	case nNotWordB:
		c.add(inst{op: opNotWordB})
	}
}

func (c *compiler) intern(b *[256]bool) *[256]bool {
	if x, ok := c.classes[*b]; ok {
		return x
	}
	c.classes[*b] = b
	return b
}

func (c *compiler) emitAny() {
	if c.dotall {
		c.add(inst{op: opAnyAll})
	} else {
		c.add(inst{op: opAny})
	}
}

// repeat emits body min times, then max-min optional copies (or a loop when
// max < 0). Counts beyond the scan limit cannot match more, so they are cut
// there to keep programs small.
func (c *compiler) repeat(min, max int, greedy bool, body func()) {
	if min > scanLimit+1 {
		min = scanLimit + 1
	}
	if max > scanLimit+1 {
		max = scanLimit + 1
	}
	for i := 0; i < min; i++ {
		body()
		if c.err != nil {
			return
		}
	}
	if max < 0 {
		sp := c.add(inst{op: opSplit})
		start := c.pc()
		body()
		c.add(inst{op: opJmp, x: sp})
		if greedy {
			c.p.insts[sp].x, c.p.insts[sp].y = start, c.pc()
		} else {
			c.p.insts[sp].x, c.p.insts[sp].y = c.pc(), start
		}
		return
	}
	var splits []int32
	for i := min; i < max; i++ {
		sp := c.add(inst{op: opSplit})
		splits = append(splits, sp)
		c.p.insts[sp].x = c.pc()
		body()
		if c.err != nil {
			return
		}
	}
	end := c.pc()
	for _, sp := range splits {
		in := &c.p.insts[sp]
		next := in.x
		if greedy {
			in.x, in.y = next, end
		} else {
			in.x, in.y = end, next
		}
	}
}

// vmMode selects what the machine reports.
type vmMode uint8

const (
	modePriority   vmMode = iota // length of the highest-priority match
	modeShortest                 // length of the shortest match (libyara's fast hex matcher)
	modeExhaustive               // every length at which some thread matches
)

// vm holds the thread lists; one per scan, sized for the largest program.
type vm struct {
	cur, next threadList
	stack     []int32
	lens      []int
	fnodes    []fastPos // runFast's position list
}

type threadList struct {
	dense  []int32
	sparse []int32
}

func (t *threadList) init(n int) {
	if cap(t.sparse) < n {
		t.sparse = make([]int32, n)
		t.dense = make([]int32, 0, n)
	}
	t.sparse = t.sparse[:n]
	t.dense = t.dense[:0]
}

func (t *threadList) has(pc int32) bool {
	i := t.sparse[pc]
	return int(i) < len(t.dense) && t.dense[i] == pc
}

func (t *threadList) add(pc int32) {
	t.sparse[pc] = int32(len(t.dense))
	t.dense = append(t.dense, pc)
}

func isWordAt(data []byte, pos, cs int) bool {
	if pos < 0 || pos+cs > len(data) || !isWordByte(int(data[pos])) {
		return false
	}
	return cs == 1 || data[pos+1] == 0
}

// run executes p from pc at data offset off. Forward runs read data[off:],
// backward runs read data[:off] right to left. cs is 1, or 2 for wide.
// It returns the match length (-1 for none) or, in exhaustive mode, fills
// v.lens.
func (v *vm) run(p *prog, pc int32, data []byte, off int, back bool, cs int, mode vmMode) int {
	v.lens = v.lens[:0]
	if !back && p.eolOnly != nil && p.eolOnly[pc] && len(data)-off > scanLimit {
		return -1 // "$" is out of reach (see prog.eolOnly)
	}
	v.cur.init(len(p.insts))
	v.next.init(len(p.insts))
	var max int
	if back {
		max = off
	} else {
		max = len(data) - off
	}
	if max > scanLimit {
		max = scanLimit
	}
	max -= max % cs
	matched := -1
	v.addThread(&v.cur, p, pc, data, off, 0, max, back, cs)
	for bm := 0; len(v.cur.dense) > 0; bm += cs {
		var pos int
		if back {
			pos = off - bm - cs
		} else {
			pos = off + bm
		}
		ok := bm < max && (cs == 1 || data[pos+1] == 0)
		var ch byte
		if ok {
			ch = data[pos]
		}
		for i := 0; i < len(v.cur.dense); i++ {
			t := v.cur.dense[i]
			in := &p.insts[t]
			switch in.op {
			case opMatch:
				switch mode {
				case modeShortest:
					return bm
				case modeExhaustive:
					v.lens = append(v.lens, bm)
					continue
				}
				matched = bm
				v.cur.dense = v.cur.dense[:i+1] // lower-priority threads die
				continue
			case opByte:
				if !ok || ch&in.mask != in.val {
					continue
				}
			case opClass:
				if !ok || !in.cls[ch] {
					continue
				}
			case opAny:
				if !ok || ch == '\n' {
					continue
				}
			case opAnyAll:
				if !ok {
					continue
				}
			default:
				continue
			}
			v.addThread(&v.next, p, t+1, data, off, bm+cs, max, back, cs)
		}
		v.cur, v.next = v.next, v.cur
		v.next.dense = v.next.dense[:0]
	}
	return matched
}

// addThread follows jumps, splits and assertions from pc in priority order
// and queues the instructions that consume input or match.
func (v *vm) addThread(l *threadList, p *prog, pc int32, data []byte, off, bm, max int, back bool, cs int) {
	v.stack = append(v.stack[:0], pc)
	for len(v.stack) > 0 {
		pc := v.stack[len(v.stack)-1]
		v.stack = v.stack[:len(v.stack)-1]
		if l.has(pc) {
			continue
		}
		l.add(pc)
		in := &p.insts[pc]
		switch in.op {
		case opJmp:
			v.stack = append(v.stack, in.x)
		case opSplit:
			v.stack = append(v.stack, in.y, in.x)
		case opBOL:
			var ok bool
			if back {
				ok = off == bm
			} else {
				ok = off == 0 && bm == 0
			}
			if ok {
				v.stack = append(v.stack, pc+1)
			}
		case opEOL:
			if !back && len(data)-off == bm {
				v.stack = append(v.stack, pc+1)
			}
		case opWordB, opNotWordB:
			var b bool
			switch {
			case bm == 0 && off < cs:
				b = true
			case bm >= max:
				b = true
			case back:
				pos := off - bm - cs
				b = isWordAt(data, pos, cs) != isWordAt(data, pos+cs, cs)
			default:
				pos := off + bm
				b = isWordAt(data, pos, cs) != isWordAt(data, pos-cs, cs)
			}
			if b == (in.op == opWordB) {
				v.stack = append(v.stack, pc+1)
			}
		}
	}
}

// precheck lists the byte tests on the straight path from pc (skipping
// zero-width assertions, up to the first branch). Every match must pass
// them, so candidates can be rejected without starting the machine.
// When full is set the path is nothing but those tests up to the match:
// passing them is matching, with their count as length.
func (p *prog) precheck(pc int32, max int) (tests []inst, full bool) {
	exact := true
	for len(tests) < max {
		in := p.insts[pc]
		switch in.op {
		case opByte, opClass, opAny, opAnyAll:
			tests = append(tests, in)
			pc++
		case opJmp:
			pc = in.x
		case opBOL, opEOL, opWordB, opNotWordB:
			exact = false
			pc++
		case opMatch:
			return tests, exact
		default:
			return tests, false
		}
	}
	return tests, false
}

// test applies a consuming instruction to one byte.
func (t *inst) test(c byte) bool {
	switch t.op {
	case opByte:
		return c&t.mask == t.val
	case opClass:
		return t.cls[c]
	case opAny:
		return c != '\n'
	}
	return true
}

// passes reports whether data at off passes the tests of a precheck, read
// forwards or, with back, backwards from just before off.
func passes(tests []inst, data []byte, off int, back bool) bool {
	var d []byte
	if back {
		if off < len(tests) {
			return false
		}
		d = data[off-len(tests) : off]
	} else {
		if off+len(tests) > len(data) {
			return false
		}
		d = data[off : off+len(tests)]
	}
	for i := range tests {
		t := &tests[i]
		var c byte
		if back {
			c = d[len(d)-1-i]
		} else {
			c = d[i]
		}
		switch t.op {
		case opByte:
			if c&t.mask != t.val {
				return false
			}
		case opClass:
			if !t.cls[c] {
				return false
			}
		case opAny:
			if c == '\n' {
				return false
			}
		}
	}
	return true
}
