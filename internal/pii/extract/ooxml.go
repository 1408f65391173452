package extract

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Office Open XML: .xlsx rows are records (the first row of a sheet is the
// header when it looks like one, giving every cell its column's Key) and
// .docx paragraphs are lines of a text, its table rows records. Offsets of
// these fields are offsets in the XML part they come from, named by
// Field.Member ("xl/worksheets/sheet1.xml", "word/document.xml"; prefixed
// by the archive member when the document is itself inside an archive).
// Every cell of a spreadsheet row is named by its sheet, shared strings
// included: a row is one record of one sheet, and records are numbered per
// sheet, so a cell named by the shared-strings part could not say which
// sheet's row it belongs to. A shared-string cell's characters all map to
// its string index in the sheet (the <v> of the cell), as a date serial
// number's do. Field.Line of a spreadsheet cell is its row number.

// xmlDoc wraps an XML part, UTF-8 by the OOXML standard, as a doc.
func xmlDoc(b []byte) *doc {
	return &doc{text: string(b), data: b, enc: UTF8, ident: true, firstBad: -1}
}

// addXML appends the character data d.text[a:c], resolving entities and
// CDATA sections.
func (b *builder) addXML(a, c int) {
	text := b.d.text
	if strings.HasPrefix(text[a:c], "<![CDATA[") && strings.HasSuffix(text[a:c], "]]>") {
		b.addRange(a+9, c-3)
		return
	}
	for a < c {
		i := strings.IndexByte(text[a:c], '&')
		if i < 0 {
			b.addRange(a, c)
			return
		}
		b.addRange(a, a+i)
		a += i
		j := strings.IndexByte(text[a:c], ';')
		if j < 0 || j > 12 {
			b.addRange(a, a+1)
			a++
			continue
		}
		r, ok := entity(text[a+1 : a+j])
		if !ok {
			b.addRange(a, a+j+1)
		} else {
			b.addRune(r, a+b.d.skip, a+j+1+b.d.skip)
		}
		a += j + 1
	}
}

func entity(s string) (rune, bool) {
	switch s {
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "amp":
		return '&', true
	case "quot":
		return '"', true
	case "apos":
		return '\'', true
	}
	if strings.HasPrefix(s, "#") {
		var v uint64
		var err error
		if strings.HasPrefix(s, "#x") || strings.HasPrefix(s, "#X") {
			v, err = strconv.ParseUint(s[2:], 16, 32)
		} else {
			v, err = strconv.ParseUint(s[1:], 10, 32)
		}
		if err == nil && utf8.ValidRune(rune(v)) {
			return rune(v), true
		}
	}
	return 0, false
}

// part inflates the named OOXML part, or returns nil.
func (r *reader) part(member string, entries []zipEntry, name string) []byte {
	for _, e := range entries {
		if e.name == name {
			b, ok := r.member(joinMember(member, name), e)
			if !ok {
				return nil
			}
			return b
		}
	}
	return nil
}

// xmlWalker yields raw tokens with their offsets in the part.
type xmlWalker struct {
	dec *xml.Decoder
	off int // offset of the token last returned
}

func newXMLWalker(b []byte) *xmlWalker {
	dec := xml.NewDecoder(strings.NewReader(string(b)))
	dec.Strict = false
	return &xmlWalker{dec: dec}
}

// next returns the next token and the end offset of its bytes.
func (w *xmlWalker) next() (xml.Token, int, error) {
	w.off = int(w.dec.InputOffset())
	t, err := w.dec.RawToken()
	return t, int(w.dec.InputOffset()), err
}

// readXLSX reads the sheets of a workbook in part-name order.
func (r *reader) readXLSX(member string, entries []zipEntry) error {
	shared, sd := r.sharedStrings(member, entries)
	var sheets []zipEntry
	for _, e := range entries {
		if strings.HasPrefix(e.name, "xl/worksheets/") && strings.HasSuffix(e.name, ".xml") && !strings.Contains(e.name[len("xl/worksheets/"):], "/") {
			sheets = append(sheets, e)
		}
	}
	sort.Slice(sheets, func(i, j int) bool { return naturalLess(sheets[i].name, sheets[j].name) })
	if len(sheets) == 0 {
		r.report(member, 0, errors.New("xlsx: no worksheets"))
	}
	for _, s := range sheets {
		m := joinMember(member, s.name)
		b, ok := r.member(m, s)
		if !ok {
			continue
		}
		if err := r.readSheet(m, b, shared, sd); err != nil {
			return err
		}
	}
	return nil
}

// naturalLess orders sheet2.xml before sheet10.xml.
func naturalLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// sharedStrings reads xl/sharedStrings.xml: for each string, the character
// data ranges of its text runs (phonetic guides, <rPh>, left out).
func (r *reader) sharedStrings(member string, entries []zipEntry) ([][][2]int, *doc) {
	b := r.part(member, entries, "xl/sharedStrings.xml")
	if b == nil {
		return nil, nil
	}
	d := xmlDoc(b)
	var out [][][2]int
	w := newXMLWalker(b)
	var cur [][2]int
	inSI, inT, inPh := false, false, false
	for {
		tok, end, err := w.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.report(joinMember(member, "xl/sharedStrings.xml"), d.lineOf(w.off), fmt.Errorf("xlsx: %w", err))
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				inSI, cur = true, nil
			case "t":
				inT = true
			case "rPh":
				inPh = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				inSI = false
				out = append(out, cur)
			case "t":
				inT = false
			case "rPh":
				inPh = false
			}
		case xml.CharData:
			if inSI && inT && !inPh {
				cur = append(cur, [2]int{w.off, end})
			}
		}
	}
	return out, d
}

