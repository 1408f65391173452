package extract

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// PDF text is read without a layout engine: every stream is inflated
// (FlateDecode, or none), object streams are unpacked, fonts are tied to
// their ToUnicode CMaps (or to the predefined Japanese CMaps of CID fonts:
// UCS-2/UTF-16 and Shift_JIS ones), and the text-showing operators of the
// content streams (Tj, TJ, ', ") give the text, a line break for every move
// to a new line. Offsets point at the content stream a line came from, the
// best a compressed file allows.

func isPDF(data []byte) bool {
	i := bytes.Index(data[:min(len(data), 1024)], []byte("%PDF-"))
	return i >= 0
}

// pdfObject is one indirect object: its dictionary text and, for a stream,
// the inflated content.
type pdfObject struct {
	dict   []byte
	stream []byte
	off    int // offset of the object in the file
}

type pdfFont struct {
	cmap     *cmap
	encoding string // a predefined CMap name, or "" for a simple font
}

// cmap maps character codes of fixed byte width to text.
type cmap struct {
	width int
	m     map[uint32]string
}

const (
	maxPDFStream = 64 << 20
	maxCMap      = 1 << 17 // codes one ToUnicode map may define
)

func (r *reader) readPDF(member string, data []byte) error {
	objs, err := pdfObjects(data)
	if err != nil {
		r.report(member, 0, fmt.Errorf("pdf: %w", err))
	}
	if len(objs) == 0 {
		return nil
	}
	fonts := pdfFonts(objs)
	var text []byte
	var omap []int
	for _, num := range sortedKeys(objs) {
		o := objs[num]
		if o.stream == nil || !bytes.Contains(o.stream, []byte("BT")) || bytes.Contains(o.dict, []byte("/Type/XRef")) ||
			bytes.Contains(o.stream, []byte("begincmap")) {
			continue
		}
		before := len(text)
		text = pdfText(o.stream, fonts, text)
		if len(text) > before {
			text = append(text, '\n')
		}
		for len(omap) < len(text) {
			omap = append(omap, o.off)
		}
	}
	if len(text) == 0 {
		return nil
	}
	omap = append(omap, len(data))
	d := &doc{text: string(text), data: text, enc: UTF8, ident: true, firstBad: -1, omap: omap}
	d.cps = []cursor{{0, 0, 0}}
	d.cur = d.cps[0]
	return r.readText(d, member, false)
}

func sortedKeys(m map[int]*pdfObject) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Object numbers follow page order in most writers.
	sort.Ints(keys)
	return keys
}

// pdfObjects finds every "N G obj … endobj" in data, inflating streams and
// unpacking object streams.
func pdfObjects(data []byte) (map[int]*pdfObject, error) {
	objs := map[int]*pdfObject{}
	var errs []error
	for p := 0; p < len(data); {
		i := bytes.Index(data[p:], []byte(" obj"))
		if i < 0 {
			break
		}
		at := p + i
		p = at + 4
		num, start, ok := objHeader(data, at)
		if !ok {
			continue
		}
		end := bytes.Index(data[p:], []byte("endobj"))
		if end < 0 {
			end = len(data) - p
		}
		body := data[p : p+end]
		o := &pdfObject{dict: body, off: start}
		if s := bytes.Index(body, []byte("stream")); s >= 0 && !bytes.HasPrefix(body[s:], []byte("streams")) {
			o.dict = body[:s]
			raw := body[s+len("stream"):]
			if len(raw) > 0 && raw[0] == '\r' {
				raw = raw[1:]
			}
			if len(raw) > 0 && raw[0] == '\n' {
				raw = raw[1:]
			}
			if e := bytes.LastIndex(raw, []byte("endstream")); e >= 0 {
				raw = raw[:e]
			}
			st, err := pdfStream(o.dict, raw)
			if err != nil {
				errs = append(errs, fmt.Errorf("object %d at offset %d: %w", num, start, err))
			}
			o.stream = st
		}
		objs[num] = o
		p += end
	}
	for _, o := range objs {
		if bytes.Contains(o.dict, []byte("/ObjStm")) && o.stream != nil {
			unpackObjStm(o, objs)
		}
	}
	if len(errs) > 0 {
		return objs, errs[0]
	}
	return objs, nil
}

