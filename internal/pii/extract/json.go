package extract

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// JSON and JSON Lines: every top-level object, every object element of an
// array, and every line of JSON Lines is a record. Its string and number
// leaves are fields keyed by their member name (Key) and dotted path
// (Path: "customer.name"); objects nested in a record's object belong to
// that record, arrays of objects hold records of their own. Offsets point
// into the string's original bytes, escapes included.

// maxJSONDepth bounds nesting, which the parser follows by recursion.
const maxJSONDepth = 256

type jsonParser struct {
	e     *emitter
	text  string
	pos   int
	ln    lines
	depth int
	keys  []string
	// saved holds the fields of enclosing records while an inner one is
	// read; free recycles their slices.
	saved [][]Field
	free  [][]Field
	// lastEnd is the text position after the last record read whole.
	lastEnd int
}

type jsonError struct {
	pos int
	msg string
}

func (e *jsonError) Error() string { return e.msg }

// readJSON reads JSON or JSON Lines. sniffed says the format was guessed
// from a leading '{' or '[' (an INI file starts with "[section]"): if
// nothing in it parses as JSON, it is plain text, not a broken JSON file.
func (r *reader) readJSON(d *doc, member string, sniffed bool) error {
	e := r.emitter(d, member)
	p := &jsonParser{e: e, text: d.text, ln: newLines(d.text)}
	lines := false // JSON Lines: values end where their lines do
	for {
		p.skipWS()
		if p.pos >= len(p.text) {
			return nil
		}
		start := p.pos
		err := p.value("", true)
		if err == nil {
			err = e.flush()
		}
		if err == nil {
			if !lines {
				rest := p.text[p.pos:]
				nl := strings.IndexByte(rest, '\n')
				lines = nl >= 0 && strings.TrimSpace(rest[:nl]) == "" && strings.IndexByte(p.text[start:p.pos], '\n') < 0
			}
			continue
		}
		je, ok := err.(*jsonError)
		if !ok {
			return err
		}
		// Read the broken value on as text from where its last complete
		// record ended, keeping the fields read before that point: nothing
		// is lost and nothing is reported twice.
		q := max(start, p.lastEnd)
		if err := p.unwind(d.abs(d.orig(q))); err != nil {
			return err
		}
		qLine := p.ln.at(q)
		if !sniffed || p.lastEnd > 0 {
			r.report(member, p.ln.at(je.pos), fmt.Errorf("invalid JSON: %s", je.msg))
		}
		if lines || p.isLinesFrom(start) {
			end := lineEnd(p.text, je.pos)
			for a, line := q, qLine; a < end; line++ {
				c := lineEnd(p.text, a)
				e.addLine(a, c, line)
				a = c + 1
			}
			if err := e.flush(); err != nil {
				return err
			}
			p.pos = end
			lines = true
			continue
		}
		return p.restAsText(q, qLine)
	}
}

// isLinesFrom reports whether the value that failed at start began a line
// after earlier values: JSON Lines whose first line gave no clue.
func (p *jsonParser) isLinesFrom(start int) bool {
	return start > 0 && strings.TrimSpace(p.text[p.lineStart(start):start]) == ""
}

func (p *jsonParser) lineStart(pos int) int {
	return strings.LastIndexByte(p.text[:pos], '\n') + 1
}

// restAsText reads text[from:] line by line, one record per line.
func (p *jsonParser) restAsText(from, line int) error {
	e := p.e
	for a := from; a < len(p.text); line++ {
		c := lineEnd(p.text, a)
		e.addLine(a, c, line)
		if err := e.flush(); err != nil {
			return err
		}
		a = c + 1
	}
	return nil
}

// unwind flushes the records a failed value left open, with their fields
// that start before original offset before.
func (p *jsonParser) unwind(before int) error {
	p.e.b.reset()
	keep := func() {
		f := p.e.rec.Fields[:0]
		for _, x := range p.e.rec.Fields {
			if x.Offset(0) < int64(before) {
				f = append(f, x)
			}
		}
		p.e.rec.Fields = f
	}
	for len(p.saved) > 0 {
		keep()
		if err := p.pop(); err != nil {
			return err
		}
	}
	keep()
	p.depth, p.keys = 0, p.keys[:0]
	return p.e.flush()
}

