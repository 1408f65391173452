package pii

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

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
	// Categories, when set, keeps only occurrences of the categories it
	// holds; see ParseCategories.
	Categories map[string]bool
	// MinConfidence drops occurrences less sure than it (0–1).
	MinConfidence float64
}

// ParseCategories reads a --pii-categories list: "email,phone" keeps only
// those, "-date_of_birth,-address" keeps all but those. Unknown names are
// an error naming them.
func ParseCategories(list string) (map[string]bool, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	known := map[string]bool{}
	for _, c := range Categories {
		known[c] = true
	}
	keep := map[string]bool{}
	var include, exclude bool
	for _, part := range strings.Split(list, ",") {
		name := strings.TrimSpace(part)
		neg := strings.HasPrefix(name, "-")
		name = strings.TrimPrefix(name, "-")
		if !known[name] {
			return nil, fmt.Errorf("unknown personal-data category %q (known: %s)", name, strings.Join(Categories, ", "))
		}
		if neg {
			exclude = true
		} else {
			include = true
		}
		keep[name] = !neg
	}
	if include && exclude {
		return nil, fmt.Errorf("categories %q mix included and excluded (-name) entries", list)
	}
	if exclude {
		for _, c := range Categories {
			if _, ok := keep[c]; !ok {
				keep[c] = true
			}
		}
	}
	for c, k := range keep {
		if !k {
			delete(keep, c)
		}
	}
	return keep, nil
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
	// Country is a phone number's ISO 3166 country, Brand a card's.
	Country string `json:"country,omitempty"`
	Brand   string `json:"brand,omitempty"`
	// Confidence (0–1) and Reason: the validator, key, label or context
	// word that supported the finding.
	Confidence float64 `json:"confidence"`
	Reason     string  `json:"reason"`
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
		func(err error) {
			var sk *extract.Skipped
			if errors.As(err, &sk) {
				emit(&Skipped{Type: "skipped", Path: path, PathRaw: raw, Member: sk.Member, FileType: sk.Type, Reason: sk.Reason})
				return
			}
			emit(scan.NewError(errorPath(f.Path, err), err))
		})
	if sum != nil {
		sum.Path, sum.PathRaw = path, raw
		emit(sum)
	}
	return ctx.Err()
}

// Skipped says a file (or archive member) was not searched for personal
// data, naming what it is and why.
type Skipped struct {
	Type     string `json:"type"`
	Path     string `json:"path"`
	PathRaw  string `json:"path_raw,omitempty"`
	Member   string `json:"member,omitempty"`
	FileType string `json:"file_type"`
	Reason   string `json:"reason"`
}

func (s *Skipped) Kind() string  { return "skipped" }
func (s *Skipped) Finding() bool { return false }

// Text is empty: text output lists findings; ndjson and json list skips.
func (s *Skipped) Text() string { return "" }

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
	// node is the current record's subject, -1 before its first
	// identifying value; deferred holds its weakly keyed fields.
	node     int
	deferred []int
	// role is the name part the current field's key names (family or
	// given); held is a name part waiting for the other part of its
	// record.
	role int
	held heldName
}

// A name written in two columns, 姓 and 名 (last_name, first_name), is one
// name: a record holding both parts is one person, not two.
const (
	wholeName = iota
	familyName
	givenName
)

// nameParts maps the keys of the two name columns to the part they hold.
var nameParts = map[string]int{
	"姓": familyName, "苗字": familyName, "名字": familyName, "last_name": familyName, "lastname": familyName,
	"family_name": familyName, "familyname": familyName, "surname": familyName,
	"名": givenName, "first_name": givenName, "firstname": givenName, "given_name": givenName, "givenname": givenName,
}

func namePart(key string) int {
	return nameParts[strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(key)))]
}

type heldName struct {
	o    *Occurrence
	raw  string
	role int
}

