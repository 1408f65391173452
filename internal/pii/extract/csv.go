package extract

import (
	"strings"
	"unicode/utf8"
)

// maxQuoted bounds a quoted cell: a stray quote must not swallow the rest
// of the file into one cell.
const maxQuoted = 64 << 10

// headerWords are words of column titles that name personal data; a first
// row holding one (and no values) is a header.
var headerWords = []string{
	"氏名", "名前", "お名前", "顧客", "姓", "フリガナ", "ふりがな", "カナ", "住所", "所在地", "電話", "携帯", "tel",
	"fax", "メール", "mail", "生年月日", "誕生日", "個人番号", "マイナンバー", "郵便番号", "〒", "口座", "銀行", "支店",
	"カード", "旅券", "パスポート", "免許", "name", "phone", "address", "addr", "dob", "birth", "card", "zip",
	"postal", "account", "passport", "license", "licence", "mobile", "id", "番号", "no", "code",
}

// readCSV reads delimited text: each row is a record, each cell a field
// keyed by its column's header when the first row is one. sep is the
// expected delimiter; the first line may show another (';', '|', tab).
func (r *reader) readCSV(d *doc, member string, sep byte) error {
	e := r.emitter(d, member)
	text := d.text
	sep = sniffSep(text, sep)
	p := &csvParser{text: text, sep: sep, ln: newLines(text)}
	var header []string
	// The header is the first row of two or more cells among the first
	// few: exports often start with a title line.
	look := 5
	for p.pos < len(text) {
		cells, err := p.row()
		if err != nil {
			r.report(member, err.line, err)
		}
		if len(cells) == 0 {
			continue
		}
		if look > 0 && filled(text, cells) >= 2 {
			look = 0
			if isHeader(text, cells) {
				header = make([]string, len(cells))
				for i, c := range cells {
					header[i] = foldKey(unquoteSimple(text, c))
				}
				continue
			}
		}
		look--
		for i, c := range cells {
			key := ""
			if i < len(header) {
				key = header[i]
			}
			e.cell(c, key)
		}
		if err := e.flush(); err != nil {
			return err
		}
	}
	return nil
}

// filled counts the cells that are not blank.
func filled(text string, cells []cell) int {
	n := 0
	for _, c := range cells {
		for _, pc := range c.pieces {
			if a, b := trim(text, pc[0], pc[1]); a < b {
				n++
				break
			}
		}
	}
	return n
}

// cell is one CSV cell: pieces of text (more than one when doubled quotes
// were removed) and its line.
type cell struct {
	pieces [][2]int
	line   int
}

// cell adds a parsed cell as a field.
func (e *emitter) cell(c cell, key string) {
	if len(c.pieces) == 1 {
		e.add(c.pieces[0][0], c.pieces[0][1], key, c.line)
		return
	}
	text := e.b.d.text
	// Trim the cell as a whole: leading space of the first piece, trailing
	// of the last.
	ps := c.pieces
	ps[0][0], _ = trim(text, ps[0][0], ps[0][1])
	_, ps[len(ps)-1][1] = trim(text, ps[len(ps)-1][0], ps[len(ps)-1][1])
	for _, pc := range ps {
		e.b.addRange(pc[0], pc[1])
	}
	if e.b.pieces == 0 {
		return
	}
	e.rec.Fields = append(e.rec.Fields, e.b.field(key, c.line))
}

type csvError struct {
	line int
	msg  string
}

func (e *csvError) Error() string { return e.msg }

type csvParser struct {
	text  string
	sep   byte
	pos   int
	ln    lines
	cells []cell
	// buf backs the cells' pieces; a cell's pieces are contiguous in it.
	buf [][2]int
	// quote caches the position of the first '"' at or after quoteFrom
	// (-1: none), so that stray quotes cost no rescans.
	quote, quoteFrom int
	quoteOK          bool
}

// nextQuote returns the position of the first '"' at or after i, or -1.
func (p *csvParser) nextQuote(i int) int {
	if !p.quoteOK || i < p.quoteFrom || p.quote >= 0 && p.quote < i {
		p.quoteFrom, p.quoteOK = i, true
		p.quote = strings.IndexByte(p.text[i:], '"')
		if p.quote >= 0 {
			p.quote += i
		}
	}
	return p.quote
}

// row parses one row starting at p.pos. Its cells are valid until the next
// call.
func (p *csvParser) row() ([]cell, *csvError) {
	text := p.text
	p.cells = p.cells[:0]
	p.buf = p.buf[:0]
	var err *csvError
	for {
		start := p.pos
		line := p.ln.at(start)
		// Skip spaces before an opening quote.
		q := start
		for q < len(text) && text[q] == ' ' {
			q++
		}
		if q < len(text) && text[q] == '"' {
			c, end, ok := p.quoted(q+1, line)
			if ok {
				p.cells = append(p.cells, c)
				// Anything between the closing quote and the delimiter
				// belongs to the cell too.
				e := end
				for e < len(text) && text[e] != p.sep && text[e] != '\n' {
					e++
				}
				if end < e {
					n := len(c.pieces) + 1
					p.buf = append(p.buf, [2]int{end, trimCR(text, end, e)})
					p.cells[len(p.cells)-1].pieces = p.buf[len(p.buf)-n : len(p.buf) : len(p.buf)]
				}
				p.pos = e
			} else {
				err = &csvError{line, "unterminated quoted field; read as unquoted"}
				e := p.plainEnd(q + 1)
				p.cells = append(p.cells, cell{pieces: p.piece(q+1, trimCR(text, q+1, e)), line: line})
				p.pos = e
			}
		} else {
			e := p.plainEnd(start)
			p.cells = append(p.cells, cell{pieces: p.piece(start, trimCR(text, start, e)), line: line})
			p.pos = e
		}
		if p.pos >= len(text) {
			break
		}
		if text[p.pos] == '\n' {
			p.pos++
			break
		}
		p.pos++ // the delimiter
		if p.pos == len(text) {
			break
		}
	}
	// A blank line is no row.
	if len(p.cells) == 1 && len(p.cells[0].pieces) == 1 {
		if a, c := trim(text, p.cells[0].pieces[0][0], p.cells[0].pieces[0][1]); a == c {
			return nil, err
		}
	}
	return p.cells, err
}

