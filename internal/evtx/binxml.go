package evtx

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Element is one decoded XML element of a record, with its substitutions
// filled in. Text holds the typed pieces of its character content.
type Element struct {
	Name  string
	Attrs []Attr
	Kids  []*Element
	Text  []any
}

// Attr is an attribute; Value is typed when it was one substitution.
type Attr struct {
	Name  string
	Value any
}

// Attr returns the named attribute's value.
func (e *Element) Attr(name string) (any, bool) {
	for _, a := range e.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return nil, false
}

// Kid returns the first child element with that name.
func (e *Element) Kid(name string) *Element {
	for _, k := range e.Kids {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// Value is the element's content as one value: nil when empty, the piece
// itself when there is one, the pieces joined as text otherwise.
func (e *Element) Value() any { return join(e.Text) }

func join(parts []any) any {
	switch len(parts) {
	case 0:
		return nil
	case 1:
		return parts[0]
	}
	var sb strings.Builder
	for _, p := range parts {
		sb.WriteString(Text(p))
	}
	return sb.String()
}

// Text renders a decoded value as Windows' XML rendering shows it.
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		s := make([]string, len(x))
		for i, y := range x {
			s[i] = Text(y)
		}
		return strings.Join(s, ", ")
	}
	return fmt.Sprint(v)
}

// errDecode marks a malformed binary XML; the decoder panics with it deep
// in the recursion and document recovers it into an error.
type errDecode struct{ err error }

const maxDepth = 32

// decoder decodes the binary XML of one chunk.
type decoder struct {
	b         []byte // the chunk; offsets in binary XML are relative to it
	names     map[uint32]string
	templates map[uint32]*template
	depth     int
	arena     arena
}

type template struct {
	nodes []pnode
	busy  bool // being parsed: a definition that refers to itself is malformed
}

// pnode is one node of a parsed template (or of literal binary XML):
// an element, a literal text piece, a substitution, or an already
// instantiated element from a nested template instance.
type pnode struct {
	kind byte
	elem *pelem
	lit  any
	sub  uint16
	opt  bool
	out  []*Element
}

const (
	kElem = iota
	kText
	kSub
	kOut
)

type pelem struct {
	name  string
	attrs []pattr
	kids  []pnode
}

type pattr struct {
	name string
	val  []pnode
}

// fragment is a nested binary XML value, instantiated.
type fragment struct {
	kids []*Element
	text []any
}

func (d *decoder) reset(b []byte) {
	d.b = b
	clear(d.names)
	clear(d.templates)
	d.depth = 0
}

func (d *decoder) fail(format string, args ...any) {
	panic(errDecode{fmt.Errorf(format, args...)})
}

func (d *decoder) u8(p uint32) byte {
	if int(p) >= len(d.b) {
		d.fail("read past chunk end at %d", p)
	}
	return d.b[p]
}

func (d *decoder) u16(p uint32) uint16 {
	if int(p)+2 > len(d.b) {
		d.fail("read past chunk end at %d", p)
	}
	return binary.LittleEndian.Uint16(d.b[p:])
}

func (d *decoder) u32(p uint32) uint32 {
	if int(p)+4 > len(d.b) {
		d.fail("read past chunk end at %d", p)
	}
	return binary.LittleEndian.Uint32(d.b[p:])
}

func (d *decoder) bytes(p, n, end uint32) []byte {
	if uint64(p)+uint64(n) > uint64(end) || int(end) > len(d.b) {
		d.fail("%d bytes at %d run past %d", n, p, end)
	}
	return d.b[p : p+n]
}

// document decodes the record's binary XML in [start, end) and returns its
// root element.
func (d *decoder) document(start, end uint32) (root *Element, err error) {
	defer func() {
		if r := recover(); r != nil {
			de, ok := r.(errDecode)
			if !ok {
				panic(r)
			}
			root, err = nil, de.err
		}
	}()
	d.depth = 0
	pos := start
	kids, _ := d.fragment(&pos, end)
	if len(kids) == 0 {
		return nil, errors.New("no element in record")
	}
	return kids[0], nil
}

