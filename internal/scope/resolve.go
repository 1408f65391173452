package scope

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/maphash"
	"math/bits"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// Exposure is how far a file's data went. Levels are ordered.
type Exposure uint8

const (
	ExposureNone Exposure = iota
	Present
	Accessed
	Exfiltrated
)

var exposureNames = []string{"", "present", "accessed", "exfiltrated"}

func (e Exposure) String() string {
	if int(e) < len(exposureNames) {
		return exposureNames[e]
	}
	return fmt.Sprintf("exposure(%d)", e)
}

// ParseExposure reads "present", "accessed" or "exfiltrated".
func ParseExposure(s string) (Exposure, error) {
	for i, n := range exposureNames {
		if i > 0 && strings.EqualFold(strings.TrimSpace(s), n) {
			return Exposure(i), nil
		}
	}
	return 0, fmt.Errorf("exposure %q: want present, accessed or exfiltrated", s)
}

// Source is one file, or one member of an archive, on one host; or the
// master data.
type Source struct {
	Host, Path, Member string
	Exposure           Exposure
	// Master marks the customer master data: its rows say who a person is
	// but expose nothing.
	Master bool
	// SpecialCare lists the terms (column names, keywords, document types)
	// that make the source's data 要配慮個人情報.
	SpecialCare []string
	// Credentials says the source holds passwords or PINs next to account
	// numbers.
	Credentials bool
}

// Name renders a source for people: host:path!member.
func (s *Source) Name() string {
	n := s.Path
	if s.Host != "" {
		n = s.Host + ":" + n
	}
	if s.Member != "" {
		n += "!" + s.Member
	}
	return n
}

// Key kinds, strongest first: a cluster's person id comes from its
// strongest key.
const (
	kMyNumber uint8 = iota + 1
	kPassport
	kLicense
	kEmail
	kPhone
	kCard
	kNameDOB
	kNameAddr
	kRecord
	kConfirmed // a merge a person confirmed
	kNameOnly  // records holding the same name and nothing else
)

var kindNames = []string{"", "my_number", "passport", "drivers_license", "email", "phone", "credit_card",
	"name+date_of_birth", "name+address", "record", "confirmed", "name only"}

func contactKind(k uint8) bool { return k == kEmail || k == kPhone }

// Options configure a Resolver.
type Options struct {
	// Key keys the hashes that leave the resolver: person ids and card
	// numbers. Reruns agree only under the same key.
	Key []byte
	// Country reads domestic phone numbers; "JP" when empty.
	Country string
}

// node is one data subject of one source (a row, an object, a letter) or
// one master row. Strings live in the arena.
type node struct {
	src     int32
	record  int32
	cats    uint32
	names   [2]int32 // interned normalised names, 0 when absent
	dob     int32    // days since 1800-01-01, 0 when absent
	addrH   uint64
	disp    uint32 // arena: display name
	email   uint32
	phone   uint32 // E.164
	addr    uint32
	postal  uint32
	lang    uint32
	country uint32
	best    uint32 // arena: the normalised value of the strongest key
	rank    uint8
	flags   uint8
}

const (
	fCrowd     uint8 = 1 << iota // several people in one record: split
	fNoPerson                    // values moved to split nodes
	fManyName                    // more than two names
	fDone                        // keys applied
	fUndecided                   // nameless, sharing a contact with differently named people
)

// keyRef is one key of a node waiting for Resolve.
type keyRef struct {
	h    uint64
	node int32
	val  uint32 // arena: the normalised value
	kind uint8
}

// Merge records why two nodes are one person.
type Merge struct {
	A, B int32
	Kind uint8
}

// contactEntry is the state of one e-mail or phone key: the nodes of the
// differently named people holding it, and nameless nodes waiting.
type contactEntry struct {
	// first and more are the anchors; most keys have one, without an
	// allocation.
	first   int32 // -1 when none
	more    int32 // index+1 into anchorMore, 0 when none
	pending int32 // -1 when none
	// common is set once more than maxAnchors differently named people
	// hold the value: a company's address or switchboard, not a person's.
	common bool
}

const maxAnchors = 16

func (r *Resolver) anchors(e *contactEntry, buf []int32) []int32 {
	if e.first < 0 {
		return buf
	}
	buf = append(buf, e.first)
	if e.more > 0 {
		buf = append(buf, r.anchorMore[e.more-1]...)
	}
	return buf
}

func (r *Resolver) addAnchor(e *contactEntry, n int32) int {
	if e.first < 0 {
		e.first = n
		return 1
	}
	if e.more == 0 {
		r.anchorMore = append(r.anchorMore, nil)
		e.more = int32(len(r.anchorMore))
	}
	l := &r.anchorMore[e.more-1]
	*l = append(*l, n)
	return 1 + len(*l)
}

// nameSet is a cluster's names: one or two inline, more (rare) in
// nameMore. Like contactEntry it holds no pointer: the garbage collector
// need not look into millions of them.
type nameSet struct {
	in   [2]int32
	more int32 // index+1 into nameMore, 0 when none
}

// namesOf returns the names of the cluster at root; the slice is valid
// until the cluster's names or the node list change.
func (r *Resolver) namesOf(root int32) []int32 {
	s := &r.rootNames[root]
	switch {
	case s.more > 0:
		return r.nameMore[s.more-1]
	case s.in[0] == 0:
		return nil
	case s.in[1] == 0:
		return s.in[:1]
	}
	return s.in[:]
}

// addNames adds names to the cluster at root, as mergeNames does.
func (r *Resolver) addNames(root int32, ns []int32) {
	if len(ns) == 0 {
		return
	}
	var buf [16]int32
	merged := mergeNames(append(buf[:0], r.namesOf(root)...), ns)
	s := &r.rootNames[root]
	if len(merged) <= 2 && s.more == 0 {
		s.in = [2]int32{}
		copy(s.in[:], merged)
		return
	}
	if s.more == 0 {
		r.nameMore = append(r.nameMore, nil)
		s.more = int32(len(r.nameMore))
	}
	r.nameMore[s.more-1] = append(r.nameMore[s.more-1][:0], merged...)
}

// dropNames empties the names of a cluster merged into another.
func (r *Resolver) dropNames(root int32) {
	if s := &r.rootNames[root]; s.more > 0 {
		r.nameMore[s.more-1] = nil
	}
	r.rootNames[root] = nameSet{}
}