// objHeader reads "N G" before " obj" at data[at].
func objHeader(data []byte, at int) (num, start int, ok bool) {
	p := at
	readNum := func() (int, bool) {
		e := p
		for p > 0 && isDigitByte(data[p-1]) {
			p--
		}
		if p == e {
			return 0, false
		}
		n, err := strconv.Atoi(string(data[p:e]))
		return n, err == nil
	}
	if _, ok := readNum(); !ok || p == 0 || data[p-1] != ' ' {
		return 0, 0, false
	}
	p--
	num, ok = readNum()
	if !ok || p > 0 && !isPDFSpace(data[p-1]) {
		return 0, 0, false
	}
	return num, p, true
}

func isDigitByte(c byte) bool { return c >= '0' && c <= '9' }

func isPDFSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

// pdfStream decodes a stream with no filter or FlateDecode; other filters
// (images, mostly) give nil.
func pdfStream(dict, raw []byte) ([]byte, error) {
	if !bytes.Contains(dict, []byte("/Filter")) {
		return raw, nil
	}
	if !bytes.Contains(dict, []byte("/FlateDecode")) || bytes.Contains(dict, []byte("/DCTDecode")) ||
		bytes.Contains(dict, []byte("/ASCII85Decode")) || bytes.Contains(dict, []byte("/LZWDecode")) {
		return nil, nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("flate stream: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxPDFStream))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return out, fmt.Errorf("flate stream: %w", err)
	}
	return out, nil
}

// unpackObjStm adds the objects packed in an object stream: a header of
// "number offset" pairs, then the objects from /First on.
func unpackObjStm(o *pdfObject, objs map[int]*pdfObject) {
	first := dictInt(o.dict, "/First")
	n := dictInt(o.dict, "/N")
	if first <= 0 || first > len(o.stream) || n <= 0 {
		return
	}
	nums := tokensInts(o.stream[:first], 2*n)
	for i := 0; i+1 < len(nums); i += 2 {
		s := first + nums[i+1]
		e := len(o.stream)
		if i+3 < len(nums) {
			e = first + nums[i+3]
		}
		if s < 0 || s > e || e > len(o.stream) {
			return
		}
		if _, ok := objs[nums[i]]; !ok {
			objs[nums[i]] = &pdfObject{dict: o.stream[s:e], off: o.off}
		}
	}
}

func tokensInts(b []byte, max int) []int {
	var out []int
	for p := 0; p < len(b) && len(out) < max; {
		for p < len(b) && !isDigitByte(b[p]) {
			p++
		}
		s := p
		for p < len(b) && isDigitByte(b[p]) {
			p++
		}
		if p > s {
			n, _ := strconv.Atoi(string(b[s:p]))
			out = append(out, n)
		}
	}
	return out
}

// dictInt returns the integer after key in a dictionary, or -1.
func dictInt(dict []byte, key string) int {
	i := bytes.Index(dict, []byte(key))
	if i < 0 {
		return -1
	}
	p := i + len(key)
	if p < len(dict) && dict[p] >= 'A' && dict[p] <= 'z' && dict[p] != '[' {
		return -1 // a longer name
	}
	for p < len(dict) && isPDFSpace(dict[p]) {
		p++
	}
	s := p
	for p < len(dict) && isDigitByte(dict[p]) {
		p++
	}
	n, err := strconv.Atoi(string(dict[s:p]))
	if err != nil {
		return -1
	}
	return n
}

// dictRef returns the object number of "key N G R" in a dictionary, or -1.
func dictRef(dict []byte, key string) int {
	i := bytes.Index(dict, []byte(key))
	if i < 0 {
		return -1
	}
	rest := dict[i+len(key):]
	n := tokensInts(rest[:min(len(rest), 24)], 2)
	if len(n) < 2 || !bytes.Contains(rest[:min(len(rest), 24)], []byte("R")) {
		return -1
	}
	return n[0]
}

// dictName returns the name after key ("/Encoding /Identity-H"), or "".
func dictName(dict []byte, key string) string {
	i := bytes.Index(dict, []byte(key))
	if i < 0 {
		return ""
	}
	p := i + len(key)
	for p < len(dict) && isPDFSpace(dict[p]) {
		p++
	}
	if p >= len(dict) || dict[p] != '/' {
		return ""
	}
	s := p + 1
	p = s
	for p < len(dict) && !isPDFSpace(dict[p]) && !bytes.ContainsRune([]byte("/<>[]()"), rune(dict[p])) {
		p++
	}
	return string(dict[s:p])
}

// pdfFonts maps the resource names fonts go by ("/F1") to their decoding.
// Names are taken from every /Font resource dictionary in the file: pages
// of one document rarely give one name two fonts.
func pdfFonts(objs map[int]*pdfObject) map[string]*pdfFont {
	byObj := map[int]*pdfFont{}
	font := func(num int) *pdfFont {
		if f, ok := byObj[num]; ok {
			return f
		}
		o := objs[num]
		f := &pdfFont{}
		byObj[num] = f
		if o == nil {
			return f
		}
		f.encoding = dictName(o.dict, "/Encoding")
		if ref := dictRef(o.dict, "/ToUnicode"); ref >= 0 && objs[ref] != nil && objs[ref].stream != nil {
			f.cmap = parseCMap(objs[ref].stream)
		}
		return f
	}
	fonts := map[string]*pdfFont{}
	for _, o := range objs {
		for p := 0; ; {
			i := bytes.Index(o.dict[p:], []byte("/Font"))
			if i < 0 {
				break
			}
			p += i + len("/Font")
			rest := o.dict[p:]
			j := 0
			for j < len(rest) && isPDFSpace(rest[j]) {
				j++
			}
			var entries []byte
			switch {
			case bytes.HasPrefix(rest[j:], []byte("<<")):
				e := bytes.Index(rest[j:], []byte(">>"))
				if e < 0 {
					continue
				}
				entries = rest[j+2 : j+e]
			case j < len(rest) && isDigitByte(rest[j]):
				if n := tokensInts(rest[j:min(len(rest), j+20)], 1); len(n) == 1 && objs[n[0]] != nil {
					entries = objs[n[0]].dict
				}
			}
			for q := 0; q < len(entries); {
				k := bytes.IndexByte(entries[q:], '/')
				if k < 0 {
					break
				}
				q += k + 1
				s := q
				for q < len(entries) && !isPDFSpace(entries[q]) && entries[q] != '/' {
					q++
				}
				name := string(entries[s:q])
				if n := tokensInts(entries[q:min(len(entries), q+20)], 2); len(n) == 2 {
					fonts[name] = font(n[0])
				}
			}
		}
	}
	return fonts
}

// parseCMap reads a ToUnicode CMap's codespace width and its bfchar and
// bfrange mappings.
func parseCMap(b []byte) *cmap {
	c := &cmap{width: 1, m: map[uint32]string{}}
	toks := pdfTokens(b)
	hexOf := func(t []byte) ([]byte, bool) {
		if len(t) < 2 || t[0] != '<' {
			return nil, false
		}
		return decodeHex(t[1 : len(t)-1]), true
	}
	code := func(h []byte) uint32 {
		var v uint32
		for _, x := range h {
			v = v<<8 | uint32(x)
		}
		return v
	}
	for i := 0; i < len(toks); i++ {
		switch string(toks[i]) {
		case "begincodespacerange":
			if i+1 < len(toks) {
				if h, ok := hexOf(toks[i+1]); ok && len(h) > 0 {
					c.width = len(h)
				}
			}
		case "beginbfchar":
			for i++; i+1 < len(toks) && string(toks[i]) != "endbfchar"; i += 2 {
				src, ok1 := hexOf(toks[i])
				dst, ok2 := hexOf(toks[i+1])
				if ok1 && ok2 {
					c.m[code(src)] = utf16BE(dst)
				}
			}
		case "beginbfrange":
			for i++; i+2 < len(toks) && string(toks[i]) != "endbfrange"; {
				lo, ok1 := hexOf(toks[i])
				hi, ok2 := hexOf(toks[i+1])
				if !ok1 || !ok2 {
					i++
					continue
				}
				a, z := code(lo), code(hi)
				if z < a || z-a > 0xFFFF || len(c.m)+int(z-a) > maxCMap {
					i += 3
					continue
				}
				if string(toks[i+2]) == "[" {
					j := i + 3
					for k := a; j < len(toks) && string(toks[j]) != "]"; j, k = j+1, k+1 {
						if dst, ok := hexOf(toks[j]); ok {
							c.m[k] = utf16BE(dst)
						}
					}
					i = j + 1
					continue
				}
				if dst, ok := hexOf(toks[i+2]); ok && len(dst) >= 2 {
					base := append([]byte(nil), dst...)
					for k := a; k <= z; k++ {
						c.m[k] = utf16BE(base)
						base[len(base)-1]++
						if base[len(base)-1] == 0 && len(base) >= 2 {
							base[len(base)-2]++
						}
					}
				}
				i += 3
			}
		}
	}
	return c
}

func utf16BE(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
	}
	return string(utf16.Decode(u))
}