// fragment decodes tokens up to end or an end-of-fragment token.
func (d *decoder) fragment(pos *uint32, end uint32) ([]*Element, []any) {
	d.depth++
	if d.depth > maxDepth {
		d.fail("binary XML nested deeper than %d", maxDepth)
	}
	defer func() { d.depth-- }()
	var kids []*Element
	var text []any
	for *pos < end {
		switch tok := d.u8(*pos); tok {
		case 0x00:
			*pos++
			return kids, text
		case 0x0f:
			*pos += 4
		case 0x0c:
			k, t := d.templateInstance(pos, end)
			kids, text = append(kids, k...), append(text, t...)
		case 0x01, 0x41:
			p := d.element(pos, end, false)
			k, t := d.arena.instantiate([]pnode{{kind: kElem, elem: p}}, nil)
			kids, text = append(kids, k...), append(text, t...)
		default:
			d.fail("unexpected token 0x%02x at %d", tok, *pos)
		}
	}
	return kids, text
}

// content parses element content (or a template body) into nodes.
// inTemplate tells whether the content belongs to a template definition,
// whose element starts carry a dependency identifier.
func (d *decoder) content(pos *uint32, end uint32, inElem, inTemplate bool) []pnode {
	var nodes []pnode
	for {
		if *pos >= end {
			if inElem {
				d.fail("element not closed before %d", end)
			}
			return nodes
		}
		tok := d.u8(*pos)
		switch tok &^ 0x40 {
		case 0x00:
			if inElem {
				d.fail("end of fragment inside an element at %d", *pos)
			}
			*pos++
			return nodes
		case 0x0f:
			*pos += 4
		case 0x01:
			nodes = append(nodes, pnode{kind: kElem, elem: d.element(pos, end, inTemplate)})
		case 0x04:
			if !inElem {
				d.fail("end element outside an element at %d", *pos)
			}
			*pos++
			return nodes
		case 0x05, 0x07, 0x08, 0x09, 0x0d, 0x0e:
			nodes = append(nodes, d.valueNode(pos, end))
		case 0x0a: // processing instruction target: not event data
			*pos++
			off := d.u32(*pos)
			*pos += 4
			d.name(off, pos)
		case 0x0b:
			n := uint32(d.u16(*pos + 1))
			*pos += 3 + 2*n
		case 0x0c:
			k, t := d.templateInstance(pos, end)
			nodes = append(nodes, pnode{kind: kOut, out: k})
			for _, x := range t {
				nodes = append(nodes, pnode{kind: kText, lit: x})
			}
		default:
			d.fail("unexpected token 0x%02x at %d", tok, *pos)
		}
	}
}

func (d *decoder) element(pos *uint32, end uint32, inTemplate bool) *pelem {
	tok := d.u8(*pos)
	p := *pos + 1
	// Element starts in template definitions carry a two-byte dependency
	// identifier; those of elements written directly in a record or in a
	// nested binary XML value do not. A name offset outside the chunk
	// means the other layout (writers are not all consistent).
	if !inTemplate {
		p -= 2
	}
	off := d.u32(p + 6)
	if int(off)+8 > len(d.b) {
		if inTemplate {
			p -= 2
		} else {
			p += 2
		}
		off = d.u32(p + 6)
	}
	p += 10
	e := &pelem{name: d.name(off, &p)}
	if tok&0x40 != 0 {
		p += 4
	}
	*pos = p
	for d.u8(*pos)&^0x40 == 0x06 {
		*pos++
		off := d.u32(*pos)
		*pos += 4
		a := pattr{name: d.name(off, pos)}
		for {
			t := d.u8(*pos) &^ 0x40
			if t != 0x05 && t != 0x08 && t != 0x09 && t != 0x0d && t != 0x0e {
				break
			}
			a.val = append(a.val, d.valueNode(pos, end))
		}
		e.attrs = append(e.attrs, a)
	}
	switch d.u8(*pos) {
	case 0x02:
		*pos++
		e.kids = d.content(pos, end, true, inTemplate)
	case 0x03:
		*pos++
	default:
		d.fail("element %q: unexpected token 0x%02x at %d", e.name, d.u8(*pos), *pos)
	}
	return e
}