// Resolver clusters nodes. Add values, then Resolve; more values may be
// added and Resolve called again (incremental).
type Resolver struct {
	opts  Options
	seed  maphash.Seed
	mac   *hashFunc
	nodes []node
	// parent, size and next (circular member lists) are the union-find.
	parent, next []int32
	size         []int32
	rootNames    []nameSet // per root: its cluster's names
	nameMore     [][]int32
	anchorMore   [][]int32 // contact entries' anchors after the first
	sources      []Source
	srcIndex     map[string]int32
	subj         idTable // source and record → node
	// names interns normalised names, kept end to end in nameText: name
	// id runs to nameEnd[id].
	names    idTable
	nameText []byte
	nameEnd  []uint32
	// nameInfo holds per name its script (low bits) and its length in
	// runes (capped at 255, above the bits): the near-name passes compare
	// millions of pairs and reject most by these alone.
	nameInfo []uint16
	arena    [][]byte
	pend     []keyRef
	// raw queues values until a batch is full or Resolve; busy is the
	// batch before, being normalised; spare is a queue to reuse.
	raw, spare []rawValue
	busy       *normBatch
	dirty      []int32
	ids        keyIndex        // identity key → its first node
	nameOnly   map[int32]int32 // name → a record holding only it
	contacts   keyIndex        // contact key → its entry in centries
	centries   []contactEntry
	// pendingEntries are the contact values nameless records wait on
	// (settle); undecided the nameless records proposed to several people.
	pendingEntries []pendingEntry
	undecided      []int32
	nearDOB        idTable // near-birth-date block → index in nearBlocks
	nearBlocks     []nearBlock
	merges         []Merge
	proposals      []Proposal
	proposed       map[[2]int32]bool
	catIndex       map[string]uint8
	catNames       []string
	// catOrder (category indices in register order) and the bits of card
	// and bank account are filled before rows are built.
	catOrder         []uint8
	catCard, catBank uint32
	// touchedList holds nodes whose clusters changed (see Changed).
	touchedList []int32
	lastShared  map[uint64]int32
	rejected    map[string]bool
	srcNames    []string
	propIndex   map[string]int
	last        struct {
		k subjKey
		n int32
	}
}

type subjKey struct {
	src, record int32
}

// hashFunc computes keyed hashes. Its zero value for a key (newHash)
// makes a fresh HMAC per call and is safe for concurrent use; a Resolver's
// own reuses one (resolvers are not concurrent).
type hashFunc struct {
	key []byte
	h   hash.Hash
	buf []byte
}

func (h *hashFunc) sum(s string) []byte {
	if h.h == nil {
		m := hmac.New(sha256.New, h.key)
		m.Write([]byte(s))
		return m.Sum(nil)
	}
	h.h.Reset()
	h.buf = append(h.buf[:0], s...)
	h.h.Write(h.buf)
	return h.h.Sum(nil)
}

// NewResolver returns an empty Resolver.
func NewResolver(opts Options) *Resolver {
	if opts.Country == "" {
		opts.Country = "JP"
	}
	r := &Resolver{opts: opts, seed: maphash.MakeSeed(), mac: &hashFunc{key: opts.Key, h: hmac.New(sha256.New, opts.Key)},
		srcIndex: map[string]int32{},
		nameEnd:  []uint32{0}, nameInfo: []uint16{0}, nameOnly: map[int32]int32{},
		proposed: map[[2]int32]bool{}, catIndex: map[string]uint8{}, rejected: map[string]bool{}}
	r.last.n = -1
	return r
}

// Source returns the index of a source, adding it when new. A known
// source's exposure rises to s.Exposure and its flags accumulate.
func (r *Resolver) Source(s Source) int32 {
	k := s.Host + "\x00" + s.Path + "\x00" + s.Member
	if s.Master {
		k = "\x01" + k
	}
	if i, ok := r.srcIndex[k]; ok {
		cur := &r.sources[i]
		cur.Exposure = max(cur.Exposure, s.Exposure)
		cur.SpecialCare = appendNew(cur.SpecialCare, s.SpecialCare...)
		cur.Credentials = cur.Credentials || s.Credentials
		return i
	}
	if s.Exposure == ExposureNone && !s.Master {
		s.Exposure = Present
	}
	i := int32(len(r.sources))
	r.sources = append(r.sources, s)
	r.srcIndex[k] = i
	return i
}

// Sources returns the sources added so far; callers may raise exposures
// and add flags through the pointer before building a register.
func (r *Resolver) Sources() []Source { return r.sources }

func appendNew(dst []string, vs ...string) []string {
	for _, v := range vs {
		if !slices.Contains(dst, v) {
			dst = append(dst, v)
		}
	}
	return dst
}

// The arena holds strings, each after its length, in chunks that are
// never moved: a growing single slice copied hundreds of megabytes, and
// held old and new copies at once. An offset is the chunk's number above
// chunkBits and the place in it below; a string longer than a chunk gets
// one of its own.
const chunkBits = 22

func (r *Resolver) str(s string) uint32 {
	if s == "" {
		return 0
	}
	need := binary.MaxVarintLen64 + len(s)
	c := len(r.arena) - 1
	if c < 0 || len(r.arena[c])+need > cap(r.arena[c]) {
		if len(r.arena) >= 1<<(32-chunkBits) {
			panic("scope: string arena over 4 GiB")
		}
		r.arena = append(r.arena, make([]byte, 0, max(1<<chunkBits, need)))
		c++
		if c == 0 {
			r.arena[0] = append(r.arena[0], 0) // offset 0 is the empty string
		}
	}
	o := uint32(c)<<chunkBits | uint32(len(r.arena[c]))
	r.arena[c] = append(binary.AppendUvarint(r.arena[c], uint64(len(s))), s...)
	return o
}

func (r *Resolver) get(o uint32) string { return string(r.bytes(o)) }

// bytes is the arena string at o, without a copy.
func (r *Resolver) bytes(o uint32) []byte {
	if o == 0 {
		return nil
	}
	c := r.arena[o>>chunkBits][o&(1<<chunkBits-1):]
	n, k := binary.Uvarint(c)
	return c[k : k+int(n)]
}

// nameID interns a normalised name: h is its hash, info its nameInfo.
func (r *Resolver) nameID(n string, h uint64, info uint16) int32 {
	return r.names.getOrPut(h, func(id int32) bool { return string(r.nameBytes(id)) == n }, func() int32 {
		r.nameText = append(r.nameText, n...)
		r.nameEnd = append(r.nameEnd, uint32(len(r.nameText)))
		r.nameInfo = append(r.nameInfo, info)
		return int32(len(r.nameEnd) - 1)
	})
}

// nameBytes is the normalised name id; empty for 0.
func (r *Resolver) nameBytes(id int32) []byte {
	if id == 0 {
		return nil
	}
	return r.nameText[r.nameEnd[id-1]:r.nameEnd[id]]
}

func (r *Resolver) name(id int32) string { return string(r.nameBytes(id)) }

// nameInfo is a name's script and its length in runes, capped at 255.
func nameInfo(n string) uint16 {
	return uint16(nameScript(n)) | uint16(min(utf8.RuneCountInString(n), 255))<<8
}

func (r *Resolver) script(id int32) int { return int(r.nameInfo[id] & 0xff) }

func (r *Resolver) hash(kind uint8, v string) uint64 {
	var h maphash.Hash
	h.SetSeed(r.seed)
	h.WriteByte(kind)
	h.WriteString(v)
	return h.Sum64()
}

