package yara

import (
	"regexp"

	"github.com/mamori-dev/mamori/internal/yara/pe"
)

// The pe module maps internal/yara/pe's File onto libyara's identifiers.
// The root value is a *pe.File, nil when the data is not a PE: then every
// identifier but is_pe is undefined, as in libyara.

func peFile(p any) *pe.File {
	f, _ := p.(*pe.File)
	return f
}

func peInt(get func(f *pe.File) int64) *objType {
	return &objType{kind: tyInt, get: func(p any) (value, bool) {
		f := peFile(p)
		if f == nil {
			return undef, false
		}
		return intVal(get(f)), true
	}}
}

func peIntPtr(get func(f *pe.File) *int64) *objType {
	return &objType{kind: tyInt, get: func(p any) (value, bool) {
		f := peFile(p)
		if f == nil {
			return undef, false
		}
		v := get(f)
		if v == nil {
			return undef, false
		}
		return intVal(*v), true
	}}
}

func peStrPtr(get func(f *pe.File) *string) *objType {
	return &objType{kind: tyStr, get: func(p any) (value, bool) {
		f := peFile(p)
		if f == nil {
			return undef, false
		}
		v := get(f)
		if v == nil {
			return undef, false
		}
		return strVal(*v), true
	}}
}

// Generic accessors for fields of element structs.
func fieldInt[T any](get func(t *T) int64) *objType {
	return &objType{kind: tyInt, get: func(p any) (value, bool) { return intVal(get(p.(*T))), true }}
}

func fieldIntPtr[T any](get func(t *T) *int64) *objType {
	return &objType{kind: tyInt, get: func(p any) (value, bool) {
		if v := get(p.(*T)); v != nil {
			return intVal(*v), true
		}
		return undef, false
	}}
}

func fieldStr[T any](get func(t *T) string) *objType {
	return &objType{kind: tyStr, get: func(p any) (value, bool) { return strVal(get(p.(*T))), true }}
}

func fieldStrPtr[T any](get func(t *T) *string) *objType {
	return &objType{kind: tyStr, get: func(p any) (value, bool) {
		if v := get(p.(*T)); v != nil {
			return strVal(*v), true
		}
		return undef, false
	}}
}

// sliceArray is an array member over a slice of the parent (a *pe.File,
// or an element struct), with elements of type elem.
func sliceArray[P, T any](elem *objType, get func(p *P) ([]T, bool)) *objType {
	return &objType{kind: tyArray, elem: elem,
		get: func(p any) (value, bool) {
			pp, _ := p.(*P)
			if pp == nil {
				return undef, false
			}
			s, ok := get(pp)
			if !ok {
				return undef, false
			}
			return value{o: s, ok: true}, true
		},
		length: func(v any) int { return len(v.([]T)) },
		index: func(v any, i int64) (value, bool) {
			s := v.([]T)
			if i < 0 || i >= int64(len(s)) {
				return undef, false
			}
			return elemValue(elem, &s[i])
		},
	}
}

// elemValue turns an array element into a value: structures are passed by
// pointer, scalars read through the element type's getter.
func elemValue(elem *objType, p any) (value, bool) {
	if elem.kind == tyStruct {
		return value{o: p, ok: true}, true
	}
	return elem.get(p)
}

// importedFunctions is import_details[i].functions with libyara 4.2.3's
// numbering: a library's functions sit at indexes FirstFunction onwards,
// the lower indexes being undefined.
func importedFunctions(elem *objType) *objType {
	return &objType{kind: tyArray, elem: elem,
		get: func(p any) (value, bool) { return value{o: p.(*pe.ImportedDLL), ok: true}, true },
		length: func(v any) int {
			d := v.(*pe.ImportedDLL)
			return int(d.FirstFunction) + len(d.Functions)
		},
		index: func(v any, i int64) (value, bool) {
			d := v.(*pe.ImportedDLL)
			i -= d.FirstFunction
			if i < 0 || i >= int64(len(d.Functions)) {
				return undef, false
			}
			return value{o: &d.Functions[i], ok: true}, true
		},
	}
}

