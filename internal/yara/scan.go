package yara

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/mamori-dev/mamori/internal/scan"
	"github.com/mamori-dev/mamori/internal/yara/strmatch"
)

// MatchedRule is one rule that matched a scanned buffer.
type MatchedRule struct {
	Namespace, Rule string
	Tags            []string
	Meta            map[string]any
	Strings         []StringMatch
}

// StringMatch is one occurrence of a (non-private) string of a matched
// rule.
type StringMatch struct {
	ID     string `json:"id"`
	Offset int64  `json:"offset"`
	Length int    `json:"length"`
}

func (r *Rules) newScanCtx() *scanCtx {
	return &scanCtx{
		r:       r,
		matches: make([][]strmatch.Match, len(r.patterns)),
		hit:     make([]bool, len(r.rules)),
		ruleRes: make([]bool, len(r.rules)),
		nsUnsat: make([]bool, len(r.namespaces)),
		slots:   make([]value, r.maxSlots+2),
		ext:     make([]value, len(r.extNames)),
	}
}

func (r *Rules) getCtx() *scanCtx {
	if sc, ok := r.pool.Get().(*scanCtx); ok {
		return sc
	}
	return r.newScanCtx()
}

func (r *Rules) putCtx(sc *scanCtx) {
	sc.reset()
	r.pool.Put(sc)
}

// Scan matches data against the rules. vars override external variables
// defined at compile time for this scan (their types must agree). The
// result lists matching non-private rules in declaration order. When ctx
// ends (a timeout, a signal) the scan stops within moments, in string
// matching and in condition loops alike, and returns ctx's error.
func (r *Rules) Scan(ctx context.Context, data []byte, vars map[string]any) ([]MatchedRule, error) {
	return r.ScanWarn(ctx, data, vars, nil)
}

