package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
)

// Limits bound archive recursion against zip bombs. Zero fields take the
// values of DefaultLimits.
type Limits struct {
	// MaxDepth is how many archives deep members are read (1: members of
	// the file itself but not of archives inside it).
	MaxDepth int
	// MaxRatio is the largest uncompressed/compressed size ratio of one
	// member.
	MaxRatio float64
	// MaxTotal bounds the uncompressed bytes read from all archives of one
	// file together.
	MaxTotal int64
	// MaxMembers bounds the members read from all archives of one file.
	MaxMembers int
}

// DefaultLimits are the limits mamori scan uses.
var DefaultLimits = Limits{MaxDepth: 3, MaxRatio: 100, MaxTotal: 1 << 30, MaxMembers: 10000}

// Error is a problem in one part of a file; reading goes on with the rest.
type Error struct {
	// Member is the archive member ("dir/b.csv", "in.zip!c.json"), "" for
	// the file itself.
	Member string
	// Line is the 1-based line of the problem, 0 when unknown.
	Line int
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Member != "" {
		b.WriteString(e.Member)
		b.WriteString(": ")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Skipped says that a file or member was not read for personal data, and
// why: Read reports it to onErr like an error, but it is no fault.
type Skipped struct {
	Member string
	// Type names what the file is: "image/png", "executable", "binary".
	Type   string
	Reason string
}

func (s *Skipped) Error() string {
	if s.Member != "" {
		return s.Member + ": skipped " + s.Type + ": " + s.Reason
	}
	return "skipped " + s.Type + ": " + s.Reason
}

func (r *reader) skip(member, typ, reason string) {
	if r.onErr != nil {
		r.onErr(&Skipped{Member: member, Type: typ, Reason: reason})
	}
}

// binaryType names binary content by its magic number, "" when unknown.
func binaryType(data []byte) (string, string) {
	has := func(p string) bool { return bytes.HasPrefix(data, []byte(p)) }
	switch {
	case has("\x89PNG"), has("\xFF\xD8\xFF"), has("GIF8"), has("II*\x00"), has("MM\x00*"), has("BM"),
		len(data) > 12 && string(data[8:12]) == "WEBP":
		return "image", "images have no text layer; text in them needs OCR, which mamori does not do"
	case has("\x7FELF"), has("MZ"), has("\xCF\xFA\xED\xFE"), has("\xFE\xED\xFA"):
		return "executable", "program binaries hold no records of people"
	case has("SQLite format 3\x00"):
		return "sqlite", "database files are not read by the text scanner"
	case has("7z\xBC\xAF\x27\x1C"), has("Rar!"), has("\xFD7zXZ"), has("BZh"):
		return "archive", "7z, RAR, xz and bzip2 archives are not unpacked"
	case has("ID3"), has("OggS"), has("fLaC"), len(data) > 8 && string(data[4:8]) == "ftyp", has("RIFF"):
		return "media", "audio and video hold no text"
	}
	return "", ""
}

// ErrorMember returns the archive member an error from Read names, or "".
func ErrorMember(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Member
	}
	return ""
}

// Read decodes data, the whole content of the file name, and calls visit
// for each record in order. The format comes from name's extension and from
// the content; files that are none of the known formats are read as text
// when they look like text and skipped otherwise.
//
// visit must not keep rec or rec.Fields after it returns: the reader reuses
// them (the fields' strings and offsets may be kept). Records of archive
// members carry Field.Member and are numbered from 0 within each member.
//
// A broken part (a bad zip member, invalid XML or JSON, undecodable bytes)
// is reported to onErr as an *Error and reading goes on with the rest. Read
// returns an error only when ctx is done, when visit fails, or when nothing
// at all could be read.
func Read(ctx context.Context, name string, data []byte, lim Limits, visit func(*Record) error, onErr func(error)) error {
	// Unset limits take their defaults.
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = DefaultLimits.MaxDepth
	}
	if lim.MaxRatio <= 0 {
		lim.MaxRatio = DefaultLimits.MaxRatio
	}
	if lim.MaxTotal <= 0 {
		lim.MaxTotal = DefaultLimits.MaxTotal
	}
	if lim.MaxMembers <= 0 {
		lim.MaxMembers = DefaultLimits.MaxMembers
	}
	r := &reader{ctx: ctx, visit: visit, onErr: onErr, lim: lim}
	err := r.read(name, "", data, 0)
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// reader is one Read call's state, shared by the readers of its members.
type reader struct {
	ctx     context.Context
	visit   func(*Record) error
	onErr   func(error)
	lim     Limits
	total   int64 // uncompressed archive bytes so far
	members int
}

// errStop wraps an error that must end the whole Read (context, visit).
type errStop struct{ err error }

func (e errStop) Error() string { return e.err.Error() }
func (e errStop) Unwrap() error { return e.err }

func (r *reader) report(member string, line int, err error) {
	if r.onErr != nil {
		r.onErr(&Error{Member: member, Line: line, Err: err})
	}
}

// emitter collects the fields of one record at a time and numbers records
// within one file or member.
type emitter struct {
	r   *reader
	rec Record
	n   int
	b   builder
}

func (r *reader) emitter(d *doc, member string) *emitter {
	return &emitter{r: r, b: builder{d: d, member: member}}
}

// add appends the folded text d.text[a:c] as a field (nothing when it is
// blank).
func (e *emitter) add(a, c int, key string, line int) {
	a, c = trim(e.b.d.text, a, c)
	if a >= c {
		return
	}
	e.b.addRange(a, c)
	e.rec.Fields = append(e.rec.Fields, e.b.field(key, line))
}

// flush hands the record to visit, if it has fields.
func (e *emitter) flush() error {
	if len(e.rec.Fields) == 0 {
		return nil
	}
	if err := e.r.ctx.Err(); err != nil {
		return errStop{err}
	}
	e.rec.Index = e.n
	e.n++
	err := e.r.visit(&e.rec)
	clear(e.rec.Fields)
	e.rec.Fields = e.rec.Fields[:0]
	if err != nil {
		return errStop{err}
	}
	return nil
}

type format uint8

const (
	fmtUnknown format = iota
	fmtText
	fmtLog
	fmtCSV
	fmtTSV
	fmtJSON
	fmtZip
	fmtXLSX
	fmtDOCX
	fmtEML
)

// formatByName maps file extensions to formats.
var formatByName = map[string]format{
	".txt": fmtText, ".text": fmtText, ".md": fmtText,
	".log": fmtLog,
	".csv": fmtCSV,
	".tsv": fmtTSV, ".tab": fmtTSV,
	".json": fmtJSON, ".jsonl": fmtJSON, ".ndjson": fmtJSON,
	".zip":  fmtZip,
	".xlsx": fmtXLSX, ".xlsm": fmtXLSX,
	".docx": fmtDOCX, ".docm": fmtDOCX,
	".eml": fmtEML, ".mbox": fmtEML,
}

func isZip(data []byte) bool {
	return bytes.HasPrefix(data, []byte("PK\x03\x04")) || bytes.HasPrefix(data, []byte("PK\x05\x06"))
}

// read reads one file or member. member is its name inside the outermost
// file ("" for the file itself) and depth its archive nesting.
func (r *reader) read(name, member string, data []byte, depth int) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	f := formatByName[strings.ToLower(path.Ext(name))]
	if isZip(data) {
		switch f {
		case fmtXLSX, fmtDOCX:
		default:
			f = fmtZip
		}
		return r.readZip(name, member, data, depth, f)
	}
	if isGzip(data) {
		return stopErr(r.readGzip(name, member, data, depth))
	}
	if isTar(data) {
		return stopErr(r.readTar(member, data, depth))
	}
	if isSQLite(data) {
		return stopErr(r.readSQLite(member, data))
	}
	if isPDF(data) {
		if bytes.Contains(data, []byte("/Encrypt")) {
			r.skip(member, "pdf", "encrypted PDF: its text streams cannot be read without the password")
			return nil
		}
		return stopErr(r.readPDF(member, data))
	}
	if isCFB(data) {
		return stopErr(r.readMSG(name, member, data, depth))
	}
	switch f {
	case fmtXLSX, fmtDOCX, fmtZip:
		r.report(member, 0, errors.New("not a zip archive"))
		return nil
	case fmtEML:
		return stopErr(r.readEML(member, data, depth))
	case fmtUnknown, fmtText:
		if looksLikeEML(data) {
			return stopErr(r.readEML(member, data, depth))
		}
		if f == fmtUnknown && !LooksLikeText(data) {
			if len(data) > 0 {
				typ, why := binaryType(data)
				if typ == "" {
					typ, why = "binary", "content of unknown type that is not text"
				}
				r.skip(member, typ, why)
			}
			return nil
		}
	}
	d := decode(data)
	if d.bad > 0 {
		r.report(member, d.lineOf(d.firstBad), fmt.Errorf("%d invalid %s byte sequences replaced", d.bad, d.enc))
	}
	byName := f
	if f == fmtUnknown || f == fmtText {
		f = sniffText(d.text, f)
	}
	var err error
	switch f {
	case fmtCSV:
		err = r.readCSV(d, member, ',')
	case fmtTSV:
		err = r.readCSV(d, member, '\t')
	case fmtJSON:
		err = r.readJSON(d, member, byName != fmtJSON)
	case fmtLog:
		err = r.readText(d, member, true)
	default:
		err = r.readText(d, member, false)
	}
	return stopErr(err)
}

