// Package petest builds small, valid Portable Executable files for tests:
// sections, imports, exports, resources with version information, a Rich
// header and an overlay, laid out the way linkers do so that libyara's pe
// module reads them.
package petest

import (
	"bytes"
	"encoding/binary"
	"sort"
	"unicode/utf16"
)

// Spec describes the PE to build. Zero values give a plain 32-bit
// executable with one .text section.
type Spec struct {
	Is64            bool
	DLL             bool
	Machine         uint16 // default i386 or AMD64
	Timestamp       uint32
	Subsystem       uint16 // default 2 (Windows GUI)
	Characteristics uint16 // added to EXECUTABLE_IMAGE (and DLL)
	// Code is the content of .text; the entry point is its first byte
	// plus EntryOffset.
	Code        []byte
	EntryOffset uint32
	Sections    []Section // extra sections after .text
	Imports     []Import
	ExportName  string   // DLL name in the export directory
	Exports     []string // exported function names, ordinals from 1
	Resources   []Resource
	VersionInfo [][2]string // key/value pairs of a VS_VERSION_INFO resource
	Rich        bool        // add a Rich header
	Overlay     []byte      // bytes appended after the last section
}

// Section is an extra section.
type Section struct {
	Name            string
	Data            []byte
	Characteristics uint32
}

// Import is one imported library: functions by name, or by ordinal when an
// entry is "#N" (N decimal).
type Import struct {
	DLL       string
	Functions []string
}

// Resource is one resource leaf with numeric type, id and language.
type Resource struct {
	Type, ID, Language uint32
	Data               []byte
}

const (
	fileAlign    = 0x200
	sectionAlign = 0x1000
	imageBase32  = 0x400000
	imageBase64  = 0x140000000
)

func align(n, a uint32) uint32 { return (n + a - 1) &^ (a - 1) }

type section struct {
	name  string
	rva   uint32
	data  []byte
	flags uint32
}

