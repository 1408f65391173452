package scope

import "time"

// FileResult is the personal data found in one scanned file (a top-level
// path; archive, Office and database members are inside it), as an agent
// sends it to the server during a sweep or collection with pii: true. A
// file holding more values than fit one message is sent in parts, numbered
// by Part from 0, as the scan fills them: every part but the last has
// Parts 0 ("more follow"), Categories counting its own values and no
// flags; the last has Parts, the number of parts, the whole file's
// Categories and Masked, and the Flags. Each part carries its own share of
// Subjects; a subject may continue in a later part under the same member
// and record.
//
// Agents before streaming sent every part with Parts set and the whole
// file's Categories, and the flags in part 0; the server takes both forms.
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
	// Parts is the number of parts, set on the last; 0 says more follow.
	Parts int `json:"parts"`
	// Categories counts the file's occurrences per category on the last
	// part, the part's values on the others.
	Categories map[string]int `json:"categories"`
	// Masked counts occurrences seen without a raw value (last part).
	Masked   int           `json:"masked,omitempty"`
	Subjects []FileSubject `json:"subjects"`
	// Flags are the special-care and credential marks of the file or its
	// members (last part only).
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
