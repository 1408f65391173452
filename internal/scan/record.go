package scan

import (
	"context"
	"fmt"
)

// File is one regular file as the matchers see it. A File and its Data are
// only valid during the Match call: the scanner reuses the buffer.
type File struct {
	// Path is absolute and clean.
	Path string
	Size int64
	// Data is the whole content. It is nil when the file is larger than
	// Options.MaxFileSize; such files are hashed but not content-scanned.
	Data []byte
	// Hex digests. SHA256 is always set; MD5 and SHA1 only when a matcher
	// asked for them through Digests.
	MD5, SHA1, SHA256 string
}

// Digests is a set of optional digest algorithms a matcher needs.
type Digests uint8

const (
	MD5 Digests = 1 << iota
	SHA1
)

// Record is one output record. Concrete records are structs that marshal to
// JSON with a "type" field equal to Kind(); they are defined by the package
// that produces them so that the scanner knows nothing of their fields.
type Record interface {
	// Kind is the record's "type" value, e.g. "ioc", "yara", "pii".
	Kind() string
	// Finding reports whether the record counts as a finding (summary
	// totals and exit status 1).
	Finding() bool
	// Text is the record's line in --format text, or "" to hide it there
	// (personal-data occurrences are never shown in text output).
	Text() string
}

// Matcher examines files. One Matcher value is shared by all workers, so
// Match must be safe for concurrent use.
type Matcher interface {
	// Digests names the digests beyond SHA-256 that Match needs.
	Digests() Digests
	// Match examines f and emits zero or more records. emit may be called
	// from Match only; it is safe for concurrent use. An error aborts
	// nothing but is reported as an error record for f.
	Match(ctx context.Context, f *File, emit func(Record)) error
}

// ErrorRecord reports a file that could not be read or examined. It is never
// silent and never fatal.
type ErrorRecord struct {
	Type    string `json:"type"`
	Path    string `json:"path"`
	PathRaw string `json:"path_raw,omitempty"`
	Error   string `json:"error"`
}

// NewError returns an error record for path.
func NewError(path string, err error) *ErrorRecord {
	return &ErrorRecord{Type: "error", Path: DisplayPath(path), PathRaw: RawPath(path), Error: err.Error()}
}

func (r *ErrorRecord) Kind() string  { return "error" }
func (r *ErrorRecord) Finding() bool { return false }
func (r *ErrorRecord) Text() string  { return fmt.Sprintf("ERROR %s: %s", r.Path, r.Error) }

// SummaryRecord closes a scan's output.
type SummaryRecord struct {
	Type     string  `json:"type"`
	Files    int64   `json:"files"`
	Bytes    int64   `json:"bytes"`
	Findings int64   `json:"findings"`
	Errors   int64   `json:"errors"`
	Seconds  float64 `json:"seconds"`
}

func (r *SummaryRecord) Kind() string  { return "summary" }
func (r *SummaryRecord) Finding() bool { return false }
func (r *SummaryRecord) Text() string {
	return fmt.Sprintf("scanned %d files (%d bytes) in %.2fs: %d findings, %d errors",
		r.Files, r.Bytes, r.Seconds, r.Findings, r.Errors)
}
