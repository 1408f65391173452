package pii

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/mamori-dev/mamori/internal/pii/extract"
	"github.com/mamori-dev/mamori/internal/scan"
)

// Options control personal-data scanning.
type Options struct {
	// Reveal puts raw values in occurrences; otherwise only masked forms.
	Reveal bool
	// Limits bound archive recursion; the zero value means
	// extract.DefaultLimits.
	Limits extract.Limits
}

// Occurrence is one personal value in a file.
type Occurrence struct {
	Type     string `json:"type"`
	Path     string `json:"path"`
	PathRaw  string `json:"path_raw,omitempty"`
	Category string `json:"category"`
	// Offset is the value's first byte in the original file (or archive
	// member), before any decoding.
	Offset int64  `json:"offset"`
	Line   int    `json:"line"`
	Record int    `json:"record"`
	Member string `json:"member,omitempty"`
	Value  string `json:"value,omitempty"`
	Masked string `json:"masked,omitempty"`
}

func (o *Occurrence) Kind() string  { return "pii" }
func (o *Occurrence) Finding() bool { return true }

// Text is empty: occurrences never appear in text output, which shows
// per-file summaries only.
func (o *Occurrence) Text() string { return "" }

// Summary closes one file's occurrences.
type Summary struct {
	Type    string `json:"type"`
	Path    string `json:"path"`
	PathRaw string `json:"path_raw,omitempty"`
	// Categories counts distinct values per category: the number of
	// different e-mail addresses, not how often they repeat.
	Categories map[string]int `json:"categories"`
	// Subjects counts data subjects: records holding an identifying value,
	// merged when they share an e-mail, phone, card or ID number.
	Subjects int `json:"subjects"`
}

func (s *Summary) Kind() string { return "pii_summary" }

// Finding is false: the occurrences are the findings, the summary only
// totals them.
func (s *Summary) Finding() bool { return false }

func (s *Summary) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pii  %s  subjects=%d", s.Path, s.Subjects)
	for _, c := range Categories {
		if n := s.Categories[c]; n > 0 {
			fmt.Fprintf(&b, " %s=%d", c, n)
		}
	}
	return b.String()
}

// Matcher runs personal-data detection inside a scan.
type Matcher struct {
	opts Options
}

// scans pools per-file state (detector buffers, key cache, maps) across
// files and workers.
var scans = sync.Pool{New: func() any { return new(fileScan) }}

var _ scan.Matcher = (*Matcher)(nil)

// NewMatcher returns a Matcher; it is safe for concurrent use.
func NewMatcher(opts Options) *Matcher {
	if opts.Limits == (extract.Limits{}) {
		opts.Limits = extract.DefaultLimits
	}
	return &Matcher{opts: opts}
}

func (m *Matcher) Digests() scan.Digests { return 0 }

// Match scans f's content. Files over the size limit (nil Data) are left
// alone; errors inside the file become error records and never stop it.
func (m *Matcher) Match(ctx context.Context, f *scan.File, emit func(scan.Record)) error {
	if f.Data == nil {
		return nil
	}
	fs := scans.Get().(*fileScan)
	defer scans.Put(fs)
	path, raw := scan.DisplayPath(f.Path), scan.RawPath(f.Path)
	sum := fs.run(ctx, f.Path, f.Data, m.opts,
		func(o *Occurrence) { o.Path, o.PathRaw = path, raw; emit(o) },
		func(err error) { emit(scan.NewError(errorPath(f.Path, err), err)) })
	if sum != nil {
		sum.Path, sum.PathRaw = path, raw
		emit(sum)
	}
	return ctx.Err()
}

// errorPath names the archive member an error came from when it says so.
func errorPath(path string, err error) string {
	if m := extract.ErrorMember(err); m != "" {
		return path + "!" + m
	}
	return path
}

// ScanBytes scans one file's bytes and returns everything at once; tests
// and the benchmark use it.
func ScanBytes(ctx context.Context, name string, data []byte, opts Options) (occ []Occurrence, sum Summary, errs []error) {
	if opts.Limits == (extract.Limits{}) {
		opts.Limits = extract.DefaultLimits
	}
	fs := scans.Get().(*fileScan)
	defer scans.Put(fs)
	s := fs.run(ctx, name, data, opts,
		func(o *Occurrence) { occ = append(occ, *o) },
		func(err error) { errs = append(errs, err) })
	if s != nil {
		sum = *s
	} else {
		sum = Summary{Type: "pii_summary", Path: name, Categories: map[string]int{}}
	}
	return occ, sum, errs
}

// fileScan holds one file's state; Matcher pools them.
type fileScan struct {
	det  detector
	hits []Hit
	// Subjects: records are union-find nodes, linked by shared identifiers.
	parent   []int
	hasID    []bool
	linkedBy map[valueKey]int
	distinct map[valueKey]struct{}
	counts   map[string]int
}

// valueKey is a category and a normalised value.
type valueKey struct{ cat, norm string }

// identifying categories make a record a data subject on their own.
func identifying(cat string) bool { return cat != PostalCode && cat != DateOfBirth }

