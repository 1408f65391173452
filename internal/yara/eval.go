package yara

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"strings"

	"github.com/mamori-dev/mamori/internal/ascii"
	"github.com/mamori-dev/mamori/internal/yara/pe"
	"github.com/mamori-dev/mamori/internal/yara/strmatch"
)

// epsilon is C's DBL_EPSILON.
const epsilon = 2.220446049250313e-16

// maxMatches bounds the matches kept per string, as libyara's
// YR_MAX_STRING_MATCHES does; further matches of that string are dropped.
const maxMatches = 1000000

// scanCtx is the state of one scan. It is pooled and reused across files.
type scanCtx struct {
	r       *Rules
	data    []byte
	matches [][]strmatch.Match
	touched []int
	hit     []bool
	ruleRes []bool
	nsUnsat []bool
	slots   []value
	ext     []value

	mods      [numModules]any
	modLoaded [numModules]bool
	peFile    *pe.File
	peDone    bool
	log       func(string)
	// memo caches module results that many rules ask for with the same
	// arguments (hash.md5(0, filesize), pe.imphash(), ...), as libyara's
	// hash module does.
	memo map[memoKey]value
	// err aborts the scan, as libyara's fatal execution errors do.
	err error
	// ctx is polled in condition loops: "for all i in (0..9223372036854775807)"
	// must end with a timeout or a signal.
	ctx   context.Context
	spins uint32
}

// halted polls ctx every 1024 loop iterations and aborts the scan with
// its error once it is done.
func (sc *scanCtx) halted() bool {
	if sc.err != nil {
		return true
	}
	sc.spins++
	if sc.spins&1023 == 0 && sc.ctx != nil {
		if err := sc.ctx.Err(); err != nil {
			sc.err = err
			return true
		}
	}
	return false
}

var errCountIn = errors.New("#string in (lo..hi) with lo != 0 aborts the scan in libyara 4.2.3 (internal fatal error 31); no rules reported for this file, as yara")

type memoKey struct {
	fn       string
	off, len int64
}

// memoize returns f's value for key, computing it once per scan.
func (sc *scanCtx) memoize(key memoKey, f func() value) value {
	if v, ok := sc.memo[key]; ok {
		return v
	}
	v := f()
	if sc.memo == nil {
		sc.memo = map[memoKey]value{}
	}
	sc.memo[key] = v
	return v
}

func (sc *scanCtx) reset() {
	for _, p := range sc.touched {
		sc.matches[p] = sc.matches[p][:0]
	}
	sc.touched = sc.touched[:0]
	clear(sc.hit)
	clear(sc.ruleRes)
	clear(sc.nsUnsat)
	clear(sc.mods[:])
	clear(sc.modLoaded[:])
	sc.peFile, sc.peDone = nil, false
	sc.data = nil
	sc.log = nil
	sc.memo = nil
	sc.err = nil
	sc.ctx = nil
}

func (sc *scanCtx) pe() *pe.File {
	if !sc.peDone {
		sc.peDone = true
		if f, ok := pe.Parse(sc.data); ok {
			sc.peFile = f
		}
	}
	return sc.peFile
}

func truth(v value) bool { return v.ok && v.i != 0 }

func (sc *scanCtx) strMatches(n *node) []strmatch.Match {
	s := n.str
	if s == -1 {
		s = int(sc.slots[n.slot].i)
	}
	if s < 0 || s >= len(sc.matches) {
		return nil
	}
	return sc.matches[s]
}

func fval(n *node, v value) float64 {
	if n.t == tyFloat {
		return v.f
	}
	return float64(v.i)
}

func (sc *scanCtx) eval(n *node) value {
	switch n.op {
	case opConst:
		return n.val
	case opFilesize:
		return intVal(int64(len(sc.data)))
	case opEntrypoint:
		return sc.entrypoint()
	case opReadInt:
		off := sc.eval(n.a)
		if !off.ok {
			return undef
		}
		return readInt(sc.data, off.i, n.val.i)
	case opStrFound, opStrAt, opStrIn, opStrCountIn, opStrCount, opStrOffset, opStrLength:
		return sc.evalString(n)
	case opRule:
		return boolVal(sc.ruleRes[n.slot])
	case opExternal:
		return sc.ext[n.slot]
	case opVar:
		return sc.slots[n.slot]
	case opModule:
		return sc.module(n.slot)
	case opField, opIndex, opLookup, opCall:
		return sc.evalAccess(n)
	case opNot, opToBool, opNeg, opBitNot:
		return sc.evalUnary(n)
	case opDefined:
		return boolVal(sc.eval(n.a).ok)
	case opAnd:
		if !truth(sc.eval(n.a)) {
			return boolVal(false)
		}
		return boolVal(truth(sc.eval(n.b)))
	case opOr:
		if truth(sc.eval(n.a)) {
			return boolVal(true)
		}
		return boolVal(truth(sc.eval(n.b)))
	case opAdd, opSub, opMul, opDiv, opMod, opShl, opShr, opBitAnd, opBitOr, opBitXor:
		return sc.arith(n)
	case opLT, opLE, opGT, opGE, opEQ, opNE:
		return sc.compare(n)
	case opContains, opIContains, opStartsWith, opIStartsWith, opEndsWith, opIEndsWith, opIEquals, opMatches:
		return sc.evalText(n)
	case opOf, opOfPercent, opOfIn:
		return sc.of(n)
	case opForOf:
		return sc.forOf(n)
	case opForIn:
		return sc.forIn(n)
	}
	return undef
}