// stopErr unwraps the errors that end a Read; other reader errors were
// reported already.
func stopErr(err error) error {
	var stop errStop
	if errors.As(err, &stop) {
		return stop.err
	}
	return err
}

// lineOf returns the 1-based line of original offset o.
func (d *doc) lineOf(o int) int {
	if o < 0 {
		return 0
	}
	o = min(o, len(d.data))
	if d.enc == UTF16LE || d.enc == UTF16BE {
		n := 1
		for i := d.skip; i+1 < o; i += 2 {
			if u, _ := unit16(d.data, i, d.enc); u == '\n' {
				n++
			}
		}
		return n
	}
	return 1 + bytes.Count(d.data[:o], []byte{'\n'})
}

// LooksLikeText reports whether data is text in one of the encodings Detect
// knows: few control characters and few invalid sequences in its first 8
// KiB.
func LooksLikeText(data []byte) bool {
	if len(data) == 0 {
		return false
	}
	s := data
	if len(s) > 8192 {
		s = s[:8192]
	}
	enc, skip := Detect(s)
	var st uint8
	var total, ctrl, bad int
	for o := skip; o < len(s); {
		r, n, st2, ok := step(s, o, enc, st)
		st = st2
		o += n
		if r < 0 {
			continue
		}
		total++
		switch {
		case !ok:
			// A character cut by the sample's end is not a fault.
			if o < len(s)-3 {
				bad++
			}
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' && r != '\v' && r != 0x1B, r == 0x7F:
			ctrl++
		}
	}
	return ctrl*100 <= total && bad*50 <= total
}

// sniffText refines the format of text without a telling extension: JSON,
// e-mail, delimited data, logs.
func sniffText(text string, f format) format {
	t := strings.TrimLeft(text, " \t\r\n\ufeff")
	if f == fmtUnknown && (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) {
		return fmtJSON
	}
	if sep := sniffDelimited(t); sep != 0 {
		if sep == '\t' {
			return fmtTSV
		}
		return fmtCSV
	}
	if looksLikeLog(t) {
		return fmtLog
	}
	if f == fmtUnknown {
		return fmtText
	}
	return f
}
