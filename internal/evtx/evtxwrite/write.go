// Package evtxwrite writes EVTX files from decoded records: each record
// becomes a template instance whose values are all substitutions, with the
// template defined inline at its first use in a chunk, as Windows writes
// them. It exists to build test and benchmark files larger and denser than
// the samples mamori may ship (multi-chunk, hundreds of records a chunk),
// which libevtx's evtxexport then checks independently.
package evtxwrite

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"hash/fnv"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/mamori-dev/mamori/internal/evtx"
)

const (
	headerSize = 4096
	chunkSize  = 65536
	chunkHdr   = 512
)

// Writer writes an EVTX file; Close writes the file header.
type Writer struct {
	// Nest writes each record's EventData or UserData as a nested binary
	// XML value (type 0x21) with a template of its own, as Windows does
	// for some providers' records.
	Nest bool

	w         io.WriterAt
	chunk     []byte
	pos       uint32
	chunks    int
	firstID   uint64
	lastID    uint64
	lastRec   uint32
	nrec      int
	names     map[string]uint32
	templates map[string]uint32
	nextID    uint64
}

// New starts a file on w.
func New(w io.WriterAt) *Writer {
	x := &Writer{w: w, chunk: make([]byte, chunkSize)}
	x.startChunk()
	return x
}

func (x *Writer) startChunk() {
	clear(x.chunk)
	x.pos = chunkHdr
	x.nrec = 0
	x.names = map[string]uint32{}
	x.templates = map[string]uint32{}
}

// ErrTooLarge is a record that does not fit in an empty chunk.
var ErrTooLarge = errors.New("record larger than a chunk")

// Write appends a record with the given record number and written time.
func (x *Writer) Write(id uint64, written time.Time, root *evtx.Element) error {
	if x.encode(id, written, root) {
		return nil
	}
	if x.nrec == 0 {
		return ErrTooLarge
	}
	if err := x.flush(); err != nil {
		return err
	}
	x.startChunk()
	if !x.encode(id, written, root) {
		return ErrTooLarge
	}
	return nil
}

// encode writes the record at x.pos; false when it does not fit (the
// chunk's caches are then restored).
func (x *Writer) encode(id uint64, written time.Time, root *evtx.Element) bool {
	names, templates := cloneMap(x.names), cloneMap(x.templates)
	e := &enc{x: x, b: x.chunk[:x.pos]}
	start := x.pos
	e.b = append(e.b, 0x2a, 0x2a, 0, 0)
	e.u32(0)
	e.u64(id)
	e.u64(filetime(written))
	e.fragment(root, x.Nest)
	for (len(e.b)-int(start)+4)%8 != 0 {
		e.b = append(e.b, 0)
	}
	size := uint32(len(e.b)) - start + 4
	e.u32(size)
	// A record ending exactly at the chunk's end is valid, but libevtx
	// does not read it; leaving slack keeps evtxexport a usable oracle.
	if len(e.b) >= chunkSize || e.overflow {
		x.names, x.templates = names, templates
		clear(x.chunk[start:])
		return false
	}
	binary.LittleEndian.PutUint32(x.chunk[start+4:], size)
	x.pos = uint32(len(e.b))
	if x.nrec == 0 {
		x.firstID = id
	}
	x.lastID, x.lastRec = id, start
	x.nrec++
	return true
}

// fragment writes root as a binary XML fragment: a template instance
// (the template inline at its first use in the chunk) and its values.
func (e *enc) fragment(root *evtx.Element, nest bool) {
	var vals []any
	sig := signature(root, &vals, nest)
	e.b = append(e.b, 0x0f, 0x01, 0x01, 0x00, 0x0c, 0x01)
	e.u32(fnv32(sig))
	if off, ok := e.x.templates[sig]; ok {
		e.u32(off)
	} else {
		defOff := uint32(e.off()) + 4
		e.u32(defOff)
		e.x.templates[sig] = defOff
		e.u32(0)
		e.b = append(e.b, make([]byte, 16)...)
		sizeAt := len(e.b)
		e.u32(0)
		bodyStart := len(e.b)
		e.b = append(e.b, 0x0f, 0x01, 0x01, 0x00)
		n := 0
		e.element(root, &n, nest, 0)
		e.b = append(e.b, 0x00)
		binary.LittleEndian.PutUint32(e.b[sizeAt:], uint32(len(e.b)-bodyStart))
	}
	e.u32(uint32(len(vals)))
	// Values follow their descriptors; a nested fragment's offsets are
	// absolute, so it is encoded knowing where it will land.
	pos := e.off() + 4*len(vals)
	data := make([][]byte, len(vals))
	types := make([]byte, len(vals))
	for i, v := range vals {
		if nv, ok := v.(nested); ok {
			sub := &enc{x: e.x, base: pos}
			sub.fragment(nv.el, false)
			types[i], data[i] = 0x21, sub.b
			e.overflow = e.overflow || sub.overflow
		} else {
			types[i], data[i] = value(v)
		}
		pos += len(data[i])
		e.u16(uint16(len(data[i])))
		e.b = append(e.b, types[i], 0)
	}
	for _, d := range data {
		e.b = append(e.b, d...)
	}
	e.b = append(e.b, 0) // end of fragment
	if e.off() > chunkSize {
		e.overflow = true
	}
}

