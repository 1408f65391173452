package extract

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"

	"golang.org/x/text/encoding/htmlindex"
)

// E-mail (RFC 5322 with MIME, alone or in an mbox): a message is one record, a letter from
// and to its correspondents: the address headers (Key "From", "To", …),
// the subject and the lines of its text parts (HTML with tags left out).
// Attachments and enclosed messages are read through Read as members named
// by their file names ("part2" when they have none). Offsets are exact in
// 7bit and 8bit parts; in quoted-printable and base64 parts they point to
// the encoded characters that hold each decoded byte; inside an encoded
// word of a header, to the word's start.

var emlHeaders = map[string]bool{
	"from": true, "to": true, "cc": true, "bcc": true, "reply-to": true, "sender": true,
	"subject": true, "return-path": true, "delivered-to": true, "disposition-notification-to": true,
}

// maxMIMEDepth bounds multipart nesting.
const maxMIMEDepth = 20

// looksLikeEML reports whether data starts with a mail header block: its
// first line a header with a name mail uses.
func looksLikeEML(data []byte) bool {
	head := data[:min(len(data), 4096)]
	first, rest, _ := bytes.Cut(head, []byte("\n"))
	if bytes.HasPrefix(first, []byte("From ")) {
		// An mbox: the message's headers follow the separator line.
		first, _, _ = bytes.Cut(rest, []byte("\n"))
	}
	name, _, ok := bytes.Cut(first, []byte(":"))
	if !ok {
		return false
	}
	switch strings.ToLower(string(name)) {
	case "received", "return-path", "from", "to", "message-id", "mime-version", "date", "subject",
		"delivered-to", "x-mailer", "reply-to", "dkim-signature", "arc-seal", "authentication-results":
	default:
		return false
	}
	// More headers follow and then a blank line.
	return bytes.Contains(head, []byte("\n\n")) || bytes.Contains(head, []byte("\r\n\r\n")) || len(data) <= 4096
}

type emlReader struct {
	r      *reader
	data   []byte
	member string
	depth  int
	e      *emitter
	ln     lines
	enc    Encoding // the encoding of 8-bit bytes without a charset
	parts  int
	words  mime.WordDecoder
}

func (r *reader) readEML(member string, data []byte, depth int) error {
	enc, _ := Detect(data)
	if enc == UTF16LE || enc == UTF16BE {
		enc = UTF8
	}
	m := &emlReader{r: r, data: data, member: member, depth: depth, enc: enc, ln: newLines(string(data))}
	m.words.CharsetReader = charsetReader
	m.e = r.emitter(xmlDoc(nil), member)
	for _, msg := range mboxMessages(data) {
		if err := m.entity(msg[0], msg[1], 0, true); err != nil {
			return err
		}
		if err := m.e.flush(); err != nil {
			return err
		}
	}
	return nil
}

// mboxMessages splits an mbox (messages each after a "From " line) into
// its messages; anything else is one message.
func mboxMessages(data []byte) [][2]int {
	if !bytes.HasPrefix(data, []byte("From ")) {
		return [][2]int{{0, len(data)}}
	}
	var out [][2]int
	start := -1
	for p := 0; p < len(data); {
		e := bytes.IndexByte(data[p:], '\n')
		next := len(data)
		if e >= 0 {
			next = p + e + 1
		}
		if bytes.HasPrefix(data[p:], []byte("From ")) && (p == 0 || data[p-1] == '\n' && (p < 2 || data[p-2] == '\n' || p >= 3 && data[p-3] == '\n' && data[p-2] == '\r')) {
			if start >= 0 {
				out = append(out, [2]int{start, p})
			}
			start = next
		}
		p = next
	}
	if start >= 0 && start < len(data) {
		out = append(out, [2]int{start, len(data)})
	}
	return out
}

func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(input), nil
}

// header is one header field; pieces are the value's ranges in data, one
// per physical line.
type header struct {
	name   string
	pieces [][2]int
}

func (h header) value(data []byte) string {
	var sb strings.Builder
	for _, p := range h.pieces {
		sb.Write(data[p[0]:p[1]])
	}
	return sb.String()
}