// node returns the node of record rec of source src.
func (r *Resolver) node(src int32, rec int) int32 {
	k := subjKey{src, int32(rec)}
	if r.last.n >= 0 && r.last.k == k {
		return r.last.n
	}
	h := uint64(uint32(src))<<32 | uint64(uint32(rec))
	n := r.subj.getOrPut(h, nil, func() int32 { return r.newNode(node{src: src, record: int32(rec)}) })
	r.last.k, r.last.n = k, n
	return n
}

func (r *Resolver) newNode(nd node) int32 {
	n := int32(len(r.nodes))
	nd.flags &^= fDone
	r.nodes = append(room(r.nodes), nd)
	r.parent = append(room(r.parent), n)
	r.next = append(room(r.next), n)
	r.size = append(room(r.size), 1)
	r.rootNames = append(room(r.rootNames), nameSet{})
	r.dirty = append(room(r.dirty), n)
	return n
}

func (r *Resolver) cat(c string) uint32 {
	i, ok := r.catIndex[c]
	if !ok {
		if len(r.catNames) >= 32 {
			return 0
		}
		i = uint8(len(r.catNames))
		r.catIndex[c] = i
		r.catNames = append(r.catNames, c)
	}
	return 1 << i
}

// Add records one personal value found in record rec of source src. Values
// that do not normalise still count for their category.
func (r *Resolver) Add(src int32, rec int, category, value string) {
	r.AddCountry(src, rec, category, value, "")
}

// AddCountry is Add for a value whose country the detector knew (a phone
// number's): domestic forms are read as that country's.
func (r *Resolver) AddCountry(src int32, rec int, category, value, country string) {
	n := r.node(src, rec)
	nd := &r.nodes[n]
	if nd.flags&fDone != 0 {
		// A record that grew after Resolve is resolved again.
		nd.flags &^= fDone
		r.dirty = append(room(r.dirty), n)
	}
	nd.cats |= r.cat(category)
	r.addValue(n, valueOp(category), value, country)
}

// key queues key h of node n: the normalised value norm, at val in the
// arena. The node's strongest key is the smallest of the strongest kind.
func (r *Resolver) key(n int32, kind uint8, norm string, val uint32, h uint64) {
	r.pend = append(room(r.pend), keyRef{h, n, val, kind})
	nd := &r.nodes[n]
	if nd.rank == 0 || kind < nd.rank || kind == nd.rank && norm < string(r.bytes(nd.best)) {
		nd.rank, nd.best = kind, val
	}
}

// Value operations: how a value changes its node. Values are queued as
// they are added, normalised on every core a batch at a time, and applied
// in the order they came, so that the first name, e-mail or address of a
// record is the one kept, as when each was applied at once.
const (
	opNone uint8 = iota // a category that makes no key: counted only
	opEmail
	opPhone
	opMyNumber
	opCard
	opPassport
	opLicense
	opName
	opAddress
	opPostal
	opDOB
	opMasterDisp // a master row's display name, as written
	opMasterKana // a master row's reading: a name that keeps the display name
)

// opKinds are the key kinds of the operations that make one.
var opKinds = [...]uint8{opEmail: kEmail, opPhone: kPhone, opMyNumber: kMyNumber, opCard: kCard, opPassport: kPassport, opLicense: kLicense}

func valueOp(category string) uint8 {
	switch category {
	case "email":
		return opEmail
	case "phone":
		return opPhone
	case "my_number":
		return opMyNumber
	case "credit_card":
		return opCard
	case "passport":
		return opPassport
	case "drivers_license":
		return opLicense
	case "person_name":
		return opName
	case "address":
		return opAddress
	case "postal_code":
		return opPostal
	case "date_of_birth":
		return opDOB
	}
	return opNone
}

// rawValue is a value waiting to be normalised.
type rawValue struct {
	v, country string
	node       int32
	op         uint8
}

// normValue is a value normalised, "" when it does not read; with the
// hash of its key (or of an address), a date in days, a name's nameInfo.
type normValue struct {
	norm string
	h    uint64
	aux  int32
}

// rawBatch values are normalised at a time: enough to keep every core
// busy, few enough that the queue stays small. Tests make it small.
var rawBatch = 1 << 17

// normBatch is a batch of values being normalised in the background while
// the caller adds the next: it is applied when that one is full, or by
// flush.
type normBatch struct {
	raw  []rawValue
	out  []normValue
	done chan struct{}
}

func (r *Resolver) addValue(n int32, op uint8, value, country string) {
	if op == opNone {
		return
	}
	r.raw = append(r.raw, rawValue{value, country, n, op})
	if len(r.raw) >= rawBatch {
		r.applyBatch()
		b := &normBatch{raw: r.raw, out: make([]normValue, len(r.raw)), done: make(chan struct{})}
		go func() {
			r.normalizeAll(b.raw, b.out)
			close(b.done)
		}()
		r.busy, r.raw = b, r.spare[:0]
	}
}

// applyBatch applies the batch being normalised, once it is.
func (r *Resolver) applyBatch() {
	b := r.busy
	if b == nil {
		return
	}
	<-b.done
	for i := range b.raw {
		r.apply(&b.raw[i], &b.out[i])
	}
	clear(b.raw)
	r.busy, r.spare = nil, b.raw
}

// flush applies every value added so far, in order.
func (r *Resolver) flush() {
	r.applyBatch()
	raw := r.raw
	if len(raw) == 0 {
		return
	}
	out := make([]normValue, len(raw))
	r.normalizeAll(raw, out)
	for i := range raw {
		r.apply(&raw[i], &out[i])
	}
	clear(raw)
	r.raw = raw[:0]
}

// normalizeAll normalises raw into out on every core.
func (r *Resolver) normalizeAll(raw []rawValue, out []normValue) {
	parallel(len(raw), 1<<10, func(lo, hi int) {
		var mac *hashFunc
		for i := lo; i < hi; i++ {
			rv := &raw[i]
			if rv.op == opCard && mac == nil {
				mac = &hashFunc{key: r.opts.Key, h: hmac.New(sha256.New, r.opts.Key)}
			}
			out[i] = r.normalize(rv, mac)
		}
	})
}