// xcell is one spreadsheet cell as ranges of one XML part.
type xcell struct {
	col    int
	d      *doc
	pieces [][2]int
	num    bool // a number cell (dates are numbers with a date style)
	// at is where a shared-string cell's index is in the sheet.
	at int
}

// dateKeys mark columns whose numbers are dates: birth dates are the
// personal ones.
var dateKeys = []string{"生年月日", "誕生日", "birth", "dob", "生まれ"}

// serialDate adds a number cell of a date column as the date it stands for
// (Excel counts days from 1899-12-30), every character mapped to the
// number's bytes. It reports whether it did.
func (c *xcell) serialDate(em *emitter, key string) bool {
	if !c.num || len(c.pieces) != 1 || key == "" {
		return false
	}
	k := strings.ToLower(key)
	dated := false
	for _, w := range dateKeys {
		if strings.Contains(k, w) {
			dated = true
			break
		}
	}
	if !dated {
		return false
	}
	p := c.pieces[0]
	v, err := strconv.ParseFloat(strings.TrimSpace(c.d.text[p[0]:p[1]]), 64)
	if err != nil || v < 1 || v >= 2958466 {
		return false
	}
	t := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(v))
	for _, r := range t.Format("2006/01/02") {
		em.b.addRune(r, p[0], p[1])
	}
	return true
}