// Build returns the bytes of the PE described by s.
func Build(s Spec) []byte {
	const (
		code  = 0x60000020
		rdata = 0x40000040
		data  = 0xC0000040
	)
	var secs []*section
	next := uint32(sectionAlign)
	add := func(name string, flags uint32, build func(rva uint32) []byte) *section {
		sec := &section{name: name, rva: next, flags: flags}
		sec.data = build(next)
		if len(sec.data) == 0 {
			sec.data = []byte{0}
		}
		next += align(uint32(len(sec.data)), sectionAlign)
		secs = append(secs, sec)
		return sec
	}
	text := add(".text", code, func(uint32) []byte {
		if len(s.Code) == 0 {
			return []byte{0xc3}
		}
		return s.Code
	})
	for _, x := range s.Sections {
		add(x.Name, x.Characteristics, func(uint32) []byte { return x.Data })
	}
	var dirs [16][2]uint32
	if len(s.Imports) > 0 {
		sec := add(".idata", data, func(rva uint32) []byte { return buildImports(s.Imports, rva, s.Is64) })
		dirs[1] = [2]uint32{sec.rva, uint32(20 * (len(s.Imports) + 1))}
	}
	if s.ExportName != "" || len(s.Exports) > 0 {
		sec := add(".edata", rdata, func(rva uint32) []byte { return buildExports(s.ExportName, s.Exports, rva, text.rva) })
		dirs[0] = [2]uint32{sec.rva, uint32(len(sec.data))}
	}
	res := s.Resources
	if len(s.VersionInfo) > 0 {
		res = append(append([]Resource(nil), res...), Resource{Type: 16, ID: 1, Language: 0x409, Data: versionInfo(s.VersionInfo)})
	}
	if len(res) > 0 {
		sec := add(".rsrc", rdata, func(rva uint32) []byte { return buildResources(res, rva) })
		dirs[2] = [2]uint32{sec.rva, uint32(len(sec.data))}
	}

	var out bytes.Buffer
	le := binary.LittleEndian
	dos := make([]byte, 64)
	copy(dos, "MZ")
	out.Write(dos)
	out.Write(bytes.Repeat([]byte{0}, 64)) // room for a DOS stub
	if s.Rich {
		out.Write(richHeader())
	}
	for out.Len()%8 != 0 {
		out.WriteByte(0)
	}
	lfanew := out.Len()
	le.PutUint32(out.Bytes()[0x3c:], uint32(lfanew))

	machine := s.Machine
	optSize := uint16(224)
	if s.Is64 {
		optSize = 240
		if machine == 0 {
			machine = 0x8664
		}
	} else if machine == 0 {
		machine = 0x14c
	}
	chars := s.Characteristics | 0x0002
	if s.DLL {
		chars |= 0x2000
	}
	headers := uint32(lfanew) + 24 + uint32(optSize) + 40*uint32(len(secs))
	sizeOfHeaders := align(headers, fileAlign)
	raw := sizeOfHeaders
	rawOff := make([]uint32, len(secs))
	for i, sec := range secs {
		rawOff[i] = raw
		raw += align(uint32(len(sec.data)), fileAlign)
	}

	out.WriteString("PE\x00\x00")
	fh := make([]byte, 20)
	le.PutUint16(fh[0:], machine)
	le.PutUint16(fh[2:], uint16(len(secs)))
	le.PutUint32(fh[4:], s.Timestamp)
	le.PutUint16(fh[16:], optSize)
	le.PutUint16(fh[18:], chars)
	out.Write(fh)

	opt := make([]byte, optSize)
	subsystem := s.Subsystem
	if subsystem == 0 {
		subsystem = 2
	}
	le.PutUint16(opt[2:], 0x0e0e) // linker 14.14
	le.PutUint32(opt[4:], align(uint32(len(text.data)), fileAlign))
	le.PutUint32(opt[16:], text.rva+s.EntryOffset)
	le.PutUint32(opt[20:], text.rva)
	le.PutUint32(opt[32:], sectionAlign)
	le.PutUint32(opt[36:], fileAlign)
	le.PutUint16(opt[40:], 6)
	le.PutUint16(opt[48:], 6)
	le.PutUint32(opt[56:], next)
	le.PutUint32(opt[60:], sizeOfHeaders)
	le.PutUint16(opt[68:], subsystem)
	le.PutUint16(opt[70:], 0x8140)
	ddOff := 96
	if s.Is64 {
		le.PutUint16(opt[0:], 0x20b)
		le.PutUint64(opt[24:], imageBase64)
		le.PutUint64(opt[72:], 0x100000)
		le.PutUint64(opt[80:], 0x1000)
		le.PutUint64(opt[88:], 0x100000)
		le.PutUint64(opt[96:], 0x1000)
		le.PutUint32(opt[108:], 16)
		ddOff = 112
	} else {
		le.PutUint16(opt[0:], 0x10b)
		le.PutUint32(opt[28:], imageBase32)
		le.PutUint32(opt[72:], 0x100000)
		le.PutUint32(opt[76:], 0x1000)
		le.PutUint32(opt[80:], 0x100000)
		le.PutUint32(opt[84:], 0x1000)
		le.PutUint32(opt[92:], 16)
	}
	for i, d := range dirs {
		le.PutUint32(opt[ddOff+8*i:], d[0])
		le.PutUint32(opt[ddOff+8*i+4:], d[1])
	}
	out.Write(opt)

	for i, sec := range secs {
		h := make([]byte, 40)
		copy(h, sec.name)
		le.PutUint32(h[8:], uint32(len(sec.data)))
		le.PutUint32(h[12:], sec.rva)
		le.PutUint32(h[16:], align(uint32(len(sec.data)), fileAlign))
		le.PutUint32(h[20:], rawOff[i])
		le.PutUint32(h[36:], sec.flags)
		out.Write(h)
	}
	for i, sec := range secs {
		out.Write(make([]byte, int(rawOff[i])-out.Len()))
		out.Write(sec.data)
	}
	out.Write(make([]byte, int(raw)-out.Len()))
	out.Write(s.Overlay)
	return out.Bytes()
}