// linking categories are unique to a person, so two records sharing one
// are the same person. Names are not: two 山田太郎 may be two people.
func linking(cat string) bool {
	switch cat {
	case Email, Phone, CreditCard, MyNumber, Passport, DriversLicense:
		return true
	}
	return false
}

func (fs *fileScan) reset() {
	fs.parent = fs.parent[:0]
	fs.hasID = fs.hasID[:0]
	if fs.linkedBy == nil {
		fs.linkedBy = map[valueKey]int{}
		fs.distinct = map[valueKey]struct{}{}
	}
	clear(fs.linkedBy)
	clear(fs.distinct)
	fs.counts = map[string]int{}
}

func (fs *fileScan) find(x int) int {
	for fs.parent[x] != x {
		fs.parent[x] = fs.parent[fs.parent[x]]
		x = fs.parent[x]
	}
	return x
}

func (fs *fileScan) run(ctx context.Context, name string, data []byte, opts Options, occ func(*Occurrence), onErr func(error)) *Summary {
	fs.reset()
	visit := func(rec *extract.Record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		node := -1
		prev := ""
		for i := range rec.Fields {
			f := &rec.Fields[i]
			p := ""
			if f.Key == "" {
				p = prev
			}
			fs.hits = fs.det.detect(f.Text, f.Key, p, fs.hits[:0])
			if f.Key == "" {
				prev = f.Text
			} else {
				prev = ""
			}
			if len(fs.hits) == 0 {
				continue
			}
			if len(fs.hits) > 1 {
				slices.SortFunc(fs.hits, func(a, b Hit) int { return a.Start - b.Start })
			}
			line, lpos := f.Line, 0
			for _, h := range fs.hits {
				if f.Line > 0 {
					line += strings.Count(f.Text[lpos:h.Start], "\n")
					lpos = h.Start
				}
				o := Occurrence{Type: "pii", Path: name, Category: h.Category, Offset: f.Offset(h.Start),
					Line: line, Record: rec.Index, Member: f.Member}
				if opts.Reveal {
					o.Value = h.Value
				} else {
					o.Masked = Mask(h.Category, h.Value)
				}
				occ(&o)
				norm := Normalize(h.Category, h.Value)
				dk := valueKey{h.Category, norm}
				if _, ok := fs.distinct[dk]; !ok {
					fs.distinct[dk] = struct{}{}
					fs.counts[h.Category]++
				}
				if !identifying(h.Category) {
					continue
				}
				if node < 0 {
					node = len(fs.parent)
					fs.parent = append(fs.parent, node)
				}
				if linking(h.Category) && !sharedNumber(h.Category, norm) {
					if other, ok := fs.linkedBy[dk]; ok {
						a, b := fs.find(node), fs.find(other)
						if a != b {
							fs.parent[a] = b
						}
					} else {
						fs.linkedBy[dk] = node
					}
				}
			}
		}
		return nil
	}
	if err := extract.Read(ctx, name, data, opts.Limits, visit, onErr); err != nil && ctx.Err() == nil {
		onErr(err)
	}
	if len(fs.counts) == 0 {
		return nil
	}
	subjects := 0
	for i := range fs.parent {
		if fs.find(i) == i {
			subjects++
		}
	}
	return &Summary{Type: "pii_summary", Path: name, Categories: fs.counts, Subjects: subjects}
}

// sharedNumber reports numbers that many people share: free-dial and
// navigation-dial lines printed on every letter of a company must not merge
// its customers into one subject.
func sharedNumber(cat, norm string) bool {
	return cat == Phone && (strings.HasPrefix(norm, "0120") || strings.HasPrefix(norm, "0800") ||
		strings.HasPrefix(norm, "0570") || strings.HasPrefix(norm, "0990"))
}

var _ scan.JSONAppender = (*Occurrence)(nil)

// AppendJSON writes the record as encoding/json would, without reflection:
// a customer database yields millions of occurrences.
func (o *Occurrence) AppendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = scan.AppendJSONString(b, o.Type)
	b = append(b, `,"path":`...)
	b = scan.AppendJSONString(b, o.Path)
	if o.PathRaw != "" {
		b = append(b, `,"path_raw":`...)
		b = scan.AppendJSONString(b, o.PathRaw)
	}
	b = append(b, `,"category":`...)
	b = scan.AppendJSONString(b, o.Category)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, o.Offset, 10)
	b = append(b, `,"line":`...)
	b = strconv.AppendInt(b, int64(o.Line), 10)
	b = append(b, `,"record":`...)
	b = strconv.AppendInt(b, int64(o.Record), 10)
	if o.Member != "" {
		b = append(b, `,"member":`...)
		b = scan.AppendJSONString(b, o.Member)
	}
	if o.Value != "" {
		b = append(b, `,"value":`...)
		b = scan.AppendJSONString(b, o.Value)
	}
	if o.Masked != "" {
		b = append(b, `,"masked":`...)
		b = scan.AppendJSONString(b, o.Masked)
	}
	return append(b, '}')
}
