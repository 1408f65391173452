package yara

import (
	"encoding/binary"
	"math"
)

// elfFile is what libyara 4.2.3's elf module exposes about one ELF file.
// Values libyara leaves undefined are nil pointers; array entries it never
// sets are nil too.
type elfFile struct {
	Type, Machine                *int64
	EntryPoint                   *int64
	NumberOfSections, ShOffset   *int64
	ShEntrySize                  *int64
	NumberOfSegments, PhOffset   *int64
	PhEntrySize                  *int64
	Sections                     []elfSection
	Segments                     []elfSegment
	Dynamic                      []elfDyn
	DynamicEntries               *int64
	Symtab, Dynsym               []elfSym
	SymtabEntries, DynsymEntries *int64
}

type elfSection struct {
	Type, Flags, Address, Size, Offset int64
	Name                               *string
}

type elfSegment struct {
	Type, Flags, Offset, VirtualAddress, PhysicalAddress, FileSize, MemorySize, Alignment int64
}

type elfDyn struct{ Type, Val int64 }

type elfSym struct {
	Name                           *string
	Value, Size, Type, Bind, Shndx int64
}

func i64p(v int64) *int64 { return &v }

// elfReader reads fields of one ELF class and byte order.
type elfReader struct {
	d    []byte
	bo   binary.ByteOrder
	is64 bool
}

func (r elfReader) u16(off uint64) uint64 { return uint64(r.bo.Uint16(r.d[off:])) }
func (r elfReader) u32(off uint64) uint64 { return uint64(r.bo.Uint32(r.d[off:])) }

// word reads an address-sized field: 4 bytes in ELF32, 8 in ELF64.
func (r elfReader) word(off uint64) uint64 {
	if r.is64 {
		return r.bo.Uint64(r.d[off:])
	}
	return r.u32(off)
}

// fits reports whether size bytes at off lie inside the data, without
// overflow.
func fitsIn(n int, off, size uint64) bool {
	return size <= uint64(n) && off <= uint64(n)-size
}

// strTableEntry mirrors libyara's str_table_entry over [base, limit).
func strTableEntry(d []byte, base, limit uint64, index uint32) *string {
	if base >= limit || limit > uint64(len(d)) {
		return nil
	}
	if d[base] != 0 {
		return nil
	}
	if int32(index) < 0 {
		return nil
	}
	entry := base + uint64(index)
	if entry >= limit {
		return nil
	}
	for i := entry; i < limit; i++ {
		if d[i] == 0 {
			s := string(d[entry:i])
			return &s
		}
	}
	return nil
}

