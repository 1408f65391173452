package strmatch

import (
	"encoding/binary"
	"math/bits"
)

// atomRef says what to verify when an atom is seen.
type atomRef struct {
	piece int32 // index into Set.pieces
	// back is how far before the atom a text string starts; for regex and
	// hex pieces the atom starts at the node where verification starts.
	back     int32
	fpc, bpc int32
	// next and nextMask test data[at+4:at+8] (little-endian) before any
	// other work, so that most wrong candidates cost no cache misses.
	next, nextMask uint32
	// pre and bpre index Set.pre: byte tests a match must pass from the
	// atom on, forwards and backwards; -1 when there are none.
	pre, bpre int32
}

// atomIndex finds all atoms in one pass. Atoms are at most four bytes, so
// instead of walking an Aho–Corasick automaton it looks the next four bytes
// up directly: per atom length a bitmap filter (in cache) rejects most
// positions, then an exact hash table gives the atoms' references.
type atomIndex struct {
	refs []atomRef
	// one-byte atoms: ranges into refs, by byte.
	one    [256][2]int32
	hasOne bool
	// pre has bit k set when there is a two-byte atom k (little-endian),
	// pre3 when some three-byte atom starts with k.
	pre  []uint64
	pre3 []uint64
	two  []int32 // 65536 × (start, end), nil when there are no two-byte atoms
	tri  hashTable
	quad hashTable
}

// hashTable maps a 3- or 4-byte key to a range of refs, with a bitmap in
// front that rejects most absent keys.
type hashTable struct {
	shift  uint
	filter []uint64
	fshift uint
	// slots hold key and ref range together so a probe touches one cache
	// line; a slot is empty when its range is.
	slots []slot
	n     int
}

type slot struct {
	key        uint32
	start, end int32
}

func hash32(k uint32) uint32 { return k * 0x9E3779B1 }

// filterSeed makes the filter's hash independent of the table's.
const filterSeed = 0x5bd1e995

func (h *hashTable) build(keys []uint32, ranges [][2]int32) {
	h.n = len(keys)
	if h.n == 0 {
		return
	}
	size := 1 << bits.Len(uint(2*h.n))
	h.shift = uint(32 - bits.Len(uint(size-1)))
	h.slots = make([]slot, size)
	fbits := 1 << bits.Len(uint(16*h.n))
	fbits = max(fbits, 1<<12)
	fbits = min(fbits, 1<<25)
	h.filter = make([]uint64, fbits/64)
	h.fshift = uint(32 - bits.Len(uint(fbits-1)))
	for i, k := range keys {
		f := hash32(k^filterSeed) >> h.fshift
		h.filter[f>>6] |= 1 << (f & 63)
		j := hash32(k) >> h.shift
		for h.slots[j].end > h.slots[j].start {
			j = (j + 1) & uint32(size-1)
		}
		h.slots[j] = slot{k, ranges[i][0], ranges[i][1]}
	}
}

func (h *hashTable) lookup(k uint32) (int32, int32) {
	f := hash32(k^filterSeed) >> h.fshift
	if h.filter[f>>6]&(1<<(f&63)) == 0 {
		return 0, 0
	}
	return h.find(k)
}

// find looks k up in the table itself.
func (h *hashTable) find(k uint32) (int32, int32) {
	mask := uint32(len(h.slots) - 1)
	for j := hash32(k) >> h.shift; ; j = (j + 1) & mask {
		sl := &h.slots[j]
		if sl.end <= sl.start {
			return 0, 0
		}
		if sl.key == k {
			return sl.start, sl.end
		}
	}
}

// indexBuilder gathers atoms before the tables are laid out.
type indexBuilder struct {
	byAtom map[string][]atomRef
}

func (b *indexBuilder) add(atom []byte, r atomRef) {
	if b.byAtom == nil {
		b.byAtom = map[string][]atomRef{}
	}
	k := string(atom)
	for _, x := range b.byAtom[k] {
		if x == r {
			return
		}
	}
	b.byAtom[k] = append(b.byAtom[k], r)
}