func (d *decoder) valueNode(pos *uint32, end uint32) pnode {
	tok := d.u8(*pos) &^ 0x40
	switch tok {
	case 0x05:
		typ := d.u8(*pos + 1)
		if typ != 0x01 {
			// Windows writes text values as strings; other fixed-size
			// types are read for completeness.
			size, ok := fixedSize[typ]
			if !ok {
				d.fail("value token of type 0x%02x at %d", typ, *pos)
			}
			v := d.value(typ, *pos+2, uint32(size), end)
			*pos += 2 + uint32(size)
			return pnode{kind: kText, lit: v}
		}
		n := uint32(d.u16(*pos + 2))
		s := d.utf16(d.bytes(*pos+4, 2*n, end))
		*pos += 4 + 2*n
		return pnode{kind: kText, lit: s}
	case 0x07:
		n := uint32(d.u16(*pos + 1))
		s := d.utf16(d.bytes(*pos+3, 2*n, end))
		*pos += 3 + 2*n
		return pnode{kind: kText, lit: s}
	case 0x08:
		r := rune(d.u16(*pos + 1))
		*pos += 3
		return pnode{kind: kText, lit: string(r)}
	case 0x09:
		*pos++
		off := d.u32(*pos)
		*pos += 4
		name := d.name(off, pos)
		ent := map[string]string{"amp": "&", "lt": "<", "gt": ">", "quot": `"`, "apos": "'"}[name]
		if ent == "" {
			ent = "&" + name + ";"
		}
		return pnode{kind: kText, lit: ent}
	default: // 0x0d normal, 0x0e optional substitution
		id := d.u16(*pos + 1)
		*pos += 4
		return pnode{kind: kSub, sub: id, opt: tok == 0x0e}
	}
}

// name reads the name structure at off; when it is stored inline (off is
// where *pos points), *pos moves past it.
func (d *decoder) name(off uint32, pos *uint32) string {
	n := uint32(d.u16(off + 6))
	if off == *pos {
		*pos += 8 + 2*n + 2
	}
	if s, ok := d.names[off]; ok {
		return s
	}
	s := d.utf16(d.bytes(off+8, 2*n, uint32(len(d.b))))
	d.names[off] = s
	return s
}

func (d *decoder) templateInstance(pos *uint32, end uint32) ([]*Element, []any) {
	p := *pos + 2
	p += 4 // template id; the definition offset identifies it within the chunk
	defOff := d.u32(p)
	p += 4
	t := d.templates[defOff]
	if defOff == p {
		size := d.u32(defOff + 20)
		if t == nil {
			t = d.parseTemplate(defOff, size)
		}
		p = defOff + 24 + size
	} else if t == nil {
		if int(defOff)+24 > len(d.b) {
			d.fail("template definition offset %d outside the chunk", defOff)
		}
		t = d.parseTemplate(defOff, d.u32(defOff+20))
	}
	n := d.u32(p)
	p += 4
	if uint64(n)*4 > uint64(end-min(p, end)) {
		d.fail("%d substitutions do not fit before %d", n, end)
	}
	desc := p
	p += 4 * n
	vals := make([]any, n)
	for i := range n {
		size := uint32(d.u16(desc + 4*i))
		typ := d.u8(desc + 4*i + 2)
		vals[i] = d.value(typ, p, size, end)
		p += size
	}
	*pos = p
	return d.arena.instantiate(t.nodes, vals)
}

