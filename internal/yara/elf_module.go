package yara

// The elf module maps parseELF's result onto libyara's identifiers. The
// root value is an *elfFile, nil when the data is not an ELF file: then
// every identifier but the constants is undefined.

func elfRoot(p any) *elfFile {
	f, _ := p.(*elfFile)
	return f
}

func elfIntPtr(get func(f *elfFile) *int64) *objType {
	return &objType{kind: tyInt, get: func(p any) (value, bool) {
		f := elfRoot(p)
		if f == nil {
			return undef, false
		}
		if v := get(f); v != nil {
			return intVal(*v), true
		}
		return undef, false
	}}
}

var elfConstants = map[string]int64{
	"ET_NONE": 0, "ET_REL": 1, "ET_EXEC": 2, "ET_DYN": 3, "ET_CORE": 4,
	"EM_NONE": 0, "EM_M32": 1, "EM_SPARC": 2, "EM_386": 3, "EM_68K": 4, "EM_88K": 5, "EM_860": 7,
	"EM_MIPS": 8, "EM_MIPS_RS3_LE": 10, "EM_PPC": 20, "EM_PPC64": 21, "EM_ARM": 40,
	"EM_X86_64": 62, "EM_AARCH64": 183,
	"SHT_NULL": 0, "SHT_PROGBITS": 1, "SHT_SYMTAB": 2, "SHT_STRTAB": 3, "SHT_RELA": 4,
	"SHT_HASH": 5, "SHT_DYNAMIC": 6, "SHT_NOTE": 7, "SHT_NOBITS": 8, "SHT_REL": 9,
	"SHT_SHLIB": 10, "SHT_DYNSYM": 11,
	"SHF_WRITE": 1, "SHF_ALLOC": 2, "SHF_EXECINSTR": 4,
	"PT_NULL": 0, "PT_LOAD": 1, "PT_DYNAMIC": 2, "PT_INTERP": 3, "PT_NOTE": 4, "PT_SHLIB": 5,
	"PT_PHDR": 6, "PT_TLS": 7, "PT_GNU_EH_FRAME": 0x6474e550, "PT_GNU_STACK": 0x6474e551,
	"DT_NULL": 0, "DT_NEEDED": 1, "DT_PLTRELSZ": 2, "DT_PLTGOT": 3, "DT_HASH": 4, "DT_STRTAB": 5,
	"DT_SYMTAB": 6, "DT_RELA": 7, "DT_RELASZ": 8, "DT_RELAENT": 9, "DT_STRSZ": 10, "DT_SYMENT": 11,
	"DT_INIT": 12, "DT_FINI": 13, "DT_SONAME": 14, "DT_RPATH": 15, "DT_SYMBOLIC": 16, "DT_REL": 17,
	"DT_RELSZ": 18, "DT_RELENT": 19, "DT_PLTREL": 20, "DT_DEBUG": 21, "DT_TEXTREL": 22,
	"DT_JMPREL": 23, "DT_BIND_NOW": 24, "DT_INIT_ARRAY": 25, "DT_FINI_ARRAY": 26,
	"DT_INIT_ARRAYSZ": 27, "DT_FINI_ARRAYSZ": 28, "DT_RUNPATH": 29, "DT_FLAGS": 30,
	"DT_ENCODING": 32,
	"STT_NOTYPE":  0, "STT_OBJECT": 1, "STT_FUNC": 2, "STT_SECTION": 3, "STT_FILE": 4,
	"STT_COMMON": 5, "STT_TLS": 6,
	"STB_LOCAL": 0, "STB_GLOBAL": 1, "STB_WEAK": 2,
	"PF_X": 1, "PF_W": 2, "PF_R": 4,
}