// richHeader returns a small DanS...Rich block with two tool entries.
func richHeader() []byte {
	const key = 0x5a5a1234
	le := binary.LittleEndian
	words := []uint32{0x536e6144, 0, 0, 0, 0x01040000 | 30729, 7, 0x00930000 | 27412, 3}
	var b []byte
	for _, w := range words {
		b = le.AppendUint32(b, w^key)
	}
	b = le.AppendUint32(b, 0x68636952)
	b = le.AppendUint32(b, key)
	return b
}

func cstr(s string) []byte { return append([]byte(s), 0) }

func buildImports(imps []Import, rva uint32, is64 bool) []byte {
	le := binary.LittleEndian
	ptr := 4
	if is64 {
		ptr = 8
	}
	descSize := 20 * (len(imps) + 1)
	// Layout: descriptors, then per DLL its lookup table and address table,
	// then hint/name entries and DLL names.
	off := descSize
	thunkOff := make([]int, len(imps))
	for i, imp := range imps {
		thunkOff[i] = off
		off += 2 * ptr * (len(imp.Functions) + 1)
	}
	buf := make([]byte, off)
	for i, imp := range imps {
		ilt := thunkOff[i]
		iat := ilt + ptr*(len(imp.Functions)+1)
		for j, fn := range imp.Functions {
			var v uint64
			if ord, ok := ordinal(fn); ok {
				v = uint64(ord)
				if is64 {
					v |= 1 << 63
				} else {
					v |= 1 << 31
				}
			} else {
				v = uint64(rva) + uint64(len(buf))
				buf = append(buf, 0, 0)
				buf = append(buf, cstr(fn)...)
				if len(buf)%2 == 1 {
					buf = append(buf, 0)
				}
			}
			for _, at := range []int{ilt, iat} {
				if is64 {
					le.PutUint64(buf[at+ptr*j:], v)
				} else {
					le.PutUint32(buf[at+ptr*j:], uint32(v))
				}
			}
		}
		name := rva + uint32(len(buf))
		buf = append(buf, cstr(imp.DLL)...)
		d := 20 * i
		le.PutUint32(buf[d:], rva+uint32(ilt))
		le.PutUint32(buf[d+12:], name)
		le.PutUint32(buf[d+16:], rva+uint32(iat))
	}
	return buf
}

func ordinal(fn string) (uint16, bool) {
	if len(fn) < 2 || fn[0] != '#' {
		return 0, false
	}
	var n uint16
	for _, c := range fn[1:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint16(c-'0')
	}
	return n, true
}

func buildExports(dll string, names []string, rva, textRVA uint32) []byte {
	le := binary.LittleEndian
	n := len(names)
	sorted := append([]string(nil), names...)
	sort.Strings(sorted) // the name table is sorted, as the loader expects
	funcs := 40
	nameTab := funcs + 4*n
	ordTab := nameTab + 4*n
	buf := make([]byte, ordTab+2*n)
	le.PutUint32(buf[16:], 1) // ordinal base
	le.PutUint32(buf[20:], uint32(n))
	le.PutUint32(buf[24:], uint32(n))
	le.PutUint32(buf[28:], rva+uint32(funcs))
	le.PutUint32(buf[32:], rva+uint32(nameTab))
	le.PutUint32(buf[36:], rva+uint32(ordTab))
	for i := range names {
		le.PutUint32(buf[funcs+4*i:], textRVA)
	}
	for j, name := range sorted {
		idx := 0
		for i, orig := range names {
			if orig == name {
				idx = i
			}
		}
		le.PutUint32(buf[nameTab+4*j:], rva+uint32(len(buf)))
		le.PutUint16(buf[ordTab+2*j:], uint16(idx))
		buf = append(buf, cstr(name)...)
	}
	le.PutUint32(buf[12:], rva+uint32(len(buf)))
	buf = append(buf, cstr(dll)...)
	return buf
}