// normalize reads one value; it changes nothing and runs on any core. mac
// is the worker's own keyed hash, for card numbers.
func (r *Resolver) normalize(rv *rawValue, mac *hashFunc) normValue {
	var v string
	switch rv.op {
	case opEmail:
		v = NormalizeEmail(rv.v)
	case opPhone:
		if v = NormalizePhone(rv.v, cmp.Or(rv.country, r.opts.Country)); sharedLine(v) {
			v = ""
		}
	case opMyNumber:
		v = NormalizeMyNumber(rv.v)
	case opCard:
		if v = NormalizeCard(rv.v); v != "" {
			// Only a keyed hash of the number is kept.
			v = hex.EncodeToString(mac.sum("card:" + v)[:16])
		}
	case opPassport, opLicense:
		v = NormalizeID(rv.v)
	case opName, opMasterKana:
		if v = NormalizeName(rv.v); v != "" {
			return normValue{norm: v, h: r.hash(0, v), aux: int32(nameInfo(v))}
		}
		return normValue{}
	case opAddress:
		if v = NormalizeAddress(rv.v); v != "" {
			return normValue{norm: v, h: r.hash(kNameAddr, v)}
		}
		return normValue{}
	case opPostal:
		v = NormalizePostal(rv.v)
	case opDOB:
		if v = NormalizeDate(rv.v); v != "" {
			return normValue{norm: v, aux: dateDays(v)}
		}
		return normValue{}
	}
	if v == "" {
		return normValue{}
	}
	nv := normValue{norm: v}
	if int(rv.op) < len(opKinds) && opKinds[rv.op] != 0 {
		nv.h = r.hash(opKinds[rv.op], v)
	}
	return nv
}

// apply changes a value's node by the value normalised.
func (r *Resolver) apply(rv *rawValue, nv *normValue) {
	n := rv.node
	nd := &r.nodes[n]
	v := nv.norm
	switch rv.op {
	case opEmail:
		if v != "" {
			val := r.str(v)
			if nd.email == 0 {
				if t := strings.TrimSpace(rv.v); t == v {
					nd.email = val
				} else {
					nd.email = r.str(t)
				}
			}
			r.key(n, kEmail, v, val, nv.h)
		}
	case opPhone:
		if v != "" {
			val := r.str(v)
			if nd.phone == 0 {
				nd.phone = val
			}
			r.key(n, kPhone, v, val, nv.h)
		}
	case opMyNumber, opCard, opPassport, opLicense:
		if v != "" {
			r.key(n, opKinds[rv.op], v, r.str(v), nv.h)
		}
	case opName, opMasterKana:
		if v == "" {
			return
		}
		disp := nd.disp
		id := r.nameID(v, nv.h, uint16(nv.aux))
		switch {
		case nd.names[0] == 0 || nd.names[0] == id:
			nd.names[0] = id
			if nd.disp == 0 || r.script(id) == scriptKana {
				nd.disp = r.str(strings.TrimSpace(rv.v))
			}
		case nd.names[1] == 0 || nd.names[1] == id:
			nd.names[1] = id
			// The written name beats its kana reading for display.
			if r.script(nd.names[0]) == scriptKana && r.script(id) != scriptKana {
				nd.names[0], nd.names[1] = id, nd.names[0]
				nd.disp = r.str(strings.TrimSpace(rv.v))
			}
		default:
			nd.flags |= fManyName
		}
		if rv.op == opMasterKana && disp != 0 {
			nd.disp = disp
		}
	case opMasterDisp:
		nd.disp = r.str(strings.TrimSpace(rv.v))
	case opAddress:
		if v != "" && nd.addr == 0 {
			nd.addr = r.str(strings.TrimSpace(rv.v))
			nd.addrH = nv.h
		}
	case opPostal:
		if v != "" && nd.postal == 0 {
			nd.postal = r.str(v)
		}
	case opDOB:
		if nv.aux != 0 && nd.dob == 0 {
			nd.dob = nv.aux
		}
	}
}

// sharedLine reports company numbers printed on every customer's letter
// (free dial, navi dial): they identify nobody.
func sharedLine(e164 string) bool {
	for _, p := range []string{"+81120", "+81800", "+81570", "+81990"} {
		if strings.HasPrefix(e164, p) {
			return true
		}
	}
	return false
}

func dateDays(iso string) int32 {
	y := atoi(iso[:4])
	m := atoi(iso[5:7])
	d := atoi(iso[8:10])
	return int32((y-1800)*372 + m*31 + d)
}

