package pe

// Resource is one entry of pe.resources. Type, ID and Language are set
// when the directory entry is numbered; TypeString, NameString and
// LanguageString (raw UTF-16LE bytes, as libyara stores them) when it is
// named.
type Resource struct {
	RVA    int64  // rva
	Offset *int64 // offset; nil when the RVA maps to no file offset
	Length int64  // length

	Type, ID, Language                     *int64  // type, id, language
	TypeString, NameString, LanguageString *string // type_string, name_string, language_string
}

// KeyValue is one entry of pe.version_info_list.
type KeyValue struct {
	Key, Value string
}

const resourceTypeVersion = 16

// resourceWalk carries the state libyara threads through its recursive
// resource iterator.
type resourceWalk struct {
	f    *File
	base int64 // offset of the root resource directory
}

// resourceName mirrors parse_resource_name: the name string of a named
// entry, or nil.
func (w resourceWalk) resourceName(entry int64) *string {
	name := w.f.u32(entry)
	if name&0x80000000 == 0 {
		return nil
	}
	p := w.base + int64(name&0x7fffffff)
	if !w.f.fits(p, 2) {
		return nil
	}
	l := int64(w.f.u16(p)) * 2
	if !w.f.fits(p, 2+l) {
		return nil
	}
	s := string(w.f.data[p+2 : p+2+l])
	return &s
}

type resourcePath struct {
	typ, id, lang            int32
	typStr, nameStr, langStr *string
}

// walk mirrors _pe_iterate_resources; it reports false when iteration was
// aborted.
func (w resourceWalk) walk(dir int64, level int, path resourcePath) bool {
	f := w.f
	named, ids := f.u16(dir+12), f.u16(dir+14)
	if f.u32(dir) != 0 || named > 32768 || ids > 32768 {
		return true
	}
	total := int(named) + int(ids)
	for i := 0; i < total; i++ {
		entry := dir + 16 + int64(i)*8
		if !f.fits(entry, 8) {
			return false
		}
		switch level {
		case 0:
			path.typ, path.typStr = int32(f.u32(entry)), w.resourceName(entry)
		case 1:
			path.id, path.nameStr = int32(f.u32(entry)), w.resourceName(entry)
		case 2:
			path.lang, path.langStr = int32(f.u32(entry)), w.resourceName(entry)
		}
		data := f.u32(entry + 4)
		target := w.base + int64(data&0x7fffffff)
		if data&0x80000000 != 0 && level < 2 {
			if !f.fits(target, 16) || !w.walk(target, level+1, path) {
				return false
			}
		} else {
			if !f.fits(target, 16) {
				return false
			}
			w.collect(target, path)
		}
	}
	return true
}

// collect mirrors pe_collect_resources.
func (w resourceWalk) collect(entry int64, path resourcePath) {
	f := w.f
	if f.NumberOfResources > maxResources {
		return
	}
	rva := f.u32(entry)
	r := Resource{RVA: int64(rva), Length: int64(f.u32(entry + 4))}
	if o := f.rvaToOffset(uint64(rva)); o >= 0 {
		r.Offset = &o
	}
	pick := func(s *string, v int32) (*int64, *string) {
		if s != nil {
			return nil, s
		}
		i := int64(v)
		return &i, nil
	}
	r.Type, r.TypeString = pick(path.typStr, path.typ)
	r.ID, r.NameString = pick(path.nameStr, path.id)
	r.Language, r.LanguageString = pick(path.langStr, path.lang)
	f.Resources = append(f.Resources, r)
	if path.typ == resourceTypeVersion {
		f.parseVersionInfo(rva)
	}
	f.NumberOfResources++
}

// parseResources mirrors pe_iterate_resources with pe_collect_resources.
func (f *File) parseResources() {
	va, _, ok := f.directory(2)
	if !ok || va == 0 {
		return
	}
	off := f.rvaToOffset(uint64(va))
	if off < 0 || !f.fits(off, 16) {
		return
	}
	ts := int64(f.u32(off + 4))
	f.ResourceTimestamp = &ts
	f.ResourceVersion = &Version{int64(f.u16(off + 8)), int64(f.u16(off + 10))}
	w := resourceWalk{f: f, base: off}
	w.walk(off, 0, resourcePath{typ: -1, id: -1, lang: -1})
}

// align4 mirrors libyara's ADD_OFFSET: advance by off rounded up to 4.
func align4(p, off int64) int64 { return p + (off+3)&^3 }

// wideFits mirrors wide_string_fits_in_pe: a UTF-16 NUL follows within the
// file.
func (f *File) wideFits(p int64) bool {
	if p < 0 {
		return false
	}
	for space := f.avail(p); space >= 2; space -= 2 {
		if f.data[p] == 0 && f.data[p+1] == 0 {
			return true
		}
		p += 2
	}
	return false
}

// wideLen mirrors strnlen_w; callers ensure wideFits.
func (f *File) wideLen(p int64) int64 {
	var n int64
	for f.data[p] != 0 || f.data[p+1] != 0 {
		p += 2
		n++
	}
	return n
}

// wideEquals mirrors strcmp_w(w, s) == 0.
func (f *File) wideEquals(p int64, s string) bool {
	if !f.fits(p, int64(len(s)+1)*2) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if f.data[p] != s[i] || f.data[p+1] != 0 {
			return false
		}
		p += 2
	}
	return f.data[p] == 0 && f.data[p+1] == 0
}

// wideToNarrow mirrors strlcpy_w: low bytes up to the first zero low byte,
// at most n-1 of them.
func (f *File) wideToNarrow(p int64, n int) string {
	var b []byte
	for len(b) < n-1 && f.data[p] != 0 {
		b = append(b, f.data[p])
		p += 2
	}
	return string(b)
}

// parseVersionInfo mirrors pe_parse_version_info.
func (f *File) parseVersionInfo(rva uint32) {
	vi := f.rvaToOffset(uint64(rva))
	if vi < 0 || !f.fits(vi, 6) || !f.wideEquals(vi+6, "VS_VERSION_INFO") {
		return
	}
	length := func(p int64) int64 { return int64(f.u16(p)) }
	vi = align4(vi, 6+86)
	for f.wideEquals(vi+6, "VarFileInfo") && length(vi) != 0 {
		vi = align4(vi, length(vi))
	}
	for f.wideEquals(vi+6, "StringFileInfo") && length(vi) != 0 {
		table := align4(vi, 6+30)
		vi = align4(vi, length(vi))
		for f.fits(table, 6) && f.wideFits(table+6) && length(table) != 0 && table < vi {
			str := align4(table, 6+2*(f.wideLen(table+6)+1))
			table = align4(table, length(table))
			for f.fits(str, 6) && f.wideFits(str+6) && length(str) != 0 && str < table {
				val := align4(str, 6+2*(f.wideLen(str+6)+1))
				if f.wideFits(val) {
					key := f.wideToNarrow(str+6, 64)
					value := f.wideToNarrow(val, 256)
					if f.u16(str+2) == 0 {
						value = ""
					}
					if f.VersionInfo == nil {
						f.VersionInfo = make(map[string]string)
					}
					f.VersionInfo[key] = value
					f.VersionInfoList = append(f.VersionInfoList, KeyValue{key, value})
					f.NumberOfVersionInfo++
				}
				str = align4(str, length(str))
			}
		}
	}
}
