package yara

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"math"
	"regexp"
	"strconv"
	"time"
)

// Module ids index scanCtx.mods.
const (
	modHash = iota
	modMath
	modTime
	modConsole
	modPE
	modELF
	numModules
)

type module struct {
	id   int
	root *objType
}

// moduleNames lists the modules yara 4.2.3 knows; nil marks those mamori
// does not implement (importing them is fine, using them is unsupported).
var moduleNames = map[string]*module{
	"hash":    {id: modHash, root: hashModule()},
	"math":    {id: modMath, root: mathModule()},
	"time":    {id: modTime, root: timeModule()},
	"console": {id: modConsole, root: consoleModule()},
	"pe":      {id: modPE, root: peModule()},
	"elf":     {id: modELF, root: elfModule()},
	"dotnet":  nil,
	"magic":   nil,
	"cuckoo":  nil,
	"tests":   nil,
	"macho":   nil,
	"dex":     nil,
}

// module returns the root value of module id for this scan, computing it
// once.
func (sc *scanCtx) module(id int) value {
	if !sc.modLoaded[id] {
		sc.modLoaded[id] = true
		switch id {
		case modPE:
			sc.mods[id] = sc.pe()
		case modELF:
			sc.mods[id] = parseELF(sc.data)
		default:
			sc.mods[id] = sc
		}
	}
	return value{o: sc.mods[id], ok: true}
}

func structType(fields map[string]*objType) *objType {
	for name, f := range fields {
		f.name = name
	}
	return &objType{kind: tyStruct, fields: fields}
}

func funcType(fs ...*function) *objType { return &objType{kind: tyFunc, funcs: fs} }

// funcField makes a function member whose parent value is passed through.
func fn(args string, ret vtype, call func(sc *scanCtx, parent any, a []value) value) *function {
	return &function{args: args, ret: ret, call: call}
}

func floatVal(f float64) value {
	if math.IsNaN(f) {
		return undef
	}
	return value{f: f, ok: true}
}

func strVal(s string) value { return value{s: s, ok: true} }

// dataRange returns data[offset:offset+length] as libyara's modules compute
// it over a single memory block: the offset must lie inside the data, the
// length is clipped at its end.
func dataRange(data []byte, offset, length int64) ([]byte, bool) {
	if offset < 0 || length < 0 || offset >= int64(len(data)) {
		return nil, false
	}
	end := offset + length
	if end > int64(len(data)) || end < offset {
		end = int64(len(data))
	}
	return data[offset:end], true
}

func hashFuncs(name string, newHash func() hash.Hash) *objType {
	sum := func(b []byte) value {
		h := newHash()
		h.Write(b)
		return strVal(hex.EncodeToString(h.Sum(nil)))
	}
	return funcType(
		fn("ii", tyStr, func(sc *scanCtx, _ any, a []value) value {
			b, ok := dataRange(sc.data, a[0].i, a[1].i)
			if !ok {
				return undef
			}
			return sc.memoize(memoKey{name, a[0].i, a[1].i}, func() value { return sum(b) })
		}),
		fn("s", tyStr, func(_ *scanCtx, _ any, a []value) value { return sum([]byte(a[0].s)) }),
	)
}

func checksum32(b []byte) int64 {
	var s uint32
	for _, c := range b {
		s += uint32(c)
	}
	return int64(s)
}

func intHashFuncs(f func([]byte) int64) *objType {
	return funcType(
		fn("ii", tyInt, func(sc *scanCtx, _ any, a []value) value {
			b, ok := dataRange(sc.data, a[0].i, a[1].i)
			if !ok {
				return undef
			}
			return intVal(f(b))
		}),
		fn("s", tyInt, func(_ *scanCtx, _ any, a []value) value { return intVal(f([]byte(a[0].s))) }),
	)
}

func hashModule() *objType {
	return structType(map[string]*objType{
		"md5":        hashFuncs("md5", md5.New),
		"sha1":       hashFuncs("sha1", sha1.New),
		"sha256":     hashFuncs("sha256", sha256.New),
		"checksum32": intHashFuncs(checksum32),
		"crc32":      intHashFuncs(func(b []byte) int64 { return int64(crc32.ChecksumIEEE(b)) }),
	})
}

func distribution(b []byte) *[256]uint32 {
	var d [256]uint32
	for _, c := range b {
		d[c]++
	}
	return &d
}

func entropy(d *[256]uint32) float64 {
	var total uint64
	for _, n := range d {
		total += uint64(n)
	}
	e := 0.0
	for _, n := range d {
		if n != 0 {
			x := float64(n) / float64(total)
			e -= x * math.Log2(x)
		}
	}
	return e
}

