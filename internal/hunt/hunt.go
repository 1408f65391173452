package hunt

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mamori-dev/mamori/internal/logevent"
	"github.com/mamori-dev/mamori/internal/logs"
	"github.com/mamori-dev/mamori/internal/sigma"
)

// Options configure a hunt.
type Options struct {
	Rules    *sigma.Ruleset
	MinLevel string    // hits below this level are dropped ("" keeps all)
	From, To time.Time // events outside [From, To] are skipped (zero: open)
	// Timeline, when set, receives every event in time order as Timesketch
	// CSV once the hunt is done.
	Timeline io.Writer
	// TempDir holds the sorted runs of hits and of the timeline ("" for
	// os.TempDir).
	TempDir  string
	Workers  int // matching goroutines (GOMAXPROCS when <= 0)
	Progress func(Progress)
}

// Progress is reported about every 200 ms while a hunt runs.
type Progress struct {
	Files, FilesQueued int
	WalkDone           bool
	Bytes, BytesQueued int64
	Events             int64
	Hits               int64
	Seconds            float64
}

// Hit is one `sigma` record: a rule (or correlation) that fired.
type Hit struct {
	Type      string             `json:"type"` // "sigma"
	Time      time.Time          `json:"time"`
	Computer  string             `json:"computer,omitempty"`
	Channel   string             `json:"channel,omitempty"`
	Provider  string             `json:"provider,omitempty"`
	EventID   int64              `json:"event_id,omitempty"`
	RuleID    string             `json:"rule_id,omitempty"`
	Rule      string             `json:"rule"`
	Level     string             `json:"level"`
	Attack    []string           `json:"attack,omitempty"`
	Matched   []sigma.FieldMatch `json:"matched,omitempty"`
	Source    string             `json:"source,omitempty"`
	Record    uint64             `json:"record,omitempty"`
	RuleFile  string             `json:"rule_file"`
	Correlate *Correlation       `json:"correlation,omitempty"`
}

// Correlation describes the events behind a correlation hit.
type Correlation struct {
	Kind   string           `json:"kind"` // event_count, value_count, temporal, temporal_ordered
	Start  time.Time        `json:"start"`
	Count  int64            `json:"count"`
	Events []sigma.EventRef `json:"events"`
}

// FileError is an `error` record: a file or a record that could not be read.
type FileError struct {
	Type   string `json:"type"` // "error"
	File   string `json:"file"`
	Offset int64  `json:"offset"` // -1 when the whole file failed
	Error  string `json:"error"`
}

// Result is what a hunt found.
type Result struct {
	// Hits are the hits in time order when they fitted in memory; nil when
	// some were spilled to disk. EachHit reads them in either case.
	Hits     []Hit
	HitCount int
	Levels   map[string]int // hits per level
	Errors   []FileError
	Files    int   // log files read
	Skipped  int   // files that are not logs mamori reads
	Events   int64 // events evaluated (inside From/To)
	Bytes    int64
	Elapsed  time.Duration

	runs *hitRuns
}

// EachHit calls fn for every hit in time order, stopping at fn's first
// error. It can be called more than once.
func (r *Result) EachHit(fn func(Hit) error) error {
	if r.runs == nil {
		for _, h := range r.Hits {
			if err := fn(h); err != nil {
				return err
			}
		}
		return nil
	}
	return r.runs.each(fn)
}

// Close releases the temporary files of spilled hits.
func (r *Result) Close() {
	if r.runs != nil {
		r.runs.close()
	}
}

