package extract

import (
	"strings"
	"unicode/utf8"
)

// builder assembles one field's folded text from pieces of a doc's text
// (and from single runes that escapes stand for), recording spans.
type builder struct {
	d      *doc
	member string
	buf    []byte
	spans  []span
	end    int // original offset just past the last piece
	pieces int
	// sub is set while the field is one unfolded piece: its text is then
	// subText, a substring of the doc's text, and needs no copy.
	sub     bool
	subText string
	// lazy says buf still lacks the sub piece; lz is set when its spans
	// are still to be worked out too.
	lazy bool
	lz   lazyRef
	// lzArena hands out lazyRefs in chunks, like arena.
	lzArena []lazyRef
	// arena hands out span slices in chunks; chunks are never reused, so a
	// field stays valid for as long as anyone keeps it.
	arena []span
}

func (b *builder) reset() {
	b.buf = b.buf[:0]
	b.spans = b.spans[:0]
	b.pieces, b.sub, b.lazy, b.lz = 0, false, false, lazyRef{}
}

// unlazy copies a first piece that was not copied into buf, and works
// out its spans if they were left for later.
func (b *builder) unlazy() {
	if b.lazy {
		if b.lz.d != nil {
			a := b.lz.c.t
			b.walk(b.lz.d, a, a+len(b.subText))
			b.lz = lazyRef{}
		} else {
			b.buf = append(b.buf, b.subText...)
		}
		b.lazy = false
	}
	b.sub = false
}

// mark notes that the next output byte comes from original offset o.
func (b *builder) mark(o int) {
	o = b.d.abs(o)
	q := len(b.buf)
	if n := len(b.spans); n > 0 {
		last := b.spans[n-1]
		if last.orig+int64(q-last.text) == int64(o) {
			return
		}
		if last.text == q {
			b.spans[n-1].orig = int64(o)
			return
		}
	}
	b.spans = append(b.spans, span{q, int64(o)})
}

// addRange appends the folded text d.text[a:c]; a and c are character
// boundaries.
func (b *builder) addRange(a, c int) {
	if a >= c {
		return
	}
	d := b.d
	text := d.text[a:c]
	b.unlazy()
	b.pieces++
	if d.ident {
		if !needsFold(text) {
			b.mark(a + d.skip)
			if b.pieces == 1 {
				// Copied only if another piece follows.
				b.sub, b.lazy = true, true
			} else {
				b.buf = append(b.buf, text...)
			}
			b.subText = text
			b.end = d.abs(c + d.skip)
			return
		}
		b.sub = false
		for i := 0; i < len(text); {
			r, n := utf8.DecodeRuneInString(text[i:])
			if r < utf8.RuneSelf {
				b.mark(a + i + d.skip)
				b.buf = append(b.buf, byte(r))
				i++
				continue
			}
			next, n2 := utf8.DecodeRuneInString(text[i+n:])
			b.mark(a + i + d.skip)
			var k int
			b.buf, k = foldRune(b.buf, r, next)
			i += n
			if k == 2 {
				i += n2
			}
		}
		b.end = d.abs(c + d.skip)
		return
	}
	if b.pieces == 1 && !needsFold(text) {
		// Offsets are worked out only if asked for (see lazyRef).
		d.seek(a)
		b.sub, b.lazy, b.subText = true, true, text
		b.lz = lazyRef{d: d, c: d.cur}
		return
	}
	b.walk(d, a, c)
}

