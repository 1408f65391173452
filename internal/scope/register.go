package scope

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"slices"
)

// Person is one row of the affected-people register.
type Person struct {
	// ID is "p-" and a keyed hash of the cluster's strongest key.
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Contact channels for the notice.
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Address    string `json:"address,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Language   string `json:"language,omitempty"`
	Country    string `json:"country,omitempty"`
	// Categories lists each exposed category with its highest exposure,
	// in the shared category order.
	Categories    []CategoryExposure `json:"categories"`
	Exposure      Exposure           `json:"exposure"`
	SpecialCare   []string           `json:"special_care,omitempty"`
	FinancialRisk bool               `json:"financial_risk"`
	MatchedMaster bool               `json:"matched_master"`
	Sources       []string           `json:"sources"`
	Hosts         []string           `json:"hosts,omitempty"`
	// Key names the strongest key the id comes from.
	Key    string      `json:"key"`
	Merges []MergeNote `json:"merges,omitempty"`
	root   int32
	// idIn is the strongest key the id hashes; the cluster's smallest name
	// tells apart people sharing it (a household phone, see contact).
	idIn string
	idh  uint64
}

// MergeNote explains one merge inside a person: the key kind and the two
// sources (host:path!member#record) it joined.
type MergeNote struct {
	Key string `json:"key"`
	A   string `json:"a"`
	B   string `json:"b"`
}

// CategoryExposure is one category of a person and how far it went.
type CategoryExposure struct {
	Category string   `json:"category"`
	Exposure Exposure `json:"exposure"`
}

// CategoryList returns the person's categories in the shared order.
func (p *Person) CategoryList() []string {
	out := make([]string, len(p.Categories))
	for i, c := range p.Categories {
		out[i] = c.Category
	}
	return out
}

// catRank orders categories: the shared order, then others by name.
func catRank(c string) int {
	if i := slices.Index(categoryOrder, c); i >= 0 {
		return i
	}
	return len(categoryOrder)
}

var categoryOrder = []string{"email", "phone", "credit_card", "my_number", "person_name", "address",
	"postal_code", "date_of_birth", "bank_account", "passport", "drivers_license"}

// HasContact reports whether the notice can reach the person.
func (p *Person) HasContact() bool { return p.Email != "" || p.Phone != "" || p.Address != "" }

// Proposal is a possible merge that a person must confirm or reject.
type Proposal struct {
	ID     string `json:"id"`
	A      string `json:"a"`
	B      string `json:"b"`
	Key    string `json:"key"`
	Reason string `json:"reason"`
	a, b   int32
}

func (r *Resolver) propose(a, b int32, kind uint8, reason string) {
	k := [2]int32{min(a, b), max(a, b)}
	if r.proposed[k] {
		return
	}
	r.proposed[k] = true
	r.proposals = append(r.proposals, Proposal{Key: kindNames[kind], Reason: reason, a: a, b: b})
}

// identifying categories make a node a data subject; a date of birth or a
// postal code alone does not.
func identifyingCat(c string) bool { return c != "postal_code" && c != "date_of_birth" }

// Register is the resolved register.
type Register struct {
	People    []*Person
	Proposals []Proposal
	// Mentions counts records holding only the name of a known person:
	// not counted as people, each proposed for its candidates.
	Mentions int
}

// Register builds the register from the current clusters, people sorted by
// id. Proposals already settled by a merge are left out.
func (r *Resolver) Register() *Register {
	r.flush()
	reg := &Register{}
	mentions := r.mentions()
	var roots []int32
	for n := range r.nodes {
		if r.parent[n] != int32(n) {
			continue
		}
		if cands, ok := mentions[int32(n)]; ok {
			reg.Mentions++
			for _, c := range cands {
				r.propose(int32(n), c, kNameOnly, "only a name, the same as this person's")
			}
			continue
		}
		roots = append(roots, int32(n))
	}
	reg.People = r.people(roots)
	// Ids depend on the data only: people sharing a strongest key are told
	// apart by their names, and the rare rest by their sources.
	hs := make([]uint64, len(reg.People))
	for i, p := range reg.People {
		hs[i] = p.idh
	}
	slices.Sort(hs)
	shared := map[uint64]int32{}
	for i := 1; i < len(hs); i++ {
		if hs[i] == hs[i-1] {
			shared[hs[i]] = max(shared[hs[i]], 1) + 1
		}
	}
	hs = nil
	r.lastShared = shared
	r.touchedList = r.touchedList[:0]
	for _, p := range reg.People {
		if shared[p.idh] > 1 {
			p.idh = r.idHash(p.idIn + "|" + r.minName(p.root))
		}
	}
	// Sorted as pairs: the comparison reads no Person unless ids tie.
	type byID struct {
		idh uint64
		p   *Person
	}
	order := make([]byID, len(reg.People))
	for i, p := range reg.People {
		order[i] = byID{p.idh, p}
	}
	slices.SortFunc(order, func(a, b byID) int {
		if c := cmp.Compare(a.idh, b.idh); c != 0 {
			return c
		}
		return slices.Compare(a.p.Sources, b.p.Sources)
	})
	for i := range order {
		reg.People[i] = order[i].p
	}
	order = nil
	var proposalRoots map[int32]string
	if len(r.proposals) > 0 {
		proposalRoots = map[int32]string{}
		for _, pr := range r.proposals {
			if _, ok := mentions[r.find(pr.a)]; !ok {
				proposalRoots[r.find(pr.a)] = ""
			}
			proposalRoots[r.find(pr.b)] = ""
		}
	}
	parallel(len(reg.People), 1<<12, func(lo, hi int) {
		for _, p := range reg.People[lo:hi] {
			p.ID = personID(p.idh)
			p.idIn = ""
		}
	})
	for i, p := range reg.People {
		if i > 0 && reg.People[i-1].idh == p.idh {
			k := 2
			for j := i - 1; j > 0 && reg.People[j-1].idh == p.idh; j-- {
				k++
			}
			p.ID += "-" + itoa(k)
		}
		if _, ok := proposalRoots[p.root]; ok {
			proposalRoots[p.root] = p.ID
		}
	}
	byRoot := proposalRoots
	r.propIndex = map[string]int{}
	for i, pr := range r.proposals {
		a, b := byRoot[r.find(pr.a)], byRoot[r.find(pr.b)]
		if _, ok := mentions[r.find(pr.a)]; ok && a == "" {
			a = "mention:" + r.nodeName(pr.a)
		}
		if a == "" || b == "" || a == b {
			continue
		}
		if a > b {
			a, b = b, a
		}
		pr.A, pr.B = a, b
		pr.ID = "m-" + hex.EncodeToString(r.mac.sum("proposal:" + a + "|" + b)[:8])
		r.propIndex[pr.ID] = i
		if r.rejected[pr.ID] {
			continue
		}
		reg.Proposals = append(reg.Proposals, pr)
	}
	slices.SortFunc(reg.Proposals, func(a, b Proposal) int { return cmp.Compare(a.ID, b.ID) })
	reg.Proposals = slices.CompactFunc(reg.Proposals, func(a, b Proposal) bool { return a.ID == b.ID })
	return reg
}

func personID(h uint64) string {
	var b [18]byte
	var hb [8]byte
	binary.BigEndian.PutUint64(hb[:], h)
	b[0], b[1] = 'p', '-'
	hex.Encode(b[2:], hb[:])
	return string(b[:])
}

// minName is the smallest name of the cluster at root, "" when it has none.
func (r *Resolver) minName(root int32) string {
	ns := r.namesOf(root)
	if len(ns) == 0 {
		return ""
	}
	return r.name(slices.MinFunc(ns, func(a, b int32) int { return bytes.Compare(r.nameBytes(a), r.nameBytes(b)) }))
}

// people builds the rows of the clusters at roots, with the keyed hash of
// each one's strongest key, on every core: a cluster's row reads the
// resolver and changes nothing.
func (r *Resolver) people(roots []int32) []*Person {
	r.prepareRows()
	rows := make([]*Person, len(roots))
	parallel(len(roots), 1<<12, func(lo, hi int) {
		mac := &hashFunc{key: r.opts.Key, h: hmac.New(sha256.New, r.opts.Key)}
		var slab []Person
		for i := lo; i < hi; i++ {
			if p := r.person(roots[i], &slab); p != nil {
				p.idh = binary.BigEndian.Uint64(mac.sum("person:" + p.idIn)[:8])
				rows[i] = p
			}
		}
	})
	out := rows[:0]
	for _, p := range rows {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// mentions finds the clusters made only of records holding a name and
// nothing else whose name is that of a person known by keys. Such a
// mention is not counted as another person, nor merged: a name alone may
// be anyone of that name. It is proposed for each candidate instead. It
// returns the candidates' roots by mention root.
func (r *Resolver) mentions() map[int32][]int32 {
	out := map[int32][]int32{}
	// A nameless record proposed to several people is none of them until
	// a person decides; once a name joins its cluster it counts.
	for _, n := range r.undecided {
		if root := r.find(n); len(r.namesOf(root)) == 0 {
			out[root] = nil
		}
	}
	if len(r.nameOnly) == 0 {
		return out
	}
	cands := map[int32][]int32{}
	for n := range r.nodes {
		nd := &r.nodes[n]
		if nd.rank == kRecord || nd.rank == 0 || nd.flags&fNoPerson != 0 || r.sources[nd.src].Master {
			continue
		}
		for _, id := range nd.names {
			if _, ok := r.nameOnly[id]; !ok || id == 0 {
				continue
			}
			if root := r.find(int32(n)); !slices.Contains(cands[id], root) && len(cands[id]) < 8 {
				cands[id] = append(cands[id], root)
			}
		}
	}
	for id, n := range r.nameOnly {
		root := r.find(n)
		if len(cands[id]) == 0 || !r.onlyNameRecords(root) {
			continue
		}
		out[root] = cands[id]
	}
	return out
}

// onlyNameRecords reports whether every record of a cluster is one with a
// name and no key.
func (r *Resolver) onlyNameRecords(root int32) bool {
	n := root
	for {
		if nd := &r.nodes[n]; nd.rank != kRecord && !r.sources[nd.src].Master {
			return false
		}
		n = r.next[n]
		if n == root {
			return true
		}
	}
}

// prepareRows fills the caches person reads, before workers read them.
func (r *Resolver) prepareRows() {
	for s := range r.sources {
		r.srcName(int32(s))
	}
	// The categories of a row in the shared order, then others by name.
	r.catOrder = r.catOrder[:0]
	for i := range r.catNames {
		r.catOrder = append(r.catOrder, uint8(i))
	}
	slices.SortFunc(r.catOrder, func(a, b uint8) int {
		x, y := r.catNames[a], r.catNames[b]
		return cmp.Or(cmp.Compare(catRank(x), catRank(y)), cmp.Compare(x, y))
	})
	r.catCard, r.catBank = r.catBit("credit_card"), r.catBit("bank_account")
}

// idHash is the keyed hash a person id is made of.
func (r *Resolver) idHash(in string) uint64 {
	return binary.BigEndian.Uint64(r.mac.sum("person:" + in)[:8])
}

// person builds the register row of the cluster rooted at root, or nil when
// the cluster exposes no data subject (master rows only, crowd records).
func (r *Resolver) person(root int32, slab *[]Person) *Person {
	var bestRank uint8
	// The strongest key's value, the smallest of the strongest kind,
	// compared as bytes: most nodes' keys are never made strings.
	var bestBuf, candBuf [64]byte
	bestKey, cand := bestBuf[:0], candBuf[:0]
	var names, emails, phones, addrs, postals tally
	var masterName, masterEmail, masterAddr, masterPostal, masterPhone, lang string
	var cats uint32
	var catExp [32]Exposure
	subject := false
	hasMaster := false
	financial := false
	var srcBuf [8]int32
	srcs := srcBuf[:0]
	n := root
	for {
		nd := &r.nodes[n]
		src := &r.sources[nd.src]
		if nd.flags&fNoPerson == 0 {
			if nd.rank != 0 && (bestRank == 0 || nd.rank < bestRank) {
				bestRank, bestKey = nd.rank, r.appendBestKey(bestKey[:0], n)
			} else if nd.rank != 0 && nd.rank == bestRank {
				if cand = r.appendBestKey(cand[:0], n); bytes.Compare(cand, bestKey) < 0 {
					bestKey, cand = cand, bestKey
				}
			}
			if src.Master {
				hasMaster = true
				// The first master row's value of each field; strings are
				// made only for the values kept.
				orGet(&masterName, r, nd.disp)
				orGet(&masterEmail, r, nd.email)
				orGet(&masterAddr, r, nd.addr)
				orGet(&masterPostal, r, nd.postal)
				orGet(&masterPhone, r, nd.phone)
				orGet(&lang, r, nd.lang)
			} else {
				for c := nd.cats; c != 0; c &= c - 1 {
					i := bitIndex(c)
					catExp[i] = max(catExp[i], src.Exposure)
				}
				cats |= nd.cats
				if !slices.Contains(srcs, nd.src) {
					srcs = append(srcs, nd.src)
				}
				if nd.cats&r.catCard != 0 || src.Credentials && nd.cats&r.catBank != 0 {
					financial = true
				}
				names.add(nd.disp)
				emails.add(nd.email)
				phones.add(nd.phone)
				addrs.add(nd.addr)
				postals.add(nd.postal)
			}
		}
		n = r.next[n]
		if n == root {
			break
		}
	}
	for c := cats; c != 0; c &= c - 1 {
		if identifyingCat(r.catNames[bitIndex(c)]) {
			subject = true
			break
		}
	}
	if !subject {
		return nil
	}
	// Rows are allocated from the worker's slab: millions of rows, few
	// allocations.
	if len(*slab) == cap(*slab) {
		*slab = make([]Person, 0, 256)
	}
	*slab = append(*slab, Person{root: root, FinancialRisk: financial, Language: lang, Sources: make([]string, 0, len(srcs))})
	p := &(*slab)[len(*slab)-1]
	p.Categories = make([]CategoryExposure, 0, bits.OnesCount32(cats))
	for _, i := range r.catOrder {
		if cats&(1<<i) != 0 {
			p.Categories = append(p.Categories, CategoryExposure{r.catNames[i], catExp[i]})
			p.Exposure = max(p.Exposure, catExp[i])
		}
	}
	for _, s := range srcs {
		src := &r.sources[s]
		p.Sources = append(p.Sources, r.srcName(s))
		if src.Host != "" && !slices.Contains(p.Hosts, src.Host) {
			if p.Hosts == nil {
				p.Hosts = make([]string, 0, len(srcs))
			}
			p.Hosts = append(p.Hosts, src.Host)
		}
		p.SpecialCare = appendNew(p.SpecialCare, src.SpecialCare...)
	}
	p.MatchedMaster = hasMaster
	p.Name = orTop(masterName, &names, r)
	p.Email = orTop(masterEmail, &emails, r)
	p.Phone = orTop(masterPhone, &phones, r)
	p.Address = orTop(masterAddr, &addrs, r)
	p.PostalCode = orTop(masterPostal, &postals, r)
	p.Country = r.country(root, p)
	slices.Sort(p.Sources)
	slices.Sort(p.Hosts)
	slices.Sort(p.SpecialCare)
	p.Key = kindNames[bestRank]
	p.idIn = kindNames[bestRank] + ":" + string(bestKey)
	return p
}

func orGet(dst *string, r *Resolver, o uint32) {
	if *dst == "" {
		*dst = r.get(o)
	}
}

func orTop(v string, t *tally, r *Resolver) string {
	if v != "" {
		return v
	}
	return t.top(r)
}

func bitIndex(c uint32) int {
	i := 0
	for c&1 == 0 {
		c >>= 1
		i++
	}
	return i
}

// tally counts arena strings to find a cluster's most common value. The
// first few live in the struct (it stays on the stack), more in slices.
type tally struct {
	k  int
	v  [4]uint32
	n  [4]int32
	xv []uint32
	xn []int32
}

func (t *tally) add(o uint32) {
	if o == 0 {
		return
	}
	for i := range min(t.k, len(t.v)) {
		if t.v[i] == o {
			t.n[i]++
			return
		}
	}
	if i := slices.Index(t.xv, o); i >= 0 {
		t.xn[i]++
		return
	}
	if t.k < len(t.v) {
		t.v[t.k], t.n[t.k] = o, 1
	} else {
		t.xv, t.xn = append(t.xv, o), append(t.xn, 1)
	}
	t.k++
}

func (t *tally) at(i int) (uint32, int32) {
	if i < len(t.v) {
		return t.v[i], t.n[i]
	}
	return t.xv[i-len(t.v)], t.xn[i-len(t.v)]
}

// top returns the most frequent value, the smallest among ties, so that
// reruns pick the same one. Equal strings at different arena offsets are
// counted together.
func (t *tally) top(r *Resolver) string {
	switch t.k {
	case 0:
		return ""
	case 1:
		return r.get(t.v[0])
	}
	best, bestN := []byte(nil), int32(0)
	for i := range t.k {
		o, _ := t.at(i)
		v := r.bytes(o)
		n := int32(0)
		for j := range t.k {
			oj, nj := t.at(j)
			if oj == o || bytes.Equal(r.bytes(oj), v) {
				n += nj
			}
		}
		if n > bestN || n == bestN && bytes.Compare(v, best) < 0 {
			best, bestN = v, n
		}
	}
	return string(best)
}

// bestKey is the normalised value of node n's strongest key; composite
// keys are rebuilt here rather than stored for every node.
func (r *Resolver) bestKey(n int32) string {
	if n < 0 {
		return ""
	}
	nd := &r.nodes[n]
	switch nd.rank {
	case kNameDOB:
		return r.name(nd.names[0]) + "|" + daysDate(nd.dob)
	case kNameAddr:
		return r.name(nd.names[0]) + "|" + NormalizeAddress(r.get(nd.addr))
	case kRecord:
		return r.srcName(nd.src) + "#" + itoa(int(nd.record))
	}
	return r.get(nd.best)
}

// appendBestKey appends bestKey(n) to b; the value of a plain key comes
// from the arena without a string.
func (r *Resolver) appendBestKey(b []byte, n int32) []byte {
	switch r.nodes[n].rank {
	case kNameDOB, kNameAddr, kRecord:
		return append(b, r.bestKey(n)...)
	}
	return append(b, r.bytes(r.nodes[n].best)...)
}

func (r *Resolver) catBit(c string) uint32 {
	if i, ok := r.catIndex[c]; ok {
		return 1 << i
	}
	return 0
}

// country of residence: the master's, else the address's, else the phone
// number's.
func (r *Resolver) country(root int32, p *Person) string {
	n := root
	for {
		nd := &r.nodes[n]
		if r.sources[nd.src].Master {
			if c := r.get(nd.country); c != "" {
				return c
			}
		}
		n = r.next[n]
		if n == root {
			break
		}
	}
	if c := AddressCountry(p.Address); c != "" {
		return c
	}
	return PhoneCountry(p.Phone)
}

// MergeNotes explains how person p's nodes came together.
func (r *Resolver) MergeNotes(p *Person) []MergeNote {
	var out []MergeNote
	for _, m := range r.merges {
		if r.find(m.A) != p.root {
			continue
		}
		out = append(out, MergeNote{Key: kindNames[m.Kind], A: r.nodeName(m.A), B: r.nodeName(m.B)})
	}
	return out
}

// AllMergeNotes returns the merge notes of every person at once, by id.
func (r *Resolver) AllMergeNotes(reg *Register) map[string][]MergeNote {
	byRoot := map[int32]string{}
	for _, p := range reg.People {
		byRoot[p.root] = p.ID
	}
	out := map[string][]MergeNote{}
	for _, m := range r.merges {
		id, ok := byRoot[r.find(m.A)]
		if !ok {
			continue
		}
		out[id] = append(out[id], MergeNote{Key: kindNames[m.Kind], A: r.nodeName(m.A), B: r.nodeName(m.B)})
	}
	return out
}

func (r *Resolver) nodeName(n int32) string {
	nd := &r.nodes[n]
	s := &r.sources[nd.src]
	if s.Master {
		return "master:" + s.Path + "#" + itoa(int(nd.record)+1)
	}
	return s.Name() + "#" + itoa(int(nd.record))
}

// Decide settles a proposal of the last Register: confirmed proposals
// merge (recorded as a "confirmed" merge), rejected ones are not proposed
// again. It reports whether the id was known.
func (r *Resolver) Decide(id string, confirm bool) bool {
	i, ok := r.propIndex[id]
	if !ok {
		return false
	}
	pr := r.proposals[i]
	if confirm {
		r.union(pr.a, pr.b, kConfirmed)
	} else {
		r.rejected[id] = true
	}
	return true
}

// Changed returns the people whose clusters changed since the last
// Register or Changed: what an incremental run must rewrite. Their ids
// follow the same rule as Register's, with the keys shared as of the last
// Register.
func (r *Resolver) Changed() []*Person {
	r.flush()
	// Mentions are no people in the register: nor here.
	mentions := r.mentions()
	seen := map[int32]bool{}
	var out []*Person
	var slab []Person
	for _, n := range r.touchedList {
		root := r.find(n)
		if seen[root] {
			continue
		}
		seen[root] = true
		if _, ok := mentions[root]; ok {
			continue
		}
		if p := r.person(root, &slab); p != nil {
			p.idh = r.idHash(p.idIn)
			if r.lastShared[p.idh] > 1 {
				p.idh = r.idHash(p.idIn + "|" + r.minName(root))
			}
			p.ID = personID(p.idh)
			out = append(out, p)
		}
	}
	r.touchedList = r.touchedList[:0]
	return out
}

// RecordRef is one record of a person: its source and record number. A
// record naming several people (a letter to many, a mail with From and
// To) was split, and only one of its values is this person's: Only holds
// that normalised value and Key its kind.
type RecordRef struct {
	Source Source
	Record int
	Key    string
	Only   string
}

// Records lists the records a person of the last Register was built
// from, master rows included, so that a reveal shows exactly that
// person's values.
func (r *Resolver) Records(p *Person) []RecordRef {
	var out []RecordRef
	n := p.root
	for {
		nd := &r.nodes[n]
		// The crowd record itself stands for no one: its values went to
		// its split nodes.
		if nd.flags&fNoPerson == 0 {
			ref := RecordRef{Source: r.sources[nd.src], Record: int(nd.record)}
			if nd.flags&fCrowd != 0 {
				ref.Key, ref.Only = kindNames[nd.rank], r.get(nd.best)
			}
			out = append(out, ref)
		}
		n = r.next[n]
		if n == p.root {
			break
		}
	}
	return out
}