// Run hunts through paths (files or directories, walked recursively).
// It fails only when a path cannot be walked at all or ctx ends; unreadable
// files and damaged records become FileErrors.
func Run(ctx context.Context, paths []string, opts Options) (*Result, error) {
	if opts.Rules == nil {
		return nil, errors.New("hunt: no rules")
	}
	opts.Rules.Build()
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	minRank := -1
	if opts.MinLevel != "" {
		minRank = sigma.LevelRank(opts.MinLevel)
	}
	start := time.Now()
	h := &hunter{opts: opts, minRank: minRank, corr: opts.Rules.NewCorrelator(), res: &Result{}}
	if opts.Timeline != nil {
		tl, err := newTimeline(opts.TempDir)
		if err != nil {
			return nil, err
		}
		defer tl.close()
		h.tl = tl
	}

	// Walk first, so progress knows the total and files are read biggest
	// first (a lone large file should not start last).
	var files []fileItem
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if path == p {
					return err
				}
				h.fileError(path, -1, err)
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				h.fileError(path, -1, err)
				return nil
			}
			files = append(files, fileItem{path, info.Size()})
			h.bytesQueued.Add(info.Size())
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("hunt: %w", err)
		}
	}
	h.filesQueued = len(files)
	slices.SortStableFunc(files, func(a, b fileItem) int { return cmp.Compare(b.size, a.size) })

	batches := make(chan []*logevent.Event, 4*workers)
	var mwg sync.WaitGroup
	results := make([]*workerOut, workers)
	for i := range workers {
		results[i] = &workerOut{store: hitStore{dir: opts.TempDir}}
		mwg.Add(1)
		go func(out *workerOut) {
			defer mwg.Done()
			h.match(batches, out)
		}(results[i])
	}
	stopProgress := h.progress(start)
	readers := min(workers, max(1, len(files)))
	queue := make(chan fileItem)
	var rwg sync.WaitGroup
	for range readers {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for f := range queue {
				h.read(ctx, f, batches)
			}
		}()
	}
	for _, f := range files {
		if ctx.Err() != nil {
			break
		}
		queue <- f
	}
	close(queue)
	rwg.Wait()
	close(batches)
	mwg.Wait()
	stopProgress()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	res := h.res
	runs := &hitRuns{}
	res.Levels = map[string]int{}
	var err error
	for _, o := range results {
		runs.runs = append(runs.runs, o.store.runs...)
		runs.mem = append(runs.mem, o.store.hits...)
		res.Events += o.events
		res.HitCount += o.count
		for lv, n := range o.levels {
			res.Levels[lv] += n
		}
		err = cmp.Or(err, o.err)
	}
	if err != nil {
		runs.close()
		return nil, err
	}
	var corrHits []Hit
	for _, c := range h.corr.Results() {
		if sigma.LevelRank(c.Rule.Level) < minRank {
			continue
		}
		ch := correlationHit(c)
		corrHits = append(corrHits, ch)
		res.HitCount++
		res.Levels[ch.Level]++
	}
	runs.mem = append(runs.mem, corrHits...)
	slices.SortStableFunc(runs.mem, compareHits)
	if len(runs.runs) == 0 {
		res.Hits = runs.mem
	} else {
		res.runs = runs
	}
	slices.SortStableFunc(res.Errors, func(a, b FileError) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Offset, b.Offset))
	})
	res.Bytes = h.bytes.Load()
	if h.tl != nil {
		if err := h.tl.finish(opts.Timeline, corrHits); err != nil {
			res.Close()
			return nil, err
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

type fileItem struct {
	path string
	size int64
}

type hunter struct {
	opts    Options
	minRank int
	tl      *timeline

	mu   sync.Mutex // guards res.Errors, res.Files, res.Skipped, corr
	res  *Result
	corr *sigma.Correlator

	filesQueued int
	filesDone   atomic.Int64
	bytesQueued atomic.Int64
	bytes       atomic.Int64
	events      atomic.Int64
	hits        atomic.Int64
	attack      sync.Map // *sigma.Rule -> []string
}

type workerOut struct {
	store  hitStore
	count  int
	levels map[string]int
	events int64
	err    error // spilling hits failed; later hits are dropped
}

func (h *hunter) fileError(file string, off int64, err error) {
	h.mu.Lock()
	h.res.Errors = append(h.res.Errors, FileError{Type: "error", File: file, Offset: off, Error: err.Error()})
	h.mu.Unlock()
}

const batchSize = 256

func (h *hunter) read(ctx context.Context, f fileItem, out chan<- []*logevent.Event) {
	batch := make([]*logevent.Event, 0, batchSize)
	format, err := logs.ReadFileUnordered(ctx, f.path, func(e *logevent.Event) error {
		batch = append(batch, e)
		if len(batch) == batchSize {
			out <- batch
			batch = make([]*logevent.Event, 0, batchSize)
		}
		return nil
	}, func(err error) {
		var re *logs.RecordError
		if errors.As(err, &re) {
			h.fileError(re.File, re.Offset, re.Err)
			return
		}
		h.fileError(f.path, -1, err)
	})
	if len(batch) > 0 {
		out <- batch
	}
	h.bytes.Add(f.size)
	h.filesDone.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err != nil && ctx.Err() == nil:
		h.res.Errors = append(h.res.Errors, FileError{Type: "error", File: f.path, Offset: -1, Error: unwrapPath(err, f.path)})
		h.res.Files++
	case format == "":
		h.res.Skipped++
	default:
		h.res.Files++
	}
}

// unwrapPath drops a leading "path: " the error already carries, since the
// record names the file.
func unwrapPath(err error, path string) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return strings.TrimPrefix(err.Error(), path+": ")
}

