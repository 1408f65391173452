package extract

import (
	"bytes"
	"sort"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
)

// Encoding is a character encoding the decoder recognises.
type Encoding uint8

const (
	UTF8 Encoding = iota
	UTF16LE
	UTF16BE
	ShiftJIS // Windows code page 932, a superset of Shift_JIS
	EUCJP
	ISO2022JP
	Windows1252 // and ISO-8859-1, which it extends
)

func (e Encoding) String() string {
	return [...]string{"UTF-8", "UTF-16LE", "UTF-16BE", "Shift_JIS", "EUC-JP", "ISO-2022-JP", "Windows-1252"}[e]
}

// sniffLen bounds the bytes examined to choose an encoding.
const sniffLen = 1 << 20

// Detect chooses the encoding of data and returns the length of its byte
// order mark (0 without one). A BOM decides; otherwise NUL bytes at every
// other position mean UTF-16, escape sequences mean ISO-2022-JP, valid UTF-8
// means UTF-8, and among Shift_JIS, EUC-JP, Windows-1252 and broken UTF-8
// the reading whose characters are most plausible wins (charset.go).
func Detect(data []byte) (Encoding, int) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return UTF8, 3
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return UTF16LE, 2
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return UTF16BE, 2
	}
	s := data
	if len(s) > sniffLen {
		s = s[:sniffLen]
	}
	if e, ok := sniffUTF16(s); ok {
		return e, 0
	}
	ascii := true
	for _, c := range s {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		if bytes.Contains(s, []byte("\x1b$B")) || bytes.Contains(s, []byte("\x1b$@")) {
			return ISO2022JP, 0
		}
		return UTF8, 0
	}
	if validUTF8Prefix(s, len(s) < len(data)) {
		return UTF8, 0
	}
	// 64 KiB decides between the candidates; see charset.go.
	if len(s) > 64<<10 {
		s = s[:64<<10]
	}
	return detectLegacy(s), 0
}

// validUTF8Prefix is utf8.Valid, forgiving a rune cut by the sample's end.
func validUTF8Prefix(s []byte, cut bool) bool {
	if utf8.Valid(s) {
		return true
	}
	if !cut {
		return false
	}
	for i := 1; i < utf8.UTFMax && i <= len(s); i++ {
		if utf8.RuneStart(s[len(s)-i]) {
			return utf8.Valid(s[:len(s)-i])
		}
	}
	return false
}

// sniffUTF16 recognises BOM-less UTF-16 by its NUL bytes, which text in
// other encodings never has: ASCII in UTF-16 has a zero in every other
// byte, on the odd side for little endian.
func sniffUTF16(s []byte) (Encoding, bool) {
	if len(s) > 4096 {
		s = s[:4096]
	}
	if len(s) < 4 {
		return 0, false
	}
	var even, odd, high int
	for i := 0; i+1 < len(s); i += 2 {
		if s[i] == 0 {
			even++
		}
		if s[i+1] == 0 {
			odd++
		}
		if s[i] >= 0x80 {
			high++
		}
		if s[i+1] >= 0x80 {
			high++
		}
	}
	pairs := len(s) / 2
	// Latin text has a zero in about every other byte. Japanese text has
	// zeros only in its ASCII (tabs, line breaks), so a few zeros all on
	// one side are enough when many bytes are high, as in kana and kanji;
	// a stray NUL in ASCII text is not enough.
	need := pairs * 3 / 10
	if high*10 >= len(s) {
		need = max(pairs/50, 2)
	}
	switch {
	case odd >= need && even*10 <= odd:
		return UTF16LE, true
	case even >= need && odd*10 <= even:
		return UTF16BE, true
	}
	return 0, false
}