func elfModule() *objType {
	sec := structType(map[string]*objType{
		"type":    fieldInt(func(s *elfSection) int64 { return s.Type }),
		"flags":   fieldInt(func(s *elfSection) int64 { return s.Flags }),
		"address": fieldInt(func(s *elfSection) int64 { return s.Address }),
		"name":    fieldStrPtr(func(s *elfSection) *string { return s.Name }),
		"size":    fieldInt(func(s *elfSection) int64 { return s.Size }),
		"offset":  fieldInt(func(s *elfSection) int64 { return s.Offset }),
	})
	seg := structType(map[string]*objType{
		"type":             fieldInt(func(s *elfSegment) int64 { return s.Type }),
		"flags":            fieldInt(func(s *elfSegment) int64 { return s.Flags }),
		"offset":           fieldInt(func(s *elfSegment) int64 { return s.Offset }),
		"virtual_address":  fieldInt(func(s *elfSegment) int64 { return s.VirtualAddress }),
		"physical_address": fieldInt(func(s *elfSegment) int64 { return s.PhysicalAddress }),
		"file_size":        fieldInt(func(s *elfSegment) int64 { return s.FileSize }),
		"memory_size":      fieldInt(func(s *elfSegment) int64 { return s.MemorySize }),
		"alignment":        fieldInt(func(s *elfSegment) int64 { return s.Alignment }),
	})
	dyn := structType(map[string]*objType{
		"type": fieldInt(func(d *elfDyn) int64 { return d.Type }),
		"val":  fieldInt(func(d *elfDyn) int64 { return d.Val }),
	})
	sym := func() *objType {
		return structType(map[string]*objType{
			"name":  fieldStrPtr(func(s *elfSym) *string { return s.Name }),
			"value": fieldInt(func(s *elfSym) int64 { return s.Value }),
			"size":  fieldInt(func(s *elfSym) int64 { return s.Size }),
			"type":  fieldInt(func(s *elfSym) int64 { return s.Type }),
			"bind":  fieldInt(func(s *elfSym) int64 { return s.Bind }),
			"shndx": fieldInt(func(s *elfSym) int64 { return s.Shndx }),
		})
	}
	fields := map[string]*objType{
		"type":                    elfIntPtr(func(f *elfFile) *int64 { return f.Type }),
		"machine":                 elfIntPtr(func(f *elfFile) *int64 { return f.Machine }),
		"entry_point":             elfIntPtr(func(f *elfFile) *int64 { return f.EntryPoint }),
		"number_of_sections":      elfIntPtr(func(f *elfFile) *int64 { return f.NumberOfSections }),
		"sh_offset":               elfIntPtr(func(f *elfFile) *int64 { return f.ShOffset }),
		"sh_entry_size":           elfIntPtr(func(f *elfFile) *int64 { return f.ShEntrySize }),
		"number_of_segments":      elfIntPtr(func(f *elfFile) *int64 { return f.NumberOfSegments }),
		"ph_offset":               elfIntPtr(func(f *elfFile) *int64 { return f.PhOffset }),
		"ph_entry_size":           elfIntPtr(func(f *elfFile) *int64 { return f.PhEntrySize }),
		"dynamic_section_entries": elfIntPtr(func(f *elfFile) *int64 { return f.DynamicEntries }),
		"symtab_entries":          elfIntPtr(func(f *elfFile) *int64 { return f.SymtabEntries }),
		"dynsym_entries":          elfIntPtr(func(f *elfFile) *int64 { return f.DynsymEntries }),
		"sections":                sliceArray(sec, func(f *elfFile) ([]elfSection, bool) { return f.Sections, true }),
		"segments":                sliceArray(seg, func(f *elfFile) ([]elfSegment, bool) { return f.Segments, true }),
		"dynamic":                 sliceArray(dyn, func(f *elfFile) ([]elfDyn, bool) { return f.Dynamic, true }),
		"symtab":                  sliceArray(sym(), func(f *elfFile) ([]elfSym, bool) { return f.Symtab, true }),
		"dynsym":                  sliceArray(sym(), func(f *elfFile) ([]elfSym, bool) { return f.Dynsym, true }),
	}
	for name, v := range elfConstants {
		c := intVal(v)
		fields[name] = &objType{kind: tyInt, get: func(any) (value, bool) { return c, true }}
	}
	return structType(fields)
}