func mean(d *[256]uint32) float64 {
	var total uint64
	sum := 0.0
	for i, n := range d {
		total += uint64(n)
		sum += float64(i) * float64(n)
	}
	return sum / float64(total)
}

func deviation(d *[256]uint32, m float64) float64 {
	var total uint64
	sum := 0.0
	for i, n := range d {
		total += uint64(n)
		sum += math.Abs(float64(i)-m) * float64(n)
	}
	return sum / float64(total)
}

// serialCorrelation takes bytes as the values libyara reads them: unsigned
// from scanned data, signed chars from strings.
func serialCorrelation(vals func(i int) float64, n int) float64 {
	var sccun, scclast, t1, t2, t3 float64
	for i := 0; i < n; i++ {
		sccun = vals(i)
		t1 += scclast * sccun
		t2 += sccun
		t3 += sccun * sccun
		scclast = sccun
	}
	t1 += scclast * sccun
	t2 *= t2
	scc := float64(n)*t3 - t2
	if scc == 0 {
		return -100000
	}
	return (float64(n)*t1 - t2) / scc
}

func monteCarloPi(vals func(i int) uint32, n int) value {
	incirc := math.Pow(math.Pow(256.0, 3.0)-1, 2.0)
	var monte [6]uint32
	mcount, inmont := 0, 0
	for i := 0; i < n; i++ {
		monte[i%6] = vals(i)
		if i%6 == 5 {
			mx, my := 0.0, 0.0
			mcount++
			for j := 0; j < 3; j++ {
				mx = mx*256.0 + float64(monte[j])
				my = my*256.0 + float64(monte[j+3])
			}
			if mx*mx+my*my <= incirc {
				inmont++
			}
		}
	}
	if mcount == 0 {
		return undef
	}
	mpi := 4.0 * (float64(inmont) / float64(mcount))
	return floatVal(math.Abs((mpi - math.Pi) / math.Pi))
}