// readSheet reads one worksheet part.
func (r *reader) readSheet(m string, b []byte, shared [][][2]int, sd *doc) error {
	d := xmlDoc(b)
	e := r.emitter(d, m)
	se := r.emitter(sd, m)
	w := newXMLWalker(b)
	var (
		row      []xcell
		rowNum   int
		header   []string
		first    = true
		cur      *xcell
		typ      string
		inV, inT bool
	)
	flushRow := func() error {
		defer func() { row = row[:0] }()
		if len(row) == 0 {
			return nil
		}
		if first {
			first = false
			var texts []string
			for _, c := range row {
				texts = append(texts, joinPieces(c.d.text, c.pieces, true))
			}
			if isHeaderTexts(texts) {
				for _, c := range row {
					for len(header) <= c.col {
						header = append(header, "")
					}
					header[c.col] = foldKey(joinPieces(c.d.text, c.pieces, true))
				}
				return nil
			}
		}
		for _, c := range row {
			key := ""
			if c.col < len(header) {
				key = header[c.col]
			}
			em := e
			if c.d != d {
				em = se
			}
			if !c.serialDate(em, key) {
				for _, p := range c.pieces {
					em.b.addXML(p[0], p[1])
				}
			}
			if em.b.pieces == 0 {
				continue
			}
			f := em.b.field(key, rowNum)
			if em == se {
				at := int64(d.abs(c.at))
				f.lz, f.spans = nil, []span{{0, at}, {len(f.Text), at}}
			}
			if strings.TrimSpace(f.Text) != "" {
				e.rec.Fields = append(e.rec.Fields, f)
			}
		}
		return e.flush()
	}
	for {
		tok, end, err := w.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.report(m, d.lineOf(w.off), fmt.Errorf("xlsx: %w", err))
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				if err := flushRow(); err != nil {
					return err
				}
				rowNum++
				if v, err := strconv.Atoi(attr(t, "r")); err == nil {
					rowNum = v
				}
			case "c":
				col := len(row)
				if ref := attr(t, "r"); ref != "" {
					col = colIndex(ref)
				}
				typ = attr(t, "t")
				row = append(row, xcell{col: col, d: d, num: typ == "" || typ == "n"})
				cur = &row[len(row)-1]
			case "v":
				inV = true
			case "t":
				inT = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v":
				inV = false
			case "t":
				inT = false
			case "c":
				cur = nil
			}
		case xml.CharData:
			if cur == nil {
				continue
			}
			switch {
			case inV && typ == "s":
				i, err := strconv.Atoi(strings.TrimSpace(string(t)))
				if err == nil && i >= 0 && i < len(shared) {
					cur.d, cur.pieces, cur.at = sd, shared[i], w.off
				}
			case inV && (typ == "" || typ == "n" || typ == "str"), inT && typ == "inlineStr":
				cur.pieces = append(cur.pieces, [2]int{w.off, end})
			}
		}
	}
	return flushRow()
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// colIndex turns a cell reference ("B3") into a 0-based column.
func colIndex(ref string) int {
	n := 0
	for i := 0; i < len(ref) && i < 4; i++ {
		c := ref[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c < 'A' || c > 'Z' {
			break
		}
		n = n*26 + int(c-'A'+1)
	}
	return max(n-1, 0)
}

// joinPieces returns the text of XML character data ranges, entities
// resolved when xmlText is set.
func joinPieces(text string, pieces [][2]int, xmlText bool) string {
	var sb strings.Builder
	for _, p := range pieces {
		s := text[p[0]:p[1]]
		if xmlText && strings.ContainsRune(s, '&') {
			var v struct {
				S string `xml:",chardata"`
			}
			if xml.Unmarshal([]byte("<x>"+s+"</x>"), &v) == nil {
				s = v.S
			}
		}
		sb.WriteString(s)
	}
	return sb.String()
}

// readDOCX reads word/document.xml: paragraphs as lines of a text, table
// rows as records of their own (the first row of a table as its header
// when it looks like one).
func (r *reader) readDOCX(member string, entries []zipEntry) error {
	const part = "word/document.xml"
	m := joinMember(member, part)
	b := r.part(member, entries, part)
	if b == nil {
		r.report(member, 0, errors.New("docx: no word/document.xml"))
		return nil
	}
	d := xmlDoc(b)
	e := r.emitter(d, m)
	w := newXMLWalker(b)
	var (
		paras    []Field // paragraphs outside tables; empty Text ends a block
		inT      bool
		tblDepth int
		rowCells []Field
		header   []string
		firstRow bool
	)
	endPara := func() Field {
		if e.b.pieces == 0 {
			return Field{}
		}
		return e.b.field("", 0)
	}
	for {
		tok, end, err := w.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.report(m, d.lineOf(w.off), fmt.Errorf("docx: %w", err))
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "p":
				e.b.reset()
			case "t":
				inT = true
			case "tab":
				if e.b.pieces > 0 {
					e.b.addRune('\t', w.off, end)
				}
			case "br", "cr":
				if e.b.pieces > 0 {
					e.b.addRune('\n', w.off, end)
				}
			case "tbl":
				tblDepth++
				if tblDepth == 1 {
					header, firstRow = nil, true
				}
			case "tr":
				rowCells = rowCells[:0]
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inT = false
			case "p":
				f := endPara()
				if tblDepth > 0 {
					if strings.TrimSpace(f.Text) != "" {
						rowCells = append(rowCells, f)
					}
					continue
				}
				paras = append(paras, f)
			case "tc":
				// A cell of several paragraphs is still one cell: keep
				// them as separate fields, keyed alike below.
				rowCells = append(rowCells, Field{})
			case "tr":
				if tblDepth != 1 {
					continue
				}
				if err := e.tableRow(rowCells, &header, &firstRow); err != nil {
					return err
				}
			case "tbl":
				tblDepth--
			}
		case xml.CharData:
			if inT {
				e.b.addXML(w.off, end)
			}
		}
	}
	return e.paragraphs(paras)
}