// walk appends the folded text d.text[a:c] of a decoded (not identity) doc,
// marking spans character by character.
func (b *builder) walk(d *doc, a, c int) {
	d.seek(a)
	// In these encodings an ASCII character is its own byte.
	asciiSame := d.enc == UTF8 || d.enc == ShiftJIS || d.enc == EUCJP || d.enc == Windows1252
	for t := a; t < c; {
		if asciiSame && d.text[t] < utf8.RuneSelf {
			k := t + 1
			for k < c && d.text[k] < utf8.RuneSelf {
				k++
			}
			b.mark(d.cur.o)
			b.buf = append(b.buf, d.text[t:k]...)
			d.cur.o += k - t
			d.cur.t += k - t
			t = k
			b.end = d.abs(d.cur.o)
			continue
		}
		r, n := utf8.DecodeRuneInString(d.text[t:])
		start, end := d.advance()
		t += n
		b.mark(start)
		var next rune
		if t < c {
			next, _ = utf8.DecodeRuneInString(d.text[t:])
		}
		var k int
		b.buf, k = foldRune(b.buf, r, next)
		if k == 2 {
			_, n2 := utf8.DecodeRuneInString(d.text[t:])
			_, end = d.advance()
			t += n2
		}
		b.end = d.abs(end)
	}
}

// addRune appends r, folded, standing for the doc's bytes [o1, o2): an
// escape sequence, an entity, an encoded word.
func (b *builder) addRune(r rune, o1, o2 int) {
	b.unlazy()
	b.pieces++
	b.sub = false
	b.mark(o1)
	b.buf, _ = foldRune(b.buf, r, 0)
	b.end = b.d.abs(o2)
}

// field returns the assembled field and resets the builder.
func (b *builder) field(key string, line int) Field {
	if b.lz.d != nil {
		if len(b.lzArena) == 0 {
			b.lzArena = make([]lazyRef, 64)
		}
		lz := &b.lzArena[0]
		b.lzArena = b.lzArena[1:]
		*lz = b.lz
		f := Field{Text: b.subText, Key: key, Line: line, Member: b.member, lz: lz}
		b.reset()
		return f
	}
	var text string
	if b.sub && b.pieces == 1 {
		text = b.subText
	} else {
		text = string(b.buf)
	}
	n := len(b.spans) + 1
	if len(b.arena) < n {
		b.arena = make([]span, max(256, n))
	}
	sp := b.arena[:n:n]
	b.arena = b.arena[n:]
	copy(sp, b.spans)
	sp[n-1] = span{len(text), int64(b.end)}
	if n == 1 {
		sp[0].orig = int64(b.end)
	}
	f := Field{Text: text, Key: key, Line: line, Member: b.member, spans: sp}
	b.reset()
	return f
}

// foldKey normalises a header or key: folded width, trimmed.
func foldKey(s string) string {
	s = strings.TrimSpace(strings.Trim(s, "\u3000 \t\r\n\ufeff"))
	if !needsFold(s) {
		return s
	}
	var buf []byte
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		next, n2 := utf8.DecodeRuneInString(s[i+n:])
		var k int
		buf, k = foldRune(buf, r, next)
		i += n
		if k == 2 {
			i += n2
		}
	}
	return strings.TrimSpace(string(buf))
}

// isSpace reports ASCII white space and the ideographic space.
func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\r' || r == '\n' || r == '\v' || r == '\f' || r == 0x3000 || r == 0xFEFF
}

// trim narrows [a, c) of s to exclude leading and trailing white space.
func trim(s string, a, c int) (int, int) {
	for a < c {
		if s[a] < utf8.RuneSelf {
			if !isSpace(rune(s[a])) {
				break
			}
			a++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[a:c])
		if !isSpace(r) {
			break
		}
		a += n
	}
	for a < c {
		if s[c-1] < utf8.RuneSelf {
			if !isSpace(rune(s[c-1])) {
				break
			}
			c--
			continue
		}
		r, n := utf8.DecodeLastRuneInString(s[a:c])
		if !isSpace(r) {
			break
		}
		c -= n
	}
	return a, c
}

// lines counts line numbers for increasing text positions.
type lines struct {
	text string
	pos  int
	line int
}

func newLines(text string) lines { return lines{text: text, line: 1} }

// at returns the 1-based line of text position p; p must not decrease
// between calls (it restarts from the beginning when it does).
func (l *lines) at(p int) int {
	if p < l.pos {
		l.pos, l.line = 0, 1
	}
	if p > len(l.text) {
		p = len(l.text)
	}
	l.line += strings.Count(l.text[l.pos:p], "\n")
	l.pos = p
	return l.line
}
