package pe

import "encoding/binary"

// Undefined is libyara's YR_UNDEFINED as an integer; libyara's functions
// sometimes compute with it (pe.locale over a resource whose language is a
// string), so the value itself is part of the contract.
const Undefined = int64(-0x0005452505452501) // 0xFFFABADAFABADAFF

// Import flags of pe.imports(flags, ...).
const (
	ImportStandard = 1
	ImportDelayed  = 2
)

// equalFoldASCII mirrors strcasecmp in the "C" locale.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// cstr cuts s at its first NUL, as a C string argument is.
func cstr(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return s[:i]
		}
	}
	return s
}

func (f *File) dlls(flags int64) [][]ImportedDLL {
	var out [][]ImportedDLL
	if flags&ImportStandard != 0 {
		out = append(out, f.ImportDetails)
	}
	if flags&ImportDelayed != 0 {
		out = append(out, f.DelayedImportDetails)
	}
	return out
}

// Imports is pe.imports(flags, dll, function); pe.imports(dll, function)
// is Imports(ImportStandard, dll, function).
func (f *File) Imports(flags int64, dll, function string) bool {
	dll, function = cstr(dll), cstr(function)
	for _, list := range f.dlls(flags) {
		for _, d := range list {
			if !equalFoldASCII(d.Name, dll) {
				continue
			}
			for _, fn := range d.Functions {
				if equalFoldASCII(fn.Name, function) {
					return true
				}
			}
		}
	}
	return false
}

// ImportsOrdinal is pe.imports(flags, dll, ordinal).
func (f *File) ImportsOrdinal(flags int64, dll string, ordinal int64) bool {
	dll = cstr(dll)
	for _, list := range f.dlls(flags) {
		for _, d := range list {
			if !equalFoldASCII(d.Name, dll) {
				continue
			}
			for _, fn := range d.Functions {
				if fn.HasOrdinal && fn.Ordinal == ordinal {
					return true
				}
			}
		}
	}
	return false
}

// ImportsDLL is pe.imports(flags, dll): the number of functions imported
// from dll.
func (f *File) ImportsDLL(flags int64, dll string) int64 {
	dll = cstr(dll)
	var n int64
	for _, list := range f.dlls(flags) {
		for _, d := range list {
			if equalFoldASCII(d.Name, dll) {
				n += int64(len(d.Functions))
			}
		}
	}
	return n
}

// ImportsRegex is pe.imports(flags, /dll/, /function/): the number of
// functions whose library and name both match. libyara counts a regex as
// matching when it matches a non-empty part of the name; the matchers
// given must implement that.
func (f *File) ImportsRegex(flags int64, dll, function func(string) bool) int64 {
	var n int64
	for _, list := range f.dlls(flags) {
		for _, d := range list {
			if !dll(d.Name) {
				continue
			}
			for _, fn := range d.Functions {
				if function(fn.Name) {
					n++
				}
			}
		}
	}
	return n
}

// Exports is pe.exports(name), compared case-insensitively.
func (f *File) Exports(name string) bool {
	_, ok := f.ExportsIndex(name)
	return ok
}

// ExportsIndex is pe.exports_index(name); ok is false where libyara
// returns undefined.
func (f *File) ExportsIndex(name string) (int64, bool) {
	return f.ExportsIndexFunc(func(s string) bool { return equalFoldASCII(s, name) })
}

// ExportsIndexFunc is pe.exports_index(/regex/) given a matcher; pe.exports
// with a regex is its ok result.
func (f *File) ExportsIndexFunc(match func(string) bool) (int64, bool) {
	for i, e := range f.ExportDetails {
		if e.Name != nil && match(*e.Name) {
			return int64(i), true
		}
	}
	return 0, false
}

// ExportsOrdinal is pe.exports(ordinal).
func (f *File) ExportsOrdinal(ordinal int64) bool {
	_, ok := f.ExportsIndexOrdinal(ordinal)
	return ok
}