func daysDate(v int32) string {
	y := int(v) / 372
	rest := int(v) % 372
	m, d := rest/31, rest%31
	if d == 0 {
		m--
		d = 31
	}
	return itoa(y+1800) + "-" + pad2(m) + "-" + pad2(d)
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func (r *Resolver) find(x int32) int32 {
	for r.parent[x] != x {
		r.parent[x] = r.parent[r.parent[x]]
		x = r.parent[x]
	}
	return x
}

// union joins the clusters of a and b and records why.
func (r *Resolver) union(a, b int32, kind uint8) bool {
	ra, rb := r.find(a), r.find(b)
	if ra == rb {
		return false
	}
	if r.size[ra] < r.size[rb] {
		ra, rb = rb, ra
	}
	r.parent[rb] = ra
	r.size[ra] += r.size[rb]
	r.next[ra], r.next[rb] = r.next[rb], r.next[ra]
	r.addNames(ra, r.namesOf(rb))
	r.dropNames(rb)
	r.merges = append(room(r.merges), Merge{a, b, kind})
	r.touchedList = append(room(r.touchedList), ra)
	return true
}

func mergeNames(a, b []int32) []int32 {
	for _, x := range b {
		if !slices.Contains(a, x) && len(a) < 16 {
			a = append(a, x)
		}
	}
	return a
}

func (r *Resolver) namesMeet(a, b int32) bool {
	na, nb := r.namesOf(a), r.namesOf(b)
	for _, x := range na {
		if slices.Contains(nb, x) {
			return true
		}
	}
	return false
}

// Name scripts: names in different scripts (山田太郎, やまだたろう, Taro
// Yamada) cannot be compared, so they neither agree nor disagree.
const (
	scriptLatin = 1 << iota
	scriptKana
	scriptKanji
)

func nameScript(n string) int {
	if IsKanaName(n) {
		return scriptKana
	}
	for _, r := range n {
		if r >= 0x80 {
			return scriptKanji
		}
	}
	return scriptLatin
}

// namesAgree reports whether two clusters may be one person by their
// names: they share a name, or they have no script in common to compare.
func (r *Resolver) namesAgree(a, b int32) bool {
	if r.namesMeet(a, b) {
		return true
	}
	var sa, sb int
	for _, x := range r.namesOf(a) {
		sa |= r.script(x)
	}
	for _, x := range r.namesOf(b) {
		sb |= r.script(x)
	}
	return sa&sb == 0
}

// Resolve applies the keys of the nodes added since the last call.
func (r *Resolver) Resolve() {
	r.flush()
	dirty := r.dirty
	r.dirty = nil
	// Input order varies between scans (files are read in parallel);
	// sorting by source and record makes the result depend on the data only.
	rank := r.srcRanks()
	type ord struct {
		k uint64
		n int32
	}
	// A counting sort by source, then each source's records on every
	// core (keys are unique: any sort gives this order).
	bucket := make([]int32, len(r.sources)+1)
	for _, n := range dirty {
		bucket[rank[r.nodes[n].src]+1]++
	}
	for i := 1; i < len(bucket); i++ {
		bucket[i] += bucket[i-1]
	}
	os := make([]ord, len(dirty))
	at := slices.Clone(bucket)
	for _, n := range dirty {
		nd := &r.nodes[n]
		b := rank[nd.src]
		os[at[b]] = ord{uint64(b)<<32 | uint64(uint32(nd.record)), n}
		at[b]++
	}
	parallel(len(r.sources), 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			slices.SortFunc(os[bucket[b]:bucket[b+1]], func(a, b ord) int { return cmp.Compare(a.k, b.k) })
		}
	})
	for i := range os {
		dirty[i] = os[i].n
	}
	os, bucket, at = nil, nil, nil
	// The keys of each dirty node, by a counting sort on the node.
	pos := make([]int32, len(r.nodes))
	for i := range pos {
		pos[i] = -1
	}
	for i, n := range dirty {
		pos[n] = int32(i)
	}
	start := make([]int32, len(dirty)+1)
	for _, k := range r.pend {
		if i := pos[k.node]; i >= 0 {
			start[i+1]++
		}
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	pend := make([]keyRef, start[len(dirty)])
	fill := slices.Clone(start[:len(dirty)])
	for _, k := range r.pend {
		if i := pos[k.node]; i >= 0 {
			pend[fill[i]] = k
			fill[i]++
		}
	}
	r.pend = nil // its capacity is the largest batch's: give it back
	pos = nil
	byNode := func(i int) []keyRef { return pend[start[i]:start[i+1]] }
	// The composite keys (name and birth date, name and address) of each
	// dirty node, hashed on every core: compH[compStart[i]:] are node i's,
	// for each name its date's, then its address's.
	compStart := make([]int32, len(dirty)+1)
	for i, n := range dirty {
		nd := &r.nodes[n]
		c := int32(0)
		for _, id := range nd.names {
			if id != 0 && nd.dob != 0 {
				c++
			}
			if id != 0 && nd.addrH != 0 {
				c++
			}
		}
		compStart[i+1] = compStart[i] + c
	}
	compH := make([]uint64, compStart[len(dirty)])
	parallel(len(dirty), 1<<12, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			nd := &r.nodes[dirty[i]]
			j := compStart[i]
			for _, id := range nd.names {
				if id == 0 {
					continue
				}
				if nd.dob != 0 {
					compH[j] = r.hash2(kNameDOB, id, uint64(nd.dob))
					j++
				}
				if nd.addrH != 0 {
					compH[j] = r.hash2(kNameAddr, id, nd.addrH)
					j++
				}
			}
		}
	})
	work := make([]keyRef, 0, len(pend)+len(compH))
	for i, n := range dirty {
		nd := &r.nodes[n]
		nd.flags |= fDone
		ks := byNode(i)
		r.touchedList = append(room(r.touchedList), n)
		if r.crowd(n, ks) {
			work = append(work, r.split(n, ks)...)
			continue
		}
		for _, id := range nd.names {
			if id != 0 {
				r.addNames(n, []int32{id})
			}
		}
		work = append(work, ks...)
		comp := compH[compStart[i]:compStart[i+1]]
		for _, id := range nd.names {
			if id == 0 {
				continue
			}
			if nd.dob != 0 {
				work = append(work, keyRef{h: comp[0], node: n, kind: kNameDOB})
				comp = comp[1:]
				r.rankAtLeast(n, kNameDOB, id)
			}
			if nd.addrH != 0 {
				work = append(work, keyRef{h: comp[0], node: n, kind: kNameAddr})
				comp = comp[1:]
				r.rankAtLeast(n, kNameAddr, id)
			}
		}
		if nd.rank == 0 {
			nd.rank = kRecord
			// A record with a name and nothing to tell its person by: all
			// such records of one name are one mention (see mentions).
			if id := nd.names[0]; id != 0 && !r.sources[nd.src].Master {
				if first, ok := r.nameOnly[id]; ok {
					r.union(n, first, kNameOnly)
				} else {
					r.nameOnly[id] = n
				}
			}
		}
	}
	// Identity keys first, so that contact keys see the names of whole
	// clusters.
	var idKeys, contactKeys []int32
	for i, k := range work {
		if contactKind(k.kind) {
			contactKeys = append(contactKeys, int32(i))
		} else {
			idKeys = append(idKeys, int32(i))
		}
	}
	hs := make([]uint64, len(idKeys))
	firsts := make([]int32, len(idKeys))
	for j, i := range idKeys {
		hs[j], firsts[j] = work[i].h, work[i].node
	}
	// A key's first holder is the node itself for a new key: the union
	// is then no merge, as when a map took the first.
	firsts = r.ids.batch(hs, firsts, nil)
	for j, i := range idKeys {
		r.union(work[i].node, firsts[j], work[i].kind)
	}
	hs = hs[:0]
	for _, i := range contactKeys {
		hs = append(hs, work[i].h)
	}
	next := int32(len(r.centries))
	entries := r.contacts.batch(hs, nil, &next)
	for len(r.centries) < int(next) {
		r.centries = append(r.centries, contactEntry{first: -1, pending: -1})
	}
	hs, firsts = nil, nil
	for j, i := range contactKeys {
		r.contact(work[i], entries[j])
	}
	r.settle()
	r.nearDOBPass(dirty)
}

// rankAtLeast notes a composite key of node n built on name id; the
// node's first name is the one composite keys and ids use.
func (r *Resolver) rankAtLeast(n int32, kind uint8, id int32) {
	nd := &r.nodes[n]
	if id != nd.names[0] {
		return
	}
	if nd.rank == 0 || kind < nd.rank {
		nd.rank = kind
	}
}

// hash2 hashes a composite key: a name and a value.
func (r *Resolver) hash2(kind uint8, name int32, v uint64) uint64 {
	var h maphash.Hash
	h.SetSeed(r.seed)
	h.WriteByte(kind)
	h.Write(r.nameBytes(name))
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	h.Write(b[:])
	return h.Sum64()
}

// srcRanks orders the sources by name.
func (r *Resolver) srcRanks() []int32 {
	idx := make([]int32, len(r.sources))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return cmp.Compare(r.srcName(a), r.srcName(b)) })
	rank := make([]int32, len(r.sources))
	for i, s := range idx {
		rank[s] = int32(i)
	}
	return rank
}

// srcName caches Source.Name.
func (r *Resolver) srcName(s int32) string {
	for int(s) >= len(r.srcNames) {
		r.srcNames = append(r.srcNames, r.sources[len(r.srcNames)].Name())
	}
	return r.srcNames[s]
}

// crowd reports a record holding several people: a mail with From and To,
// a letter listing customers, a log line with two parties. Two written
// names (a kana reading does not count), more than three addresses or
// more than three phone numbers.
func (r *Resolver) crowd(n int32, ks []keyRef) bool {
	nd := &r.nodes[n]
	if nd.flags&fManyName != 0 {
		return true
	}
	if nd.names[1] != 0 && r.script(nd.names[0]) != scriptKana && r.script(nd.names[1]) != scriptKana {
		return true
	}
	var emails, phones int
	var buf [8]uint64
	seen := buf[:0]
	for _, k := range ks {
		if slices.Contains(seen, k.h) {
			continue
		}
		seen = append(seen, k.h)
		switch k.kind {
		case kEmail:
			emails++
		case kPhone:
			phones++
		}
	}
	return emails > 3 || phones > 3
}

