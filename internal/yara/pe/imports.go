package pe

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"

	safepe "github.com/saferwall/pe"
)

// ImportedDLL is one library of import_details (or of the delayed
// imports).
type ImportedDLL struct {
	Name      string // library_name
	Functions []ImportedFunction
	// FirstFunction and NumberOfFunctions reproduce a libyara 4.2.3 quirk:
	// functions[] indexes and number_of_functions keep counting across
	// libraries, so library d's functions are functions[FirstFunction...]
	// and its number_of_functions is the running total.
	FirstFunction     int64
	NumberOfFunctions int64
}

// ImportedFunction is one entry of import_details[i].functions.
type ImportedFunction struct {
	Name       string // name (ordinal imports get libyara's looked-up name or "ordN")
	Ordinal    int64  // ordinal, meaningful only when HasOrdinal
	HasOrdinal bool
}

// parseImports mirrors pe_parse_imports and pe_parse_import_descriptor.
func (f *File) parseImports() {
	va, _, ok := f.directory(1)
	if !ok || va == 0 {
		return
	}
	off := f.rvaToOffset(uint64(va))
	if off < 0 {
		return
	}
	var nDLL, nFunc int
	for desc := off; f.fits(desc, 20) && f.u32(desc+12) != 0 && nDLL < maxImports; desc += 20 {
		nameOff := f.rvaToOffset(uint64(f.u32(desc + 12)))
		if nameOff >= 0 {
			name, valid := f.dllName(nameOff)
			if !valid {
				continue // libyara skips without counting the library
			}
			funcs := f.parseThunks(desc, name, &nFunc)
			if len(funcs) > 0 {
				f.ImportDetails = append(f.ImportDetails, ImportedDLL{Name: name, Functions: funcs})
			}
		}
		nDLL++
	}
	f.NumberOfImports = int64(nDLL)
	f.NumberOfImportedFunctions = int64(nFunc)
	numberFunctions(f.ImportDetails)
}

func numberFunctions(dlls []ImportedDLL) {
	var n int64
	for i := range dlls {
		dlls[i].FirstFunction = n
		n += int64(len(dlls[i].Functions))
		dlls[i].NumberOfFunctions = n
	}
}

// dllName mirrors pe_valid_dll_name: printable-enough bytes up to a NUL
// that must lie inside the file.
func (f *File) dllName(off int64) (string, bool) {
	b := f.data[off:]
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), i > 0
		}
		if c < ' ' || c == '"' || c == '*' || c == '<' || c == '>' || c == '?' || c == '|' {
			return "", false
		}
	}
	return "", false
}

func (f *File) parseThunks(desc int64, dll string, nFunc *int) []ImportedFunction {
	off := f.rvaToOffset(uint64(f.u32(desc)))
	if off <= 0 {
		off = f.rvaToOffset(uint64(f.u32(desc + 16)))
	}
	if off < 0 {
		return nil
	}
	size := int64(4)
	if f.is64 {
		size = 8
	}
	var out []ImportedFunction
	for t := off; f.fits(t, size) && *nFunc < maxImports; t += size {
		var v uint64
		var byOrdinal bool
		if f.is64 {
			v = f.u64(t)
			byOrdinal = v&(1<<63) != 0
		} else {
			v = uint64(f.u32(t))
			byOrdinal = v&(1<<31) != 0
		}
		if v == 0 {
			break
		}
		if byOrdinal {
			ord := v & 0xffff
			out = append(out, ImportedFunction{Name: ordLookup(dll, ord), Ordinal: int64(ord), HasOrdinal: true})
		} else if nameOff := f.rvaToOffset(v); nameOff >= 0 && f.fits(nameOff, 4) {
			out = append(out, ImportedFunction{Name: f.cstring(nameOff+2, maxExportName)})
		}
		*nFunc++
	}
	return out
}