// evalString evaluates the operators on a string's matches: $a, $a at,
// $a in, #a, #a in, @a[i] and !a[i].
func (sc *scanCtx) evalString(n *node) value {
	switch n.op {
	case opStrFound:
		return boolVal(len(sc.strMatches(n)) > 0)
	case opStrAt:
		at := sc.eval(n.a)
		if !at.ok {
			return boolVal(false)
		}
		for _, m := range sc.strMatches(n) {
			if m.Offset == at.i {
				return boolVal(true)
			}
			if m.Offset > at.i {
				break
			}
		}
		return boolVal(false)
	case opStrIn, opStrCountIn:
		lo, hi := sc.eval(n.a), sc.eval(n.b)
		if !lo.ok || !hi.ok {
			return undef
		}
		if n.op == opStrCountIn && lo.i != 0 && sc.err == nil {
			// libyara 4.2.3 checks the range's lower bound instead of the
			// string against its rules arena and aborts the scan; yara then
			// reports nothing for the file, and neither do we.
			sc.err = errCountIn
			return undef
		}
		count := int64(0)
		for _, m := range sc.strMatches(n) {
			if m.Offset > hi.i {
				break
			}
			if m.Offset >= lo.i {
				if n.op == opStrIn {
					return boolVal(true)
				}
				count++
			}
		}
		if n.op == opStrIn {
			return boolVal(false)
		}
		return intVal(count)
	case opStrCount:
		return intVal(int64(len(sc.strMatches(n))))
	case opStrOffset, opStrLength:
		idx := sc.eval(n.a)
		if !idx.ok {
			return undef
		}
		ms := sc.strMatches(n)
		if idx.i < 1 || idx.i > int64(len(ms)) {
			return undef
		}
		m := ms[idx.i-1]
		if n.op == opStrOffset {
			return intVal(m.Offset)
		}
		return intVal(int64(m.Length))
	}
	return undef
}

// evalAccess evaluates module structure access: fields, array indexes,
// dictionary lookups and function calls.
func (sc *scanCtx) evalAccess(n *node) value {
	switch n.op {
	case opField:
		parent := sc.eval(n.a)
		if !parent.ok || n.obj.get == nil {
			// Functions take their parent structure's value.
			return parent
		}
		v, ok := n.obj.get(parent.o)
		if !ok {
			return undef
		}
		return v
	case opIndex:
		arr := sc.eval(n.a)
		idx := sc.eval(n.b)
		if !arr.ok || !idx.ok {
			return undef
		}
		v, ok := n.a.obj.index(arr.o, idx.i)
		if !ok {
			return undef
		}
		return v
	case opLookup:
		d := sc.eval(n.a)
		key := sc.eval(n.b)
		if !d.ok || !key.ok {
			return undef
		}
		v, ok := n.a.obj.lookup(d.o, key.s)
		if !ok {
			return undef
		}
		return v
	case opCall:
		parent := sc.eval(n.a)
		var buf [4]value
		args := buf[:0]
		defined := true
		for _, a := range n.args {
			v := sc.eval(a)
			if a.t == tyRegex {
				v = value{o: a.re, ok: true}
			}
			if !v.ok {
				defined = false
			}
			args = append(args, v)
		}
		if !parent.ok || !defined {
			return undef
		}
		return n.fn.call(sc, parent.o, args)
	}
	return undef
}

// evalUnary evaluates not, the boolean reading of a value, negation and
// bitwise not.
func (sc *scanCtx) evalUnary(n *node) value {
	switch n.op {
	case opNot:
		v := sc.eval(n.a)
		if !v.ok {
			return undef
		}
		return boolVal(v.i == 0)
	case opToBool:
		v := sc.eval(n.a)
		if !v.ok {
			return undef
		}
		switch n.a.t {
		case tyStr:
			return boolVal(len(v.s) > 0)
		case tyFloat:
			return boolVal(v.f != 0)
		}
		return boolVal(v.i != 0)
	case opNeg:
		v := sc.eval(n.a)
		if !v.ok {
			return undef
		}
		if n.float {
			return value{f: -v.f, ok: true}
		}
		return intVal(-v.i)
	case opBitNot:
		v := sc.eval(n.a)
		if !v.ok {
			return undef
		}
		return intVal(^v.i)
	}
	return undef
}