// name emits a person_name occurrence o of raw value raw, joining the two
// parts of a name written in two columns into one occurrence (at the
// first part, family name first).
func (fs *fileScan) name(o *Occurrence, raw string, opts Options, occ func(*Occurrence)) {
	if fs.role == wholeName {
		fs.flushName(occ)
		occ(o)
		return
	}
	h := &fs.held
	if h.o == nil || h.role == fs.role {
		fs.flushName(occ)
		c := *o
		*h = heldName{o: &c, raw: raw, role: fs.role}
		return
	}
	family, given := h.raw, raw
	if h.role == givenName {
		family, given = raw, h.raw
	}
	whole := strings.TrimSpace(family) + " " + strings.TrimSpace(given)
	c := h.o
	c.Reason += "+" + o.Reason
	if opts.Reveal {
		c.Value = whole
	} else {
		c.Masked = Mask(PersonName, whole)
	}
	*h = heldName{}
	fs.count(valueKey{PersonName, Normalize(PersonName, whole)})
	occ(c)
}

// flushName emits a held name part on its own.
func (fs *fileScan) flushName(occ func(*Occurrence)) {
	if fs.held.o != nil {
		o := fs.held.o
		fs.count(valueKey{PersonName, Normalize(PersonName, fs.held.raw)})
		fs.held = heldName{}
		occ(o)
	}
}

