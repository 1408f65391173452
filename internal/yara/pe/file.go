package pe

import (
	"encoding/binary"
)

// Limits libyara applies while parsing; copied so that truncation happens at
// the same places.
const (
	maxSections     = 96
	maxImports      = 16384
	maxExports      = 8192
	maxExportName   = 512
	maxResources    = 65536
	maxCerts        = 16
	maxPath         = 260
	sizeofDOSHeader = 64
)

// Version is a major/minor pair (pe.linker_version, pe.os_version, ...).
type Version struct {
	Major, Minor int64
}

// DataDirectory is one entry of pe.data_directories.
type DataDirectory struct {
	VirtualAddress int64 // virtual_address
	Size           int64 // size
}

// Section is one entry of pe.sections.
type Section struct {
	Name string // name: the 8-byte name with trailing NULs removed
	// FullName is full_name: the COFF string-table name for "/nnn" names;
	// nil where libyara leaves it undefined.
	FullName             *string
	Characteristics      int64 // characteristics
	VirtualAddress       int64 // virtual_address
	VirtualSize          int64 // virtual_size
	RawDataOffset        int64 // raw_data_offset
	RawDataSize          int64 // raw_data_size
	PointerToRelocations int64 // pointer_to_relocations
	PointerToLineNumbers int64 // pointer_to_line_numbers
	NumberOfRelocations  int64 // number_of_relocations
	NumberOfLineNumbers  int64 // number_of_line_numbers
}

// Overlay is pe.overlay: data appended after the last section.
type Overlay struct {
	Offset, Size int64
}

// RichSignature is pe.rich_signature, present only when a valid
// DanS...Rich block precedes the NT headers.
type RichSignature struct {
	Offset    int64  // offset
	Length    int64  // length
	Key       int64  // key
	RawData   string // raw_data
	ClearData string // clear_data
}

// File is what libyara's pe module exposes about one PE file. Optional
// values are pointers (or nil slices/maps) exactly where libyara leaves the
// identifier undefined for a parsed PE.
type File struct {
	data []byte
	// opt is the offset of the optional header; sectionTable of the first
	// section header.
	opt, sectionTable int
	is64              bool
	nsections         int // FileHeader.NumberOfSections
	fileAlignment     uint32

	Machine              int64 // machine
	NumberOfSections     int64 // number_of_sections
	Timestamp            int64 // timestamp
	PointerToSymbolTable int64 // pointer_to_symbol_table
	NumberOfSymbols      int64 // number_of_symbols
	SizeOfOptionalHeader int64 // size_of_optional_header
	Characteristics      int64 // characteristics
	// EntryPoint is entry_point: the file offset of AddressOfEntryPoint as
	// libyara's rva_to_offset computes it (-1 when it maps nowhere).
	EntryPoint              int64
	EntryPointRaw           int64 // entry_point_raw
	ImageBase               int64 // image_base
	NumberOfRvaAndSizes     int64 // number_of_rva_and_sizes
	OptHdrMagic             int64 // opthdr_magic
	LinkerVersion           Version
	SizeOfCode              int64  // size_of_code
	SizeOfInitializedData   int64  // size_of_initialized_data
	SizeOfUninitializedData int64  // size_of_uninitialized_data
	BaseOfCode              int64  // base_of_code
	BaseOfData              *int64 // base_of_data (PE32 only)
	SectionAlignment        int64  // section_alignment
	FileAlignment           int64  // file_alignment
	OSVersion               Version
	ImageVersion            Version
	SubsystemVersion        Version
	Win32VersionValue       int64 // win32_version_value
	SizeOfImage             int64 // size_of_image
	SizeOfHeaders           int64 // size_of_headers
	Checksum                int64 // checksum
	Subsystem               int64 // subsystem
	DllCharacteristics      int64 // dll_characteristics
	SizeOfStackReserve      int64 // size_of_stack_reserve
	SizeOfStackCommit       int64 // size_of_stack_commit
	SizeOfHeapReserve       int64 // size_of_heap_reserve
	SizeOfHeapCommit        int64 // size_of_heap_commit
	LoaderFlags             int64 // loader_flags
	DataDirectories         []DataDirectory
	Sections                []Section
	Overlay                 Overlay
	RichSignature           *RichSignature
	PDBPath                 *string // pdb_path

	// Resources.
	ResourceTimestamp   *int64   // resource_timestamp
	ResourceVersion     *Version // resource_version
	Resources           []Resource
	NumberOfResources   int64             // number_of_resources
	VersionInfo         map[string]string // version_info[key]
	VersionInfoList     []KeyValue        // version_info_list
	NumberOfVersionInfo int64             // number_of_version_infos

	// Imports (import_details) and delayed imports; only libraries with at
	// least one function are listed, as in libyara.
	NumberOfImports                  int64 // number_of_imports
	NumberOfImportedFunctions        int64 // number_of_imported_functions
	ImportDetails                    []ImportedDLL
	NumberOfDelayedImports           int64 // number_of_delayed_imports
	NumberOfDelayedImportedFunctions int64 // number_of_delayed_imported_functions
	// DelayedImportDetails feed pe.imports(pe.IMPORT_DELAYED, ...); libyara
	// 4.2.3 never fills pe.delay_import_details (it writes them under a
	// misspelt name), so that identifier stays undefined.
	DelayedImportDetails []ImportedDLL

	// Exports.
	NumberOfExports int64    // number_of_exports
	DLLName         *string  // dll_name
	ExportTimestamp *int64   // export_timestamp
	ExportDetails   []Export // export_details

	// Signatures; NumberOfSignatures is nil when the security directory
	// entry itself is absent.
	NumberOfSignatures *int64 // number_of_signatures
	Signatures         []Signature
}