// tableRow emits a docx table row; cells are fields separated by empty
// markers. The first row is the table's header when it looks like one.
func (e *emitter) tableRow(cells []Field, header *[]string, firstRow *bool) error {
	var groups [][]Field
	var cur []Field
	for _, f := range cells {
		if f.Text == "" && f.spans == nil {
			groups = append(groups, cur)
			cur = nil
			continue
		}
		cur = append(cur, f)
	}
	if *firstRow {
		*firstRow = false
		var texts []string
		for _, g := range groups {
			var parts []string
			for _, f := range g {
				parts = append(parts, f.Text)
			}
			texts = append(texts, strings.Join(parts, " "))
		}
		if isHeaderTexts(texts) {
			for _, t := range texts {
				*header = append(*header, foldKey(t))
			}
			return nil
		}
	}
	for i, g := range groups {
		for _, f := range g {
			if i < len(*header) {
				f.Key = (*header)[i]
			}
			e.appendSplit(f)
		}
	}
	return e.flush()
}

// paragraphs groups document paragraphs like the lines of a text: a short
// document is one record, a long one a record per block.
func (e *emitter) paragraphs(paras []Field) error {
	short := len(paras) < letterLines
	n := 0
	for _, f := range paras {
		if strings.TrimSpace(f.Text) == "" {
			if !short || n > blockLines {
				if err := e.flush(); err != nil {
					return err
				}
				n = 0
			}
			continue
		}
		n++
		e.appendSplit(f)
		if !short && n > blockLines {
			if err := e.flush(); err != nil {
				return err
			}
		}
	}
	return e.flush()
}

// appendSplit appends f, split at its label when it has one (see
// addLine).
func (e *emitter) appendSplit(f Field) {
	if f.Key != "" {
		e.rec.Fields = append(e.rec.Fields, f)
		return
	}
	k, v := labelEnd(f.Text)
	if k == 0 {
		e.rec.Fields = append(e.rec.Fields, f)
		return
	}
	a, c := trim(f.Text, v, len(f.Text))
	if a >= c {
		e.rec.Fields = append(e.rec.Fields, f)
		return
	}
	if labelHoldsMore(f.Text[:k]) {
		e.rec.Fields = append(e.rec.Fields, f.sub(0, k))
	}
	g := f.sub(a, c)
	g.Key = foldKey(f.Text[:k])
	e.rec.Fields = append(e.rec.Fields, g)
}

// sub returns the field narrowed to Text[i:j].
func (f Field) sub(i, j int) Field {
	g := f
	g.Text = f.Text[i:j]
	if f.lz != nil {
		g.lz = &lazyRef{d: f.lz.d, c: f.lz.walk(i, true)}
		return g
	}
	sp := []span{{0, f.Offset(i)}}
	for _, s := range f.spans {
		if s.text > i && s.text < j {
			sp = append(sp, span{s.text - i, s.orig})
		}
	}
	g.spans = append(sp, span{j - i, f.Offset(j)})
	return g
}

// isHeaderTexts is isHeader for cells given as strings.
func isHeaderTexts(texts []string) bool {
	cells := make([]cell, len(texts))
	var sb strings.Builder
	for i, t := range texts {
		a := sb.Len()
		sb.WriteString(t)
		cells[i] = cell{pieces: [][2]int{{a, sb.Len()}}}
	}
	return isHeader(sb.String(), cells)
}
