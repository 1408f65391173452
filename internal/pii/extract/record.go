package extract

// Field is one run of normalised text with the context it came from.
type Field struct {
	// Text is UTF-8, NFKC width-folded (full-width digits and letters
	// become ASCII, half-width katakana become full-width).
	Text string
	// Key is the field's context: a CSV column header, a JSON key, an
	// e-mail header name; "" for free text.
	Key string
	// Path is the dotted path of a JSON leaf ("customer.name"), "" where
	// Key says it all.
	Path string
	// Line is the 1-based line in the original file where Text starts, or
	// 0 where lines mean nothing (inside xlsx, say).
	Line int
	// Member names the archive member the field came from ("a.zip!b.csv"),
	// or "" for the file itself.
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
// CSV row, a JSON object, an e-mail, a paragraph run of a letter.
type Record struct {
	// Index is the 0-based record number within the file (or member).
	Index  int
	Fields []Field
}