// Parse reads data as libyara's pe module does. ok is false when data is not
// a PE (then every pe identifier except is_pe is undefined). Parse never
// panics: should a bug let hostile input index out of range, the file is
// treated as not a PE.
func Parse(data []byte) (f *File, ok bool) {
	defer func() {
		if recover() != nil {
			f, ok = nil, false
		}
	}()
	return parse(data)
}

// parse is Parse without the safety net, so that fuzzing sees panics.
func parse(data []byte) (*File, bool) {
	f := &File{data: data}
	if !f.parseHeaders() {
		return nil, false
	}
	f.parseResources()
	f.parseSections()
	f.parseRichSignature()
	f.parseDebug()
	f.parseCertificates()
	f.parseImports()
	f.parseDelayedImports()
	f.parseExports()
	return f, true
}

// fits reports whether size bytes at off lie inside the file (libyara's
// fits_in_pe).
func (f *File) fits(off, size int64) bool {
	n := int64(len(f.data))
	return size >= 0 && size <= n && off >= 0 && off <= n-size
}

func (f *File) u16(off int64) uint16 { return binary.LittleEndian.Uint16(f.data[off:]) }
func (f *File) u32(off int64) uint32 { return binary.LittleEndian.Uint32(f.data[off:]) }
func (f *File) u64(off int64) uint64 { return binary.LittleEndian.Uint64(f.data[off:]) }