// split turns a crowd record into one nameless node per identifying value,
// so that each links to its own person and the record joins nobody.
func (r *Resolver) split(n int32, ks []keyRef) []keyRef {
	nd := &r.nodes[n]
	nd.flags |= fCrowd | fNoPerson
	var out []keyRef
	seen := map[uint64]int32{}
	for _, k := range ks {
		if m, ok := seen[k.h]; ok {
			out = append(out, keyRef{k.h, m, k.val, k.kind})
			continue
		}
		c := node{src: nd.src, record: nd.record, cats: nd.cats & r.splitCats(k.kind), flags: fCrowd | fDone}
		m := int32(len(r.nodes))
		r.nodes = append(room(r.nodes), c)
		r.parent = append(room(r.parent), m)
		r.next = append(room(r.next), m)
		r.size = append(room(r.size), 1)
		r.rootNames = append(room(r.rootNames), nameSet{})
		r.touchedList = append(room(r.touchedList), m)
		seen[k.h] = m
		out = append(out, keyRef{k.h, m, k.val, k.kind})
		// The split node carries the value it stands for, as the
		// person's other records do: its id is theirs.
		r.nodes[m].rank, r.nodes[m].best = k.kind, k.val
	}
	return out
}

// splitCats is the category a split node keeps for its key kind.
func (r *Resolver) splitCats(kind uint8) uint32 {
	switch kind {
	case kEmail:
		return r.cat("email")
	case kPhone:
		return r.cat("phone")
	case kMyNumber:
		return r.cat("my_number")
	case kCard:
		return r.cat("credit_card")
	case kPassport:
		return r.cat("passport")
	case kLicense:
		return r.cat("drivers_license")
	}
	return 0
}

// contact applies an e-mail or phone key under the name rule; entry is
// the key's state in centries.
func (r *Resolver) contact(k keyRef, entry int32) {
	e := &r.centries[entry]
	if e.common {
		return
	}
	var buf [maxAnchors + 1]int32
	root := r.find(k.node)
	if len(r.namesOf(root)) == 0 {
		roots := r.anchorRoots(e, buf[:0])
		// Whose it is is settled once all of this round's keys are in
		// (settle): a holder read later may make it ambiguous.
		if len(roots) > 1 {
			r.undecide(k.node, roots, k.kind)
		} else if e.pending >= 0 {
			r.union(k.node, e.pending, k.kind)
		} else {
			e.pending = k.node
			r.pendingEntries = append(r.pendingEntries, pendingEntry{entry, k.kind})
		}
		return
	}
	matched := false
	anchors := r.anchors(e, buf[:0])
	for _, a := range anchors {
		ra := r.find(a)
		if ra == r.find(k.node) {
			matched = true
			continue
		}
		if r.namesAgree(ra, r.find(k.node)) {
			r.union(k.node, a, k.kind)
			matched = true
		}
	}
	if !matched {
		for _, a := range anchors {
			if d, ok := r.nearNames(r.find(a), r.find(k.node)); ok {
				r.propose(k.node, a, k.kind, fmt.Sprintf("names %d edit(s) apart share this %s", d, kindNames[k.kind]))
			}
		}
		if r.addAnchor(e, k.node) > maxAnchors {
			r.anchorMore[e.more-1] = nil
			e.common, e.first, e.more = true, -1, 0
			return
		}
	}
}

// pendingEntry is a contact value a nameless record holds.
type pendingEntry struct {
	entry int32
	kind  uint8
}

// settle gives each nameless record waiting on a contact value to the one
// named person holding it. Held by several differently named people it
// is proposed to each and counted as none (undecide); held by none it
// stays a person of its own, and waits for a holder in a later round.
func (r *Resolver) settle() {
	var buf [maxAnchors + 1]int32
	waiting := r.pendingEntries[:0]
	for _, pe := range r.pendingEntries {
		e := &r.centries[pe.entry]
		if e.pending < 0 {
			continue
		}
		switch roots := r.anchorRoots(e, buf[:0]); {
		case e.common:
			e.pending = -1
		case len(roots) == 0:
			waiting = append(waiting, pe)
		case len(roots) == 1:
			r.union(e.pending, roots[0], pe.kind)
			e.pending = -1
		default:
			r.undecide(e.pending, roots, pe.kind)
			e.pending = -1
		}
	}
	r.pendingEntries = waiting
}

// undecide proposes nameless node n to each of the differently named
// people sharing a contact value with it: which of them it is (a family
// mailbox, a household phone) is for a person to say.
func (r *Resolver) undecide(n int32, roots []int32, kind uint8) {
	for _, a := range roots {
		r.propose(n, a, kind, "a nameless record shares this "+kindNames[kind]+" with differently named people")
	}
	if r.nodes[n].flags&fUndecided == 0 {
		r.nodes[n].flags |= fUndecided
		r.undecided = append(r.undecided, n)
	}
}

func (r *Resolver) anchorRoots(e *contactEntry, buf []int32) []int32 {
	roots := buf
	var tmp [maxAnchors + 1]int32
	for _, a := range r.anchors(e, tmp[:0]) {
		if ra := r.find(a); !slices.Contains(roots, ra) {
			roots = append(roots, ra)
		}
	}
	return roots
}