// parseELF mirrors the elf module's module_load and parse_elf_header_*.
// It returns nil when data is not an ELF file the module parses.
func parseELF(d []byte) *elfFile {
	if len(d) < 16 || binary.LittleEndian.Uint32(d) != 0x464c457f {
		return nil
	}
	r := elfReader{d: d}
	switch d[5] {
	case 1:
		r.bo = binary.LittleEndian
	case 2:
		r.bo = binary.BigEndian
	default:
		return nil
	}
	var hdrSize, shSize, phSize, symSize uint64
	switch d[4] {
	case 1:
		hdrSize, shSize, phSize, symSize = 52, 40, 32, 16
	case 2:
		r.is64 = true
		hdrSize, shSize, phSize, symSize = 64, 64, 56, 24
	default:
		return nil
	}
	if uint64(len(d)) <= hdrSize {
		return nil
	}
	size := uint64(len(d))
	f := &elfFile{}
	// Header field offsets differ after e_entry between the classes.
	var entry, phOff, shOff, phEntSize, phCount, shEntSize, shCount, shStrIdx uint64
	var shCountRaw uint64 // libyara compares section links with the unswapped count
	if r.is64 {
		entry, phOff, shOff = r.word(24), r.word(32), r.word(40)
		phEntSize, phCount, shEntSize, shCount, shStrIdx = r.u16(54), r.u16(56), r.u16(58), r.u16(60), r.u16(62)
		shCountRaw = uint64(binary.LittleEndian.Uint16(d[60:]))
	} else {
		entry, phOff, shOff = r.word(24), r.word(28), r.word(32)
		phEntSize, phCount, shEntSize, shCount, shStrIdx = r.u16(42), r.u16(44), r.u16(46), r.u16(48), r.u16(50)
		shCountRaw = uint64(binary.LittleEndian.Uint16(d[48:]))
	}
	f.Type = i64p(int64(r.u16(16)))
	f.Machine = i64p(int64(r.u16(18)))
	f.ShOffset = i64p(int64(shOff))
	f.ShEntrySize = i64p(int64(shEntSize))
	f.NumberOfSections = i64p(int64(shCount))
	f.PhOffset = i64p(int64(phOff))
	f.PhEntrySize = i64p(int64(phEntSize))
	f.NumberOfSegments = i64p(int64(phCount))
	if entry != 0 {
		if off, ok := r.rvaToOffset(entry, *f.Type, phOff, phCount, phSize, shOff, shCount, shSize); ok {
			f.EntryPoint = i64p(int64(off))
		}
	}

	if shCount < 0xff00 && shStrIdx < shCount && shOff < size && shOff+shCount*shSize <= size {
		var strTable uint64
		if o := r.word(shOff + shStrIdx*shSize + r.shOffsetField()); o < size {
			strTable = o
		}
		var symOff, symStr, symLen, symStrLen uint64
		var dynOff, dynStr, dynLen, dynStrLen uint64
		haveSym, haveDyn := false, false
		for i := uint64(0); i < shCount; i++ {
			sh := shOff + i*shSize
			s := elfSection{
				Type:    int64(r.u32(sh + 4)),
				Flags:   int64(r.word(sh + 8)),
				Address: int64(r.word(sh + r.shAddrField())),
				Size:    int64(r.word(sh + r.shSizeField())),
				Offset:  int64(r.word(sh + r.shOffsetField())),
			}
			name := r.u32(sh)
			if name < size && strTable > 0 {
				s.Name = strTableEntry(d, strTable, size, uint32(name))
			}
			f.Sections = append(f.Sections, s)
			link := r.u32(sh + r.shLinkField())
			if (s.Type == 2 || s.Type == 11) && link < shCountRaw {
				ss := shOff + link*shSize
				if fitsIn(len(d), ss, shSize) && r.u32(ss+4) == 3 {
					if s.Type == 2 {
						symOff, symLen = uint64(s.Offset), uint64(s.Size)
						symStr, symStrLen = r.word(ss+r.shOffsetField()), r.word(ss+r.shSizeField())
						haveSym = true
					} else {
						dynOff, dynLen = uint64(s.Offset), uint64(s.Size)
						dynStr, dynStrLen = r.word(ss+r.shOffsetField()), r.word(ss+r.shSizeField())
						haveDyn = true
					}
				}
			}
		}
		if !r.is64 {
			// The sizes are uint32 in libyara's 32-bit parser.
			symLen, symStrLen, dynLen, dynStrLen = symLen&math.MaxUint32, symStrLen&math.MaxUint32, dynLen&math.MaxUint32, dynStrLen&math.MaxUint32
		}
		if haveSym && fitsIn(len(d), symStr, symStrLen) && fitsIn(len(d), symOff, symLen) {
			f.Symtab = r.symbols(symOff, symLen/symSize, symStr, symStrLen)
			f.SymtabEntries = i64p(int64(len(f.Symtab)))
		}
		if haveDyn && fitsIn(len(d), dynStr, dynStrLen) && fitsIn(len(d), dynOff, dynLen) {
			f.Dynsym = r.symbols(dynOff, dynLen/symSize, dynStr, dynStrLen)
			f.DynsymEntries = i64p(int64(len(f.Dynsym)))
		}
	}

	if phCount > 0 && phCount < 0xffff && phOff < size && phOff+phCount*phSize <= size {
		for i := uint64(0); i < phCount; i++ {
			ph := phOff + i*phSize
			var s elfSegment
			s.Type = int64(r.u32(ph))
			if r.is64 {
				s.Flags = int64(r.u32(ph + 4))
				s.Offset, s.VirtualAddress, s.PhysicalAddress = int64(r.word(ph+8)), int64(r.word(ph+16)), int64(r.word(ph+24))
				s.FileSize, s.MemorySize, s.Alignment = int64(r.word(ph+32)), int64(r.word(ph+40)), int64(r.word(ph+48))
			} else {
				s.Offset, s.VirtualAddress, s.PhysicalAddress = int64(r.u32(ph+4)), int64(r.u32(ph+8)), int64(r.u32(ph+12))
				s.FileSize, s.MemorySize, s.Flags, s.Alignment = int64(r.u32(ph+16)), int64(r.u32(ph+20)), int64(r.u32(ph+24)), int64(r.u32(ph+28))
			}
			f.Segments = append(f.Segments, s)
			if s.Type == 2 { // PT_DYNAMIC
				dynSize := uint64(8)
				if r.is64 {
					dynSize = 16
				}
				j := 0
				for off := uint64(s.Offset); fitsIn(len(d), off, dynSize); off += dynSize {
					e := elfDyn{Type: int64(r.word(off)), Val: int64(r.word(off + dynSize/2))}
					if j < len(f.Dynamic) {
						f.Dynamic[j] = e
					} else {
						f.Dynamic = append(f.Dynamic, e)
					}
					j++
					if e.Type == 0 {
						break
					}
				}
				f.DynamicEntries = i64p(int64(j))
			}
		}
	}
	return f
}

func (r elfReader) shAddrField() uint64 {
	if r.is64 {
		return 16
	}
	return 12
}

func (r elfReader) shOffsetField() uint64 {
	if r.is64 {
		return 24
	}
	return 16
}

func (r elfReader) shSizeField() uint64 {
	if r.is64 {
		return 32
	}
	return 20
}

func (r elfReader) shLinkField() uint64 {
	if r.is64 {
		return 40
	}
	return 24
}