// nested is an element written as a nested binary XML value.
type nested struct{ el *evtx.Element }

func cloneMap(m map[string]uint32) map[string]uint32 {
	c := make(map[string]uint32, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func (x *Writer) flush() error {
	if x.nrec == 0 {
		return nil
	}
	c := x.chunk
	le := binary.LittleEndian
	copy(c, "ElfChnk\x00")
	le.PutUint64(c[8:], x.firstID)
	le.PutUint64(c[16:], x.lastID)
	le.PutUint64(c[24:], x.firstID)
	le.PutUint64(c[32:], x.lastID)
	le.PutUint32(c[40:], 128)
	le.PutUint32(c[44:], x.lastRec)
	le.PutUint32(c[48:], x.pos)
	le.PutUint32(c[52:], crc32.ChecksumIEEE(c[chunkHdr:x.pos]))
	h := crc32.ChecksumIEEE(c[:120])
	le.PutUint32(c[124:], crc32.Update(h, crc32.IEEETable, c[128:chunkHdr]))
	if _, err := x.w.WriteAt(c, headerSize+int64(x.chunks)*chunkSize); err != nil {
		return err
	}
	x.nextID = x.lastID + 1
	x.chunks++
	return nil
}

// Close writes the last chunk and the file header.
func (x *Writer) Close() error {
	if err := x.flush(); err != nil {
		return err
	}
	h := make([]byte, headerSize)
	le := binary.LittleEndian
	copy(h, "ElfFile\x00")
	le.PutUint64(h[8:], 0)
	le.PutUint64(h[16:], uint64(max(x.chunks-1, 0)))
	le.PutUint64(h[24:], x.nextID)
	le.PutUint32(h[32:], 128)
	le.PutUint16(h[36:], 1)
	le.PutUint16(h[38:], 3)
	le.PutUint16(h[40:], headerSize)
	le.PutUint16(h[42:], uint16(x.chunks))
	le.PutUint32(h[124:], crc32.ChecksumIEEE(h[:120]))
	_, err := x.w.WriteAt(h, 0)
	return err
}

// signature is the template a record's structure needs; it also collects
// the substitution values in template order.
func signature(e *evtx.Element, vals *[]any, nest bool) string {
	var sb strings.Builder
	var walk func(e *evtx.Element, depth int)
	walk = func(e *evtx.Element, depth int) {
		if nestable(e, depth, nest) {
			sb.WriteString("<#nested>")
			*vals = append(*vals, nested{e})
			return
		}
		sb.WriteString("<" + e.Name)
		for _, a := range e.Attrs {
			sb.WriteString(" " + a.Name)
			*vals = append(*vals, a.Value)
		}
		sb.WriteString(">")
		for range e.Text {
			sb.WriteString("$")
		}
		*vals = append(*vals, e.Text...)
		for _, k := range e.Kids {
			walk(k, depth+1)
		}
		sb.WriteString("</>")
	}
	walk(e, 0)
	return sb.String()
}

func nestable(e *evtx.Element, depth int, nest bool) bool {
	return nest && depth == 1 && (e.Name == "EventData" || e.Name == "UserData")
}

type enc struct {
	x        *Writer
	b        []byte
	base     int // chunk offset of b[0]
	overflow bool
}

func (e *enc) off() int { return e.base + len(e.b) }

func (e *enc) u16(v uint16) { e.b = binary.LittleEndian.AppendUint16(e.b, v) }
func (e *enc) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *enc) u64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }

func (e *enc) name(s string) {
	if off, ok := e.x.names[s]; ok {
		e.u32(off)
		return
	}
	off := uint32(e.off()) + 4
	e.x.names[s] = off
	e.u32(off)
	u := utf16.Encode([]rune(s))
	var hash uint32
	for _, c := range u {
		hash = hash*65599 + uint32(c)
	}
	e.u32(0)
	e.u16(uint16(hash))
	e.u16(uint16(len(u)))
	for _, c := range u {
		e.u16(c)
	}
	e.u16(0)
}