func (b *indexBuilder) build() atomIndex {
	var ix atomIndex
	ix.pre = make([]uint64, 65536/64)
	ix.pre3 = make([]uint64, 65536/64)
	var triK, quadK []uint32
	var triR, quadR [][2]int32
	for k, refs := range b.byAtom {
		start := int32(len(ix.refs))
		ix.refs = append(ix.refs, refs...)
		r := [2]int32{start, int32(len(ix.refs))}
		switch len(k) {
		case 1:
			ix.one[k[0]] = r
			ix.hasOne = true
			continue
		case 2:
			if ix.two == nil {
				ix.two = make([]int32, 2*65536)
			}
			p := int(k[0]) | int(k[1])<<8
			ix.two[2*p], ix.two[2*p+1] = r[0], r[1]
			ix.pre[p>>6] |= 1 << (p & 63)
		case 3:
			triK = append(triK, uint32(k[0])|uint32(k[1])<<8|uint32(k[2])<<16)
			p := int(k[0]) | int(k[1])<<8
			ix.pre3[p>>6] |= 1 << (p & 63)
			triR = append(triR, r)
		case 4:
			quadK = append(quadK, binary.LittleEndian.Uint32([]byte(k)))
			quadR = append(quadR, r)
		}
	}
	ix.tri.build(triK, triR)
	ix.quad.build(quadK, quadR)
	return ix
}

// each calls f for every atom occurrence in the order an Aho–Corasick
// automaton reports them, which libyara's results depend on: by end
// position, and at one end the longer atom first.
func (ix *atomIndex) each(data []byte, f func(ref *atomRef, at int)) {
	n := len(data)
	// Atoms ending at 1, 2 and 3.
	for e := 1; e <= min(3, n); e++ {
		if e == 3 {
			ix.fireTri(data, 0, f)
		}
		if e >= 2 {
			ix.fireTwo(data, e-2, f)
		}
		ix.fireOne(data[e-1], e-1, f)
	}
	hasTwo, hasTri, hasQuad := ix.two != nil, ix.tri.n > 0, ix.quad.n > 0
	qf, qshift := ix.quad.filter, ix.quad.fshift
	pre, pre3 := ix.pre, ix.pre3
	// Atoms ending at i+4.
	for i := 0; i+4 <= n; i++ {
		w := binary.LittleEndian.Uint32(data[i:])
		if hasQuad {
			if h := hash32(w^filterSeed) >> qshift; qf[h>>6]&(1<<(h&63)) != 0 {
				if s, e := ix.quad.find(w); s < e {
					ix.fire([2]int32{s, e}, i, f)
				}
			}
		}
		if hasTri {
			if p := (w >> 8) & 0xFFFF; pre3[p>>6]&(1<<(p&63)) != 0 {
				if s, e := ix.tri.find(w >> 8); s < e {
					ix.fire([2]int32{s, e}, i+1, f)
				}
			}
		}
		if hasTwo {
			if p := w >> 16; pre[p>>6]&(1<<(p&63)) != 0 {
				ix.fire([2]int32{ix.two[2*p], ix.two[2*p+1]}, i+2, f)
			}
		}
		if ix.hasOne {
			ix.fire(ix.one[byte(w>>24)], i+3, f)
		}
	}
}

func (ix *atomIndex) fireOne(c byte, at int, f func(*atomRef, int)) {
	if ix.hasOne {
		ix.fire(ix.one[c], at, f)
	}
}

func (ix *atomIndex) fireTwo(data []byte, at int, f func(*atomRef, int)) {
	if ix.two != nil {
		p := uint32(data[at]) | uint32(data[at+1])<<8
		ix.fire([2]int32{ix.two[2*p], ix.two[2*p+1]}, at, f)
	}
}

func (ix *atomIndex) fireTri(data []byte, at int, f func(*atomRef, int)) {
	if ix.tri.n > 0 {
		if s, e := ix.tri.lookup(uint32(data[at]) | uint32(data[at+1])<<8 | uint32(data[at+2])<<16); s < e {
			ix.fire([2]int32{s, e}, at, f)
		}
	}
}

func (ix *atomIndex) fire(r [2]int32, at int, f func(*atomRef, int)) {
	for j := r[0]; j < r[1]; j++ {
		f(&ix.refs[j], at)
	}
}