func (p *jsonParser) push() {
	p.saved = append(p.saved, p.e.rec.Fields)
	var f []Field
	if n := len(p.free); n > 0 {
		f, p.free = p.free[n-1], p.free[:n-1]
	}
	p.e.rec.Fields = f
}

func (p *jsonParser) pop() error {
	p.lastEnd = p.pos
	err := p.e.flush()
	p.free = append(p.free, p.e.rec.Fields[:0])
	n := len(p.saved)
	p.e.rec.Fields, p.saved = p.saved[n-1], p.saved[:n-1]
	return err
}

func (p *jsonParser) fail(msg string) error { return &jsonError{p.pos, msg} }

func (p *jsonParser) skipWS() {
	for p.pos < len(p.text) {
		switch p.text[p.pos] {
		case ' ', '\t', '\r', '\n':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) path(key string) string {
	if len(p.keys) <= 1 {
		return key
	}
	return strings.Join(p.keys, ".")
}

// value parses one value; record says an object here starts a record.
func (p *jsonParser) value(key string, record bool) error {
	p.skipWS()
	if p.pos >= len(p.text) {
		return p.fail("unexpected end of input")
	}
	switch c := p.text[p.pos]; {
	case c == '{':
		return p.object(record)
	case c == '[':
		return p.array(key)
	case c == '"':
		return p.str(key)
	case c == '-' || c >= '0' && c <= '9':
		return p.number(key)
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	default:
		return p.fail(fmt.Sprintf("unexpected character %q", c))
	}
}

func (p *jsonParser) enter() error {
	p.depth++
	if p.depth > maxJSONDepth {
		return p.fail("nesting too deep")
	}
	if err := p.e.r.ctx.Err(); err != nil {
		return errStop{err}
	}
	return nil
}

func (p *jsonParser) object(record bool) error {
	if err := p.enter(); err != nil {
		return err
	}
	p.pos++
	if record {
		p.push()
	}
	p.skipWS()
	if p.pos < len(p.text) && p.text[p.pos] == '}' {
		p.pos++
	} else {
		for {
			p.skipWS()
			if p.pos >= len(p.text) || p.text[p.pos] != '"' {
				return p.fail("expected member name")
			}
			k, err := p.key()
			if err != nil {
				return err
			}
			p.skipWS()
			if p.pos >= len(p.text) || p.text[p.pos] != ':' {
				return p.fail("expected ':'")
			}
			p.pos++
			p.keys = append(p.keys, k)
			if err := p.value(k, false); err != nil {
				return err
			}
			p.keys = p.keys[:len(p.keys)-1]
			p.skipWS()
			if p.pos >= len(p.text) {
				return p.fail("unexpected end of input in object")
			}
			if c := p.text[p.pos]; c == '}' {
				p.pos++
				break
			} else if c != ',' {
				return p.fail("expected ',' or '}'")
			}
			p.pos++
		}
	}
	p.depth--
	if record {
		return p.pop()
	}
	return nil
}

func (p *jsonParser) array(key string) error {
	if err := p.enter(); err != nil {
		return err
	}
	p.pos++
	p.skipWS()
	if p.pos < len(p.text) && p.text[p.pos] == ']' {
		p.pos++
		p.depth--
		return nil
	}
	for {
		if err := p.value(key, true); err != nil {
			return err
		}
		p.skipWS()
		if p.pos >= len(p.text) {
			return p.fail("unexpected end of input in array")
		}
		if c := p.text[p.pos]; c == ']' {
			p.pos++
			break
		} else if c != ',' {
			return p.fail("expected ',' or ']'")
		}
		p.pos++
	}
	p.depth--
	return nil
}

func (p *jsonParser) literal(lit string) error {
	if !strings.HasPrefix(p.text[p.pos:], lit) {
		return p.fail("invalid literal")
	}
	p.pos += len(lit)
	return nil
}

func (p *jsonParser) number(key string) error {
	start := p.pos
	for p.pos < len(p.text) {
		c := p.text[p.pos]
		if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			p.pos++
			continue
		}
		break
	}
	if _, err := strconv.ParseFloat(p.text[start:p.pos], 64); err != nil && !isRangeErr(err) {
		return &jsonError{start, "invalid number"}
	}
	p.e.b.addRange(start, p.pos)
	p.e.rec.Fields = append(p.e.rec.Fields, p.e.b.field(key, p.ln.at(start)))
	p.e.rec.Fields[len(p.e.rec.Fields)-1].Path = p.path(key)
	return nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// str parses a string value into a field.
func (p *jsonParser) str(key string) error {
	start := p.pos
	p.pos++
	b := &p.e.b
	from := p.pos
	for {
		i := p.pos
		for i < len(p.text) && p.text[i] != '"' && p.text[i] != '\\' {
			i++
		}
		if i >= len(p.text) {
			p.pos = i
			return &jsonError{start, "unterminated string"}
		}
		b.addRange(from, i)
		p.pos = i
		if p.text[i] == '"' {
			p.pos++
			break
		}
		r, n, ok := unescape(p.text[i:])
		if !ok {
			return p.fail("invalid escape")
		}
		o1, o2 := p.e.b.d.orig(i), p.e.b.d.orig(i+n)
		b.addRune(r, o1, o2)
		p.pos = i + n
		from = p.pos
	}
	if b.pieces == 0 {
		return nil
	}
	f := b.field(key, p.ln.at(start))
	if strings.TrimSpace(f.Text) == "" {
		return nil
	}
	f.Path = p.path(key)
	p.e.rec.Fields = append(p.e.rec.Fields, f)
	return nil
}

// key parses a member name.
func (p *jsonParser) key() (string, error) {
	start := p.pos
	p.pos++
	i := strings.IndexAny(p.text[p.pos:], "\"\\")
	if i >= 0 && p.text[p.pos+i] == '"' {
		k := p.text[p.pos : p.pos+i]
		p.pos += i + 1
		return foldKey(k), nil
	}
	var sb strings.Builder
	for p.pos < len(p.text) {
		c := p.text[p.pos]
		switch c {
		case '"':
			p.pos++
			return foldKey(sb.String()), nil
		case '\\':
			r, n, ok := unescape(p.text[p.pos:])
			if !ok {
				return "", p.fail("invalid escape")
			}
			sb.WriteRune(r)
			p.pos += n
		default:
			sb.WriteByte(c)
			p.pos++
		}
	}
	return "", &jsonError{start, "unterminated member name"}
}

// unescape decodes the escape at the start of s (s[0] == '\\').
func unescape(s string) (rune, int, bool) {
	if len(s) < 2 {
		return 0, 0, false
	}
	switch s[1] {
	case '"', '\\', '/':
		return rune(s[1]), 2, true
	case 'b':
		return '\b', 2, true
	case 'f':
		return '\f', 2, true
	case 'n':
		return '\n', 2, true
	case 'r':
		return '\r', 2, true
	case 't':
		return '\t', 2, true
	case 'u':
		u, ok := hex4(s[2:])
		if !ok {
			return 0, 0, false
		}
		if utf16.IsSurrogate(rune(u)) {
			if len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
				if v, ok := hex4(s[8:]); ok {
					if r := utf16.DecodeRune(rune(u), rune(v)); r != utf8.RuneError {
						return r, 12, true
					}
				}
			}
			return utf8.RuneError, 6, true
		}
		return rune(u), 6, true
	}
	return 0, 0, false
}

func hex4(s string) (uint16, bool) {
	if len(s) < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(s[:4], 16, 16)
	return uint16(v), err == nil
}