// element writes an element of the template; *n numbers substitutions.
func (e *enc) element(el *evtx.Element, n *int, nest bool, depth int) {
	if nestable(el, depth, nest) {
		e.b = append(e.b, 0x0d)
		e.u16(uint16(*n))
		e.b = append(e.b, 0x21)
		*n++
		return
	}
	tok := byte(0x01)
	if len(el.Attrs) > 0 {
		tok = 0x41
	}
	e.b = append(e.b, tok)
	e.u16(0xffff)
	sizeAt := len(e.b)
	e.u32(0)
	e.name(el.Name)
	attrAt := len(e.b)
	if len(el.Attrs) > 0 {
		e.u32(0)
	}
	attrStart := len(e.b)
	for i, a := range el.Attrs {
		t := byte(0x06)
		if i < len(el.Attrs)-1 {
			t = 0x46
		}
		e.b = append(e.b, t)
		e.name(a.Name)
		typ, _ := value(a.Value)
		e.b = append(e.b, 0x0e)
		e.u16(uint16(*n))
		e.b = append(e.b, typ)
		*n++
	}
	if len(el.Attrs) > 0 {
		binary.LittleEndian.PutUint32(e.b[attrAt:], uint32(len(e.b)-attrStart))
	}
	if len(el.Text) == 0 && len(el.Kids) == 0 {
		e.b = append(e.b, 0x03)
	} else {
		e.b = append(e.b, 0x02)
		for _, v := range el.Text {
			typ, _ := value(v)
			e.b = append(e.b, 0x0e)
			e.u16(uint16(*n))
			e.b = append(e.b, typ)
			*n++
		}
		for _, k := range el.Kids {
			e.element(k, n, nest, depth+1)
		}
		e.b = append(e.b, 0x04)
	}
	binary.LittleEndian.PutUint32(e.b[sizeAt:], uint32(len(e.b)-sizeAt-4))
	if e.off() > chunkSize {
		e.overflow = true
	}
}

var (
	reGUID = regexp.MustCompile(`^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$`)
	reSID  = regexp.MustCompile(`^S-1-\d+(-\d+)*$`)
	reHex  = regexp.MustCompile(`^0x[0-9a-f]{1,16}$`)
	reTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$`)
)

// value encodes a decoded value with the type evtx renders back the same.
func value(v any) (byte, []byte) {
	le := binary.LittleEndian
	switch x := v.(type) {
	case nil:
		return 0x00, nil
	case string:
		switch {
		case reGUID.MatchString(x):
			return 0x0f, guid(x)
		case reSID.MatchString(x):
			if b, ok := sid(x); ok {
				return 0x13, b
			}
		case reHex.MatchString(x):
			n, _ := strconv.ParseUint(x[2:], 16, 64)
			return 0x15, le.AppendUint64(nil, n)
		case reTime.MatchString(x):
			t, _ := time.Parse("2006-01-02T15:04:05.0000000Z", x)
			return 0x11, le.AppendUint64(nil, filetime(t))
		}
		return 0x01, utf16le(x)
	case int64:
		if x >= 0 && x <= math.MaxUint32 {
			return 0x08, le.AppendUint32(nil, uint32(x))
		}
		return 0x09, le.AppendUint64(nil, uint64(x))
	case uint64:
		return 0x0a, le.AppendUint64(nil, x)
	case float64:
		return 0x0c, le.AppendUint64(nil, math.Float64bits(x))
	case bool:
		if x {
			return 0x0d, le.AppendUint32(nil, 1)
		}
		return 0x0d, le.AppendUint32(nil, 0)
	case []any:
		var b []byte
		for _, y := range x {
			b = append(b, utf16le(evtx.Text(y))...)
			b = append(b, 0, 0)
		}
		return 0x81, b
	}
	return 0x01, utf16le(evtx.Text(v))
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u))
	for _, c := range u {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}

func guid(s string) []byte {
	h := strings.NewReplacer("{", "", "}", "", "-", "").Replace(s)
	raw := make([]byte, 16)
	for i := range raw {
		n, _ := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		raw[i] = byte(n)
	}
	// The first three groups are little-endian integers.
	out := make([]byte, 16)
	out[0], out[1], out[2], out[3] = raw[3], raw[2], raw[1], raw[0]
	out[4], out[5] = raw[5], raw[4]
	out[6], out[7] = raw[7], raw[6]
	copy(out[8:], raw[8:])
	return out
}

func sid(s string) ([]byte, bool) {
	parts := strings.Split(s, "-")[1:]
	rev, _ := strconv.ParseUint(parts[0], 10, 8)
	auth, err := strconv.ParseUint(parts[1], 10, 48)
	if err != nil || len(parts)-2 > 15 {
		return nil, false
	}
	b := []byte{byte(rev), byte(len(parts) - 2)}
	for i := 5; i >= 0; i-- {
		b = append(b, byte(auth>>(8*i)))
	}
	for _, p := range parts[2:] {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, false
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(n))
	}
	return b, true
}

func filetime(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano()/100) + 116444736000000000
}

func fnv32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}