// ScanWarn is Scan that also reports, through warn, each string that hit
// libyara's limit of matches per string, in yara's words: results for its
// rule may be incorrect.
func (r *Rules) ScanWarn(ctx context.Context, data []byte, vars map[string]any, warn func(msg string)) ([]MatchedRule, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sc := r.getCtx()
	defer r.putCtx(sc)
	sc.ctx = ctx
	copy(sc.ext, r.extDefault)
	for name, v := range vars {
		i := slices.Index(r.extNames, name)
		if i < 0 {
			continue
		}
		val, err := externalValue(name, r.extTypes[i], v)
		if err != nil {
			return nil, err
		}
		sc.ext[i] = val
	}
	sc.data = data
	if len(r.patterns) > 0 {
		full, err := r.set.ScanContext(ctx, data, func(m strmatch.Match) {
			p := m.Pattern
			ms := sc.matches[p]
			if len(ms) == 0 {
				sc.touched = append(sc.touched, p)
				sc.hit[r.patRule[p]] = true
			}
			if len(ms) < maxMatches {
				sc.matches[p] = append(ms, m)
			}
		})
		if err != nil {
			return nil, err
		}
		for _, p := range full {
			if warn != nil && r.patRule[p] >= 0 {
				warn(fmt.Sprintf("rule %q: too many matches for %s, results for this rule may be incorrect", r.rules[r.patRule[p]].Name, r.patID[p]))
			}
		}
		for _, p := range sc.touched {
			sc.matches[p] = normalizeMatches(sc.matches[p])
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i, ru := range r.rules {
		ok := false
		if !ru.needsMatch || sc.hit[i] {
			ok = truth(sc.eval(ru.cond))
		}
		if sc.err != nil {
			return nil, sc.err
		}
		sc.ruleRes[i] = ok
		if !ok && ru.Global {
			sc.nsUnsat[ru.nsIdx] = true
		}
	}
	var out []MatchedRule
	for i, ru := range r.rules {
		if !sc.ruleRes[i] || ru.Private || sc.nsUnsat[ru.nsIdx] {
			continue
		}
		mr := MatchedRule{Namespace: ru.Namespace, Rule: ru.Name, Tags: ru.Tags, Meta: ru.Meta, Strings: []StringMatch{}}
		for _, p := range ru.strings {
			if r.patterns[p].Private {
				continue
			}
			for _, m := range sc.matches[p] {
				mr.Strings = append(mr.Strings, StringMatch{ID: r.patID[p], Offset: m.Offset, Length: m.Length})
			}
		}
		out = append(out, mr)
	}
	return out, nil
}

// normalizeMatches sorts matches by offset and keeps the first one
// reported at each offset, as libyara's match lists do.
func normalizeMatches(ms []strmatch.Match) []strmatch.Match {
	sorted := true
	for i := 1; i < len(ms); i++ {
		if ms[i].Offset <= ms[i-1].Offset {
			sorted = false
			break
		}
	}
	if sorted {
		return ms
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Offset < ms[j].Offset })
	out := ms[:1]
	for _, m := range ms[1:] {
		if m.Offset != out[len(out)-1].Offset {
			out = append(out, m)
		}
	}
	return out
}

func externalValue(name string, t vtype, v any) (value, error) {
	switch x := v.(type) {
	case bool:
		if t == tyBool {
			return boolVal(x), nil
		}
	case int:
		if t == tyInt {
			return intVal(int64(x)), nil
		}
		if t == tyFloat {
			return value{f: float64(x), ok: true}, nil
		}
	case int64:
		if t == tyInt {
			return intVal(x), nil
		}
		if t == tyFloat {
			return value{f: float64(x), ok: true}, nil
		}
	case float64:
		if t == tyFloat {
			return value{f: x, ok: true}, nil
		}
	case string:
		if t == tyStr {
			return strVal(x), nil
		}
	}
	return undef, fmt.Errorf("external variable %q: value %v (%T) is not a %s", name, v, v, t)
}

// Record is one matching rule for one file in `mamori scan` output.
type Record struct {
	Type      string         `json:"type"`
	Path      string         `json:"path"`
	PathRaw   string         `json:"path_raw,omitempty"`
	Size      int64          `json:"size"`
	SHA256    string         `json:"sha256"`
	Rule      string         `json:"rule"`
	Namespace string         `json:"namespace"`
	Tags      []string       `json:"tags"`
	Meta      map[string]any `json:"meta"`
	Strings   []StringMatch  `json:"strings"`
}

var _ scan.Record = (*Record)(nil)

func (r *Record) Kind() string  { return "yara" }
func (r *Record) Finding() bool { return true }
func (r *Record) Text() string  { return fmt.Sprintf("yara %s [%s] %s", r.Rule, r.Namespace, r.Path) }

type matcher struct {
	r       *Rules
	timeout time.Duration
}

var _ scan.Matcher = matcher{}

// DefaultTimeout bounds the rule evaluation of one file, as yara --timeout
// does: hostile rules or data must not hold a worker for ever.
const DefaultTimeout = 60 * time.Second

// Matcher returns a scan.Matcher emitting one *Record per matching rule.
// Files whose content was not read (over the size limit) are skipped. A
// file whose evaluation takes longer than timeout (0: no limit) gets an
// error record instead of results; so does a string with too many matches,
// beside the results.
func (r *Rules) Matcher(timeout time.Duration) scan.Matcher { return matcher{r, timeout} }

func (m matcher) Digests() scan.Digests { return 0 }

func (m matcher) Match(ctx context.Context, f *scan.File, emit func(scan.Record)) error {
	if f.Data == nil {
		return nil
	}
	sctx := ctx
	if m.timeout > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(ctx, m.timeout)
		defer cancel()
	}
	res, err := m.r.ScanWarn(sctx, f.Data, nil, func(msg string) {
		emit(scan.NewError(f.Path, errors.New("yara: "+msg)))
	})
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("yara: timed out after %s; no rule results for this file", m.timeout)
		}
		return fmt.Errorf("yara: %w", err)
	}
	for _, mr := range res {
		tags := mr.Tags
		if tags == nil {
			tags = []string{}
		}
		meta := mr.Meta
		if meta == nil {
			meta = map[string]any{}
		}
		emit(&Record{Type: "yara", Path: scan.DisplayPath(f.Path), PathRaw: scan.RawPath(f.Path), Size: f.Size, SHA256: f.SHA256, Rule: mr.Rule, Namespace: mr.Namespace,
			Tags: tags, Meta: meta, Strings: mr.Strings})
	}
	return nil
}