// step decodes the character at data[o:] in encoding e with ISO-2022-JP
// shift state st. It returns the rune (-1 for an escape sequence, which
// yields no text), the bytes consumed (at least 1), the new state, and
// whether the bytes were valid (utf8.RuneError replaces invalid ones).
func step(data []byte, o int, e Encoding, st uint8) (rune, int, uint8, bool) {
	b := data[o]
	switch e {
	case UTF8:
		if b < utf8.RuneSelf {
			return rune(b), 1, st, true
		}
		r, n := utf8.DecodeRune(data[o:])
		return r, n, st, r != utf8.RuneError || n > 1
	case UTF16LE, UTF16BE:
		u, ok := unit16(data, o, e)
		if !ok {
			return utf8.RuneError, 1, st, false
		}
		switch {
		case u < 0xD800 || u > 0xDFFF:
			return rune(u), 2, st, true
		case u < 0xDC00:
			if v, ok := unit16(data, o+2, e); ok && v >= 0xDC00 && v <= 0xDFFF {
				return 0x10000 + (rune(u)-0xD800)<<10 + rune(v) - 0xDC00, 4, st, true
			}
		}
		return utf8.RuneError, 2, st, false
	case ShiftJIS:
		r, n, ok := sjisChar(data, o, tbl())
		return r, n, st, ok
	case EUCJP:
		switch {
		case b < 0x80:
			return rune(b), 1, st, true
		case b == 0x8E && o+1 < len(data) && data[o+1] >= 0xA1 && data[o+1] <= 0xDF:
			return 0xFF61 + rune(data[o+1]-0xA1), 2, st, true
		case b == 0x8F && o+2 < len(data) && isEUC(data[o+1]) && isEUC(data[o+2]):
			if r := tbl().jis0212[jisIndex(data[o+1], data[o+2])]; r != 0 {
				return rune(r), 3, st, true
			}
		case isEUC(b) && o+1 < len(data) && isEUC(data[o+1]):
			if r := tbl().jis0208[jisIndex(b, data[o+1])]; r != 0 {
				return rune(r), 2, st, true
			}
		}
		return utf8.RuneError, 1, st, false
	case Windows1252:
		r, ok := win1252(b)
		return r, 1, st, ok
	case ISO2022JP:
		if b == 0x1B && o+2 < len(data) {
			switch string(data[o+1 : o+3]) {
			case "(B":
				return -1, 3, 0, true
			case "(J":
				return -1, 3, 2, true
			case "(I":
				return -1, 3, 3, true
			case "$@", "$B":
				return -1, 3, 1, true
			}
		}
		switch {
		case b == '\n' || b == '\r':
			// A line break outside ASCII mode is malformed; being lenient
			// keeps the rest of the message readable.
			return rune(b), 1, st, true
		case st == 1 && b >= 0x21 && b <= 0x7E && o+1 < len(data):
			t := data[o+1]
			if t >= 0x21 && t <= 0x7E {
				if r := tbl().jis0208[jisIndex(b|0x80, t|0x80)]; r != 0 {
					return rune(r), 2, st, true
				}
			}
			return utf8.RuneError, 2, st, false
		case st == 3 && b >= 0x21 && b <= 0x5F:
			return 0xFF61 + rune(b-0x21), 1, st, true
		case b < 0x80:
			return rune(b), 1, st, true
		}
		return utf8.RuneError, 1, st, false
	}
	return utf8.RuneError, 1, st, false
}

// sjisChar decodes the Shift_JIS character at data[o:], the hot path of
// step for the commonest Japanese encoding.
func sjisChar(data []byte, o int, t *codeTables) (rune, int, bool) {
	b := data[o]
	switch {
	case b < 0x80:
		return rune(b), 1, true
	case b >= 0xA1 && b <= 0xDF:
		return 0xFF61 + rune(b-0xA1), 1, true
	case o+1 < len(data):
		if r := t.sjis[int(b)<<8|int(data[o+1])]; r != 0 {
			return rune(r), 2, true
		}
	}
	return utf8.RuneError, 1, false
}

func unit16(data []byte, o int, e Encoding) (uint16, bool) {
	if o+1 >= len(data) {
		return 0, false
	}
	if e == UTF16LE {
		return uint16(data[o]) | uint16(data[o+1])<<8, true
	}
	return uint16(data[o])<<8 | uint16(data[o+1]), true
}

func isEUC(b byte) bool { return b >= 0xA1 && b <= 0xFE }

func jisIndex(b1, b2 byte) int { return int(b1-0xA1)*94 + int(b2-0xA1) }

// codeTables are built once from golang.org/x/text's decoders so that
// decoding can track every character's original offset.
type codeTables struct {
	sjis             [0x10000]uint16
	jis0208, jis0212 [94 * 94]uint16
}

// tbl returns the tables, building them on first use; its fast path
// inlines into the decoding loops.
func tbl() *codeTables {
	if t := tabPtr.Load(); t != nil {
		return t
	}
	return buildTables()
}

var tabPtr atomic.Pointer[codeTables]

var buildTables = sync.OnceValue(func() *codeTables {
	t := new(codeTables)
	one := func(dec func([]byte) ([]byte, error), in []byte) uint16 {
		out, err := dec(in)
		if err != nil {
			return 0
		}
		r, n := utf8.DecodeRune(out)
		if n != len(out) || r == utf8.RuneError || r > 0xFFFF {
			return 0
		}
		return uint16(r)
	}
	sj := japanese.ShiftJIS.NewDecoder()
	for b := 0x81; b <= 0xFC; b++ {
		if b > 0x9F && b < 0xE0 {
			continue
		}
		for c := 0x40; c <= 0xFC; c++ {
			if c != 0x7F {
				t.sjis[b<<8|c] = one(sj.Bytes, []byte{byte(b), byte(c)})
			}
		}
	}
	eu := japanese.EUCJP.NewDecoder()
	for b := 0xA1; b <= 0xFE; b++ {
		for c := 0xA1; c <= 0xFE; c++ {
			i := jisIndex(byte(b), byte(c))
			t.jis0208[i] = one(eu.Bytes, []byte{byte(b), byte(c)})
			t.jis0212[i] = one(eu.Bytes, []byte{0x8F, byte(b), byte(c)})
		}
	}
	tabPtr.Store(t)
	return t
})

