package extract

// Field is one run of normalised text with the context it came from.
type Field struct {
	// Text is UTF-8, width-folded (full-width digits, letters, @, + and
	// dashes become ASCII, half-width katakana become full-width; see
	// fold.go).
	Text string
	// Key is the field's context: a CSV or spreadsheet column header, a
	// JSON member name, an e-mail header name, the label of a text line
	// "label: value"; "" for free text.
	Key string
	// Path is the dotted path of a JSON leaf ("customer.name"), "" where
	// Key says it all.
	Path string
	// Line is the 1-based line in the original file (or member) where Text
	// starts; for a spreadsheet cell its row number; 0 where lines mean
	// nothing (docx).
	Line int
	// Member names the archive member the field came from, relative to the
	// file: "dir/b.csv", "inner.zip!c.json" for a member of a member,
	// "xl/worksheets/sheet1.xml" for a spreadsheet's cells (shared strings
	// included, see ooxml.go); "" for the file itself. Offsets are within
	// the member's own (decompressed) bytes.
	Member string

	// spans maps Text positions to original byte offsets; see Offset.
	// lz, when set, replaces them for text decoded from another encoding.
	spans []span
	lz    *lazyRef
}

// span says that Text[text:] starts at original offset orig, byte for byte
// until the next span.
type span struct {
	text int
	orig int64
}

// Record is a group of fields that belong to one data subject candidate: a
// CSV or spreadsheet row, a JSON object, an e-mail, a letter (a short text
// whole), a log line.
type Record struct {
	// Index is the 0-based record number within the file (or member).
	Index  int
	Fields []Field
}
