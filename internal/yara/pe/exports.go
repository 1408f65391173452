package pe

// Export is one entry of pe.export_details.
type Export struct {
	Ordinal int64 // ordinal
	// Name is name; nil for exports by ordinal only.
	Name *string
	// ForwardName is forward_name, set for forwarders; Offset (offset) is
	// set otherwise and may be -1.
	ForwardName *string
	Offset      *int64
}

// parseExports mirrors pe_parse_exports.
func (f *File) parseExports() {
	va, dirSize, ok := f.directory(0)
	if !ok || va == 0 {
		return
	}
	off := f.rvaToOffset(uint64(va))
	if off < 0 {
		return
	}
	start, size := off, int64(dirSize)
	if !f.fits(off, 40) {
		return
	}
	n := int64(len(f.data))
	numFuncs := min(int64(f.u32(off+20)), maxExports)
	numNames := int64(f.u32(off + 24))
	base := int64(f.u32(off + 16))
	ts := int64(f.u32(off + 4))
	f.ExportTimestamp = &ts
	nameOff := f.rvaToOffset(uint64(f.u32(off + 12)))
	if nameOff > 0 {
		s := f.cstring(nameOff, len(f.data))
		f.DLLName = &s
	}
	// libyara compares against the remaining size after the name's offset
	// (which may be -1 or 0 here) using unsigned arithmetic.
	if uint64(numFuncs*4) > uint64(n-nameOff) {
		return
	}
	var names int64 = -1
	if numNames > 0 {
		names = f.rvaToOffset(uint64(f.u32(off + 32)))
		if names < 0 || uint64(numNames*4) > uint64(n-names) {
			return
		}
	}
	ords := f.rvaToOffset(uint64(f.u32(off + 36)))
	if ords < 0 || f.avail(ords) < 2*numFuncs {
		return
	}
	funcs := f.rvaToOffset(uint64(f.u32(off + 28)))
	if funcs < 0 || f.avail(funcs) < 4*numFuncs {
		return
	}
	numNames = min(numNames, numFuncs)
	// firstName[i] is the first slot of the ordinal table holding i, the one
	// libyara's nested loop stops at (-1 when none).
	var firstName []int64
	if names >= 0 {
		firstName = make([]int64, numFuncs)
		for i := range firstName {
			firstName[i] = -1
		}
		for j := numFuncs - 1; j >= 0; j-- {
			if o := int64(f.u16(ords + 2*j)); o < numFuncs {
				firstName[o] = j
			}
		}
	}
	for i := int64(0); i < numFuncs; i++ {
		e := Export{Ordinal: base + i}
		o := f.rvaToOffset(uint64(f.u32(funcs + 4*i)))
		if o > start && o < start+size {
			s := f.cstring(o, maxExportName)
			e.ForwardName = &s
		} else {
			e.Offset = &o
		}
		if names >= 0 {
			if j := firstName[i]; j >= 0 && j < numNames {
				if no := f.rvaToOffset(uint64(f.u32(names + 4*j))); no > 0 {
					s := f.cstring(no, maxExportName)
					e.Name = &s
				}
			}
		}
		f.ExportDetails = append(f.ExportDetails, e)
	}
	f.NumberOfExports = int64(len(f.ExportDetails))
}

// avail mirrors available_space: bytes from off to the end of the file.
func (f *File) avail(off int64) int64 {
	if off < 0 || off >= int64(len(f.data)) {
		return 0
	}
	return int64(len(f.data)) - off
}
