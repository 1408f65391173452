package extract

import "sort"

// Offset returns the original byte offset of Text[i]: in the file, or in the
// archive member named by Member. i may be len(Text), giving the offset just
// past the field's last original byte. A position inside a multi-byte
// character maps no further than the next character's offset.
func (f *Field) Offset(i int) int64 {
	if len(f.spans) == 0 {
		return int64(i)
	}
	// The last span with text <= i.
	k := sort.Search(len(f.spans), func(k int) bool { return f.spans[k].text > i }) - 1
	if k < 0 {
		k = 0
	}
	s := f.spans[k]
	o := s.orig + int64(i-s.text)
	if k+1 < len(f.spans) && o > f.spans[k+1].orig {
		o = f.spans[k+1].orig
	}
	return o
}

// NewField returns a field whose text maps byte for byte onto the original
// bytes starting at orig.
func NewField(text, key string, line int, orig int64) Field {
	return Field{Text: text, Key: key, Line: line,
		spans: []span{{0, orig}, {len(text), orig + int64(len(text))}}}
}
