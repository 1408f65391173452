// Package pefacts lists YARA conditions that hold for a parsed PE, one per
// value the pe module exposes, so that tests can ask yara (and mamori's
// evaluator) whether they agree with package pe.
package pefacts

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mamori-dev/mamori/internal/yara/pe"
)

// Quote quotes s as a YARA text string literal.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			fmt.Fprintf(&b, "\\x%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Facts lists YARA conditions over the pe module that hold for f when
// libyara reads the file the way pe.Parse did. Long lists (exports,
// imported functions) are sampled to keep rule sets small.
func Facts(f *pe.File) []string {
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	intf := func(name string, v int64) { add("pe.%s == %d", name, v) }
	optInt := func(name string, v *int64) {
		if v == nil {
			add("not defined pe.%s", name)
		} else {
			intf(name, *v)
		}
	}
	optStr := func(name string, v *string) {
		if v == nil {
			add("not defined pe.%s", name)
		} else {
			add("pe.%s == %s", name, Quote(*v))
		}
	}
	add("pe.is_pe == 1")
	intf("machine", f.Machine)
	intf("number_of_sections", f.NumberOfSections)
	intf("timestamp", f.Timestamp)
	intf("pointer_to_symbol_table", f.PointerToSymbolTable)
	intf("number_of_symbols", f.NumberOfSymbols)
	intf("size_of_optional_header", f.SizeOfOptionalHeader)
	intf("characteristics", f.Characteristics)
	intf("entry_point", f.EntryPoint)
	intf("entry_point_raw", f.EntryPointRaw)
	intf("image_base", f.ImageBase)
	intf("number_of_rva_and_sizes", f.NumberOfRvaAndSizes)
	intf("opthdr_magic", f.OptHdrMagic)
	intf("linker_version.major", f.LinkerVersion.Major)
	intf("linker_version.minor", f.LinkerVersion.Minor)
	intf("size_of_code", f.SizeOfCode)
	intf("size_of_initialized_data", f.SizeOfInitializedData)
	intf("size_of_uninitialized_data", f.SizeOfUninitializedData)
	intf("base_of_code", f.BaseOfCode)
	optInt("base_of_data", f.BaseOfData)
	intf("section_alignment", f.SectionAlignment)
	intf("file_alignment", f.FileAlignment)
	intf("os_version.major", f.OSVersion.Major)
	intf("os_version.minor", f.OSVersion.Minor)
	intf("image_version.major", f.ImageVersion.Major)
	intf("image_version.minor", f.ImageVersion.Minor)
	intf("subsystem_version.major", f.SubsystemVersion.Major)
	intf("subsystem_version.minor", f.SubsystemVersion.Minor)
	intf("win32_version_value", f.Win32VersionValue)
	intf("size_of_image", f.SizeOfImage)
	intf("size_of_headers", f.SizeOfHeaders)
	intf("checksum", f.Checksum)
	intf("subsystem", f.Subsystem)
	intf("dll_characteristics", f.DllCharacteristics)
	intf("size_of_stack_reserve", f.SizeOfStackReserve)
	intf("size_of_stack_commit", f.SizeOfStackCommit)
	intf("size_of_heap_reserve", f.SizeOfHeapReserve)
	intf("size_of_heap_commit", f.SizeOfHeapCommit)
	intf("loader_flags", f.LoaderFlags)
	add("pe.calculate_checksum() == %d", f.CalculateChecksum())
	add("pe.is_dll() == %d", f.IsDLL())
	add("pe.is_32bit() == %d", b2i(f.Is32Bit()))
	add("pe.is_64bit() == %d", b2i(f.Is64Bit()))
	for i, d := range f.DataDirectories {
		add("pe.data_directories[%d].virtual_address == %d and pe.data_directories[%d].size == %d", i, d.VirtualAddress, i, d.Size)
	}
	add("not defined pe.data_directories[%d].size", len(f.DataDirectories))
	for i, s := range f.Sections {
		p := fmt.Sprintf("sections[%d].", i)
		add("pe.%sname == %s", p, Quote(s.Name))
		optStr(p+"full_name", s.FullName)
		intf(p+"characteristics", s.Characteristics)
		intf(p+"virtual_address", s.VirtualAddress)
		intf(p+"virtual_size", s.VirtualSize)
		intf(p+"raw_data_offset", s.RawDataOffset)
		intf(p+"raw_data_size", s.RawDataSize)
		intf(p+"pointer_to_relocations", s.PointerToRelocations)
		intf(p+"pointer_to_line_numbers", s.PointerToLineNumbers)
		intf(p+"number_of_relocations", s.NumberOfRelocations)
		intf(p+"number_of_line_numbers", s.NumberOfLineNumbers)
		if idx, ok := f.SectionIndexName(s.Name); ok && !strings.ContainsRune(s.Name, 0) {
			add("pe.section_index(%s) == %d", Quote(s.Name), idx)
		}
		if idx, ok := f.SectionIndexAddr(s.RawDataOffset); ok {
			add("pe.section_index(%d) == %d", s.RawDataOffset, idx)
		}
		if o, ok := f.RVAToOffset(s.VirtualAddress); ok {
			add("pe.rva_to_offset(%d) == %d", s.VirtualAddress, o)
		} else {
			add("not defined pe.rva_to_offset(%d)", s.VirtualAddress)
		}
	}
	add("not defined pe.sections[%d].name", len(f.Sections))
	intf("overlay.offset", f.Overlay.Offset)
	intf("overlay.size", f.Overlay.Size)
	if r := f.RichSignature; r != nil {
		intf("rich_signature.offset", r.Offset)
		intf("rich_signature.length", r.Length)
		intf("rich_signature.key", r.Key)
		add("pe.rich_signature.raw_data == %s", Quote(r.RawData))
		add("pe.rich_signature.clear_data == %s", Quote(r.ClearData))
		clear := []byte(r.ClearData)
		for i := 16; i+8 <= len(clear) && i < 16+8*4; i += 8 {
			idv := int64(clear[i]) | int64(clear[i+1])<<8 | int64(clear[i+2])<<16 | int64(clear[i+3])<<24
			v, t := idv&0xffff, idv>>16
			n, _ := f.RichVersion(&v, &t)
			add("pe.rich_signature.version(%d, %d) == %d", v, t, n)
			n, _ = f.RichVersion(nil, &t)
			add("pe.rich_signature.toolid(%d) == %d", t, n)
		}
	} else {
		add("not defined pe.rich_signature.length")
	}
	optStr("pdb_path", f.PDBPath)

	intf("number_of_imports", f.NumberOfImports)
	intf("number_of_imported_functions", f.NumberOfImportedFunctions)
	intf("number_of_delayed_imports", f.NumberOfDelayedImports)
	intf("number_of_delayed_imported_functions", f.NumberOfDelayedImportedFunctions)
	add("pe.imphash() == %s", Quote(f.Imphash()))
	for i, d := range f.ImportDetails {
		p := fmt.Sprintf("import_details[%d].", i)
		add("pe.%slibrary_name == %s", p, Quote(d.Name))
		intf(p+"number_of_functions", d.NumberOfFunctions)
		add("pe.imports(%s) == %d", Quote(d.Name), f.ImportsDLL(pe.ImportStandard, d.Name))
		for j, fn := range d.Functions {
			if j%(len(d.Functions)/32+1) != 0 {
				continue
			}
			q := fmt.Sprintf("%sfunctions[%d].", p, d.FirstFunction+int64(j))
			add("pe.%sname == %s", q, Quote(fn.Name))
			if fn.HasOrdinal {
				intf(q+"ordinal", fn.Ordinal)
				add("pe.imports(%s, %d)", Quote(d.Name), fn.Ordinal)
			} else {
				add("not defined pe.%sordinal", q)
			}
			add("pe.imports(%s, %s)", Quote(d.Name), Quote(fn.Name))
		}
	}
	for _, d := range f.DelayedImportDetails {
		add("pe.imports(pe.IMPORT_DELAYED, %s) == %d", Quote(d.Name), f.ImportsDLL(pe.ImportDelayed, d.Name))
		for _, fn := range d.Functions {
			add("pe.imports(pe.IMPORT_ANY, %s, %s)", Quote(d.Name), Quote(fn.Name))
		}
	}
	intf("number_of_exports", f.NumberOfExports)
	optStr("dll_name", f.DLLName)
	optInt("export_timestamp", f.ExportTimestamp)
	for i, e := range f.ExportDetails {
		if i%(len(f.ExportDetails)/64+1) != 0 {
			continue // a sample keeps yara's compile time short on big DLLs
		}
		p := fmt.Sprintf("export_details[%d].", i)
		intf(p+"ordinal", e.Ordinal)
		optStr(p+"name", e.Name)
		optStr(p+"forward_name", e.ForwardName)
		optInt(p+"offset", e.Offset)
		if e.Name != nil && !strings.ContainsRune(*e.Name, 0) {
			idx, _ := f.ExportsIndex(*e.Name)
			add("pe.exports(%s) and pe.exports_index(%s) == %d", Quote(*e.Name), Quote(*e.Name), idx)
		}
		if idx, ok := f.ExportsIndexOrdinal(e.Ordinal); ok {
			add("pe.exports(%d) and pe.exports_index(%d) == %d", e.Ordinal, e.Ordinal, idx)
		} else {
			add("not pe.exports(%d)", e.Ordinal)
		}
	}
	optInt("resource_timestamp", f.ResourceTimestamp)
	if f.ResourceVersion != nil {
		intf("resource_version.major", f.ResourceVersion.Major)
		intf("resource_version.minor", f.ResourceVersion.Minor)
	}
	intf("number_of_resources", f.NumberOfResources)
	langs := map[int64]bool{}
	for i, r := range f.Resources {
		p := fmt.Sprintf("resources[%d].", i)
		intf(p+"rva", r.RVA)
		optInt(p+"offset", r.Offset)
		intf(p+"length", r.Length)
		optInt(p+"type", r.Type)
		optInt(p+"id", r.ID)
		optInt(p+"language", r.Language)
		optStr(p+"type_string", r.TypeString)
		optStr(p+"name_string", r.NameString)
		optStr(p+"language_string", r.LanguageString)
		if r.Language != nil {
			langs[*r.Language] = true
		}
	}
	for l := range langs {
		add("pe.locale(%d) and pe.language(%d)", l&0xffff, l&0xff)
	}
	intf("number_of_version_infos", f.NumberOfVersionInfo)
	keys := make([]string, 0, len(f.VersionInfo))
	for k := range f.VersionInfo {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		add("pe.version_info[%s] == %s", Quote(k), Quote(f.VersionInfo[k]))
	}
	for i, kv := range f.VersionInfoList {
		add("pe.version_info_list[%d].key == %s and pe.version_info_list[%d].value == %s", i, Quote(kv.Key), i, Quote(kv.Value))
	}
	optInt("number_of_signatures", f.NumberOfSignatures)
	for i, s := range f.Signatures {
		p := fmt.Sprintf("signatures[%d].", i)
		add("pe.%sthumbprint == %s", p, Quote(s.Thumbprint))
		add("pe.%sissuer == %s", p, Quote(s.Issuer))
		add("pe.%ssubject == %s", p, Quote(s.Subject))
		intf(p+"version", s.Version)
		add("pe.%salgorithm == %s", p, Quote(s.Algorithm))
		add("pe.%salgorithm_oid == %s", p, Quote(s.AlgorithmOID))
		optStr(p+"serial", s.Serial)
		intf(p+"not_before", s.NotBefore)
		intf(p+"not_after", s.NotAfter)
		add("pe.%svalid_on(%d)", p, s.NotBefore)
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
