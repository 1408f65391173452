package scope

import (
	"cmp"
	"encoding/hex"
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
	// Categories maps each exposed category to its highest exposure.
	Categories    map[string]Exposure `json:"-"`
	Exposure      Exposure            `json:"-"`
	SpecialCare   []string            `json:"special_care,omitempty"`
	FinancialRisk bool                `json:"financial_risk"`
	MatchedMaster bool                `json:"matched_master"`
	Sources       []string            `json:"sources"`
	Hosts         []string            `json:"hosts,omitempty"`
	// Key names the strongest key the id comes from.
	Key    string      `json:"key"`
	Merges []MergeNote `json:"merges,omitempty"`
	root   int32
	// idIn is the strongest key the id hashes; minName tells apart people
	// sharing it (a household phone, see contact).
	idIn, minName string
}

// MergeNote explains one merge inside a person: the key kind and the two
// sources (host:path!member#record) it joined.
type MergeNote struct {
	Key string `json:"key"`
	A   string `json:"a"`
	B   string `json:"b"`
}

// CategoryList returns the person's categories in the shared order.
func (p *Person) CategoryList() []string {
	out := make([]string, 0, len(p.Categories))
	for _, c := range categoryOrder {
		if _, ok := p.Categories[c]; ok {
			out = append(out, c)
		}
	}
	var rest []string
	for c := range p.Categories {
		if !slices.Contains(categoryOrder, c) {
			rest = append(rest, c)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
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
}

// Register builds the register from the current clusters, people sorted by
// id. Proposals already settled by a merge are left out.
func (r *Resolver) Register() *Register {
	reg := &Register{}
	shared := map[string]int{}
	for n := range r.nodes {
		if r.parent[n] != int32(n) {
			continue
		}
		if p := r.person(int32(n)); p != nil {
			shared[p.idIn]++
			reg.People = append(reg.People, p)
		}
	}
	// Ids depend on the data only: people sharing a strongest key are told
	// apart by their names, and the rare rest by order of those names.
	slices.SortFunc(reg.People, func(a, b *Person) int {
		return cmp.Or(cmp.Compare(a.idIn, b.idIn), cmp.Compare(a.minName, b.minName))
	})
	r.lastShared = shared
	r.touchedList = r.touchedList[:0]
	ids := map[string]int32{}
	for _, p := range reg.People {
		in := p.idIn
		if shared[in] > 1 {
			in += "|" + p.minName
		}
		p.ID = uniqueID(ids, "p-"+hex.EncodeToString(r.mac.sum("person:" + in)[:8]), p.root)
	}
	slices.SortFunc(reg.People, func(a, b *Person) int { return cmp.Compare(a.ID, b.ID) })
	byRoot := map[int32]string{}
	for _, p := range reg.People {
		byRoot[p.root] = p.ID
	}
	r.propIndex = map[string]int{}
	for i, pr := range r.proposals {
		a, b := byRoot[r.find(pr.a)], byRoot[r.find(pr.b)]
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

func uniqueID(ids map[string]int32, id string, root int32) string {
	base := id
	for i := 2; ; i++ {
		if _, ok := ids[id]; !ok {
			ids[id] = root
			return id
		}
		id = base + "-" + itoa(i)
	}
}

// person builds the register row of the cluster rooted at root, or nil when
// the cluster exposes no data subject (master rows only, crowd records).
func (r *Resolver) person(root int32) *Person {
	p := &Person{Categories: map[string]Exposure{}, root: root}
	var bestRank uint8
	var bestNode int32 = -1
	var names, emails, phones, addrs, postals tally
	var masterName, masterEmail, masterAddr, masterPostal, masterPhone string
	var cats uint32
	var catExp [32]Exposure
	subject := false
	hasMaster := false
	var srcs []int32
	n := root
	for {
		nd := &r.nodes[n]
		src := &r.sources[nd.src]
		if nd.flags&fNoPerson == 0 {
			if nd.rank != 0 && (bestRank == 0 || nd.rank < bestRank || nd.rank == bestRank && r.bestKey(n) < r.bestKey(bestNode)) {
				bestRank, bestNode = nd.rank, n
			}
			if src.Master {
				hasMaster = true
				masterName = cmp.Or(masterName, r.get(nd.disp))
				masterEmail = cmp.Or(masterEmail, r.get(nd.email))
				masterAddr = cmp.Or(masterAddr, r.get(nd.addr))
				masterPostal = cmp.Or(masterPostal, r.get(nd.postal))
				masterPhone = cmp.Or(masterPhone, r.get(nd.phone))
				p.Language = cmp.Or(p.Language, r.get(nd.lang))
			} else {
				for c := nd.cats; c != 0; c &= c - 1 {
					i := bitIndex(c)
					catExp[i] = max(catExp[i], src.Exposure)
				}
				cats |= nd.cats
				if !slices.Contains(srcs, nd.src) {
					srcs = append(srcs, nd.src)
				}
				if nd.cats&r.catBit("credit_card") != 0 || src.Credentials && nd.cats&r.catBit("bank_account") != 0 {
					p.FinancialRisk = true
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
		i := bitIndex(c)
		name := r.catNames[i]
		if identifyingCat(name) {
			subject = true
		}
		p.Categories[name] = catExp[i]
		p.Exposure = max(p.Exposure, catExp[i])
	}
	if !subject {
		return nil
	}
	for _, s := range srcs {
		src := &r.sources[s]
		p.Sources = append(p.Sources, r.srcName(s))
		if src.Host != "" && !slices.Contains(p.Hosts, src.Host) {
			p.Hosts = append(p.Hosts, src.Host)
		}
		p.SpecialCare = appendNew(p.SpecialCare, src.SpecialCare...)
	}
	p.MatchedMaster = hasMaster
	p.Name = cmp.Or(masterName, names.top(r))
	p.Email = cmp.Or(masterEmail, emails.top(r))
	p.Phone = cmp.Or(masterPhone, phones.top(r))
	p.Address = cmp.Or(masterAddr, addrs.top(r))
	p.PostalCode = cmp.Or(masterPostal, postals.top(r))
	p.Country = r.country(root, p)
	slices.Sort(p.Sources)
	slices.Sort(p.Hosts)
	slices.Sort(p.SpecialCare)
	p.Key = kindNames[bestRank]
	p.idIn = kindNames[bestRank] + ":" + r.bestKey(bestNode)
	if ns := r.rootNames[root]; len(ns) > 0 {
		p.minName = r.nameList[slices.MinFunc(ns, func(a, b int32) int { return cmp.Compare(r.nameList[a], r.nameList[b]) })]
	}
	return p
}

func bitIndex(c uint32) int {
	i := 0
	for c&1 == 0 {
		c >>= 1
		i++
	}
	return i
}

// tally counts arena strings to find a cluster's most common value.
type tally struct {
	v []uint32
	n []int32
}

func (t *tally) add(o uint32) {
	if o == 0 {
		return
	}
	if i := slices.Index(t.v, o); i >= 0 {
		t.n[i]++
		return
	}
	t.v = append(t.v, o)
	t.n = append(t.n, 1)
}

// top returns the most frequent value, the smallest among ties, so that
// reruns pick the same one. Equal strings at different arena offsets are
// counted together.
func (t *tally) top(r *Resolver) string {
	if len(t.v) == 1 {
		return r.get(t.v[0])
	}
	counts := map[string]int32{}
	for i, o := range t.v {
		counts[r.get(o)] += t.n[i]
	}
	best, bestN := "", int32(0)
	for v, n := range counts {
		if n > bestN || n == bestN && v < best {
			best, bestN = v, n
		}
	}
	return best
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
		return r.nameList[nd.names[0]] + "|" + daysDate(nd.dob)
	case kNameAddr:
		return r.nameList[nd.names[0]] + "|" + NormalizeAddress(r.get(nd.addr))
	case kRecord:
		return r.srcName(nd.src) + "#" + itoa(int(nd.record))
	}
	return r.get(nd.best)
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
	seen := map[int32]bool{}
	var out []*Person
	for _, n := range r.touchedList {
		root := r.find(n)
		if seen[root] {
			continue
		}
		seen[root] = true
		if p := r.person(root); p != nil {
			in := p.idIn
			if r.lastShared[in] > 1 {
				in += "|" + p.minName
			}
			p.ID = "p-" + hex.EncodeToString(r.mac.sum("person:" + in)[:8])
			out = append(out, p)
		}
	}
	r.touchedList = r.touchedList[:0]
	return out
}