// nearDOBPass proposes merges of people born the same day whose names are
// one or two edits apart (斉藤/斎藤, Tarou/Taro), for the dirty nodes in
// order. Nodes are blocked by birth date and first letter; each is
// compared with the first eight of its block before it, so that a popular
// name and birthday cannot make this quadratic. The comparisons run on
// every core (they read the clusters and change nothing); the proposals
// are then made in node order, as one pass over the nodes would.
func (r *Resolver) nearDOBPass(dirty []int32) {
	var ents []hashPos
	for i, n := range dirty {
		if nd := &r.nodes[n]; nd.dob != 0 && nd.names[0] != 0 && nd.flags&fNoPerson == 0 {
			ents = append(ents, hashPos{pos: int32(i)})
		}
	}
	parallel(len(ents), 1<<12, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			nd := &r.nodes[dirty[ents[i].pos]]
			first, _ := utf8.DecodeRune(r.nameBytes(nd.names[0]))
			ents[i].h = r.hash2(kNameDOB, 0, uint64(nd.dob)<<32|uint64(first))
		}
	})
	sortHashPos(ents)
	// Blocks start where the hash changes; chunks of the work end at a
	// block's end.
	type hit struct {
		pos, m int32
		d      int32
	}
	type update struct {
		h     uint64
		block int32 // -1 for a new block
		nb    nearBlock
	}
	type out struct {
		hits    []hit
		updates []update
	}
	chunks := blockChunks(len(ents), 1<<12, func(i int) bool { return ents[i].h != ents[i-1].h })
	outs := make([]out, len(chunks))
	parallel(len(chunks), 1, func(lo, hi int) {
		names := new(nameRunes)
		for c := lo; c < hi; c++ {
			o := &outs[c]
			for i := chunks[c][0]; i < chunks[c][1]; {
				h := ents[i].h
				var nb nearBlock
				block, ok := r.nearDOB.get(h, nil)
				if ok {
					nb = r.nearBlocks[block]
				} else {
					block = -1
				}
				grew := false
				for ; i < chunks[c][1] && ents[i].h == h; i++ {
					n := dirty[ents[i].pos]
					b := r.findRO(n)
					for _, m := range nb.m[:nb.n] {
						a := r.findRO(m)
						if a == b {
							continue
						}
						if d, ok := r.nearNamesCached(a, b, names); ok {
							o.hits = append(o.hits, hit{ents[i].pos, m, int32(d)})
						}
					}
					if nb.n < int32(len(nb.m)) {
						nb.m[nb.n] = n
						nb.n++
						grew = true
					}
				}
				if grew {
					o.updates = append(o.updates, update{h, block, nb})
				}
			}
		}
	})
	var hits []hit
	for _, o := range outs {
		hits = append(hits, o.hits...)
		for _, u := range o.updates {
			if u.block >= 0 {
				r.nearBlocks[u.block] = u.nb
			} else {
				r.nearDOB.put(u.h, int32(len(r.nearBlocks)))
				r.nearBlocks = append(r.nearBlocks, u.nb)
			}
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return cmp.Compare(a.pos, b.pos) })
	for _, h := range hits {
		r.propose(dirty[h.pos], h.m, kNameDOB, fmt.Sprintf("same date of birth, names %d edit(s) apart", h.d))
	}
}

// nearBlock is a near-birth-date block: its first eight nodes.
type nearBlock struct {
	n int32
	m [8]int32
}

// findRO is find without path compression, for readers running in
// parallel.
func (r *Resolver) findRO(x int32) int32 {
	for r.parent[x] != x {
		x = r.parent[x]
	}
	return x
}

// room returns s with room for one more element, doubling its capacity
// when full: append grows large slices by a quarter, copying the node
// arrays of millions over and over.
func room[T any](s []T) []T {
	if len(s) == cap(s) {
		return slices.Grow(s, max(len(s), 256))
	}
	return s
}

// parallel calls f over [0, n) in chunks of at least minChunk items on
// every core, the chunks taken in turn so that a core other work slows
// down takes fewer of them.
func parallel(n, minChunk int, f func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if n <= minChunk || workers == 1 {
		if n > 0 {
			f(0, n)
		}
		return
	}
	chunk := max(minChunk, n/(workers*8))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= n {
					return
				}
				f(lo, min(lo+chunk, n))
			}
		}()
	}
	wg.Wait()
}

// blockChunks cuts [0, n) into runs of about size items that end only
// where isStart says a new block begins, so that no block is split.
func blockChunks(n, size int, isStart func(i int) bool) [][2]int {
	var out [][2]int
	lo := 0
	for lo < n {
		hi := min(lo+size, n)
		for hi < n && !isStart(hi) {
			hi++
		}
		out = append(out, [2]int{lo, hi})
		lo = hi
	}
	return out
}

// nearNames reports whether two clusters have names 1–2 edits apart (1 for
// names of up to four characters) and no name in common.
func (r *Resolver) nearNames(a, b int32) (int, bool) {
	var c nameRunes
	return r.nearNamesCached(a, b, &c)
}

// nameRunes keeps names decoded to runes, a few for each side of the
// comparisons: a near-birth-date block compares each name with up to
// eight others.
type nameRunes struct {
	side [2]struct {
		id [16]int32
		n  [16]uint8
		r  [16][48]rune
	}
}

// get returns the runes of name id for side s; the slice is good until
// the next get of the same side.
func (c *nameRunes) get(r *Resolver, s int, id int32) []rune {
	sd := &c.side[s]
	k := id & 15
	if sd.id[k] == id && id != 0 {
		return sd.r[k][:sd.n[k]]
	}
	rs := runes(sd.r[k][:0], r.nameBytes(id))
	if len(rs) > len(sd.r[k]) {
		sd.id[k] = 0
		return rs // too long to keep
	}
	sd.id[k], sd.n[k] = id, uint8(len(rs))
	return rs
}

func (r *Resolver) nearNamesCached(a, b int32, c *nameRunes) (int, bool) {
	if r.namesMeet(a, b) {
		return 0, false
	}
	best := 99
	for _, x := range r.namesOf(a) {
		var nx []rune
		ix := r.nameInfo[x]
		for _, y := range r.namesOf(b) {
			iy := r.nameInfo[y]
			if ix&0xff != iy&0xff {
				continue // different scripts
			}
			// Lengths in runes (exact below the cap) further apart than
			// the limit cannot be within it.
			lx, ly := int(ix>>8), int(iy>>8)
			lim := 2
			if min(lx, ly) <= 4 {
				lim = 1
			}
			if lx < 255 && ly < 255 && abs(lx-ly) > lim {
				continue
			}
			if nx == nil {
				nx = c.get(r, 0, x)
			}
			ny := c.get(r, 1, y)
			lim = 2
			if min(len(nx), len(ny)) <= 4 {
				lim = 1
			}
			if d := editDistance(nx, ny, lim); d <= lim && d < best {
				best = d
			}
		}
	}
	return best, best < 99
}

// runes decodes s into buf, without allocating for names of usual length.
func runes(buf []rune, s []byte) []rune {
	for len(s) > 0 {
		c, n := utf8.DecodeRune(s)
		buf = append(buf, c)
		s = s[n:]
	}
	return buf
}