func decodeHex(h []byte) []byte {
	out := make([]byte, 0, len(h)/2+1)
	var v byte
	n := 0
	for _, c := range h {
		var x byte
		switch {
		case c >= '0' && c <= '9':
			x = c - '0'
		case c >= 'a' && c <= 'f':
			x = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			x = c - 'A' + 10
		default:
			continue
		}
		v = v<<4 | x
		n++
		if n == 2 {
			out = append(out, v)
			v, n = 0, 0
		}
	}
	if n == 1 {
		out = append(out, v<<4)
	}
	return out
}

// pdfTokens splits PDF content into tokens: literal strings "(…)" with
// their parentheses, hex strings "<…>", "<<", ">>", "[", "]", names,
// numbers and operators.
func pdfTokens(b []byte) [][]byte {
	var toks [][]byte
	for p := 0; p < len(b); {
		c := b[p]
		switch {
		case isPDFSpace(c):
			p++
		case c == '%':
			for p < len(b) && b[p] != '\n' && b[p] != '\r' {
				p++
			}
		case c == '(':
			s, depth := p, 0
			for p < len(b) {
				switch b[p] {
				case '\\':
					p++
				case '(':
					depth++
				case ')':
					depth--
				}
				p++
				if depth == 0 {
					break
				}
			}
			toks = append(toks, b[s:min(p, len(b))])
		case c == '<' && p+1 < len(b) && b[p+1] == '<', c == '>' && p+1 < len(b) && b[p+1] == '>':
			toks = append(toks, b[p:p+2])
			p += 2
		case c == '<':
			e := bytes.IndexByte(b[p:], '>')
			if e < 0 {
				e = len(b) - p - 1
			}
			toks = append(toks, b[p:p+e+1])
			p += e + 1
		case c == '[' || c == ']' || c == '{' || c == '}':
			toks = append(toks, b[p:p+1])
			p++
		default:
			s := p
			p++
			for p < len(b) && !isPDFSpace(b[p]) && !bytes.ContainsRune([]byte("()<>[]{}/%"), rune(b[p])) {
				p++
			}
			toks = append(toks, b[s:p])
		}
	}
	return toks
}