// ordLookup mirrors libyara's ord_lookup, whose tables equal saferwall's;
// libyara matches the library by case-insensitive prefix.
func ordLookup(dll string, ord uint64) string {
	var names map[uint64]string
	switch {
	case hasPrefixFold(dll, "ws2_32.dll"), hasPrefixFold(dll, "wsock32.dll"):
		names = safepe.WS232OrdNames
	case hasPrefixFold(dll, "oleaut32.dll"):
		names = safepe.OleAut32OrdNames
	}
	if name, ok := names[ord]; ok {
		return name
	}
	return fmt.Sprintf("ord%d", ord)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// parseDelayedImports mirrors pe_parse_delayed_imports.
func (f *File) parseDelayedImports() {
	va, _, ok := f.directory(13)
	if !ok || va == 0 {
		return
	}
	off := f.rvaToOffset(uint64(va))
	if off < 0 {
		return
	}
	imageBase := uint64(f.ImageBase)
	sizeOfImage := uint64(f.SizeOfImage)
	ptr := int64(4)
	ordMask := uint64(1 << 31)
	if f.is64 {
		ptr, ordMask = 8, 1<<63
	}
	normalize := func(v uint64) uint64 {
		if v != 0 && v > imageBase {
			return v - imageBase
		}
		return v
	}
	var nDLL, nFunc int
	for d := off; f.fits(d, 32); d += 32 {
		var fields [8]uint32
		zero := true
		for i := range fields {
			fields[i] = f.u32(d + int64(i)*4)
			zero = zero && fields[i] == 0
		}
		if zero {
			break
		}
		attrs := fields[0]
		if attrs > 1 {
			break
		}
		nameRVA, iat, int_ := fields[1], fields[3], fields[4]
		if !f.is64 && attrs == 0 {
			nameRVA = uint32(normalize(uint64(nameRVA)))
			iat = uint32(normalize(uint64(iat)))
			int_ = uint32(normalize(uint64(int_)))
		}
		if uint64(int_) >= sizeOfImage || uint64(iat) >= sizeOfImage ||
			nameRVA < sizeofDOSHeader || int_ < sizeofDOSHeader {
			break
		}
		nameOff := f.rvaToOffset(uint64(nameRVA))
		if nameOff < 0 {
			continue
		}
		name, valid := f.dllName(nameOff)
		if !valid {
			continue
		}
		dll := ImportedDLL{Name: name}
		nameRVA64, funcRVA64 := uint64(int_), uint64(iat)
		for {
			nameAddr, ok1 := f.delayPointer(nameRVA64, ptr)
			funcAddr, ok2 := f.delayPointer(funcRVA64, ptr)
			if !ok1 || !ok2 || nameAddr == 0 || funcAddr == 0 {
				break
			}
			var fn ImportedFunction
			if nameAddr&ordMask == 0 {
				if attrs == 0 {
					nameAddr = normalize(nameAddr)
				}
				if o := f.rvaToOffset(nameAddr + 2); o >= 0 {
					fn.Name = f.cstring(o, maxExportName)
				}
			} else {
				ord := nameAddr & 0xffff
				fn = ImportedFunction{Name: ordLookup(name, ord), Ordinal: int64(ord), HasOrdinal: true}
			}
			dll.Functions = append(dll.Functions, fn)
			nFunc++
			nameRVA64 += uint64(ptr)
			funcRVA64 += uint64(ptr)
		}
		nDLL++
		f.DelayedImportDetails = append(f.DelayedImportDetails, dll)
	}
	f.NumberOfDelayedImports = int64(nDLL)
	f.NumberOfDelayedImportedFunctions = int64(nFunc)
	numberFunctions(f.DelayedImportDetails)
}

func (f *File) delayPointer(rva uint64, size int64) (uint64, bool) {
	off := f.rvaToOffset(rva)
	if !f.fits(off, size) {
		return 0, false
	}
	if size == 8 {
		return f.u64(off), true
	}
	return uint64(f.u32(off)), true
}

// Imphash is pe.imphash(): the MD5 of "dll.function" pairs of the standard
// imports, lower-cased, with .dll/.ocx/.sys cut at the name's first dot.
func (f *File) Imphash() string {
	h := md5.New()
	first := true
	for _, dll := range f.ImportDetails {
		name := dll.Name
		if i := strings.IndexByte(name, '.'); i >= 0 {
			ext := name[i:]
			if hasPrefixFold(ext, ".ocx") || hasPrefixFold(ext, ".sys") || hasPrefixFold(ext, ".dll") {
				name = name[:i]
			}
		}
		for _, fn := range dll.Functions {
			s := name + "." + fn.Name
			if !first {
				s = "," + s
			}
			first = false
			h.Write([]byte(asciiLower(s)))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// asciiLower lower-cases like C's tolower in the "C" locale.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