// piece returns a one-piece slice backed by p.buf.
func (p *csvParser) piece(a, c int) [][2]int {
	p.buf = append(p.buf, [2]int{a, c})
	n := len(p.buf)
	return p.buf[n-1 : n : n]
}

func trimCR(text string, a, e int) int {
	if e > a && text[e-1] == '\r' {
		return e - 1
	}
	return e
}

// plainEnd returns the end of an unquoted cell starting at a.
func (p *csvParser) plainEnd(a int) int {
	text := p.text
	for i := a; i < len(text); i++ {
		if c := text[i]; c == p.sep || c == '\n' {
			return i
		}
	}
	return len(text)
}

// quoted parses a quoted cell whose content starts at a, returning its
// pieces (split where "" stands for ") and the position after the closing
// quote.
func (p *csvParser) quoted(a, line int) (cell, int, bool) {
	text := p.text
	c := cell{line: line}
	first := len(p.buf)
	limit := min(len(text), a+maxQuoted)
	from := a
	for i := a; i < limit; i++ {
		if i = p.nextQuote(i); i < 0 || i >= limit {
			break
		}
		if i+1 < len(text) && text[i+1] == '"' {
			p.buf = append(p.buf, [2]int{from, i + 1})
			from = i + 2
			i++
			continue
		}
		p.buf = append(p.buf, [2]int{from, i})
		c.pieces = p.buf[first:len(p.buf):len(p.buf)]
		return c, i + 1, true
	}
	p.buf = p.buf[:first]
	return cell{}, 0, false
}

// unquoteSimple returns a cell's text with its pieces joined.
func unquoteSimple(text string, c cell) string {
	if len(c.pieces) == 1 {
		return text[c.pieces[0][0]:c.pieces[0][1]]
	}
	var b strings.Builder
	for _, pc := range c.pieces {
		b.WriteString(text[pc[0]:pc[1]])
	}
	return b.String()
}

// isHeader decides whether a first row is a header: a known column word
// and no values (no '@', no cell mostly digits), or, without known words,
// at least two short cells none of which holds a digit or '@'.
func isHeader(text string, cells []cell) bool {
	known, plain := false, len(cells) >= 2
	for _, c := range cells {
		s := strings.ToLower(foldKey(unquoteSimple(text, c)))
		if strings.ContainsRune(s, '@') || utf8.RuneCountInString(s) > 40 {
			return false
		}
		digits := 0
		for i := 0; i < len(s); i++ {
			if s[i] >= '0' && s[i] <= '9' {
				digits++
			}
		}
		if digits > 0 {
			plain = false
			if digits*2 >= len(s) {
				return false
			}
		}
		if s == "" {
			plain = false
		}
		if !known && hasHeaderWord(s) {
			known = true
		}
	}
	return known || plain
}

func hasHeaderWord(s string) bool {
	for _, w := range headerWords {
		if w[0] < utf8.RuneSelf && len(w) <= 3 {
			// Short ASCII words must stand alone: "id" but not "idle".
			if asciiWord(s, w) {
				return true
			}
			continue
		}
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// asciiWord reports whether w occurs in s not flanked by ASCII letters.
func asciiWord(s, w string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		j += i
		before := j == 0 || !isLetter(s[j-1])
		after := j+len(w) == len(s) || !isLetter(s[j+len(w)])
		if before && after {
			return true
		}
		i = j + 1
	}
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// sniffSep picks the delimiter of the first line: the expected one unless
// another of tab, ';' and '|' is clearly more frequent.
func sniffSep(text string, want byte) byte {
	first := text[:lineEnd(text, 0)]
	best, n := want, strings.Count(first, string(want))
	for _, c := range []byte{',', '\t', ';', '|'} {
		if k := strings.Count(first, string(c)); k > n {
			best, n = c, k
		}
	}
	return best
}

// sniffDelimited recognises delimited text without a telling extension:
// the first lines (at least three, or two under a header of known column
// words) hold the same number of tabs, or of commas under such a header.
func sniffDelimited(text string) byte {
	for _, sep := range []byte{'\t', ','} {
		count, lines := -1, 0
		ok, header := true, false
		for a := 0; a < len(text) && lines < 20; {
			c := lineEnd(text, a)
			l := text[a:c]
			a = c + 1
			if strings.TrimSpace(l) == "" {
				continue
			}
			k := strings.Count(l, string(sep))
			if count < 0 {
				count = k
				header = hasHeaderWord(strings.ToLower(foldKey(l)))
				if sep == ',' && !header {
					ok = false
					break
				}
			}
			if k != count || k == 0 {
				ok = false
				break
			}
			lines++
		}
		if ok && (lines >= 3 || lines == 2 && header) {
			return sep
		}
	}
	return 0
}
