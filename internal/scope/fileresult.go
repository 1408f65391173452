package scope

import "time"

// FileResult is the personal data found in one scanned file (a top-level
// path; archive, Office and database members are inside it), as an agent
// sends it to the server after a sweep or collection with pii: true. A file
// holding more values than fit one message is sent in Parts records,
// numbered by Part from 0; each carries the whole file's Categories and
// its own share of Subjects.
//
// Values are normalised for scoping but not masked: they travel inside the
// fleet's mutual TLS channel and the server encrypts them at rest.
type FileResult struct {
	Type    string    `json:"type"` // "pii_file"
	Path    string    `json:"path"`
	PathRaw string    `json:"path_raw,omitempty"`
	SHA256  string    `json:"sha256,omitempty"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime,omitzero"`
	Part    int       `json:"part"`
	Parts   int       `json:"parts"`
	// Categories counts the file's occurrences per category (all parts).
	Categories map[string]int `json:"categories"`
	// Masked counts occurrences seen without a raw value.
	Masked   int           `json:"masked,omitempty"`
	Subjects []FileSubject `json:"subjects"`
	// Flags are the special-care and credential marks of the file or its
	// members (part 0 only).
	Flags []FileFlag `json:"flags,omitempty"`
}

// FileSubject is one data subject of a file: a record (CSV or table row,
// JSON object, letter) of one member. Member is already the scoping
// member: an xlsx row's shared strings and sheet cells share one
// "book.xlsx!sheetN" member.
type FileSubject struct {
	Member string `json:"member,omitempty"`
	Record int    `json:"record"`
	// Key is the subject key of `mamori scan --pii` (a keyed hash).
	Key    string      `json:"key"`
	Values []FileValue `json:"values"`
}

// FileValue is one normalised value of a subject.
type FileValue struct {
	Category string `json:"category"`
	Value    string `json:"value"`
	Country  string `json:"country,omitempty"`
}

// FileFlag is a special_care or credentials mark on a file or member.
type FileFlag struct {
	Member string   `json:"member,omitempty"`
	Flag   string   `json:"flag"`
	Terms  []string `json:"terms"`
}

// FileResultType is the record and finding type of a FileResult.
const FileResultType = "pii_file"