// cstring returns the NUL-terminated string at off, reading at most max
// bytes and never past the end of the file.
func (f *File) cstring(off int64, max int) string {
	if off < 0 || off >= int64(len(f.data)) {
		return ""
	}
	b := f.data[off:]
	if len(b) > max {
		b = b[:max]
	}
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// parseHeaders mirrors pe_get_header and the header part of
// pe_parse_header.
func (f *File) parseHeaders() bool {
	d := f.data
	n := int64(len(d))
	if n < sizeofDOSHeader || binary.LittleEndian.Uint16(d) != 0x5a4d {
		return false
	}
	lfanew := int64(int32(binary.LittleEndian.Uint32(d[0x3c:])))
	if lfanew < 0 {
		return false
	}
	hdr := lfanew + 4 + 20
	if n < hdr || f.u32(lfanew) != 0x00004550 {
		return false
	}
	if n < hdr+224 {
		return false
	}
	opt := hdr
	f.is64 = f.u16(opt) == 0x20b
	if f.is64 && n < hdr+240 {
		return false
	}
	f.opt = int(opt)
	fh := lfanew + 4
	f.nsections = int(f.u16(fh + 2))
	f.Machine = int64(f.u16(fh))
	f.NumberOfSections = int64(f.nsections)
	f.Timestamp = int64(f.u32(fh + 4))
	f.PointerToSymbolTable = int64(f.u32(fh + 8))
	f.NumberOfSymbols = int64(f.u32(fh + 12))
	f.SizeOfOptionalHeader = int64(f.u16(fh + 16))
	f.Characteristics = int64(f.u16(fh + 18))
	f.sectionTable = int(opt + f.SizeOfOptionalHeader)

	f.OptHdrMagic = int64(f.u16(opt))
	f.LinkerVersion = Version{int64(d[opt+2]), int64(d[opt+3])}
	f.SizeOfCode = int64(f.u32(opt + 4))
	f.SizeOfInitializedData = int64(f.u32(opt + 8))
	f.SizeOfUninitializedData = int64(f.u32(opt + 12))
	f.EntryPointRaw = int64(f.u32(opt + 16))
	f.BaseOfCode = int64(f.u32(opt + 20))
	f.SectionAlignment = int64(f.u32(opt + 32))
	f.fileAlignment = f.u32(opt + 36)
	f.FileAlignment = int64(f.fileAlignment)
	f.OSVersion = Version{int64(f.u16(opt + 40)), int64(f.u16(opt + 42))}
	f.ImageVersion = Version{int64(f.u16(opt + 44)), int64(f.u16(opt + 46))}
	f.SubsystemVersion = Version{int64(f.u16(opt + 48)), int64(f.u16(opt + 50))}
	f.Win32VersionValue = int64(f.u32(opt + 52))
	f.SizeOfImage = int64(f.u32(opt + 56))
	f.SizeOfHeaders = int64(f.u32(opt + 60))
	f.Checksum = int64(f.u32(opt + 64))
	f.Subsystem = int64(f.u16(opt + 68))
	f.DllCharacteristics = int64(f.u16(opt + 70))
	if f.is64 {
		f.ImageBase = int64(f.u64(opt + 24))
		f.SizeOfStackReserve = int64(f.u64(opt + 72))
		f.SizeOfStackCommit = int64(f.u64(opt + 80))
		f.SizeOfHeapReserve = int64(f.u64(opt + 88))
		f.SizeOfHeapCommit = int64(f.u64(opt + 96))
		f.LoaderFlags = int64(f.u32(opt + 104))
		f.NumberOfRvaAndSizes = int64(f.u32(opt + 108))
	} else {
		bod := int64(f.u32(opt + 24))
		f.BaseOfData = &bod
		f.ImageBase = int64(f.u32(opt + 28))
		f.SizeOfStackReserve = int64(f.u32(opt + 72))
		f.SizeOfStackCommit = int64(f.u32(opt + 76))
		f.SizeOfHeapReserve = int64(f.u32(opt + 80))
		f.SizeOfHeapCommit = int64(f.u32(opt + 84))
		f.LoaderFlags = int64(f.u32(opt + 88))
		f.NumberOfRvaAndSizes = int64(f.u32(opt + 92))
	}
	f.EntryPoint = f.rvaToOffset(uint64(f.EntryPointRaw))

	// libyara reads NumberOfRvaAndSizes as 16 bits here.
	dd := min(int(f.NumberOfRvaAndSizes&0xffff), 16)
	for i := 0; i < dd; i++ {
		off := f.dirOffset(i)
		if !f.fits(off, 8) {
			break
		}
		f.DataDirectories = append(f.DataDirectories, DataDirectory{
			VirtualAddress: int64(f.u32(off)), Size: int64(f.u32(off + 4)),
		})
	}
	return true
}

func (f *File) dirOffset(i int) int64 {
	if f.is64 {
		return int64(f.opt) + 112 + int64(i)*8
	}
	return int64(f.opt) + 96 + int64(i)*8
}

// directory mirrors pe_get_directory_entry: it returns the RVA (or file
// offset for the security directory) and size of data directory i.
func (f *File) directory(i int) (va, size uint32, ok bool) {
	const comDescriptor = 14
	if (i != comDescriptor || f.is64) && f.NumberOfRvaAndSizes < int64(i) {
		return 0, 0, false
	}
	off := f.dirOffset(i)
	if !f.fits(off, 8) {
		return 0, 0, false
	}
	return f.u32(off), f.u32(off + 4), true
}

// sectionHeader returns the offset of section header i.
func (f *File) sectionHeader(i int) int64 { return int64(f.sectionTable) + int64(i)*40 }

// rvaToOffset mirrors libyara's pe_rva_to_offset, including its rounding
// of PointerToRawData and its treatment of addresses before the first
// section; -1 means "no file offset".
func (f *File) rvaToOffset(rva uint64) int64 {
	lowest := uint32(0xffffffff)
	var secRVA, secOff, secRaw uint32
	for i := 0; i < min(f.nsections, maxSections); i++ {
		h := f.sectionHeader(i)
		if !f.fits(h, 40) {
			return -1
		}
		va := f.u32(h + 12)
		vsize := f.u32(h + 8)
		if lowest > va {
			lowest = va
		}
		if rva >= uint64(va) && rva-uint64(va) < uint64(vsize) && secRVA <= va {
			align := min(f.fileAlignment, 0x200)
			secRVA = va
			secOff = f.u32(h + 20)
			secRaw = f.u32(h + 16)
			if align != 0 {
				secOff -= secOff % align
			}
		}
	}
	if rva < uint64(lowest) {
		secRVA, secOff, secRaw = 0, 0, uint32(len(f.data))
	}
	if rva-uint64(secRVA) >= uint64(secRaw) {
		return -1
	}
	res := uint64(secOff) + (rva - uint64(secRVA))
	if res >= uint64(len(f.data)) {
		return -1
	}
	return int64(res)
}

// parseSections mirrors the section loop of pe_parse_header, including the
// overlay computation.
func (f *File) parseSections() {
	var hiOff, hiSize uint64
	for i := 0; i < min(f.nsections, maxSections); i++ {
		h := f.sectionHeader(i)
		if !f.fits(h, 40) {
			break
		}
		raw := f.data[h : h+8]
		l := 8
		for l > 0 && raw[l-1] == 0 {
			l--
		}
		s := Section{
			Name:                 string(raw[:l]),
			VirtualSize:          int64(f.u32(h + 8)),
			VirtualAddress:       int64(f.u32(h + 12)),
			RawDataSize:          int64(f.u32(h + 16)),
			RawDataOffset:        int64(f.u32(h + 20)),
			PointerToRelocations: int64(f.u32(h + 24)),
			PointerToLineNumbers: int64(f.u32(h + 28)),
			NumberOfRelocations:  int64(f.u16(h + 32)),
			NumberOfLineNumbers:  int64(f.u16(h + 34)),
			Characteristics:      int64(f.u32(h + 36)),
		}
		s.FullName = f.sectionFullName(raw, l)
		f.Sections = append(f.Sections, s)
		end := uint64(s.RawDataOffset) + uint64(s.RawDataSize)
		if end > hiOff+hiSize {
			hiOff, hiSize = uint64(s.RawDataOffset), uint64(s.RawDataSize)
		}
	}
	last := hiOff + hiSize
	if last != 0 && uint64(len(f.data)) > last {
		f.Overlay = Overlay{Offset: int64(last), Size: int64(uint64(len(f.data)) - last)}
	}
}

// sectionFullName mirrors pe_get_section_full_name: "/123" names point into
// the COFF string table.
func (f *File) sectionFullName(raw []byte, l int) *string {
	name := string(raw[:l])
	if f.PointerToSymbolTable == 0 || raw[0] != '/' {
		return &name
	}
	strtab := uint64(f.PointerToSymbolTable) + uint64(f.NumberOfSymbols)*18
	var idx uint64
	for i := 1; i < 8 && raw[i] >= '0' && raw[i] <= '9'; i++ {
		idx = idx*10 + uint64(raw[i]-'0')
	}
	start := strtab + idx
	if start > uint64(len(f.data)) {
		return nil
	}
	for j := start; j < uint64(len(f.data)); j++ {
		c := f.data[j]
		if c == 0 {
			s := string(f.data[start:j])
			return &s
		}
		if c < 0x20 || c > 0x7e {
			return nil
		}
	}
	return nil
}

// parseRichSignature mirrors pe_parse_rich_signature.
func (f *File) parseRichSignature() {
	lfanew := int64(f.u32(0x3c))
	if lfanew < 4 {
		return
	}
	p := lfanew - 4
	var key uint32
	var rich int64
	for ; p >= sizeofDOSHeader; p -= 4 {
		if f.fits(p, 8) && f.u32(p) == 0x68636952 { // "Rich"
			key = f.u32(p + 4)
			rich = p
			p -= 4
			break
		}
	}
	if key == 0 {
		return
	}
	start := int64(-1)
	for ; p >= sizeofDOSHeader; p -= 4 {
		if f.fits(p, 4) && f.u32(p)^key == 0x536e6144 { // "DanS"
			start = p
			break
		}
	}
	if start < 0 || !f.fits(start, 16) {
		return
	}
	k1, k2, k3 := f.u32(start+4), f.u32(start+8), f.u32(start+12)
	if k1 != k2 || k2 != k3 || f.u32(start)^k1 != 0x536e6144 {
		return
	}
	raw := f.data[start:rich]
	clear := make([]byte, len(raw))
	for i := 0; i+4 <= len(raw); i += 4 {
		binary.LittleEndian.PutUint32(clear[i:], binary.LittleEndian.Uint32(raw[i:])^k1)
	}
	f.RichSignature = &RichSignature{
		Offset:    start,
		Length:    int64(len(raw)),
		Key:       int64(k1),
		RawData:   string(raw),
		ClearData: string(clear),
	}
}

// parseDebug mirrors pe_parse_debug_directory: the first CodeView record
// with a usable PDB path sets pdb_path.
func (f *File) parseDebug() {
	va, size, ok := f.directory(6)
	if !ok || size == 0 || size%28 != 0 || va == 0 {
		return
	}
	base := f.rvaToOffset(uint64(va))
	if base < 0 {
		return
	}
	for i := int64(0); i < int64(size/28); i++ {
		dd := base + i*28
		if !f.fits(dd, 28) {
			break
		}
		if f.u32(dd+12) != 2 { // IMAGE_DEBUG_TYPE_CODEVIEW
			continue
		}
		var cv int64
		if addr := f.u32(dd + 20); addr != 0 {
			cv = f.rvaToOffset(uint64(addr))
		}
		if raw := f.u32(dd + 24); cv <= 0 && raw != 0 {
			cv = int64(raw)
		}
		if cv <= 0 || !f.fits(cv, 8) {
			continue
		}
		var path int64 = -1
		switch f.u32(cv) {
		case 0x3031424e: // NB10
			if f.fits(cv, 20) {
				path = cv + 16
			}
		case 0x53445352: // RSDS
			if f.fits(cv, 28) {
				path = cv + 24
			}
		case 0x434f544d: // MTOC
			if f.fits(cv, 24) {
				path = cv + 20
			}
		}
		if path < 0 {
			continue
		}
		avail := int64(len(f.data)) - path
		lim := min(avail, maxPath)
		s := f.cstring(path, int(lim))
		if len(s) > 0 && len(s) < maxPath {
			f.PDBPath = &s
			return
		}
	}
}