func (r elfReader) symbols(off, n, str, strLen uint64) []elfSym {
	out := make([]elfSym, 0, min(n, 1<<16))
	for j := uint64(0); j < n; j++ {
		var s elfSym
		var name uint32
		var info uint8
		if r.is64 {
			e := off + j*24
			name, info = uint32(r.u32(e)), r.d[e+4]
			s.Shndx, s.Value, s.Size = int64(r.u16(e+6)), int64(r.word(e+8)), int64(r.word(e+16))
		} else {
			e := off + j*16
			name = uint32(r.u32(e))
			s.Value, s.Size, info, s.Shndx = int64(r.u32(e+4)), int64(r.u32(e+8)), r.d[e+12], int64(r.u16(e+14))
		}
		s.Bind, s.Type = int64(info>>4), int64(info&0xf)
		s.Name = strTableEntry(r.d, str, str+strLen, name)
		out = append(out, s)
	}
	return out
}

// rvaToOffset mirrors the elf module's elf_rva_to_offset: program headers
// for executables, section headers otherwise; ELF32 address sums wrap at
// 32 bits as in C.
func (r elfReader) rvaToOffset(rva uint64, typ int64, phOff, phCount, phSize, shOff, shCount, shSize uint64) (uint64, bool) {
	size := uint64(len(r.d))
	wrap := func(v uint64) uint64 {
		if r.is64 {
			return v
		}
		return v & math.MaxUint32
	}
	if typ == 2 { // ET_EXEC
		if phOff == 0 || phOff > size || phOff+phCount*phSize > size || phCount == 0 {
			return 0, false
		}
		for i := uint64(0); i < phCount; i++ {
			ph := phOff + i*phSize
			var off, va, mem uint64
			if r.is64 {
				off, va, mem = r.word(ph+8), r.word(ph+16), r.word(ph+40)
			} else {
				off, va, mem = r.u32(ph+4), r.u32(ph+8), r.u32(ph+20)
			}
			if rva >= va && rva < wrap(va+mem) {
				return off + (rva - va), true
			}
		}
		return 0, false
	}
	if shOff == 0 || shOff > size || shOff+shCount*shSize > size || shCount == 0 {
		return 0, false
	}
	for i := uint64(0); i < shCount; i++ {
		sh := shOff + i*shSize
		typ := r.u32(sh + 4)
		addr, sz, off := r.word(sh+r.shAddrField()), r.word(sh+r.shSizeField()), r.word(sh+r.shOffsetField())
		if typ != 0 && typ != 8 && rva >= addr && rva < wrap(addr+sz) {
			return off + (rva - addr), true
		}
	}
	return 0, false
}

// entryPointOffset is the deprecated entrypoint keyword as libyara's
// exefiles.c computes it: its own PE header and section walk, or the ELF
// entry (read little-endian, 0 when it maps nowhere); undefined for other
// files.
func entryPointOffset(d []byte) (int64, bool) {
	n := uint64(len(d))
	if n >= 64 && binary.LittleEndian.Uint16(d) == 0x5a4d {
		lfanew := binary.LittleEndian.Uint32(d[60:])
		if int32(lfanew) >= 0 && n >= uint64(lfanew)+24 && n > uint64(lfanew)+24+224 {
			pe := uint64(lfanew)
			machine := binary.LittleEndian.Uint16(d[pe+4:])
			if binary.LittleEndian.Uint32(d[pe:]) == 0x4550 && (machine == 0x14c || machine == 0x8664) {
				rva := uint64(binary.LittleEndian.Uint32(d[pe+40:]))
				remaining := n - pe
				nsec := min(uint64(binary.LittleEndian.Uint16(d[pe+6:])), 60)
				sec := 24 + uint64(binary.LittleEndian.Uint16(d[pe+20:]))
				var secRVA, secOff uint64
				for i := uint64(0); i < nsec; i++ {
					if sec+40 >= remaining {
						return 0, true
					}
					va := uint64(binary.LittleEndian.Uint32(d[pe+sec+12:]))
					if rva >= va && secRVA <= va {
						secRVA, secOff = va, uint64(binary.LittleEndian.Uint32(d[pe+sec+20:]))
					}
					sec += 40
				}
				return int64(secOff + (rva - secRVA)), true
			}
		}
	}
	if n < 16 || binary.LittleEndian.Uint32(d) != 0x464c457f {
		return 0, false
	}
	r := elfReader{d: d, bo: binary.LittleEndian}
	switch d[4] {
	case 1:
		if n < 52 {
			return 0, false
		}
	case 2:
		if n < 64 {
			return 0, false
		}
		r.is64 = true
	default:
		return 0, false
	}
	var entry, phOff, shOff, phCount, shCount uint64
	var phSize, shSize uint64 = 32, 40
	if r.is64 {
		entry, phOff, shOff, phCount, shCount = r.word(24), r.word(32), r.word(40), r.u16(56), r.u16(60)
		phSize, shSize = 56, 64
	} else {
		entry, phOff, shOff, phCount, shCount = r.word(24), r.word(28), r.word(32), r.u16(44), r.u16(48)
	}
	if phOff > math.MaxUint64-phCount*phSize || shOff > math.MaxUint64-shCount*shSize {
		return 0, true
	}
	off, _ := r.rvaToOffset(entry, int64(r.u16(16)), phOff, phCount, phSize, shOff, shCount, shSize)
	return int64(off), true
}
