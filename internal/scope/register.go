package scope

import (
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"sync"
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
	// idIn is the strongest key the id hashes; minName tells apart people
	// sharing it (a household phone, see contact).
	idIn, minName string
	idh           uint64
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
	counts := make(map[uint64]int32, len(reg.People))
	for _, p := range reg.People {
		p.idh = r.idHash(p.idIn)
		counts[p.idh]++
	}
	r.lastShared = counts
	r.touchedList = r.touchedList[:0]
	for _, p := range reg.People {
		if counts[p.idh] > 1 {
			p.idh = r.idHash(p.idIn + "|" + p.minName)
		}
	}
	slices.SortFunc(reg.People, func(a, b *Person) int {
		if c := cmp.Compare(a.idh, b.idh); c != 0 {
			return c
		}
		return slices.Compare(a.Sources, b.Sources)
	})
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
	for i, p := range reg.People {
		p.ID = fmt.Sprintf("p-%016x", p.idh)
		p.idIn, p.minName = "", ""
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

// people builds the rows of the clusters at roots, on every core: a
// cluster's row reads the resolver and changes nothing.
func (r *Resolver) people(roots []int32) []*Person {
	for s := range r.sources {
		r.srcName(int32(s)) // fill the cache before the workers read it
	}
	rows := make([]*Person, len(roots))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(roots)/10000))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(roots); i += workers {
				rows[i] = r.person(roots[i])
			}
		}()
	}
	wg.Wait()
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
	if len(r.nameOnly) == 0 {
		return nil
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
	out := map[int32][]int32{}
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

// idHash is the keyed hash a person id is made of.
func (r *Resolver) idHash(in string) uint64 {
	return binary.BigEndian.Uint64(r.mac.sum("person:" + in)[:8])
}

// person builds the register row of the cluster rooted at root, or nil when
// the cluster exposes no data subject (master rows only, crowd records).
func (r *Resolver) person(root int32) *Person {
	p := &Person{root: root}
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
		p.Categories = append(p.Categories, CategoryExposure{name, catExp[i]})
		p.Exposure = max(p.Exposure, catExp[i])
	}
	slices.SortFunc(p.Categories, func(a, b CategoryExposure) int {
		return cmp.Or(cmp.Compare(catRank(a.Category), catRank(b.Category)), cmp.Compare(a.Category, b.Category))
	})
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
			p.idh = r.idHash(p.idIn)
			if r.lastShared[p.idh] > 1 {
				p.idh = r.idHash(p.idIn + "|" + p.minName)
			}
			p.ID = fmt.Sprintf("p-%016x", p.idh)
			out = append(out, p)
		}
	}
	r.touchedList = r.touchedList[:0]
	return out
}