// headers parses the header block at data[a:b] and returns it with the
// start of the body.
func (m *emlReader) headers(a, b int) ([]header, int) {
	data := m.data
	var hs []header
	p := a
	for p < b {
		e := bytes.IndexByte(data[p:b], '\n')
		end := b
		if e >= 0 {
			end = p + e
		}
		line := data[p:end]
		next := min(end+1, b)
		if len(bytes.TrimRight(line, "\r")) == 0 {
			return hs, next
		}
		ve := end
		if ve > p && data[ve-1] == '\r' {
			ve--
		}
		if (line[0] == ' ' || line[0] == '\t') && len(hs) > 0 {
			hs[len(hs)-1].pieces = append(hs[len(hs)-1].pieces, [2]int{p, ve})
		} else if i := bytes.IndexByte(line, ':'); i > 0 {
			vs := p + i + 1
			for vs < ve && (data[vs] == ' ' || data[vs] == '\t') {
				vs++
			}
			hs = append(hs, header{name: string(bytes.TrimSpace(line[:i])), pieces: [][2]int{{vs, ve}}})
		} else if len(hs) == 0 {
			// Not a header block at all: the whole is body.
			return nil, a
		}
		p = next
	}
	return hs, b
}

func get(hs []header, data []byte, name string) string {
	for _, h := range hs {
		if strings.EqualFold(h.name, name) {
			return strings.TrimSpace(h.value(data))
		}
	}
	return ""
}