// evalText evaluates the string comparison operators and matches.
func (sc *scanCtx) evalText(n *node) value {
	switch n.op {
	case opContains, opIContains, opStartsWith, opIStartsWith, opEndsWith, opIEndsWith, opIEquals:
		a, b := sc.eval(n.a), sc.eval(n.b)
		if !a.ok || !b.ok {
			return undef
		}
		x, y := a.s, b.s
		switch n.op {
		case opIContains, opIStartsWith, opIEndsWith, opIEquals:
			x, y = ascii.Lower(x), ascii.Lower(y)
		}
		switch n.op {
		case opContains, opIContains:
			return boolVal(strings.Contains(x, y))
		case opStartsWith, opIStartsWith:
			return boolVal(strings.HasPrefix(x, y))
		case opEndsWith, opIEndsWith:
			return boolVal(strings.HasSuffix(x, y))
		}
		return boolVal(x == y)
	case opMatches:
		a := sc.eval(n.a)
		if !a.ok {
			return undef
		}
		return boolVal(n.re.MatchString(latin1(a.s)))
	}
	return undef
}

func readInt(data []byte, off, code int64) value {
	size := code & 0xff
	if off < 0 || off > int64(len(data))-size {
		return undef
	}
	b := data[off : off+size]
	signed := code&(1<<8) != 0
	be := code&(1<<9) != 0
	var v int64
	switch size {
	case 1:
		if signed {
			v = int64(int8(b[0]))
		} else {
			v = int64(b[0])
		}
	case 2:
		var u uint16
		if be {
			u = binary.BigEndian.Uint16(b)
		} else {
			u = binary.LittleEndian.Uint16(b)
		}
		if signed {
			v = int64(int16(u))
		} else {
			v = int64(u)
		}
	default:
		var u uint32
		if be {
			u = binary.BigEndian.Uint32(b)
		} else {
			u = binary.LittleEndian.Uint32(b)
		}
		if signed {
			v = int64(int32(u))
		} else {
			v = int64(u)
		}
	}
	return intVal(v)
}

func (sc *scanCtx) arith(n *node) value {
	a := sc.eval(n.a)
	b := sc.eval(n.b)
	if !a.ok || !b.ok {
		return undef
	}
	if n.float {
		x, y := fval(n.a, a), fval(n.b, b)
		var r float64
		switch n.op {
		case opAdd:
			r = x + y
		case opSub:
			r = x - y
		case opMul:
			r = x * y
		case opDiv:
			r = x / y
		}
		return value{f: r, ok: true}
	}
	x, y := a.i, b.i
	switch n.op {
	case opAdd:
		return intVal(x + y)
	case opSub:
		return intVal(x - y)
	case opMul:
		return intVal(x * y)
	case opDiv:
		if y == 0 {
			return undef
		}
		return intVal(x / y)
	case opMod:
		if y == 0 {
			return undef
		}
		return intVal(x % y)
	case opShl:
		if y < 0 {
			return undef
		}
		if y >= 64 {
			return intVal(0)
		}
		return intVal(x << uint(y))
	case opShr:
		if y < 0 {
			return undef
		}
		if y >= 64 {
			return intVal(0)
		}
		return intVal(x >> uint(y))
	case opBitAnd:
		return intVal(x & y)
	case opBitOr:
		return intVal(x | y)
	case opBitXor:
		return intVal(x ^ y)
	}
	return undef
}

func (sc *scanCtx) compare(n *node) value {
	a := sc.eval(n.a)
	b := sc.eval(n.b)
	if n.float && n.op == opLT && (!a.ok || !b.ok) {
		// libyara's OP_DBL_LT alone yields false, not undefined.
		return boolVal(false)
	}
	if !a.ok || !b.ok {
		return undef
	}
	var c int
	switch {
	case n.a.t == tyStr:
		c = strings.Compare(a.s, b.s)
	case n.float:
		x, y := fval(n.a, a), fval(n.b, b)
		switch n.op {
		case opLT:
			return boolVal(x < y)
		case opLE:
			return boolVal(x <= y)
		case opGT:
			return boolVal(x > y)
		case opGE:
			return boolVal(x >= y)
		case opEQ:
			// Floats are equal within DBL_EPSILON in libyara.
			return boolVal(math.Abs(x-y) < epsilon)
		}
		return boolVal(math.Abs(x-y) >= epsilon)
	default:
		switch {
		case a.i < b.i:
			c = -1
		case a.i > b.i:
			c = 1
		}
	}
	switch n.op {
	case opLT:
		return boolVal(c < 0)
	case opLE:
		return boolVal(c <= 0)
	case opGT:
		return boolVal(c > 0)
	case opGE:
		return boolVal(c >= 0)
	case opEQ:
		return boolVal(c == 0)
	}
	return boolVal(c != 0)
}