// buildResources writes a three-level resource tree (type, id, language)
// followed by data entries and the data itself.
func buildResources(res []Resource, rva uint32) []byte {
	le := binary.LittleEndian
	type node struct {
		id   uint32
		kids []*node
		leaf *Resource
	}
	root := &node{}
	child := func(n *node, id uint32) *node {
		for _, k := range n.kids {
			if k.id == id {
				return k
			}
		}
		k := &node{id: id}
		n.kids = append(n.kids, k)
		return k
	}
	for i := range res {
		r := &res[i]
		child(child(child(root, r.Type), r.ID), r.Language).leaf = r
	}
	var buf []byte
	var leaves []struct {
		at int
		r  *Resource
	}
	var write func(n *node) int
	write = func(n *node) int {
		at := len(buf)
		buf = append(buf, make([]byte, 16+8*len(n.kids))...)
		le.PutUint16(buf[at+14:], uint16(len(n.kids)))
		for i, k := range n.kids {
			e := at + 16 + 8*i
			le.PutUint32(buf[e:], k.id)
			if k.leaf != nil {
				de := len(buf)
				buf = append(buf, make([]byte, 16)...)
				le.PutUint32(buf[e+4:], uint32(de))
				leaves = append(leaves, struct {
					at int
					r  *Resource
				}{de, k.leaf})
			} else {
				sub := write(k) // grows buf: index it only afterwards
				le.PutUint32(buf[e+4:], 0x80000000|uint32(sub))
			}
		}
		return at
	}
	write(root)
	for _, l := range leaves {
		for len(buf)%4 != 0 {
			buf = append(buf, 0)
		}
		le.PutUint32(buf[l.at:], rva+uint32(len(buf)))
		le.PutUint32(buf[l.at+4:], uint32(len(l.r.Data)))
		buf = append(buf, l.r.Data...)
	}
	return buf
}

// versionInfo builds a VS_VERSION_INFO block with one string table.
func versionInfo(kv [][2]string) []byte {
	var strs []byte
	for _, p := range kv {
		strs = pad4(append(strs, block(p[0], wide(p[1]), uint16(len(utf16.Encode([]rune(p[1])))+1), 1, nil)...))
	}
	table := block("040904b0", nil, 0, 1, strs)
	sfi := block("StringFileInfo", nil, 0, 1, table)
	fixed := make([]byte, 52)
	binary.LittleEndian.PutUint32(fixed, 0xFEEF04BD)
	return block("VS_VERSION_INFO", fixed, 52, 0, sfi)
}

func wide(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return append(b, 0, 0)
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// block writes a version resource node: length, value length, type, key,
// padding, value, padding, children.
func block(key string, value []byte, valueLen, typ uint16, children []byte) []byte {
	b := make([]byte, 6)
	b = pad4(append(b, wide(key)...))
	b = pad4(append(b, value...))
	b = append(b, children...)
	binary.LittleEndian.PutUint16(b[0:], uint16(len(b)))
	binary.LittleEndian.PutUint16(b[2:], valueLen)
	binary.LittleEndian.PutUint16(b[4:], typ)
	return b
}

// Samples returns a few built PEs covering every feature of Spec, for
// fuzz seeds and differential tests.
func Samples() [][]byte {
	return [][]byte{
		Build(Spec{}),
		Build(Spec{
			Is64: true, DLL: true, Rich: true,
			Imports: []Import{
				{DLL: "KERNEL32.dll", Functions: []string{"CreateFileA", "#7"}},
				{DLL: "ws2_32.dll", Functions: []string{"#4", "#23"}},
			},
			ExportName: "x.dll", Exports: []string{"A", "B"},
			Resources:   []Resource{{Type: 10, ID: 1, Language: 0x409, Data: []byte("abc")}},
			VersionInfo: [][2]string{{"CompanyName", "X"}, {"FileDescription", "Sample"}},
			Overlay:     []byte("overlay"),
		}),
		Build(Spec{
			Sections:  []Section{{Name: ".data", Data: []byte("data"), Characteristics: 0xC0000040}, {Name: "UPX0", Data: make([]byte, 3000), Characteristics: 0xE0000080}},
			Timestamp: 0x5f5e1000, EntryOffset: 0,
		}),
	}
}