// ExportsIndexOrdinal is pe.exports_index(ordinal). Like libyara it gives
// up on ordinals above the number of exports, even with a higher ordinal
// base.
func (f *File) ExportsIndexOrdinal(ordinal int64) (int64, bool) {
	n := int64(len(f.ExportDetails))
	if ordinal == 0 || ordinal > n {
		return 0, false
	}
	for i, e := range f.ExportDetails {
		if e.Ordinal == ordinal {
			return int64(i), true
		}
	}
	return 0, false
}

// SectionIndexName is pe.section_index(name), case-sensitive.
func (f *File) SectionIndexName(name string) (int64, bool) {
	name = cstr(name)
	for i, s := range f.Sections {
		if cstr(s.Name) == name {
			return int64(i), true
		}
	}
	return 0, false
}

// SectionIndexAddr is pe.section_index(file_offset).
func (f *File) SectionIndexAddr(addr int64) (int64, bool) {
	for i, s := range f.Sections {
		if addr >= s.RawDataOffset && addr < s.RawDataOffset+s.RawDataSize {
			return int64(i), true
		}
	}
	return 0, false
}

// RVAToOffset is pe.rva_to_offset(rva).
func (f *File) RVAToOffset(rva int64) (int64, bool) {
	o := f.rvaToOffset(uint64(rva))
	return o, o != -1
}

// IsDLL is pe.is_dll(): like libyara it returns the IMAGE_FILE_DLL bit
// itself (0x2000), not 1.
func (f *File) IsDLL() int64 { return f.Characteristics & 0x2000 }

// Is32Bit is pe.is_32bit().
func (f *File) Is32Bit() bool { return !f.is64 }

// Is64Bit is pe.is_64bit().
func (f *File) Is64Bit() bool { return f.is64 }

func (f *File) languageMatches(mask, want int64) bool {
	for _, r := range f.Resources {
		lang := Undefined
		if r.Language != nil {
			lang = *r.Language
		}
		if lang&mask == want {
			return true
		}
	}
	return false
}

// Locale is pe.locale(id): some resource's language has the LCID id.
func (f *File) Locale(id int64) bool { return f.languageMatches(0xffff, id) }

// Language is pe.language(id): some resource's primary language is id.
func (f *File) Language(id int64) bool { return f.languageMatches(0xff, id) }

// RichVersion is pe.rich_signature.version(version[, toolid]) and
// pe.rich_signature.toolid(toolid[, version]): the summed counts of the
// Rich entries matching the given version and/or tool id (nil matches any).
// ok is false when the file has no Rich signature.
func (f *File) RichVersion(version, toolid *int64) (int64, bool) {
	r := f.RichSignature
	if r == nil {
		return 0, false
	}
	if version == nil && toolid == nil {
		return 0, true
	}
	var n int64
	clear := []byte(r.ClearData)
	for i := 16; i+8 <= len(clear); i += 8 {
		idv := binary.LittleEndian.Uint32(clear[i:])
		if (version == nil || *version == int64(idv&0xffff)) &&
			(toolid == nil || *toolid == int64(idv>>16)) {
			n += int64(binary.LittleEndian.Uint32(clear[i+4:]))
		}
	}
	return n, true
}

// CalculateChecksum is pe.calculate_checksum().
func (f *File) CalculateChecksum() int64 {
	d := f.data
	csumOff := uint64(f.opt) + 64
	var csum uint64
	for i := uint64(0); i <= uint64(len(d))/4; i++ {
		if 4*i == csumOff {
			continue
		}
		if 4*i+4 <= uint64(len(d)) {
			csum += uint64(binary.LittleEndian.Uint32(d[4*i:]))
		} else {
			for j := uint64(0); j < uint64(len(d))%4; j++ {
				csum += uint64(d[4*i+j]) << (8 * j)
			}
		}
		if csum > 0xffffffff {
			csum = csum&0xffffffff + csum>>32
		}
	}
	csum = csum&0xffff + csum>>16
	csum += csum >> 16
	csum &= 0xffff
	csum += uint64(len(d))
	return int64(csum)
}