// literal decodes a "(…)" string's escapes.
func literal(t []byte) []byte {
	if len(t) >= 2 && t[len(t)-1] == ')' {
		t = t[1 : len(t)-1]
	} else {
		t = t[1:]
	}
	out := make([]byte, 0, len(t))
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c != '\\' || i+1 >= len(t) {
			out = append(out, c)
			continue
		}
		i++
		switch e := t[i]; e {
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case '\r', '\n':
			if e == '\r' && i+1 < len(t) && t[i+1] == '\n' {
				i++
			}
		default:
			if e >= '0' && e <= '7' {
				v, n := 0, 0
				for n < 3 && i < len(t) && t[i] >= '0' && t[i] <= '7' {
					v = v*8 + int(t[i]-'0')
					i++
					n++
				}
				i--
				out = append(out, byte(v))
			} else {
				out = append(out, e)
			}
		}
	}
	return out
}

// showString appends the text of string bytes s shown in font f.
func showString(dst, s []byte, f *pdfFont) []byte {
	switch {
	case f != nil && f.cmap != nil && len(f.cmap.m) > 0:
		w := f.cmap.width
		for i := 0; i+w <= len(s); i += w {
			var code uint32
			for _, x := range s[i : i+w] {
				code = code<<8 | uint32(x)
			}
			if t, ok := f.cmap.m[code]; ok {
				dst = append(dst, t...)
			}
		}
	case f != nil && (bytesContainsFold(f.encoding, "UCS2") || bytesContainsFold(f.encoding, "UTF16")):
		dst = append(dst, utf16BE(s)...)
	case f != nil && bytesContainsFold(f.encoding, "RKSJ"):
		for o := 0; o < len(s); {
			r, n, _ := sjisChar(s, o, tbl())
			dst = utf8.AppendRune(dst, r)
			o += n
		}
	case f != nil && bytesContainsFold(f.encoding, "Identity"):
		// CIDs without a ToUnicode map say nothing about their text.
	default:
		for _, c := range s {
			r, _ := win1252(c)
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}

func bytesContainsFold(s, sub string) bool {
	return bytes.Contains(bytes.ToUpper([]byte(s)), []byte(sub))
}

// pdfText appends the text shown by a content stream to dst.
func pdfText(content []byte, fonts map[string]*pdfFont, dst []byte) []byte {
	toks := pdfTokens(content)
	var font *pdfFont
	var operands [][]byte
	newline := func() {
		if len(dst) > 0 && dst[len(dst)-1] != '\n' {
			dst = append(dst, '\n')
		}
	}
	lastY := ""
	for _, t := range toks {
		c := t[0]
		if c == '(' || c == '<' || c == '[' || c == ']' || c == '/' || c == '-' || c == '.' || c == '+' || isDigitByte(c) {
			operands = append(operands, t)
			continue
		}
		switch string(t) {
		case "Tf":
			if len(operands) >= 2 {
				if n := operands[len(operands)-2]; len(n) > 1 && n[0] == '/' {
					font = fonts[string(n[1:])]
				}
			}
		case "Td", "TD":
			if len(operands) >= 2 {
				if y := operands[len(operands)-1]; string(y) != "0" && string(y) != "0.0" {
					newline()
				} else if len(dst) > 0 && dst[len(dst)-1] != '\n' && dst[len(dst)-1] != ' ' {
					dst = append(dst, ' ')
				}
			}
		case "Tm":
			if len(operands) >= 6 {
				y := string(operands[len(operands)-1])
				if y != lastY {
					newline()
				} else if len(dst) > 0 && dst[len(dst)-1] != '\n' && dst[len(dst)-1] != ' ' {
					dst = append(dst, ' ')
				}
				lastY = y
			}
		case "T*", "ET":
			newline()
		case "Tj", "'", "\"":
			if string(t) != "Tj" {
				newline()
			}
			if len(operands) > 0 {
				dst = showOperand(dst, operands[len(operands)-1], font)
			}
		case "TJ":
			for _, o := range operands {
				switch {
				case o[0] == '(' || o[0] == '<':
					dst = showOperand(dst, o, font)
				case o[0] == '-' || isDigitByte(o[0]):
					// A large negative kerning is a word gap.
					if v, err := strconv.ParseFloat(string(o), 64); err == nil && v < -200 &&
						len(dst) > 0 && dst[len(dst)-1] != ' ' {
						dst = append(dst, ' ')
					}
				}
			}
		}
		operands = operands[:0]
	}
	newline()
	return dst
}

func showOperand(dst, o []byte, f *pdfFont) []byte {
	switch o[0] {
	case '(':
		return showString(dst, literal(o), f)
	case '<':
		return showString(dst, decodeHex(o[1:len(o)-1]), f)
	}
	return dst
}