func mathModule() *objType {
	distFn := func(args string, f func(d *[256]uint32, a []value) value) *function {
		return fn(args, tyFloat, func(sc *scanCtx, _ any, a []value) value {
			b, ok := dataRange(sc.data, a[0].i, a[1].i)
			if !ok {
				return undef
			}
			d := sc.memoize(memoKey{"distribution", a[0].i, a[1].i}, func() value {
				return value{o: distribution(b), ok: true}
			})
			return f(d.o.(*[256]uint32), a[2:])
		})
	}
	strFn := func(args string, f func(d *[256]uint32, a []value) value) *function {
		return fn(args, tyFloat, func(_ *scanCtx, _ any, a []value) value {
			return f(distribution([]byte(a[0].s)), a[1:])
		})
	}
	ent := func(d *[256]uint32, _ []value) value { return floatVal(entropy(d)) }
	mn := func(d *[256]uint32, _ []value) value { return floatVal(mean(d)) }
	dev := func(d *[256]uint32, a []value) value { return floatVal(deviation(d, a[0].f)) }
	percentage := func(d *[256]uint32, b int64) value {
		var total int64
		for _, n := range d {
			total += int64(n)
		}
		return floatVal(float64(float32(d[byte(b)]) / float32(total)))
	}
	mode := func(d *[256]uint32) value {
		most := 0
		for i := range d {
			if d[i] > d[most] {
				most = i
			}
		}
		return intVal(int64(most))
	}
	return structType(map[string]*objType{
		"MEAN_BYTES": {kind: tyFloat, get: func(any) (value, bool) { return value{f: 127.5, ok: true}, true }},
		"in_range": funcType(fn("fff", tyInt, func(_ *scanCtx, _ any, a []value) value {
			return boolVal(a[1].f <= a[0].f && a[0].f <= a[2].f)
		})),
		"deviation": funcType(distFn("iif", dev), strFn("sf", dev)),
		"mean":      funcType(distFn("ii", mn), strFn("s", mn)),
		"entropy":   funcType(distFn("ii", ent), strFn("s", ent)),
		"serial_correlation": funcType(
			fn("ii", tyFloat, func(sc *scanCtx, _ any, a []value) value {
				b, ok := dataRange(sc.data, a[0].i, a[1].i)
				if !ok {
					return undef
				}
				return floatVal(serialCorrelation(func(i int) float64 { return float64(b[i]) }, len(b)))
			}),
			fn("s", tyFloat, func(_ *scanCtx, _ any, a []value) value {
				s := a[0].s
				return floatVal(serialCorrelation(func(i int) float64 { return float64(int8(s[i])) }, len(s)))
			})),
		"monte_carlo_pi": funcType(
			fn("ii", tyFloat, func(sc *scanCtx, _ any, a []value) value {
				b, ok := dataRange(sc.data, a[0].i, a[1].i)
				if !ok {
					return undef
				}
				return monteCarloPi(func(i int) uint32 { return uint32(b[i]) }, len(b))
			}),
			fn("s", tyFloat, func(_ *scanCtx, _ any, a []value) value {
				s := a[0].s
				return monteCarloPi(func(i int) uint32 { return uint32(int32(int8(s[i]))) }, len(s))
			})),
		"min": funcType(fn("ii", tyInt, func(_ *scanCtx, _ any, a []value) value {
			return intVal(int64(min(uint64(a[0].i), uint64(a[1].i))))
		})),
		"max": funcType(fn("ii", tyInt, func(_ *scanCtx, _ any, a []value) value {
			return intVal(int64(max(uint64(a[0].i), uint64(a[1].i))))
		})),
		"to_number": funcType(fn("b", tyInt, func(_ *scanCtx, _ any, a []value) value {
			return intVal(boolInt(a[0].i != 0))
		})),
		"abs": funcType(fn("i", tyInt, func(_ *scanCtx, _ any, a []value) value {
			if a[0].i < 0 {
				return intVal(-a[0].i)
			}
			return a[0]
		})),
		"count": funcType(
			fn("iii", tyInt, func(sc *scanCtx, _ any, a []value) value {
				b, ok := dataRange(sc.data, a[1].i, a[2].i)
				if !ok {
					return undef
				}
				return intVal(int64(distribution(b)[byte(a[0].i)]))
			}),
			fn("i", tyInt, func(sc *scanCtx, _ any, a []value) value {
				b, ok := dataRange(sc.data, 0, int64(len(sc.data)))
				if !ok {
					return undef
				}
				return intVal(int64(distribution(b)[byte(a[0].i)]))
			})),
		"percentage": funcType(
			fn("iii", tyFloat, func(sc *scanCtx, _ any, a []value) value {
				b, ok := dataRange(sc.data, a[1].i, a[2].i)
				if !ok {
					return undef
				}
				return percentage(distribution(b), a[0].i)
			}),
			fn("i", tyFloat, func(sc *scanCtx, _ any, a []value) value {
				b, ok := dataRange(sc.data, 0, int64(len(sc.data)))
				if !ok {
					return undef
				}
				return percentage(distribution(b), a[0].i)
			})),
		"mode": funcType(
			fn("ii", tyInt, func(sc *scanCtx, _ any, a []value) value {
				b, ok := dataRange(sc.data, a[0].i, a[1].i)
				if !ok {
					return undef
				}
				return mode(distribution(b))
			}),
			fn("", tyInt, func(sc *scanCtx, _ any, a []value) value {
				b, ok := dataRange(sc.data, 0, int64(len(sc.data)))
				if !ok {
					return undef
				}
				return mode(distribution(b))
			})),
	})
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func timeModule() *objType {
	return structType(map[string]*objType{
		"now": funcType(fn("", tyInt, func(*scanCtx, any, []value) value {
			return intVal(time.Now().Unix())
		})),
	})
}

// consoleModule's functions always return true; their output goes to the
// scan's log function when one is set.
func consoleModule() *objType {
	out := func(sc *scanCtx, s string) value {
		if sc.log != nil {
			sc.log(s)
		}
		return intVal(1)
	}
	fmtFloat := func(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }
	return structType(map[string]*objType{
		"log": funcType(
			fn("s", tyInt, func(sc *scanCtx, _ any, a []value) value { return out(sc, a[0].s) }),
			fn("ss", tyInt, func(sc *scanCtx, _ any, a []value) value { return out(sc, a[0].s+a[1].s) }),
			fn("i", tyInt, func(sc *scanCtx, _ any, a []value) value { return out(sc, strconv.FormatInt(a[0].i, 10)) }),
			fn("si", tyInt, func(sc *scanCtx, _ any, a []value) value {
				return out(sc, a[0].s+strconv.FormatInt(a[1].i, 10))
			}),
			fn("f", tyInt, func(sc *scanCtx, _ any, a []value) value { return out(sc, fmtFloat(a[0].f)) }),
			fn("sf", tyInt, func(sc *scanCtx, _ any, a []value) value { return out(sc, a[0].s+fmtFloat(a[1].f)) }),
		),
		"hex": funcType(
			fn("i", tyInt, func(sc *scanCtx, _ any, a []value) value { return out(sc, fmt.Sprintf("0x%x", uint64(a[0].i))) }),
			fn("si", tyInt, func(sc *scanCtx, _ any, a []value) value {
				return out(sc, fmt.Sprintf("%s0x%x", a[0].s, uint64(a[1].i)))
			}),
		),
	})
}

// regexArg returns the compiled regexp passed to a module function.
func regexArg(v value) *regexp.Regexp { return v.o.(*regexp.Regexp) }
