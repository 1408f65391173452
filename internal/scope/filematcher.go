package scope

import (
	"cmp"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"

	"github.com/mamori-dev/mamori/internal/pii"
	"github.com/mamori-dev/mamori/internal/scan"
)

// DefaultPartBytes bounds one encoded FileResult: an eighth of the wire's
// 4 MiB message limit, so that a findings batch holds several and the
// server stores each in one short write.
const DefaultPartBytes = 512 << 10

// FileMatcher runs the personal-data matcher of `mamori scan --pii` over a
// file and emits what the file holds as FileResult records, one per file
// with personal data, split into parts of at most PartBytes encoded bytes.
// Skipped and error records of the scan pass through unchanged, so that
// files that were not searched are still reported.
//
// Parts are emitted as they fill, so that an agent holds about two parts
// of a file's subjects however large the file: every part but the last has
// Parts 0 ("more follow") and counts its own values; the last has the part
// count, the whole file's counts and the flags (see FileResult). A scan
// cancelled mid-file leaves the parts already sent without a last one: the
// server shows such a file incomplete.
//
// Subjects are keyed by scoping member and record (see memberNamer), so a
// spreadsheet row is one subject however its cells are stored. Values are
// raw, never masked, and normalised: identifiers (e-mail, phone, My
// Number, card, passport, licence, postal code, birth date) in their
// canonical form, names and addresses with full and half width folded and
// spaces collapsed only, because they are shown in the register and on
// notices; a value its normaliser refuses is kept folded the same way.
// Repeats of one value in a subject are sent once while the subject is
// held; a record whose occurrences come back after its part was sent
// continues in a later part under the same member and record.
type FileMatcher struct {
	keys *ScanMatcher
	// PartBytes bounds one encoded part; set it before the first Match.
	PartBytes int
	country   string
}

// NewFileMatcher wraps inner, the personal-data matcher, which must put raw
// values in its occurrences (pii.Options.Reveal). key makes the subject
// keys; country reads domestic phone numbers ("" means JP).
func NewFileMatcher(inner scan.Matcher, key []byte, country string) *FileMatcher {
	sm := NewScanMatcher(inner, key, true, country)
	return &FileMatcher{keys: sm, PartBytes: DefaultPartBytes, country: sm.country}
}

func (m *FileMatcher) Digests() scan.Digests { return m.keys.Digests() }

// Kind, Finding and Text make a FileResult a scan record. Its text is
// empty: values never appear in text output.
func (r *FileResult) Kind() string  { return FileResultType }
func (r *FileResult) Finding() bool { return true }
func (r *FileResult) Text() string  { return "" }

// Match scans f and emits its FileResult parts: the full ones while the
// scan runs, the rest after the file's other records.
func (m *FileMatcher) Match(ctx context.Context, f *scan.File, emit func(scan.Record)) error {
	head := FileResult{Type: FileResultType, Path: scan.DisplayPath(f.Path), PathRaw: scan.RawPath(f.Path),
		SHA256: f.SHA256, Size: f.Size}
	if fi, serr := os.Stat(f.Path); serr == nil {
		head.ModTime = fi.ModTime().UTC()
	}
	c := fileCollector{country: m.country, index: map[subjectAt]int{}, cats: map[string]int{},
		head: head, limit: m.PartBytes, emit: emit}
	c.next = 2 * c.limit
	err := m.keys.Match(ctx, f, func(r scan.Record) {
		switch r := r.(type) {
		case *Occurrence:
			c.add(r)
		case *Flag:
			c.flags = append(c.flags, FileFlag{Member: c.members.name("", r.Member, -1), Flag: r.Flag, Terms: r.Terms})
		case *pii.Summary:
			// Its totals are the FileResult's.
		default:
			emit(r)
		}
	})
	if len(c.cats) == 0 || ctx.Err() != nil {
		return err
	}
	c.finish()
	return err
}

type subjectAt struct {
	member string
	record int
}

// fileCollector gathers one file's subjects and sends them on in parts.
type fileCollector struct {
	country string
	members memberNamer
	// index finds the held subjects, by member and record.
	index    map[subjectAt]int
	subjects []FileSubject
	// held estimates the encoded bytes of subjects; at next they are sent
	// but for the last part's worth.
	held, next int
	cats       map[string]int
	masked     int
	flags      []FileFlag
	head       FileResult
	limit      int
	sent       int // parts emitted
	emit       func(scan.Record)
}

// Encoded bytes of a subject and a value beyond their strings: field
// names, quotes, commas, a record number.
const subjectOverhead, valueOverhead = 60, 40

func (c *fileCollector) add(o *Occurrence) {
	c.cats[o.Category]++
	if o.Value == "" {
		c.masked++
		return
	}
	at := subjectAt{c.members.name("", o.Member, o.Record), o.Record}
	// Occurrences of one record arrive together: the last subject is
	// nearly always the one.
	i := len(c.subjects) - 1
	if i < 0 || c.subjects[i].Record != at.record || c.subjects[i].Member != at.member {
		var ok bool
		if i, ok = c.index[at]; !ok {
			i = len(c.subjects)
			c.index[at] = i
			c.subjects = append(c.subjects, FileSubject{Member: at.member, Record: at.record, Key: o.Subject})
			c.held += subjectOverhead + len(at.member) + len(o.Subject)
		}
	}
	s := &c.subjects[i]
	v := normalValue(o.Category, o.Value, o.Country, c.country)
	if !slices.Contains(s.Values, v) {
		s.Values = append(s.Values, v)
		c.held += valueOverhead + len(v.Category) + len(v.Value) + len(v.Country)
	}
	if c.held >= c.next {
		c.flush()
	}
}