// of evaluates "<q> of <set>" with libyara's rules: "all" (or an undefined
// quantifier) needs every item, 0 and "none" need none, N needs at least N.
func (sc *scanCtx) of(n *node) value {
	var lo, hi value
	if n.op == opOfIn {
		lo, hi = sc.eval(n.b), sc.eval(n.c)
		if !lo.ok || !hi.ok {
			return undef
		}
	}
	found, count := int64(0), int64(0)
	if n.str == -2 {
		for _, ri := range n.rules {
			if sc.ruleRes[ri] {
				found++
			}
			count++
		}
	} else {
		for _, s := range n.strs {
			ms := sc.matches[s]
			if n.op == opOfIn {
				for _, m := range ms {
					if m.Offset > hi.i {
						break
					}
					if m.Offset >= lo.i {
						found++
						break
					}
				}
			} else if len(ms) > 0 {
				found++
			}
			count++
		}
	}
	q := sc.quantifier(n)
	if n.op == opOfPercent {
		if !q.ok || count == 0 {
			return undef
		}
		return boolVal(float64(found)/float64(count)*100 >= float64(q.i))
	}
	switch {
	case !q.ok:
		return boolVal(found >= count)
	case q.i == 0:
		return boolVal(found == 0)
	}
	return boolVal(found >= q.i)
}

func (sc *scanCtx) quantifier(n *node) value {
	switch n.quant {
	case qAll:
		return undef
	case qAny:
		return intVal(1)
	case qNone:
		return intVal(0)
	}
	v := sc.eval(n.a)
	// libyara takes whatever is on its stack as an integer: a float's bits,
	// a string's address (a large number).
	if v.ok {
		switch n.a.t {
		case tyFloat:
			v.i = int64(math.Float64bits(v.f))
		case tyStr:
			v.i = math.MaxInt64
		}
	}
	return v
}

// forOf evaluates "for <q> of <set> : (<expr>)": every string is visited,
// then the quantifier (the iteration count for "all") must not exceed the
// number of true results.
func (sc *scanCtx) forOf(n *node) value {
	q := sc.quantifier(n)
	trues, iters := int64(0), int64(0)
	for _, s := range n.strs {
		if sc.halted() {
			break
		}
		sc.slots[n.slot] = intVal(int64(s))
		v := sc.eval(n.b)
		if v.ok {
			trues += v.i
		}
		iters++
	}
	if !q.ok {
		q = intVal(iters)
	}
	return boolVal(q.i <= trues)
}

// forIn evaluates "for <q> <vars> in <iterator> : (<expr>)" as libyara's
// loop code does, including its early exit once the quantifier is reached.
func (sc *scanCtx) forIn(n *node) value {
	q := sc.quantifier(n)
	trues, iters := int64(0), int64(0)
	// step runs the body once; it returns false when the loop must stop.
	step := func() bool {
		if sc.halted() {
			return false
		}
		v := sc.eval(n.b)
		if v.ok {
			trues += v.i
		}
		iters++
		if !q.ok {
			return true
		}
		return trues < q.i
	}
	switch n.iterKind {
	case iterRange:
		lo, hi := sc.eval(n.args[0]), sc.eval(n.args[1])
		if lo.ok && hi.ok {
			for i := lo.i; i <= hi.i; i++ {
				sc.slots[n.slot] = intVal(i)
				if !step() || i == hi.i {
					break
				}
			}
		}
	case iterEnum:
		var buf [16]value
		items := buf[:0]
		for _, a := range n.args {
			items = append(items, sc.eval(a))
		}
		for _, it := range items {
			sc.slots[n.slot] = it
			if !step() {
				break
			}
		}
	case iterArray:
		arr := sc.eval(n.c)
		if arr.ok {
			at := n.c.obj
			l := at.length(arr.o)
			for i := 0; i < l; i++ {
				v, ok := at.index(arr.o, int64(i))
				if !ok {
					v = undef
				}
				sc.slots[n.slot] = v
				if !step() {
					break
				}
			}
		}
	case iterDict:
		d := sc.eval(n.c)
		if d.ok {
			n.c.obj.each(d.o, func(k string, v value) bool {
				sc.slots[n.slot] = value{s: k, ok: true}
				sc.slots[n.slot+1] = v
				return step()
			})
		}
	}
	if iters == 0 {
		return boolVal(false)
	}
	if !q.ok {
		q = intVal(iters)
	}
	return boolVal(trues >= q.i)
}

// entrypoint is the deprecated entrypoint keyword.
func (sc *scanCtx) entrypoint() value {
	if v, ok := entryPointOffset(sc.data); ok {
		return intVal(v)
	}
	return undef
}