func (d *decoder) parseTemplate(off, size uint32) *template {
	body := off + 24
	end := body + size
	if uint64(body)+uint64(size) > uint64(len(d.b)) {
		d.fail("template at %d: %d bytes run past the chunk", off, size)
	}
	t := &template{busy: true}
	d.templates[off] = t
	p := body
	t.nodes = d.content(&p, end, false, true)
	t.busy = false
	return t
}

// arena hands out elements and slices in batches: decoding allocates
// per batch instead of per element. Batches are never reused, so decoded
// records stay valid for as long as their holders keep them.
type arena struct {
	elems []Element
	ptrs  []*Element
	anys  []any
}

func (a *arena) elem(name string) *Element {
	if len(a.elems) == cap(a.elems) {
		a.elems = make([]Element, 0, 64)
	}
	a.elems = append(a.elems, Element{Name: name})
	return &a.elems[len(a.elems)-1]
}

func (a *arena) kids(n int) []*Element {
	if cap(a.ptrs)-len(a.ptrs) < n {
		a.ptrs = make([]*Element, 0, max(64, n))
	}
	l := len(a.ptrs)
	a.ptrs = a.ptrs[:l+n]
	return a.ptrs[l : l : l+n]
}

func (a *arena) text(n int) []any {
	if cap(a.anys)-len(a.anys) < n {
		a.anys = make([]any, 0, max(128, n))
	}
	l := len(a.anys)
	a.anys = a.anys[:l+n]
	return a.anys[l : l : l+n]
}

// instantiate fills a template's nodes with the substitution values. Text
// pieces and child elements are gathered in two passes so each element's
// slices come from the arena at their final size.
func (a *arena) instantiate(nodes []pnode, vals []any) ([]*Element, []any) {
	nkids, ntext := 0, 0
	for i := range nodes {
		n := &nodes[i]
		switch n.kind {
		case kElem:
			nkids++
		case kText:
			ntext++
		case kSub:
			switch x := subst(n, vals).(type) {
			case nil:
			case *fragment:
				nkids += len(x.kids)
				ntext += len(x.text)
			default:
				ntext++
			}
		case kOut:
			nkids += len(n.out)
		}
	}
	var kids []*Element
	var text []any
	if nkids > 0 {
		kids = a.kids(nkids)
	}
	if ntext > 0 {
		text = a.text(ntext)
	}
	for i := range nodes {
		n := &nodes[i]
		switch n.kind {
		case kElem:
			e := a.elem(n.elem.name)
			if len(n.elem.attrs) > 0 {
				e.Attrs = make([]Attr, 0, len(n.elem.attrs))
			}
			for _, at := range n.elem.attrs {
				v, skip := resolve(at.val, vals)
				if !skip {
					e.Attrs = append(e.Attrs, Attr{Name: at.name, Value: v})
				}
			}
			e.Kids, e.Text = a.instantiate(n.elem.kids, vals)
			kids = append(kids, e)
		case kText:
			text = append(text, n.lit)
		case kSub:
			switch x := subst(n, vals).(type) {
			case nil:
			case *fragment:
				kids, text = append(kids, x.kids...), append(text, x.text...)
			default:
				text = append(text, x)
			}
		case kOut:
			kids = append(kids, n.out...)
		}
	}
	return kids, text
}

func subst(n *pnode, vals []any) any {
	if int(n.sub) < len(vals) {
		return vals[n.sub]
	}
	return nil
}

// resolve fills an attribute's value; skip is true for an attribute made
// only of optional substitutions that are empty, which Windows leaves out.
func resolve(nodes []pnode, vals []any) (value any, skip bool) {
	if len(nodes) == 1 && nodes[0].kind == kSub { // the usual case
		v := subst(&nodes[0], vals)
		if _, ok := v.(*fragment); ok {
			v = nil
		}
		return v, v == nil && nodes[0].opt
	}
	var parts []any
	optEmpty := true
	for i := range nodes {
		n := &nodes[i]
		switch n.kind {
		case kText:
			parts = append(parts, n.lit)
			optEmpty = false
		case kSub:
			v := subst(n, vals)
			if _, ok := v.(*fragment); ok {
				v = nil
			}
			if v != nil {
				parts = append(parts, v)
			}
			if !n.opt || v != nil {
				optEmpty = false
			}
		}
	}
	return join(parts), optEmpty && len(nodes) > 0
}

