package sigma

import (
	"sort"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/logevent"
)

// EventRef points at an event that took part in a correlation.
type EventRef struct {
	Time     time.Time `json:"time"`
	Source   string    `json:"source"`
	RecordID uint64    `json:"record"`
	Rule     string    `json:"rule"`
}

// CorrelationHit is one firing of a correlation rule.
type CorrelationHit struct {
	Rule   *Rule
	Start  time.Time    // first contributing event
	Time   time.Time    // the event that completed the correlation
	Group  []FieldMatch // group-by fields and their values
	Count  int64        // events, distinct values or rules, by type
	Events []EventRef
}

// Correlator collects the hits of the rules correlations reference and
// evaluates the correlations once every event has been seen, so inputs may
// arrive in any order. It is not safe for concurrent use.
type Correlator struct {
	rs  *Ruleset
	obs map[*Rule][]observation // by correlation
}

type observation struct {
	ref   EventRef
	rule  *Rule
	key   string
	group []string
	value string
}

// NewCorrelator returns a Correlator for the built Ruleset.
func (rs *Ruleset) NewCorrelator() *Correlator {
	rs.Build()
	return &Correlator{rs: rs, obs: map[*Rule][]observation{}}
}

// Observe records that rule r matched e; rules no correlation references
// are ignored.
func (c *Correlator) Observe(e *logevent.Event, r *Rule) {
	if !r.correlated {
		return
	}
	get := func(f string) string {
		v, _ := e.Get(f)
		return logevent.String(v)
	}
	ref := EventRef{Time: e.Time, Source: e.Source, RecordID: e.RecordID, Rule: r.Title}
	for _, cr := range c.rs.Correlations {
		if refersTo(cr, r) {
			c.obs[cr] = append(c.obs[cr], newObservation(cr.Correlation, r, ref, get))
		}
	}
}

func refersTo(cr, r *Rule) bool {
	for _, ref := range cr.Correlation.refs {
		if ref == r {
			return true
		}
	}
	return false
}

// fieldFor maps a correlation field name to the field of one referenced
// rule through the correlation's aliases.
func (k *Correlation) fieldFor(name string, r *Rule) string {
	if a, ok := k.Aliases[name]; ok {
		for _, n := range []string{r.Name, r.ID} {
			if f, ok := a[n]; ok && n != "" {
				return f
			}
		}
	}
	return name
}

func newObservation(k *Correlation, r *Rule, ref EventRef, get func(string) string) observation {
	o := observation{ref: ref, rule: r}
	for _, g := range k.GroupBy {
		o.group = append(o.group, get(k.fieldFor(g, r)))
	}
	o.key = strings.Join(o.group, "\x1f")
	if k.Field != "" {
		o.value = get(k.fieldFor(k.Field, r))
	}
	return o
}

// Results evaluates every correlation, dependencies first, and returns the
// hits in time order.
func (c *Correlator) Results() []CorrelationHit {
	var all []CorrelationHit
	for _, cr := range c.rs.Correlations {
		hits := evaluate(cr, c.obs[cr])
		all = append(all, hits...)
		// Feed this correlation's hits to the correlations built on it.
		for _, h := range hits {
			vals := map[string]string{}
			for _, g := range h.Group {
				vals[g.Field] = g.Value
			}
			ref := EventRef{Time: h.Time, Rule: cr.Title}
			if len(h.Events) > 0 {
				last := h.Events[len(h.Events)-1]
				ref.Source, ref.RecordID = last.Source, last.RecordID
			}
			for _, up := range c.rs.Correlations {
				if refersTo(up, cr) {
					c.obs[up] = append(c.obs[up], newObservation(up.Correlation, cr, ref, func(f string) string { return vals[f] }))
				}
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	return all
}

func compare(op string, n, want int64) bool {
	switch op {
	case "gt":
		return n > want
	case "gte":
		return n >= want
	case "lt":
		return n < want
	case "lte":
		return n <= want
	case "eq":
		return n == want
	}
	return false
}

func evaluate(cr *Rule, obs []observation) []CorrelationHit {
	k := cr.Correlation
	groups := map[string][]observation{}
	var keys []string
	for _, o := range obs {
		if _, ok := groups[o.key]; !ok {
			keys = append(keys, o.key)
		}
		groups[o.key] = append(groups[o.key], o)
	}
	sort.Strings(keys)
	var out []CorrelationHit
	for _, key := range keys {
		g := groups[key]
		sort.SliceStable(g, func(i, j int) bool { return g[i].ref.Time.Before(g[j].ref.Time) })
		emit := func(win []observation, n int64) {
			h := CorrelationHit{Rule: cr, Start: win[0].ref.Time, Time: win[len(win)-1].ref.Time, Count: n}
			for i, f := range k.GroupBy {
				h.Group = append(h.Group, FieldMatch{Field: f, Value: win[0].group[i]})
			}
			for _, o := range win {
				h.Events = append(h.Events, o.ref)
			}
			out = append(out, h)
		}
		switch k.Type {
		case "temporal_ordered":
			evalOrdered(k, g, emit)
		default:
			evalWindow(k, g, emit)
		}
	}
	return out
}

// measure counts a window the way the correlation type counts.
func measure(k *Correlation, win []observation) int64 {
	switch k.Type {
	case "value_count":
		seen := map[string]bool{}
		for _, o := range win {
			if o.value != "" {
				seen[o.value] = true
			}
		}
		return int64(len(seen))
	case "temporal":
		seen := map[*Rule]bool{}
		for _, o := range win {
			seen[o.rule] = true
		}
		return int64(len(seen))
	}
	return int64(len(win))
}

// evalWindow slides a window of the timespan over the group's observations.
// A growing threshold (gt, gte) fires as soon as it holds and starts a new
// window after the firing event; the others judge each window that starts
// at an observation and spans the whole timespan.
func evalWindow(k *Correlation, g []observation, emit func([]observation, int64)) {
	if k.Op == "gt" || k.Op == "gte" {
		start := 0
		for end := 0; end < len(g); end++ {
			if start > end {
				continue
			}
			for g[end].ref.Time.Sub(g[start].ref.Time) > k.Timespan {
				start++
			}
			if n := measure(k, g[start:end+1]); compare(k.Op, n, k.Count) {
				emit(g[start:end+1], n)
				start = end + 1
			}
		}
		return
	}
	for start := 0; start < len(g); {
		end := start
		for end < len(g) && g[end].ref.Time.Sub(g[start].ref.Time) <= k.Timespan {
			end++
		}
		if n := measure(k, g[start:end]); compare(k.Op, n, k.Count) {
			emit(g[start:end], n)
			start = end
			continue
		}
		start++
	}
}

// evalOrdered finds the referenced rules firing in the order listed within
// the timespan.
func evalOrdered(k *Correlation, g []observation, emit func([]observation, int64)) {
	refs := k.refs
	for i := 0; i < len(g); i++ {
		if g[i].rule != refs[0] {
			continue
		}
		next := 1
		win := []observation{g[i]}
		for j := i + 1; j < len(g) && next < len(refs) && g[j].ref.Time.Sub(g[i].ref.Time) <= k.Timespan; j++ {
			if g[j].rule == refs[next] {
				win = append(win, g[j])
				next++
			}
		}
		if next == len(refs) && compare(k.Op, int64(next), k.Count) {
			emit(win, int64(next))
			// Resume after the event that completed the sequence.
			last := win[len(win)-1]
			for i+1 < len(g) && !g[i+1].ref.Time.After(last.ref.Time) {
				i++
			}
		}
	}
}