func (h *hunter) match(in <-chan []*logevent.Event, out *workerOut) {
	m := h.opts.Rules.NewMatcher()
	from, to := h.opts.From, h.opts.To
	for batch := range in {
		n := int64(0)
		for _, e := range batch {
			if !e.Time.IsZero() && (!from.IsZero() && e.Time.Before(from) || !to.IsZero() && e.Time.After(to)) {
				continue
			}
			n++
			hits := m.Match(e)
			var titles []string
			level := -1
			for _, hit := range hits {
				if hit.Rule.Correlated() {
					h.mu.Lock()
					h.corr.Observe(e, hit.Rule)
					h.mu.Unlock()
				}
				if hit.Rule.Suppressed() || sigma.LevelRank(hit.Rule.Level) < h.minRank {
					continue
				}
				if out.err == nil {
					out.err = out.store.add(h.eventHit(e, hit))
				}
				out.count++
				if out.levels == nil {
					out.levels = map[string]int{}
				}
				out.levels[hit.Rule.Level]++
				titles = append(titles, hit.Rule.Title)
				level = max(level, sigma.LevelRank(hit.Rule.Level))
			}
			h.hits.Add(int64(len(titles)))
			if h.tl != nil {
				h.tl.add(e, titles, level)
			}
		}
		out.events += n
		h.events.Add(n)
	}
}

// attackTags keeps the ATT&CK tags of a rule, computed once per rule so
// the many hits of one rule share one slice.
func (h *hunter) attackTags(r *sigma.Rule) []string {
	if v, ok := h.attack.Load(r); ok {
		return v.([]string)
	}
	v, _ := h.attack.LoadOrStore(r, attackTags(r.Tags))
	return v.([]string)
}

func attackTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if strings.HasPrefix(strings.ToLower(t), "attack.") {
			out = append(out, t)
		}
	}
	return out
}

func (h *hunter) eventHit(e *logevent.Event, hit sigma.Hit) Hit {
	r := hit.Rule
	return Hit{
		Type: "sigma", Time: e.Time, Computer: e.Host, Channel: e.Channel, Provider: e.Provider,
		EventID: e.EventID, RuleID: r.ID, Rule: r.Title, Level: r.Level, Attack: h.attackTags(r),
		Matched: slices.Clone(hit.Matched), Source: e.Source, Record: e.RecordID, RuleFile: r.File,
	}
}

func correlationHit(c sigma.CorrelationHit) Hit {
	r := c.Rule
	h := Hit{
		Type: "sigma", Time: c.Time, RuleID: r.ID, Rule: r.Title, Level: r.Level, Attack: attackTags(r.Tags),
		Matched: c.Group, RuleFile: r.File,
		Correlate: &Correlation{Kind: r.Correlation.Type, Start: c.Start, Count: c.Count, Events: c.Events},
	}
	if n := len(c.Events); n > 0 {
		h.Source, h.Record = c.Events[n-1].Source, c.Events[n-1].RecordID
	}
	return h
}

func compareHits(a, b Hit) int {
	return cmp.Or(a.Time.Compare(b.Time), strings.Compare(a.Source, b.Source),
		cmp.Compare(a.Record, b.Record), strings.Compare(a.RuleFile, b.RuleFile), strings.Compare(a.Rule, b.Rule))
}

func (h *hunter) progress(start time.Time) (stop func()) {
	if h.opts.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				h.opts.Progress(Progress{
					Files: int(h.filesDone.Load()), FilesQueued: h.filesQueued, WalkDone: true,
					Bytes: h.bytes.Load(), BytesQueued: h.bytesQueued.Load(),
					Events: h.events.Load(), Hits: h.hits.Load(), Seconds: time.Since(start).Seconds(),
				})
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
