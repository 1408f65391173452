package extract

import (
	"sort"
	"unicode/utf8"
)

// Offset returns the original byte offset of Text[i]: in the file, or in the
// archive member named by Member. i may be len(Text), giving the offset just
// past the field's last original byte. A position inside a multi-byte
// character maps no further than the next character's offset.
func (f *Field) Offset(i int) int64 {
	if f.lz != nil {
		c := f.lz.walk(i, i < len(f.Text))
		return int64(f.lz.d.abs(c.o))
	}
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

// lazyRef maps a field of decoded text (Shift_JIS, UTF-16, …) to original
// offsets by decoding again from the field's start when asked: most fields
// hold nothing personal, and their offsets are never needed.
type lazyRef struct {
	d *doc
	c cursor // at the field's first character
}

// walk returns the cursor at the character holding text position i of the
// field, past any escape sequences before it when esc is set (not at the
// field's end).
func (l *lazyRef) walk(i int, esc bool) cursor {
	d, c := l.d, l.c
	target := c.t + max(i, 0)
	asciiSame := d.enc == UTF8 || d.enc == ShiftJIS || d.enc == EUCJP || d.enc == Windows1252
	for c.o < len(d.data) {
		if c.t < target && asciiSame && d.data[c.o] < utf8.RuneSelf {
			c.t++
			c.o++
			continue
		}
		r, n, st, _ := step(d.data, c.o, d.enc, c.st)
		tl := 0
		if r < 0 && c.t >= target && !esc {
			break
		}
		if r >= 0 {
			if c.t >= target {
				break
			}
			tl = utf8.RuneLen(r)
			if tl < 0 {
				tl = 3
			}
			if c.t+tl > target {
				break
			}
		}
		c.t += tl
		c.o += n
		c.st = st
	}
	return c
}