// editDistance is Levenshtein's distance, cut off above lim.
func editDistance(a, b []rune, lim int) int {
	if abs(len(a)-len(b)) > lim {
		return lim + 1
	}
	var pb, cb [49]int
	prev, cur := pb[:0], cb[:0]
	if len(b)+1 > len(pb) {
		prev, cur = make([]int, 0, len(b)+1), make([]int, 0, len(b)+1)
	}
	prev, cur = prev[:len(b)+1], cur[:len(b)+1]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c = 1 + min(prev[j-1], prev[j], cur[j-1])
			}
			cur[j] = c
			rowMin = min(rowMin, c)
		}
		if rowMin > lim {
			return lim + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func (e Exposure) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

func (e *Exposure) UnmarshalText(b []byte) error {
	x, err := ParseExposure(string(b))
	*e = x
	return err
}

// keyIndex maps key hashes to a value: the first node holding an identity
// key, the entry of a contact key. It is two sorted arrays, merged with
// each batch's new keys, rather than a map of millions of entries: a batch
// is sorted once (on every core) and walked along the index.
type keyIndex struct {
	h []uint64
	v []int32
}

// hashPos is a hash and the position of its key in a batch.
type hashPos struct {
	h   uint64
	pos int32
}

func cmpHashPos(a, b hashPos) int {
	switch {
	case a.h < b.h:
		return -1
	case a.h > b.h:
		return 1
	}
	return int(a.pos - b.pos)
}

// sortHashPos sorts by hash, then position: a pass into 65536 buckets by
// the top bits of the hash (hashes are uniform), then the small buckets
// on every core.
func sortHashPos(a []hashPos) {
	if len(a) < 1<<15 {
		slices.SortFunc(a, cmpHashPos)
		return
	}
	const shift = 48
	start := make([]int, 1<<(64-shift)+1)
	for _, e := range a {
		start[e.h>>shift+1]++
	}
	for b := 1; b < len(start); b++ {
		start[b] += start[b-1]
	}
	tmp := make([]hashPos, len(a))
	fill := slices.Clone(start)
	for _, e := range a {
		tmp[fill[e.h>>shift]] = e
		fill[e.h>>shift]++
	}
	parallel(len(start)-1, 1<<10, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			slices.SortFunc(tmp[start[b]:start[b+1]], cmpHashPos)
		}
	})
	copy(a, tmp)
}

// batch looks up the hashes of a batch of keys, in order, and returns the
// value each holds. A key whose hash the index holds gets its value; the
// first key of the batch with a new hash gets vals[its position] (or, vals
// nil, the next number from next), which the index then holds, and so do
// the later keys with that hash. vals is overwritten.
func (x *keyIndex) batch(hs []uint64, vals []int32, next *int32) []int32 {
	ord := make([]hashPos, len(hs))
	parallel(len(hs), 1<<14, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ord[i] = hashPos{hs[i], int32(i)}
		}
	})
	sortHashPos(ord)
	if vals == nil {
		vals = make([]int32, len(hs))
	}
	// Runs of whole groups (keys of one hash) are looked up on every
	// core. A run first finds the known hashes and counts the new ones;
	// the new ones are then numbered (next) and placed in run order, so
	// that the result is the same as one pass in hash order.
	type run struct {
		lo, hi   int
		newStart int // the run's first new hash among the batch's
		fresh    []int32
	}
	chunks := blockChunks(len(ord), 1<<14, func(i int) bool { return ord[i].h != ord[i-1].h })
	runs := make([]run, len(chunks))
	parallel(len(runs), 1, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			rn := &runs[c]
			rn.lo, rn.hi = chunks[c][0], chunks[c][1]
			cur, _ := slices.BinarySearch(x.h, ord[rn.lo].h)
			for g := rn.lo; g < rn.hi; {
				h := ord[g].h
				// Gallop from the last place: the run is sorted too.
				step := 1
				for cur+step < len(x.h) && x.h[cur+step] < h {
					step *= 2
				}
				j, found := slices.BinarySearch(x.h[cur:min(cur+step+1, len(x.h))], h)
				cur += j
				e := g + 1
				for e < rn.hi && ord[e].h == h {
					e++
				}
				if found {
					for k := g; k < e; k++ {
						vals[ord[k].pos] = x.v[cur]
					}
				} else {
					rn.fresh = append(rn.fresh, int32(g))
				}
				g = e
			}
		}
	})
	fresh := 0
	for c := range runs {
		runs[c].newStart = fresh
		fresh += len(runs[c].fresh)
	}
	if fresh == 0 {
		return vals
	}
	addH := make([]uint64, fresh)
	addV := make([]int32, fresh)
	base := int32(0)
	if next != nil {
		base = *next
		*next += int32(fresh)
	}
	parallel(len(runs), 1, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			rn := &runs[c]
			for k, g := range rn.fresh {
				at := rn.newStart + k
				h := ord[g].h
				v := vals[ord[g].pos]
				if next != nil {
					v = base + int32(at)
				}
				for e := int(g); e < rn.hi && ord[e].h == h; e++ {
					vals[ord[e].pos] = v
				}
				addH[at], addV[at] = h, v
			}
		}
	})
	x.merge(addH, addV)
	return vals
}

// merge adds sorted hashes not yet held.
func (x *keyIndex) merge(hs []uint64, vs []int32) {
	if len(x.h) == 0 {
		x.h, x.v = hs, vs
		return
	}
	h := make([]uint64, 0, len(x.h)+len(hs))
	v := make([]int32, 0, len(x.h)+len(hs))
	i, j := 0, 0
	for i < len(x.h) || j < len(hs) {
		if j == len(hs) || i < len(x.h) && x.h[i] < hs[j] {
			h, v = append(h, x.h[i]), append(v, x.v[i])
			i++
		} else {
			h, v = append(h, hs[j]), append(v, vs[j])
			j++
		}
	}
	x.h, x.v = h, v
}

// idTable maps 64-bit hashes to ids by open addressing. It holds no
// pointer and a lookup in millions of entries costs about one cache miss;
// keys whose hashes are equal are told apart by eq (nil when the hash is
// the key itself).
type idTable struct {
	slots []idSlot
	n     int
	shift uint8
}

type idSlot struct {
	h  uint64
	id int32 // id+1; 0 marks an empty slot
}

func (t *idTable) start(h uint64) uint64 { return (h * 0x9e3779b97f4a7c15) >> t.shift }

func (t *idTable) get(h uint64, eq func(id int32) bool) (int32, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := t.start(h); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.id == 0 {
			return 0, false
		}
		if s.h == h && (eq == nil || eq(s.id-1)) {
			return s.id - 1, true
		}
	}
}

// getOrPut returns the id of h, adding the id newID returns when there is
// none: one probe for both.
func (t *idTable) getOrPut(h uint64, eq func(id int32) bool, newID func() int32) int32 {
	t.room()
	mask := uint64(len(t.slots) - 1)
	i := t.start(h)
	for ; t.slots[i].id != 0; i = (i + 1) & mask {
		if s := &t.slots[i]; s.h == h && (eq == nil || eq(s.id-1)) {
			return s.id - 1
		}
	}
	id := newID()
	t.slots[i] = idSlot{h, id + 1}
	t.n++
	return id
}

// put adds an entry that get did not find.
func (t *idTable) put(h uint64, id int32) {
	t.room()
	mask := uint64(len(t.slots) - 1)
	i := t.start(h)
	for t.slots[i].id != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = idSlot{h, id + 1}
	t.n++
}

// room grows the table before it is three quarters full.
func (t *idTable) room() {
	if (t.n+1)*4 > len(t.slots)*3 {
		old := t.slots
		size := max(1<<10, 2*len(old))
		t.slots, t.n, t.shift = make([]idSlot, size), 0, uint8(64-bits.TrailingZeros(uint(size)))
		for _, s := range old {
			if s.id != 0 {
				t.put(s.h, s.id-1)
			}
		}
	}
}