// flush sends the held subjects but for the last part's worth, which may
// still grow.
func (c *fileCollector) flush() {
	h := c.head
	h.Categories = c.cats
	parts := packParts(h, c.subjects, c.limit)
	for _, ss := range parts[:len(parts)-1] {
		c.emitPart(ss, false)
	}
	keep := parts[len(parts)-1]
	if len(parts) == 1 {
		// The estimate ran ahead of the encoding: wait for another part.
		c.next = c.held + c.limit
		return
	}
	c.subjects = append(c.subjects[:0:0], keep...)
	clear(c.index)
	c.held = 0
	for i, s := range c.subjects {
		c.index[subjectAt{s.Member, s.Record}] = i
		c.held += subjectOverhead + len(s.Member) + len(s.Key)
		for _, v := range s.Values {
			c.held += valueOverhead + len(v.Category) + len(v.Value) + len(v.Country)
		}
	}
	c.next = 2 * c.limit
}

// finish sends what is held, the last part with the file's totals and
// flags.
func (c *fileCollector) finish() {
	h := c.head
	h.Categories, h.Masked, h.Flags = c.cats, c.masked, c.flags
	parts := packParts(h, c.subjects, c.limit)
	for i, ss := range parts {
		c.emitPart(ss, i == len(parts)-1)
	}
	c.subjects, c.index = nil, nil
}

func (c *fileCollector) emitPart(ss []FileSubject, last bool) {
	p := c.head
	p.Part, p.Subjects = c.sent, ss
	if p.Subjects == nil {
		p.Subjects = []FileSubject{}
	}
	c.sent++
	if last {
		p.Parts, p.Categories, p.Masked, p.Flags = c.sent, c.cats, c.masked, c.flags
	} else {
		p.Categories = map[string]int{}
		for _, s := range ss {
			for _, v := range s.Values {
				p.Categories[v.Category]++
			}
		}
	}
	c.emit(&p)
}

// normalValue is the value a FileResult carries for one occurrence.
func normalValue(cat, raw, country, defCountry string) FileValue {
	v := FileValue{Category: cat, Country: country}
	switch cat {
	case "email":
		v.Value = NormalizeEmail(raw)
	case "phone":
		v.Value = NormalizePhone(raw, cmp.Or(country, defCountry))
		if v.Value != "" && v.Country == "" {
			v.Country = PhoneCountry(v.Value)
		}
	case "my_number":
		v.Value = NormalizeMyNumber(raw)
	case "credit_card":
		v.Value = NormalizeCard(raw)
	case "passport", "drivers_license":
		v.Value = NormalizeID(raw)
	case "postal_code":
		v.Value = NormalizePostal(raw)
	case "date_of_birth":
		v.Value = NormalizeDate(raw)
	}
	if v.Value == "" {
		v.Value = strings.Join(strings.Fields(nfkc(raw)), " ")
	}
	return v
}

// packParts packs subjects into parts whose encoding, with head's fields
// and wide part numbers, stays within limit bytes; there is always at
// least one part. A subject too large for one part continues in the next
// with the same member, record and key, as does one with more values than
// a part may hold of one subject.
func packParts(head FileResult, subjects []FileSubject, limit int) [][]FileSubject {
	h := head
	h.Part, h.Parts, h.Subjects = 1<<30, 1<<30, []FileSubject{}
	base := encodedLen(h)

	var parts [][]FileSubject
	var cur []FileSubject
	used := base
	room := func() int { return limit - used }
	next := func() {
		parts = append(parts, cur)
		cur, used = nil, base
	}
	for _, s := range subjects {
		n := encodedLen(s) + 1 // and a comma
		if len(s.Values) <= maxSubjectValues {
			if n <= room() {
				cur = append(cur, s)
				used += n
				continue
			}
			if n <= limit-base {
				next()
				cur = append(cur, s)
				used += n
				continue
			}
		}
		// One subject larger than a part: its values go in pieces.
		empty := s
		empty.Values = []FileValue{}
		over := encodedLen(empty) + 1
		piece := empty
		piece.Values = nil
		pieceLen := over
		for _, v := range s.Values {
			vn := encodedLen(v) + 1
			if pieceLen+vn > room() || len(piece.Values) == maxSubjectValues {
				if len(piece.Values) > 0 {
					cur = append(cur, piece)
					used += pieceLen
					piece.Values, pieceLen = nil, over
				}
				if pieceLen+vn > room() {
					next()
				}
			}
			piece.Values = append(piece.Values, v)
			pieceLen += vn
		}
		cur = append(cur, piece)
		used += pieceLen
	}
	if len(cur) > 0 || len(parts) == 0 {
		parts = append(parts, cur)
	}
	return parts
}

// encodedLen is the JSON length of v, made of strings, numbers, maps and
// slices of them only, which always encode.
func encodedLen(v any) int {
	b, _ := json.Marshal(v)
	return len(b)
}