// doc is one file's (or member's) decoded text, with the means to map text
// positions back to the original bytes.
type doc struct {
	text string
	data []byte
	enc  Encoding
	// skip is the BOM length. When ident is set, text is data[skip:] byte
	// for byte and the mapping is a constant shift.
	skip  int
	ident bool
	// bad counts invalid sequences, the first at original offset firstBad.
	bad      int
	firstBad int
	// base is added to offsets in data to make them offsets in the file
	// (or member): data may be one part of it. omap, when set, instead maps
	// each offset in data (and len(data)) to one in the file, for data that
	// is itself decoded (quoted-printable, base64).
	base int
	omap []int
	// cps are walk checkpoints every cpEvery text bytes; cur is the walk
	// cursor, moving forward as readers go through the text.
	cps []cursor
	cur cursor
}

type cursor struct {
	t, o int
	st   uint8
}

const cpEvery = 4096

// decode detects data's encoding and decodes it.
func decode(data []byte) *doc {
	enc, skip := Detect(data)
	return decodeAs(data, enc, skip)
}

func decodeAs(data []byte, enc Encoding, skip int) *doc {
	d := &doc{data: data, enc: enc, skip: skip, firstBad: -1}
	if enc == UTF8 && utf8.Valid(data[skip:]) {
		d.text, d.ident = string(data[skip:]), true
		return d
	}
	buf := make([]byte, 0, len(data)+len(data)/2)
	tab := tbl()
	var st uint8
	next := 0
	for o := skip; o < len(data); {
		if len(buf) >= next {
			d.cps = append(d.cps, cursor{len(buf), o, st})
			next = len(buf) + cpEvery
		}
		if enc != UTF16LE && enc != UTF16BE && !(enc == ISO2022JP && (st == 1 || st == 3)) {
			// ASCII runs copy straight through.
			j := o
			for j < len(data) && data[j] < 0x80 && data[j] != 0x1B {
				j++
			}
			if j > o {
				buf = append(buf, data[o:j]...)
				o = j
				continue
			}
		}
		var r rune
		var n int
		var ok bool
		st2 := st
		if enc == ShiftJIS {
			r, n, ok = sjisChar(data, o, tab)
		} else {
			r, n, st2, ok = step(data, o, enc, st)
		}
		if !ok {
			if d.bad == 0 {
				d.firstBad = o
			}
			d.bad++
		}
		if r >= 0 {
			buf = utf8.AppendRune(buf, r)
		}
		o += n
		st = st2
	}
	d.text = string(buf)
	if len(d.cps) == 0 {
		d.cps = append(d.cps, cursor{0, skip, 0})
	}
	d.cur = d.cps[0]
	return d
}

// abs turns an offset in d.data into one in the file or member.
func (d *doc) abs(o int) int {
	if d.omap != nil {
		return d.omap[min(max(o, 0), len(d.omap)-1)]
	}
	return o + d.base
}

// orig maps text position p (a character boundary) to its original offset.
func (d *doc) orig(p int) int {
	if d.ident {
		return p + d.skip
	}
	d.seek(p)
	return d.cur.o
}

// seek moves the cursor to the character starting at or containing p.
func (d *doc) seek(p int) {
	if p < d.cur.t || p-d.cur.t > 2*cpEvery {
		k := sort.Search(len(d.cps), func(k int) bool { return d.cps[k].t > p }) - 1
		if k < 0 {
			k = 0
		}
		d.cur = d.cps[k]
	}
	asciiSame := d.enc == UTF8 || d.enc == ShiftJIS || d.enc == EUCJP
	for d.cur.t < p && d.cur.o < len(d.data) {
		if asciiSame && d.data[d.cur.o] < utf8.RuneSelf {
			d.cur.t++
			d.cur.o++
			continue
		}
		r, n, st, _ := step(d.data, d.cur.o, d.enc, d.cur.st)
		tl := 0
		if r >= 0 {
			tl = utf8.RuneLen(r)
			if tl < 0 {
				tl = 3
			}
		}
		if d.cur.t+tl > p || tl == 0 && d.cur.t == p {
			return
		}
		d.cur.t += tl
		d.cur.o += n
		d.cur.st = st
	}
	// Escape sequences yield no text: the character at p starts after them.
	for d.cur.o < len(d.data) {
		r, n, st, _ := step(d.data, d.cur.o, d.enc, d.cur.st)
		if r >= 0 {
			return
		}
		d.cur.o += n
		d.cur.st = st
	}
}

// advance moves the cursor, which must be at a character boundary, past one
// character of text and returns that character's original offset.
func (d *doc) advance() (int, int) {
	for d.cur.o < len(d.data) {
		start := d.cur.o
		r, n, st, _ := step(d.data, d.cur.o, d.enc, d.cur.st)
		d.cur.o += n
		d.cur.st = st
		if r >= 0 {
			tl := utf8.RuneLen(r)
			if tl < 0 {
				tl = 3
			}
			d.cur.t += tl
			return start, d.cur.o
		}
	}
	return d.cur.o, d.cur.o
}