// value decodes a substitution value of type typ and size bytes at p.
func (d *decoder) value(typ byte, p, size, end uint32) any {
	b := d.bytes(p, size, end)
	if size == 0 && typ != 0x0e {
		// An empty value of any type (optional substitutions are often
		// typed yet empty): nothing to render.
		return nil
	}
	if typ&0x80 != 0 {
		return d.array(typ&0x7f, b, p)
	}
	le := binary.LittleEndian
	need := func(n int) {
		if len(b) < n {
			d.fail("value of type 0x%02x: %d bytes, want %d", typ, len(b), n)
		}
	}
	switch typ {
	case 0x00:
		return nil
	case 0x01, 0x23:
		if len(b) == 0 {
			return nil
		}
		return d.utf16(b)
	case 0x02:
		if len(b) == 0 {
			return nil
		}
		return ansi(b)
	case 0x03:
		need(1)
		return int64(int8(b[0]))
	case 0x04:
		need(1)
		return int64(b[0])
	case 0x05:
		need(2)
		return int64(int16(le.Uint16(b)))
	case 0x06:
		need(2)
		return int64(le.Uint16(b))
	case 0x07:
		need(4)
		return int64(int32(le.Uint32(b)))
	case 0x08:
		need(4)
		return int64(le.Uint32(b))
	case 0x09:
		need(8)
		return int64(le.Uint64(b))
	case 0x0a:
		need(8)
		u := le.Uint64(b)
		if u > math.MaxInt64 {
			return u
		}
		return int64(u)
	case 0x0b:
		need(4)
		return float64(math.Float32frombits(le.Uint32(b)))
	case 0x0c:
		need(8)
		return math.Float64frombits(le.Uint64(b))
	case 0x0d:
		if len(b) == 0 {
			return nil
		}
		for _, c := range b {
			if c != 0 {
				return true
			}
		}
		return false
	case 0x0e:
		return strings.ToUpper(hex.EncodeToString(b))
	case 0x0f:
		need(16)
		return guid(b)
	case 0x10, 0x20:
		switch len(b) {
		case 4:
			return "0x" + strconv.FormatUint(uint64(le.Uint32(b)), 16)
		case 8:
			return "0x" + strconv.FormatUint(le.Uint64(b), 16)
		}
		d.fail("size value of %d bytes", len(b))
	case 0x11:
		need(8)
		return filetimeText(le.Uint64(b))
	case 0x12:
		need(16)
		return systemtime(b)
	case 0x13:
		return d.sid(b)
	case 0x14:
		need(4)
		return "0x" + strconv.FormatUint(uint64(le.Uint32(b)), 16)
	case 0x15:
		need(8)
		return "0x" + strconv.FormatUint(le.Uint64(b), 16)
	case 0x21:
		if len(b) == 0 {
			return nil
		}
		q := p
		kids, text := d.fragment(&q, p+size)
		return &fragment{kids: kids, text: text}
	}
	d.fail("unknown value type 0x%02x", typ)
	return nil
}

// fixedSize is the size of the value types that have one.
var fixedSize = map[byte]int{0x03: 1, 0x04: 1, 0x05: 2, 0x06: 2, 0x07: 4, 0x08: 4, 0x09: 8, 0x0a: 8,
	0x0b: 4, 0x0c: 8, 0x0d: 4, 0x0f: 16, 0x11: 8, 0x12: 16, 0x14: 4, 0x15: 8}