func versionStruct(get func(f *pe.File) *pe.Version) *objType {
	sub := func(minor bool) *objType {
		return &objType{kind: tyInt, get: func(p any) (value, bool) {
			v := p.(*pe.Version)
			if minor {
				return intVal(v.Minor), true
			}
			return intVal(v.Major), true
		}}
	}
	t := structType(map[string]*objType{"major": sub(false), "minor": sub(true)})
	t.get = func(p any) (value, bool) {
		f := peFile(p)
		if f == nil {
			return undef, false
		}
		v := get(f)
		if v == nil {
			return undef, false
		}
		return value{o: v, ok: true}, true
	}
	return t
}

func peFunc(args string, call func(f *pe.File, a []value) value) *function {
	return fn(args, tyInt, func(_ *scanCtx, p any, a []value) value {
		f := peFile(p)
		if f == nil {
			return undef
		}
		return call(f, a)
	})
}

func okInt(v int64, ok bool) value {
	if !ok {
		return undef
	}
	return intVal(v)
}

// reMatcher reports whether re matches a non-empty part of s, the test
// libyara's pe functions apply to names.
func reMatcher(re *regexp.Regexp) func(string) bool {
	return func(s string) bool {
		for _, loc := range re.FindAllStringIndex(latin1(s), -1) {
			if loc[1] > loc[0] {
				return true
			}
		}
		return false
	}
}