// entity reads one MIME entity at data[a:b]; top marks the message's own
// headers, whose address fields join the record.
func (m *emlReader) entity(a, b, level int, top bool) error {
	if level > maxMIMEDepth {
		m.r.report(m.member, m.ln.at(a), errors.New("e-mail: MIME nesting too deep"))
		return nil
	}
	data := m.data
	hs, body := m.headers(a, b)
	if top {
		for _, h := range hs {
			if emlHeaders[strings.ToLower(h.name)] {
				m.headerField(h)
			}
		}
	}
	ctype, params, err := mime.ParseMediaType(get(hs, data, "Content-Type"))
	if err != nil {
		ctype, params = "text/plain", nil
	}
	disp, dparams, _ := mime.ParseMediaType(get(hs, data, "Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if name != "" {
		if dec, err := m.words.DecodeHeader(name); err == nil {
			name = dec
		}
	}
	cte := strings.ToLower(get(hs, data, "Content-Transfer-Encoding"))
	switch {
	case strings.HasPrefix(ctype, "multipart/"):
		return m.multipart(body, b, params["boundary"], level)
	case ctype == "message/rfc822" || ctype == "message/global":
		m.parts++
		content, _ := m.decodeBody(body, b, cte)
		return m.attachment(fmt.Sprintf("part%d.eml", m.parts), content)
	case disp == "attachment" || name != "" || !strings.HasPrefix(ctype, "text/"):
		m.parts++
		if name == "" {
			name = fmt.Sprintf("part%d", m.parts)
		}
		content, _ := m.decodeBody(body, b, cte)
		return m.attachment(path.Base(name), content)
	}
	m.parts++
	return m.textPart(body, b, cte, params["charset"], ctype == "text/html")
}

// multipart reads the parts of data[a:b] between boundary lines.
func (m *emlReader) multipart(a, b int, boundary string, level int) error {
	if boundary == "" {
		m.r.report(m.member, m.ln.at(a), errors.New("e-mail: multipart without boundary"))
		return m.textPart(a, b, "", "", false)
	}
	delim := []byte("--" + boundary)
	data := m.data
	start := -1
	for p := a; p < b; {
		i := bytes.Index(data[p:b], delim)
		if i < 0 {
			break
		}
		i += p
		// A delimiter starts a line.
		if i > a && data[i-1] != '\n' {
			p = i + len(delim)
			continue
		}
		after := i + len(delim)
		closing := bytes.HasPrefix(data[after:b], []byte("--"))
		if start >= 0 {
			end := i
			if end > start && data[end-1] == '\n' {
				end--
			}
			if end > start && data[end-1] == '\r' {
				end--
			}
			if err := m.entity(start, end, level+1, false); err != nil {
				return err
			}
		}
		if closing {
			return nil
		}
		nl := bytes.IndexByte(data[after:b], '\n')
		if nl < 0 {
			return nil
		}
		start = after + nl + 1
		p = start
	}
	if start >= 0 && start < b {
		m.r.report(m.member, m.ln.at(start), errors.New("e-mail: multipart without closing boundary"))
		return m.entity(start, b, level+1, false)
	}
	return nil
}

// attachment reads a decoded attachment as an archive member.
func (m *emlReader) attachment(name string, content []byte) error {
	if len(content) == 0 {
		return nil
	}
	mem := joinMember(m.member, name)
	if m.depth+1 > m.r.lim.MaxDepth {
		m.r.report(mem, 0, fmt.Errorf("attachment nested deeper than %d levels not read", m.r.lim.MaxDepth))
		return nil
	}
	if m.r.total+int64(len(content)) > m.r.lim.MaxTotal {
		m.r.report(mem, 0, fmt.Errorf("archive contents exceed %d bytes; the rest not read", m.r.lim.MaxTotal))
		return nil
	}
	m.r.total += int64(len(content))
	return m.r.read(name, mem, content, m.depth+1)
}

// decodeBody undoes the transfer encoding of data[a:b], returning the bytes
// and, for encodings that change them, each byte's offset in data (plus
// one entry for the end).
func (m *emlReader) decodeBody(a, b int, cte string) ([]byte, []int) {
	data := m.data
	switch cte {
	case "base64":
		var out []byte
		var omap []int
		var quad [4]byte
		var qpos [4]int
		n := 0
		for p := a; p < b; p++ {
			c := data[p]
			if base64Value(c) < 0 {
				continue
			}
			quad[n], qpos[n] = c, p
			n++
			if n == 4 {
				var dst [3]byte
				k, err := base64.StdEncoding.Decode(dst[:], quad[:])
				if err != nil {
					k = 0
				}
				for j := 0; j < k; j++ {
					out = append(out, dst[j])
					omap = append(omap, qpos[j])
				}
				n = 0
			}
		}
		return out, append(omap, b)
	case "quoted-printable":
		var out []byte
		var omap []int
		for p := a; p < b; p++ {
			c := data[p]
			if c == '=' {
				if p+2 < b+0 && isHex(data[p+1]) && isHex(data[p+2]) {
					out = append(out, unhex(data[p+1])<<4|unhex(data[p+2]))
					omap = append(omap, p)
					p += 2
					continue
				}
				// A soft line break: '=' before the line's end.
				q := p + 1
				for q < b && (data[q] == ' ' || data[q] == '\t') {
					q++
				}
				if q < b && data[q] == '\r' {
					q++
				}
				if q >= b || data[q] == '\n' {
					p = q
					continue
				}
			}
			out = append(out, c)
			omap = append(omap, p)
		}
		return out, append(omap, b)
	}
	return data[a:b], nil
}

func base64Value(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/', c == '=':
		return 1
	}
	return -1
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f' }

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// charsetEncoding maps a MIME charset to a decoder encoding.
func charsetEncoding(cs string) (Encoding, bool) {
	switch strings.ToLower(strings.Trim(cs, `"' `)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return UTF8, true
	case "iso-2022-jp", "csiso2022jp", "iso-2022-jp-2":
		return ISO2022JP, true
	case "shift_jis", "shift-jis", "sjis", "x-sjis", "windows-31j", "cp932", "ms932", "ms_kanji":
		return ShiftJIS, true
	case "euc-jp", "x-euc-jp", "eucjp":
		return EUCJP, true
	case "iso-8859-1", "latin1", "iso_8859-1", "windows-1252", "cp1252", "us-ascii+latin1":
		return Windows1252, true
	case "utf-16le":
		return UTF16LE, true
	case "utf-16be", "utf-16":
		return UTF16BE, true
	}
	return 0, false
}

// textPart adds the lines of a text part to the message's record.
func (m *emlReader) textPart(a, b int, cte, charset string, html bool) error {
	content, omap := m.decodeBody(a, b, cte)
	var d *doc
	if enc, ok := charsetEncoding(charset); ok {
		if got, ok := fits(content, enc); !ok {
			m.r.report(m.member, m.ln.at(a), fmt.Errorf("e-mail: part declared %s reads as %s; decoded as %s", charset, got, got))
			enc = got
		}
		d = decodeAs(content, enc, 0)
	} else if charset != "" && !strings.EqualFold(charset, "us-ascii") {
		// Another charset (ISO-8859-1, say): decoded whole, offsets at
		// best approximate.
		if dec, err := charsetReader(charset, bytes.NewReader(content)); err == nil {
			if out, err := io.ReadAll(dec); err == nil {
				content, omap = out, nil
			}
		}
		d = decodeAs(content, UTF8, 0)
	} else {
		d = decodeAs(content, m.enc, 0)
	}
	if omap != nil {
		d.omap = omap
	} else {
		d.base = a
	}
	if d.bad > 0 {
		m.r.report(m.member, m.ln.at(a), fmt.Errorf("e-mail: %d invalid %s byte sequences replaced", d.bad, d.enc))
	}
	e := m.e
	e.b.d = d
	text := d.text
	lineAt := func(p int) int { return m.ln.at(d.abs(d.orig(p))) }
	if html {
		e.htmlText(lineAt)
		return nil
	}
	for p := 0; p < len(text); {
		c := lineEnd(text, p)
		e.addLine(p, c, lineAt(p))
		p = c + 1
	}
	return nil
}

// htmlText adds the lines of HTML text outside tags, scripts and styles.
func (e *emitter) htmlText(lineAt func(int) int) {
	text := e.b.d.text
	for p := 0; p < len(text); {
		lt := strings.IndexByte(text[p:], '<')
		end := len(text)
		if lt >= 0 {
			end = p + lt
		}
		for a := p; a < end; {
			c := min(lineEnd(text, a), end)
			if x, y := trim(text, a, c); x < y {
				e.b.addXML(x, y)
				e.appendSplit(e.b.field("", lineAt(x)))
			}
			a = c + 1
		}
		if lt < 0 {
			return
		}
		gt := strings.IndexByte(text[end:], '>')
		if gt < 0 {
			return
		}
		p = end + gt + 1
		tag := strings.ToLower(text[end:min(p, end+8)])
		for _, skip := range []string{"script", "style"} {
			if strings.HasPrefix(tag, "<"+skip) {
				if i := strings.Index(strings.ToLower(text[p:]), "</"+skip); i >= 0 {
					p += i
				} else {
					return
				}
			}
		}
	}
}

// headerField adds an address or subject header, decoding encoded words.
func (m *emlReader) headerField(h header) {
	e := m.e
	line := m.ln.at(h.pieces[0][0])
	for _, pc := range h.pieces {
		d := decodeAs(m.data[pc[0]:pc[1]], m.enc, 0)
		d.base = pc[0]
		e.b.d = d
		m.encodedWords(d)
	}
	if e.b.pieces == 0 {
		return
	}
	f := e.b.field(h.name, line)
	if strings.TrimSpace(f.Text) == "" {
		return
	}
	e.rec.Fields = append(e.rec.Fields, f)
}

// encodedWords appends d's text with RFC 2047 encoded words decoded;
// white space between two encoded words is dropped.
func (m *emlReader) encodedWords(d *doc) {
	b := &m.e.b
	text := d.text
	p := 0
	prevWord := false
	for p < len(text) {
		i := strings.Index(text[p:], "=?")
		if i < 0 {
			b.addRange(p, len(text))
			return
		}
		i += p
		end := encodedWordEnd(text, i)
		if end < 0 {
			b.addRange(p, i+2)
			p = i + 2
			prevWord = false
			continue
		}
		dec, err := m.words.Decode(text[i:end])
		if err != nil {
			b.addRange(p, end)
			p = end
			prevWord = false
			continue
		}
		if !(prevWord && strings.TrimSpace(text[p:i]) == "") {
			b.addRange(p, i)
		}
		o1, o2 := d.orig(i), d.orig(end)
		for _, r := range dec {
			b.addRune(r, o1, o2)
		}
		p = end
		prevWord = true
	}
}

// encodedWordEnd returns the end of the encoded word =?cs?e?text?= at i,
// or -1.
func encodedWordEnd(s string, i int) int {
	q := 0
	for j := i + 2; j < len(s) && j < i+200; j++ {
		switch s[j] {
		case '?':
			q++
			if q == 3 && j+1 < len(s) && s[j+1] == '=' {
				return j + 2
			}
		case ' ', '\t', '\r', '\n':
			return -1
		}
	}
	return -1
}