func (d *decoder) array(typ byte, b []byte, p uint32) any {
	var out []any
	switch typ {
	case 0x01:
		s := d.utf16(b)
		if s == "" {
			return []any{}
		}
		for _, x := range strings.Split(s, "\x00") {
			out = append(out, x)
		}
		// The last string's terminator leaves an empty tail.
		if len(out) > 1 && out[len(out)-1] == "" {
			out = out[:len(out)-1]
		}
		return out
	case 0x02:
		for _, x := range strings.Split(strings.TrimRight(ansi(b), "\x00"), "\x00") {
			out = append(out, x)
		}
		return out
	}
	size := fixedSize[typ]
	if typ == 0x10 || typ == 0x20 {
		size = 8
		if len(b)%8 != 0 {
			size = 4
		}
	}
	if typ == 0x13 { // SIDs are variable-sized
		for len(b) >= 8 {
			n := 8 + 4*int(b[1])
			if n > len(b) {
				break
			}
			out = append(out, d.sid(b[:n]))
			b = b[n:]
		}
		return out
	}
	if size == 0 || len(b)%size != 0 {
		d.fail("array of type 0x%02x: %d bytes", typ, len(b))
	}
	for i := 0; i < len(b); i += size {
		out = append(out, d.value(typ, p+uint32(i), uint32(size), p+uint32(len(b))))
	}
	return out
}

func (d *decoder) utf16(b []byte) string {
	n := len(b) / 2
	ascii := true
	for i := 0; i < n; i++ {
		if b[2*i+1] != 0 || b[2*i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		for n > 0 && b[2*n-2] == 0 {
			n--
		}
		if n == 0 {
			return ""
		}
		s := make([]byte, n)
		for i := range s {
			s[i] = b[2*i]
		}
		return unsafe.String(&s[0], n) // s is never written again
	}
	u := make([]uint16, n)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return strings.TrimRight(string(utf16.Decode(u)), "\x00")
}

// ansi decodes an 8-bit string as Windows-1252's Latin-1 subset.
func ansi(b []byte) string {
	b = []byte(strings.TrimRight(string(b), "\x00"))
	if utf8.Valid(b) {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// guid renders a GUID as Windows does: {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX},
// the first three groups being little-endian integers.
func guid(b []byte) string {
	const digits = "0123456789ABCDEF"
	order := [16]int{3, 2, 1, 0, -1, 5, 4, -1, 7, 6, -1, 8, 9, -1, 10, 11}
	out := make([]byte, 0, 38)
	out = append(out, '{')
	for _, i := range order {
		if i < 0 {
			out = append(out, '-')
			continue
		}
		out = append(out, digits[b[i]>>4], digits[b[i]&15])
	}
	for _, c := range b[12:16] {
		out = append(out, digits[c>>4], digits[c&15])
	}
	out = append(out, '}')
	return string(out)
}

func (d *decoder) sid(b []byte) string {
	if len(b) < 8 || len(b) < 8+4*int(b[1]) {
		d.fail("SID of %d bytes", len(b))
	}
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	var sb strings.Builder
	sb.WriteString("S-")
	sb.WriteString(strconv.Itoa(int(b[0])))
	sb.WriteByte('-')
	sb.WriteString(strconv.FormatUint(auth, 10))
	for i := 0; i < int(b[1]); i++ {
		sb.WriteByte('-')
		sb.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10))
	}
	return sb.String()
}

const timeLayout = "2006-01-02T15:04:05.0000000Z"

func filetimeText(ft uint64) string {
	return filetime(ft).Format(timeLayout)
}

func systemtime(b []byte) string {
	le := binary.LittleEndian
	t := time.Date(int(le.Uint16(b)), time.Month(le.Uint16(b[2:])), int(le.Uint16(b[6:])),
		int(le.Uint16(b[8:])), int(le.Uint16(b[10:])), int(le.Uint16(b[12:])),
		int(le.Uint16(b[14:]))*int(time.Millisecond), time.UTC)
	return t.Format(timeLayout)
}