func peModule() *objType {
	fields := map[string]*objType{
		"is_pe": {kind: tyInt, get: func(p any) (value, bool) {
			return boolVal(peFile(p) != nil), true
		}},
		"machine":                    peInt(func(f *pe.File) int64 { return f.Machine }),
		"number_of_sections":         peInt(func(f *pe.File) int64 { return f.NumberOfSections }),
		"timestamp":                  peInt(func(f *pe.File) int64 { return f.Timestamp }),
		"pointer_to_symbol_table":    peInt(func(f *pe.File) int64 { return f.PointerToSymbolTable }),
		"number_of_symbols":          peInt(func(f *pe.File) int64 { return f.NumberOfSymbols }),
		"size_of_optional_header":    peInt(func(f *pe.File) int64 { return f.SizeOfOptionalHeader }),
		"characteristics":            peInt(func(f *pe.File) int64 { return f.Characteristics }),
		"entry_point":                peInt(func(f *pe.File) int64 { return f.EntryPoint }),
		"entry_point_raw":            peInt(func(f *pe.File) int64 { return f.EntryPointRaw }),
		"image_base":                 peInt(func(f *pe.File) int64 { return f.ImageBase }),
		"number_of_rva_and_sizes":    peInt(func(f *pe.File) int64 { return f.NumberOfRvaAndSizes }),
		"number_of_version_infos":    peInt(func(f *pe.File) int64 { return f.NumberOfVersionInfo }),
		"opthdr_magic":               peInt(func(f *pe.File) int64 { return f.OptHdrMagic }),
		"size_of_code":               peInt(func(f *pe.File) int64 { return f.SizeOfCode }),
		"size_of_initialized_data":   peInt(func(f *pe.File) int64 { return f.SizeOfInitializedData }),
		"size_of_uninitialized_data": peInt(func(f *pe.File) int64 { return f.SizeOfUninitializedData }),
		"base_of_code":               peInt(func(f *pe.File) int64 { return f.BaseOfCode }),
		"base_of_data":               peIntPtr(func(f *pe.File) *int64 { return f.BaseOfData }),
		"section_alignment":          peInt(func(f *pe.File) int64 { return f.SectionAlignment }),
		"file_alignment":             peInt(func(f *pe.File) int64 { return f.FileAlignment }),
		"linker_version":             versionStruct(func(f *pe.File) *pe.Version { return &f.LinkerVersion }),
		"os_version":                 versionStruct(func(f *pe.File) *pe.Version { return &f.OSVersion }),
		"image_version":              versionStruct(func(f *pe.File) *pe.Version { return &f.ImageVersion }),
		"subsystem_version":          versionStruct(func(f *pe.File) *pe.Version { return &f.SubsystemVersion }),
		"resource_version":           versionStruct(func(f *pe.File) *pe.Version { return f.ResourceVersion }),
		"win32_version_value":        peInt(func(f *pe.File) int64 { return f.Win32VersionValue }),
		"size_of_image":              peInt(func(f *pe.File) int64 { return f.SizeOfImage }),
		"size_of_headers":            peInt(func(f *pe.File) int64 { return f.SizeOfHeaders }),
		"checksum":                   peInt(func(f *pe.File) int64 { return f.Checksum }),
		"subsystem":                  peInt(func(f *pe.File) int64 { return f.Subsystem }),
		"dll_characteristics":        peInt(func(f *pe.File) int64 { return f.DllCharacteristics }),
		"size_of_stack_reserve":      peInt(func(f *pe.File) int64 { return f.SizeOfStackReserve }),
		"size_of_stack_commit":       peInt(func(f *pe.File) int64 { return f.SizeOfStackCommit }),
		"size_of_heap_reserve":       peInt(func(f *pe.File) int64 { return f.SizeOfHeapReserve }),
		"size_of_heap_commit":        peInt(func(f *pe.File) int64 { return f.SizeOfHeapCommit }),
		"loader_flags":               peInt(func(f *pe.File) int64 { return f.LoaderFlags }),
		"number_of_imports":          peInt(func(f *pe.File) int64 { return f.NumberOfImports }),
		"number_of_imported_functions": peInt(func(f *pe.File) int64 {
			return f.NumberOfImportedFunctions
		}),
		"number_of_delayed_imports": peInt(func(f *pe.File) int64 { return f.NumberOfDelayedImports }),
		"number_of_delayed_imported_functions": peInt(func(f *pe.File) int64 {
			return f.NumberOfDelayedImportedFunctions
		}),
		"number_of_exports":   peInt(func(f *pe.File) int64 { return f.NumberOfExports }),
		"dll_name":            peStrPtr(func(f *pe.File) *string { return f.DLLName }),
		"export_timestamp":    peIntPtr(func(f *pe.File) *int64 { return f.ExportTimestamp }),
		"resource_timestamp":  peIntPtr(func(f *pe.File) *int64 { return f.ResourceTimestamp }),
		"number_of_resources": peInt(func(f *pe.File) int64 { return f.NumberOfResources }),
		"pdb_path":            peStrPtr(func(f *pe.File) *string { return f.PDBPath }),
		"number_of_signatures": peIntPtr(func(f *pe.File) *int64 {
			return f.NumberOfSignatures
		}),
		"overlay": structType(map[string]*objType{
			"offset": fieldInt(func(o *pe.Overlay) int64 { return o.Offset }),
			"size":   fieldInt(func(o *pe.Overlay) int64 { return o.Size }),
		}),
		"version_info": {kind: tyDict, elem: &objType{kind: tyStr},
			get: func(p any) (value, bool) {
				f := peFile(p)
				if f == nil {
					return undef, false
				}
				return value{o: f, ok: true}, true
			},
			lookup: func(v any, key string) (value, bool) {
				s, ok := v.(*pe.File).VersionInfo[key]
				return strVal(s), ok
			},
			each: func(v any, fn func(string, value) bool) {
				for _, kv := range v.(*pe.File).VersionInfoList {
					if !fn(kv.Key, strVal(kv.Value)) {
						return
					}
				}
			},
		},
	}
	fields["overlay"].get = func(p any) (value, bool) {
		f := peFile(p)
		if f == nil {
			return undef, false
		}
		return value{o: &f.Overlay, ok: true}, true
	}

	kv := structType(map[string]*objType{
		"key":   fieldStr(func(k *pe.KeyValue) string { return k.Key }),
		"value": fieldStr(func(k *pe.KeyValue) string { return k.Value }),
	})
	fields["version_info_list"] = sliceArray(kv, func(f *pe.File) ([]pe.KeyValue, bool) { return f.VersionInfoList, true })

	dd := structType(map[string]*objType{
		"virtual_address": fieldInt(func(d *pe.DataDirectory) int64 { return d.VirtualAddress }),
		"size":            fieldInt(func(d *pe.DataDirectory) int64 { return d.Size }),
	})
	fields["data_directories"] = sliceArray(dd, func(f *pe.File) ([]pe.DataDirectory, bool) { return f.DataDirectories, true })

	sec := structType(map[string]*objType{
		"name":                    fieldStr(func(s *pe.Section) string { return s.Name }),
		"full_name":               fieldStrPtr(func(s *pe.Section) *string { return s.FullName }),
		"characteristics":         fieldInt(func(s *pe.Section) int64 { return s.Characteristics }),
		"virtual_address":         fieldInt(func(s *pe.Section) int64 { return s.VirtualAddress }),
		"virtual_size":            fieldInt(func(s *pe.Section) int64 { return s.VirtualSize }),
		"raw_data_offset":         fieldInt(func(s *pe.Section) int64 { return s.RawDataOffset }),
		"raw_data_size":           fieldInt(func(s *pe.Section) int64 { return s.RawDataSize }),
		"pointer_to_relocations":  fieldInt(func(s *pe.Section) int64 { return s.PointerToRelocations }),
		"pointer_to_line_numbers": fieldInt(func(s *pe.Section) int64 { return s.PointerToLineNumbers }),
		"number_of_relocations":   fieldInt(func(s *pe.Section) int64 { return s.NumberOfRelocations }),
		"number_of_line_numbers":  fieldInt(func(s *pe.Section) int64 { return s.NumberOfLineNumbers }),
	})
	fields["sections"] = sliceArray(sec, func(f *pe.File) ([]pe.Section, bool) { return f.Sections, true })

	rich := structType(map[string]*objType{
		"offset":     fieldInt(func(r *pe.RichSignature) int64 { return r.Offset }),
		"length":     fieldInt(func(r *pe.RichSignature) int64 { return r.Length }),
		"key":        fieldInt(func(r *pe.RichSignature) int64 { return r.Key }),
		"raw_data":   fieldStr(func(r *pe.RichSignature) string { return r.RawData }),
		"clear_data": fieldStr(func(r *pe.RichSignature) string { return r.ClearData }),
	})
	// The rich_signature functions need the whole file; the structure's
	// value is the *pe.File and its fields read RichSignature from it.
	for name, ft := range rich.fields {
		get := ft.get
		ft.get = func(p any) (value, bool) {
			r := p.(*pe.File).RichSignature
			if r == nil {
				return undef, false
			}
			return get(r)
		}
		rich.fields[name] = ft
	}
	richFn := func(version bool, args string) *function {
		return fn(args, tyInt, func(_ *scanCtx, p any, a []value) value {
			f := p.(*pe.File)
			x := a[0].i
			var y *int64
			if len(a) > 1 {
				y = &a[1].i
			}
			if version {
				return okInt(f.RichVersion(&x, y))
			}
			return okInt(f.RichVersion(y, &x))
		})
	}
	rich.fields["version"] = funcType(richFn(true, "i"), richFn(true, "ii"))
	rich.fields["toolid"] = funcType(richFn(false, "i"), richFn(false, "ii"))
	rich.get = func(p any) (value, bool) {
		f := peFile(p)
		if f == nil {
			return undef, false
		}
		return value{o: f, ok: true}, true
	}
	fields["rich_signature"] = rich

	exp := structType(map[string]*objType{
		"offset":       fieldIntPtr(func(e *pe.Export) *int64 { return e.Offset }),
		"name":         fieldStrPtr(func(e *pe.Export) *string { return e.Name }),
		"forward_name": fieldStrPtr(func(e *pe.Export) *string { return e.ForwardName }),
		"ordinal":      fieldInt(func(e *pe.Export) int64 { return e.Ordinal }),
	})
	fields["export_details"] = sliceArray(exp, func(f *pe.File) ([]pe.Export, bool) { return f.ExportDetails, true })

	impFn := structType(map[string]*objType{
		"name": fieldStr(func(i *pe.ImportedFunction) string { return i.Name }),
		"ordinal": fieldIntPtr(func(i *pe.ImportedFunction) *int64 {
			if !i.HasOrdinal {
				return nil
			}
			return &i.Ordinal
		}),
	})
	imp := structType(map[string]*objType{
		"library_name":        fieldStr(func(d *pe.ImportedDLL) string { return d.Name }),
		"number_of_functions": fieldInt(func(d *pe.ImportedDLL) int64 { return d.NumberOfFunctions }),
		"functions":           importedFunctions(impFn),
	})
	fields["import_details"] = sliceArray(imp, func(f *pe.File) ([]pe.ImportedDLL, bool) { return f.ImportDetails, true })
	// libyara 4.2.3 declares delay_import_details but never fills it.
	delayed := structType(map[string]*objType{
		"library_name":       {kind: tyStr, get: func(any) (value, bool) { return undef, false }},
		"number_of_function": {kind: tyInt, get: func(any) (value, bool) { return undef, false }},
		"functions": sliceArray(impFn, func(d *pe.ImportedDLL) ([]pe.ImportedFunction, bool) {
			return nil, false
		}),
	})
	fields["delay_import_details"] = sliceArray(delayed, func(f *pe.File) ([]pe.ImportedDLL, bool) { return nil, false })

	res := structType(map[string]*objType{
		"rva":             fieldInt(func(r *pe.Resource) int64 { return r.RVA }),
		"offset":          fieldIntPtr(func(r *pe.Resource) *int64 { return r.Offset }),
		"length":          fieldInt(func(r *pe.Resource) int64 { return r.Length }),
		"type":            fieldIntPtr(func(r *pe.Resource) *int64 { return r.Type }),
		"id":              fieldIntPtr(func(r *pe.Resource) *int64 { return r.ID }),
		"language":        fieldIntPtr(func(r *pe.Resource) *int64 { return r.Language }),
		"type_string":     fieldStrPtr(func(r *pe.Resource) *string { return r.TypeString }),
		"name_string":     fieldStrPtr(func(r *pe.Resource) *string { return r.NameString }),
		"language_string": fieldStrPtr(func(r *pe.Resource) *string { return r.LanguageString }),
	})
	fields["resources"] = sliceArray(res, func(f *pe.File) ([]pe.Resource, bool) { return f.Resources, true })

	sig := structType(map[string]*objType{
		"thumbprint":    fieldStr(func(s *pe.Signature) string { return s.Thumbprint }),
		"issuer":        fieldStr(func(s *pe.Signature) string { return s.Issuer }),
		"subject":       fieldStr(func(s *pe.Signature) string { return s.Subject }),
		"version":       fieldInt(func(s *pe.Signature) int64 { return s.Version }),
		"algorithm":     fieldStr(func(s *pe.Signature) string { return s.Algorithm }),
		"algorithm_oid": fieldStr(func(s *pe.Signature) string { return s.AlgorithmOID }),
		"serial":        fieldStrPtr(func(s *pe.Signature) *string { return s.Serial }),
		"not_before":    fieldInt(func(s *pe.Signature) int64 { return s.NotBefore }),
		"not_after":     fieldInt(func(s *pe.Signature) int64 { return s.NotAfter }),
		"valid_on": funcType(fn("i", tyInt, func(_ *scanCtx, p any, a []value) value {
			return boolVal(p.(*pe.Signature).ValidOn(a[0].i))
		})),
	})
	fields["signatures"] = sliceArray(sig, func(f *pe.File) ([]pe.Signature, bool) { return f.Signatures, true })

	fields["calculate_checksum"] = funcType(peFunc("", func(f *pe.File, _ []value) value { return intVal(f.CalculateChecksum()) }))
	fields["imphash"] = funcType(fn("", tyStr, func(sc *scanCtx, p any, _ []value) value {
		f := peFile(p)
		if f == nil {
			return undef
		}
		return sc.memoize(memoKey{fn: "imphash"}, func() value { return strVal(f.Imphash()) })
	}))
	fields["section_index"] = funcType(
		peFunc("s", func(f *pe.File, a []value) value { return okInt(f.SectionIndexName(a[0].s)) }),
		peFunc("i", func(f *pe.File, a []value) value { return okInt(f.SectionIndexAddr(a[0].i)) }),
	)
	fields["exports"] = funcType(
		peFunc("s", func(f *pe.File, a []value) value { return boolVal(f.Exports(a[0].s)) }),
		peFunc("r", func(f *pe.File, a []value) value {
			_, ok := f.ExportsIndexFunc(reMatcher(regexArg(a[0])))
			return boolVal(ok)
		}),
		peFunc("i", func(f *pe.File, a []value) value { return boolVal(f.ExportsOrdinal(a[0].i)) }),
	)
	fields["exports_index"] = funcType(
		peFunc("s", func(f *pe.File, a []value) value { return okInt(f.ExportsIndex(a[0].s)) }),
		peFunc("i", func(f *pe.File, a []value) value { return okInt(f.ExportsIndexOrdinal(a[0].i)) }),
		peFunc("r", func(f *pe.File, a []value) value {
			return okInt(f.ExportsIndexFunc(reMatcher(regexArg(a[0]))))
		}),
	)
	fields["imports"] = funcType(
		peFunc("ss", func(f *pe.File, a []value) value {
			return boolVal(f.Imports(pe.ImportStandard, a[0].s, a[1].s))
		}),
		peFunc("si", func(f *pe.File, a []value) value {
			return boolVal(f.ImportsOrdinal(pe.ImportStandard, a[0].s, a[1].i))
		}),
		peFunc("s", func(f *pe.File, a []value) value { return intVal(f.ImportsDLL(pe.ImportStandard, a[0].s)) }),
		peFunc("rr", func(f *pe.File, a []value) value {
			return intVal(f.ImportsRegex(pe.ImportStandard, reMatcher(regexArg(a[0])), reMatcher(regexArg(a[1]))))
		}),
		peFunc("iss", func(f *pe.File, a []value) value { return boolVal(f.Imports(a[0].i, a[1].s, a[2].s)) }),
		peFunc("isi", func(f *pe.File, a []value) value {
			return boolVal(f.ImportsOrdinal(a[0].i, a[1].s, a[2].i))
		}),
		peFunc("is", func(f *pe.File, a []value) value { return intVal(f.ImportsDLL(a[0].i, a[1].s)) }),
		peFunc("irr", func(f *pe.File, a []value) value {
			return intVal(f.ImportsRegex(a[0].i, reMatcher(regexArg(a[1])), reMatcher(regexArg(a[2]))))
		}),
	)
	fields["locale"] = funcType(peFunc("i", func(f *pe.File, a []value) value { return boolVal(f.Locale(a[0].i)) }))
	fields["language"] = funcType(peFunc("i", func(f *pe.File, a []value) value { return boolVal(f.Language(a[0].i)) }))
	fields["is_dll"] = funcType(peFunc("", func(f *pe.File, _ []value) value { return intVal(f.IsDLL()) }))
	fields["is_32bit"] = funcType(peFunc("", func(f *pe.File, _ []value) value { return boolVal(f.Is32Bit()) }))
	fields["is_64bit"] = funcType(peFunc("", func(f *pe.File, _ []value) value { return boolVal(f.Is64Bit()) }))
	fields["rva_to_offset"] = funcType(peFunc("i", func(f *pe.File, a []value) value { return okInt(f.RVAToOffset(a[0].i)) }))

	for name, v := range pe.Constants {
		c := intVal(v)
		fields[name] = &objType{kind: tyInt, get: func(any) (value, bool) { return c, true }}
	}
	return structType(fields)
}
