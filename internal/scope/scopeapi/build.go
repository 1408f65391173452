package scopeapi

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/timeline"
)

// built is an incident's register with what it was built from.
type built struct {
	fp store.PIIFingerprint
	// auto is the exposure the investigation gave when it was built.
	auto  []exposureRule
	res   *scope.Resolver
	reg   *scope.Register
	sum   *scope.Summary
	byID  map[string]*scope.Person
	files []fileState
	// Occurrences is how many values went in.
	occurrences int
	at          time.Time
	took        time.Duration
}

// fileState is a file and the exposure it was built with.
type fileState struct {
	store.PIIFile
	Exposure scope.Exposure
	// By says where the exposure comes from: default, investigation or
	// person.
	By string
}

// cache holds the last register of each incident.
type cache struct {
	mu sync.Mutex
	// building serialises builds per incident: concurrent readers of a
	// stale register wait for one build instead of running their own.
	building map[string]*sync.Mutex
	regs     map[string]*built
}

func (c *cache) lock(id string) *sync.Mutex {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.building[id]
	if m == nil {
		m = &sync.Mutex{}
		c.building[id] = m
	}
	return m
}

// register returns the incident's register, building it when what it is
// built from changed since the last build.
func (s *Service) register(ctx context.Context, incidentID string) (*built, error) {
	l := s.cache.lock(incidentID)
	l.Lock()
	defer l.Unlock()
	fp, err := s.st.PIIFingerprint(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	s.cache.mu.Lock()
	b := s.cache.regs[incidentID]
	s.cache.mu.Unlock()
	if b != nil && b.fp == fp {
		return b, nil
	}
	auto, err := s.autoRules(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	// Timeline events stream in during a collection; most change no
	// file's exposure, and those need no new build.
	if b != nil && b.fp.Inputs == fp.Inputs && slices.Equal(auto, b.auto) {
		// Under the incident's build lock, as every use of fp.
		b.fp = fp
		return b, nil
	}
	b, err = s.build(ctx, incidentID, auto)
	if err != nil {
		return nil, err
	}
	b.fp = fp
	// The obligations workspace derives its facts from these counts.
	sum, _ := json.Marshal(b.sum)
	if err := s.st.PutPIISummary(ctx, incidentID, sum, b.at); err != nil {
		return nil, err
	}
	s.cache.mu.Lock()
	s.cache.regs[incidentID] = b
	s.cache.mu.Unlock()
	s.log.Info("scope register built", "incident", incidentID, "people", len(b.reg.People), "values", b.occurrences, "took", b.took)
	return b, nil
}

// exposureRule is an exposure a person set (or the investigation derived)
// for the files matching a host and a path pattern; member, when set,
// narrows it to one member of an archive.
type exposureRule struct {
	host, pattern, member string
	level                 scope.Exposure
}

func (e *exposureRule) matches(host, p, member string) bool {
	if e.host != "" && e.host != "*" && e.host != host {
		return false
	}
	if e.member != "" && member != e.member && !strings.HasPrefix(member, e.member+"!") {
		return false
	}
	return matchPath(e.pattern, p)
}

// matchPath matches an exact path, a directory ending in "/", or a glob
// in which * and ? also cross "/" (so */export/*.zip matches
// /srv/export/a.zip).
func matchPath(pattern, p string) bool {
	switch {
	case pattern == p:
		return true
	case strings.HasSuffix(pattern, "/"):
		return strings.HasPrefix(p, pattern)
	case !strings.ContainsAny(pattern, "*?["):
		return false
	}
	if ok, _ := path.Match(pattern, p); ok {
		return true
	}
	re, err := globRegexp(pattern)
	return err == nil && re.MatchString(p)
}

var globCache sync.Map

func globRegexp(pattern string) (*regexp.Regexp, error) {
	if re, ok := globCache.Load(pattern); ok {
		return re.(*regexp.Regexp), nil
	}
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := strings.IndexByte(pattern[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("pattern %q: unclosed [", pattern)
			}
			b.WriteString(pattern[i : i+j+1])
			i += j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	globCache.Store(pattern, re)
	return re, nil
}

// autoRules derives exposure from the investigation: files an
// exfiltration finding that nobody rejected names are exfiltrated
// (archive!member names one member); files a file event says were
// accessed, or that were read over a share, are accessed.
func (s *Service) autoRules(ctx context.Context, incidentID string) ([]exposureRule, error) {
	var out []exposureRule
	fs, err := s.st.InvestigationFindings(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if f.Kind != timeline.Exfiltration || f.State == "rejected" {
			continue
		}
		var body timeline.Finding
		if json.Unmarshal(f.Body, &body) != nil {
			continue
		}
		for _, p := range body.Files {
			file, member, _ := strings.Cut(p, "!")
			out = append(out, exposureRule{host: body.Host, pattern: file, member: member, level: scope.Exfiltrated})
		}
	}
	for _, kind := range []string{"file", "share_access"} {
		f := store.TimelineFilter{Kind: kind, Limit: 1000}
		for {
			evs, err := s.st.Timeline(ctx, incidentID, f)
			if err != nil {
				return nil, err
			}
			for _, e := range evs {
				switch {
				case kind == "file" && (e.Fields["action"] == "accessed" || e.Fields["action"] == "read") && e.Fields["path"] != "":
					out = append(out, exposureRule{host: e.HostID, pattern: e.Fields["path"], level: scope.Accessed})
				case kind == "share_access" && e.Fields["file"] != "":
					out = append(out, exposureRule{host: e.HostID, pattern: e.Fields["file"], level: scope.Accessed})
				}
			}
			if len(evs) < f.Limit {
				break
			}
			last := evs[len(evs)-1]
			f.AfterAt, f.AfterID = last.At, last.ID
		}
	}
	// A glob character in a logged path is a literal, not a pattern.
	for i := range out {
		if strings.ContainsAny(out[i].pattern, "*?[") {
			out[i].pattern = strings.NewReplacer("*", "?", "[", "?").Replace(out[i].pattern)
		}
	}
	return out, nil
}

// manualRules are the exposures people set on the incident, oldest first.
func (s *Service) manualRules(ctx context.Context, incidentID string) ([]exposureRule, error) {
	rows, err := s.st.Query(ctx, "pii-exposure-list", incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []exposureRule
	for rows.Next() {
		var id, at int64
		var host, pat, level, by, reason string
		if err := rows.Scan(&id, &host, &pat, &level, &by, &reason, &at); err != nil {
			return nil, fmt.Errorf("scope: exposure: %w", err)
		}
		e, err := scope.ParseExposure(level)
		if err != nil {
			return nil, err
		}
		out = append(out, exposureRule{host: host, pattern: pat, level: e})
	}
	return out, rows.Err()
}

// exposureOf is a source's exposure: the last setting a person made that
// matches it wins, even when lower than the investigation's; otherwise the
// highest the investigation derived; otherwise present.
func exposureOf(manual, auto []exposureRule, host, p, member string) (scope.Exposure, string) {
	for i := len(manual) - 1; i >= 0; i-- {
		if manual[i].matches(host, p, member) {
			return manual[i].level, "person"
		}
	}
	e, by := scope.Present, "default"
	for i := range auto {
		if auto[i].level > e && auto[i].matches(host, p, member) {
			e, by = auto[i].level, "investigation"
		}
	}
	return e, by
}

// build reads the incident's files, master data and decisions and
// resolves them into a register.
func (s *Service) build(ctx context.Context, incidentID string, auto []exposureRule) (*built, error) {
	start := time.Now()
	files, err := s.st.IncidentPIIFiles(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	manual, err := s.manualRules(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	r := scope.NewResolver(scope.Options{Key: s.keys.person, Country: s.country})
	if err := s.addMaster(ctx, r, incidentID); err != nil {
		return nil, err
	}
	b := &built{auto: auto}
	if err := s.addValues(ctx, r, b, files, manual, auto); err != nil {
		return nil, err
	}
	r.Resolve()
	decisions, err := s.decisions(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	if len(decisions) > 0 {
		r.Register() // numbers the proposals
		for _, d := range decisions {
			r.Decide(d.ID, d.Confirm)
		}
	}
	b.res, b.reg = r, r.Register()
	b.sum = scope.Summarize(b.reg)
	b.byID = make(map[string]*scope.Person, len(b.reg.People))
	for _, p := range b.reg.People {
		b.byID[p.ID] = p
	}
	b.at, b.took = s.now(), time.Since(start)
	return b, nil
}

// addValues feeds the resolver the sources and values of the incident's
// files, in file order and each file's values in stored order, as the
// register depends on the order of sources and values. One goroutine reads
// the values from the store while this one opens them and adds them.
func (s *Service) addValues(ctx context.Context, r *scope.Resolver, b *built, files []store.PIIFile, manual, auto []exposureRule) error {
	// next is the first file whose sources are not added yet; a file's
	// flagged sources go in before its first value.
	next := 0
	addFiles := func(upTo int) error {
		for ; next <= upTo; next++ {
			f := &files[next]
			fe, by := exposureOf(manual, auto, f.HostID, f.Path, "")
			b.files = append(b.files, fileState{PIIFile: *f, Exposure: fe, By: by})
			var flags []scope.FileFlag
			if err := json.Unmarshal([]byte(f.Flags), &flags); err != nil {
				return fmt.Errorf("scope: flags of %s:%s: %w", f.HostID, f.Path, err)
			}
			for _, fl := range flags {
				src := fileSource(manual, auto, f, fl.Member)
				switch fl.Flag {
				case "special_care":
					src.SpecialCare = fl.Terms
				case "credentials":
					src.Credentials = true
				}
				r.Source(src)
			}
		}
		return nil
	}

	ids := make([]int64, len(files))
	for i := range files {
		ids[i] = files[i].ID
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	full, free := make(chan *valueBatch, 2), make(chan *valueBatch, 3)
	for range cap(free) {
		free <- &valueBatch{}
	}
	var readErr error
	go func() {
		defer close(full)
		vb := <-free
		readErr = s.st.PIIFilesValues(ctx, ids, func(i int, v *store.PIIValue) error {
			vb.add(i, v)
			if len(vb.vals) < valueBatchLen {
				return nil
			}
			full <- vb
			select {
			case vb = <-free:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if readErr == nil && len(vb.vals) > 0 {
			full <- vb
		}
	}()
	// drain lets the reader finish after an error here.
	drain := func(err error) error {
		cancel()
		for range full {
		}
		return err
	}

	var buf []byte
	file, last, lastMember := -1, int32(-1), ""
	for vb := range full {
		for i := range vb.vals {
			v := &vb.vals[i]
			if v.file != file {
				if err := addFiles(v.file); err != nil {
					return drain(err)
				}
				file, last = v.file, -1
			}
			f := &files[file]
			var err error
			buf, err = s.keys.openTo(buf[:0], v.category, vb.slab[v.sealed[0]:v.sealed[1]])
			if err != nil {
				return drain(fmt.Errorf("%s:%s: %w", f.HostID, f.Path, err))
			}
			if last < 0 || v.member != lastMember {
				last, lastMember = r.Source(fileSource(manual, auto, f, v.member)), v.member
			}
			r.AddCountry(last, v.record, v.category, string(buf), v.country)
			b.occurrences++
		}
		vb.reset()
		free <- vb
	}
	if readErr != nil {
		return readErr
	}
	return addFiles(len(files) - 1)
}

// fileSource is the source of a member of a file (the file itself for "")
// with its exposure.
func fileSource(manual, auto []exposureRule, f *store.PIIFile, member string) scope.Source {
	e, _ := exposureOf(manual, auto, f.HostID, f.Path, member)
	return scope.Source{Host: f.HostID, Path: f.Path, Member: member, Exposure: e}
}

// valueBatchLen is the values the reader hands over at once.
const valueBatchLen = 1024

// valueBatch holds sealed values read from the store, their sealed bytes
// end to end in slab.
type valueBatch struct {
	vals []sealedValue
	slab []byte
}

type sealedValue struct {
	// file is the index of the value's file.
	file                      int
	member, category, country string
	record                    int
	// sealed is the value's start and end in the batch's slab.
	sealed [2]int
}

func (vb *valueBatch) add(file int, v *store.PIIValue) {
	start := len(vb.slab)
	vb.slab = append(vb.slab, v.Sealed...)
	vb.vals = append(vb.vals, sealedValue{file: file, member: v.Member, category: v.Category, country: v.Country, record: v.Record,
		sealed: [2]int{start, len(vb.slab)}})
}

func (vb *valueBatch) reset() {
	clear(vb.vals) // the strings
	vb.vals, vb.slab = vb.vals[:0], vb.slab[:0]
}