// count counts a distinct value of the file.
func (fs *fileScan) count(dk valueKey) {
	if _, ok := fs.distinct[dk]; !ok {
		fs.distinct[dk] = struct{}{}
		fs.counts[dk.cat]++
	}
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
	fs.held = heldName{}
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
		fs.node = -1
		fs.deferred = fs.deferred[:0]
		// Occurrences held back to join a name's parts go out with their
		// record.
		defer fs.flushName(occ)
		strong := 0
		parts := 0
		for i := range rec.Fields {
			if h, weak := fs.det.fieldHint(&rec.Fields[i]); h != "" && h != nonPersonal && !weak {
				strong++
			}
			parts |= 1 << namePart(fs.det.fieldKey(&rec.Fields[i]))
		}
		// Name parts join only in a record holding both.
		split := parts&(1<<familyName) != 0 && parts&(1<<givenName) != 0
		role := func(key string) int {
			if !split {
				return wholeName
			}
			return namePart(key)
		}
		prev := ""
		for i := range rec.Fields {
			f := &rec.Fields[i]
			key := fs.det.fieldKey(f)
			if h, weak := fs.det.fieldHint(f); weak && strong == 0 && (h == PersonName || h == Address) {
				// "name" and "address" alone say little: API documents,
				// configuration and source code are full of them.
				fs.deferred = append(fs.deferred, i)
				continue
			}
			p := ""
			if key == "" {
				p = prev
			}
			fs.role = role(key)
			fs.field(name, rec, f, key, p, opts, occ)
			if key == "" {
				prev = f.Text
			} else {
				prev = ""
			}
		}
		// A weak key counts once the record holds something that
		// identifies a person: an e-mail, a phone, a card number.
		for _, i := range fs.deferred {
			f := &rec.Fields[i]
			key := ""
			if fs.node >= 0 {
				key = fs.det.fieldKey(f)
			}
			fs.role = role(key)
			fs.field(name, rec, f, key, "", opts, occ)
		}
		return nil
	}
	if isSourceCode(name) && plainUTF8(data) {
		// Program source holds no records: one field of the raw bytes,
		// searched for self-validating values only, without the format
		// readers' line splitting and width folding.
		rec := extract.Record{Fields: []extract.Field{extract.NewField(unsafeString(data), "", 1, 0)}}
		fs.node, fs.role = -1, wholeName
		fs.field(name, &rec, &rec.Fields[0], "", "", opts, occ)
	} else if err := extract.Read(ctx, name, data, opts.Limits, visit, onErr); err != nil && ctx.Err() == nil {
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

// field detects the values of one field and adds them to the record's
// subject (fs.node).
func (fs *fileScan) field(name string, rec *extract.Record, f *extract.Field, key, prev string, opts Options, occ func(*Occurrence)) {
	if f.Member != "" {
		fs.det.code = isSourceCode(f.Member)
	} else {
		fs.det.code = isSourceCode(name)
	}
	fs.hits = fs.det.detect(f.Text, key, prev, fs.hits[:0])
	if len(fs.hits) == 0 {
		return
	}
	if len(fs.hits) > 1 {
		slices.SortFunc(fs.hits, func(a, b Hit) int { return a.Start - b.Start })
	}
	line, lpos := f.Line, 0
	for i := range fs.hits {
		h := &fs.hits[i]
		if h.Confidence == 0 {
			h.Confidence, h.Reason = defaultReason(h.Category, key, fs.det.keyHint(key))
		}
		if opts.Categories != nil && !opts.Categories[h.Category] || h.Confidence < opts.MinConfidence {
			continue
		}
		if f.Line > 0 {
			line += strings.Count(f.Text[lpos:h.Start], "\n")
			lpos = h.Start
		}
		o := Occurrence{Type: "pii", Path: name, Category: h.Category, Offset: f.Offset(h.Start),
			Line: line, Record: rec.Index, Member: f.Member, Country: h.Country, Brand: h.Brand,
			Confidence: h.Confidence, Reason: h.Reason}
		if opts.Reveal {
			o.Value = h.Value
		} else {
			o.Masked = Mask(h.Category, h.Value)
		}
		if h.Category == PersonName {
			fs.name(&o, h.Value, opts, occ)
		} else {
			occ(&o)
		}
		norm := Normalize(h.Category, h.Value)
		dk := valueKey{h.Category, norm}
		if h.Category != PersonName || fs.role == wholeName {
			// A name's parts count once joined (fs.name).
			fs.count(dk)
		}
		if !identifying(h.Category) {
			continue
		}
		if fs.node < 0 {
			fs.node = len(fs.parent)
			fs.parent = append(fs.parent, fs.node)
		}
		if linking(h.Category) && !sharedNumber(h.Category, norm) {
			if other, ok := fs.linkedBy[dk]; ok {
				a, b := fs.find(fs.node), fs.find(other)
				if a != b {
					fs.parent[a] = b
				}
			} else {
				fs.linkedBy[dk] = fs.node
			}
		}
	}
}

// plainUTF8 reports UTF-8 without a byte order mark, NULs or anything an
// archive or compound file starts with: text the readers would pass
// through unchanged.
func plainUTF8(data []byte) bool {
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		return false
	}
	if len(data) >= 2 && (data[0] == 'P' && data[1] == 'K' || data[0] == 0x1F && data[1] == 0x8B) {
		return false
	}
	return bytes.IndexByte(data, 0) < 0 && utf8.Valid(data)
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
	if o.Country != "" {
		b = append(b, `,"country":`...)
		b = scan.AppendJSONString(b, o.Country)
	}
	if o.Brand != "" {
		b = append(b, `,"brand":`...)
		b = scan.AppendJSONString(b, o.Brand)
	}
	b = append(b, `,"confidence":`...)
	b = strconv.AppendFloat(b, o.Confidence, 'f', -1, 64)
	b = append(b, `,"reason":`...)
	b = scan.AppendJSONString(b, o.Reason)
	return append(b, '}')
}

// defaultReason says why a hit its detector did not explain was taken:
// the field's key when it names the category, else the category's own
// validator or pattern.
func defaultReason(cat, key string, h hint) (float64, string) {
	if key != "" && h == cat {
		return 0.9, "key:" + key
	}
	switch cat {
	case Email:
		return 0.95, "email-syntax"
	case MyNumber:
		return 0.95, "check-digit+keyword"
	case PersonName:
		return 0.75, "name-pattern"
	case Address:
		return 0.8, "address-pattern"
	}
	return 0.85, cat + "-keyword"
}
