package extract

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Zip archives are read member by member through Read's format dispatch,
// each with its own record numbering and Field.Member "dir/b.csv" (nested:
// "dir/in.zip!c.json"). Limits guard against zip bombs: nesting depth,
// compression ratio per member (enforced on the bytes actually inflated,
// not the sizes the headers claim), total uncompressed bytes and member
// count per file. An archive whose central directory is unreadable
// (truncated, damaged) is walked through its local headers instead.

func joinMember(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "!" + name
}

// zipEntry is one member as either the central directory or a local header
// walk found it.
type zipEntry struct {
	name       string
	method     uint16
	flags      uint16
	comp, size uint64
	open       func() (io.ReadCloser, error)
}

func (r *reader) readZip(name, member string, data []byte, depth int, f format) error {
	if depth >= r.lim.MaxDepth {
		r.report(member, 0, fmt.Errorf("archive nested deeper than %d levels not read", r.lim.MaxDepth))
		return nil
	}
	var entries []zipEntry
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		entries = localEntries(data)
		if len(entries) == 0 {
			if member == "" {
				return err
			}
			r.report(member, 0, err)
			return nil
		}
		r.report(member, 0, fmt.Errorf("%w; reading the %d members found by their local headers", err, len(entries)))
	} else {
		for _, zf := range zr.File {
			entries = append(entries, zipEntry{name: zf.Name, method: zf.Method, flags: zf.Flags,
				comp: zf.CompressedSize64, size: zf.UncompressedSize64, open: zf.Open})
		}
	}
	if f != fmtXLSX && f != fmtDOCX {
		for _, e := range entries {
			switch e.name {
			case "xl/workbook.xml":
				f = fmtXLSX
			case "word/document.xml":
				f = fmtDOCX
			}
		}
	}
	switch f {
	case fmtXLSX:
		return r.readXLSX(member, entries)
	case fmtDOCX:
		return r.readDOCX(member, entries)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.name, "/") {
			continue
		}
		m := joinMember(member, e.name)
		b, ok := r.member(m, e)
		if !ok {
			if r.stopped() {
				return nil
			}
			continue
		}
		if err := r.read(path.Base(e.name), m, b, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// stopped reports whether a per-file limit ends the reading of archives.
func (r *reader) stopped() bool {
	return r.total >= r.lim.MaxTotal || r.members >= r.lim.MaxMembers
}

// member inflates one member within the limits, reporting why it cannot.
func (r *reader) member(m string, e zipEntry) ([]byte, bool) {
	if r.members >= r.lim.MaxMembers {
		if r.members == r.lim.MaxMembers {
			r.report(m, 0, fmt.Errorf("more than %d archive members; the rest not read", r.lim.MaxMembers))
			r.members++
		}
		return nil, false
	}
	r.members++
	if e.flags&1 != 0 {
		r.report(m, 0, errors.New("encrypted member not read"))
		return nil, false
	}
	if e.method != zip.Store && e.method != zip.Deflate {
		r.report(m, 0, fmt.Errorf("compression method %d not supported", e.method))
		return nil, false
	}
	rc, err := e.open()
	if err != nil {
		r.report(m, 0, fmt.Errorf("zip: %w", err))
		return nil, false
	}
	defer rc.Close()
	// The ratio bound applies to what inflates, whatever the header says.
	return r.inflate(m, rc, int64(e.comp), int64(e.size), e.method == zip.Deflate)
}

// localEntries finds members by their local file headers, for archives
// whose central directory is missing or damaged.
func localEntries(data []byte) []zipEntry {
	var out []zipEntry
	sig := []byte("PK\x03\x04")
	for p := 0; p+30 <= len(data); {
		i := bytes.Index(data[p:], sig)
		if i < 0 || p+i+30 > len(data) {
			break
		}
		h := data[p+i:]
		flags := binary.LittleEndian.Uint16(h[6:])
		method := binary.LittleEndian.Uint16(h[8:])
		comp := uint64(binary.LittleEndian.Uint32(h[18:]))
		size := uint64(binary.LittleEndian.Uint32(h[22:]))
		nlen := int(binary.LittleEndian.Uint16(h[26:]))
		xlen := int(binary.LittleEndian.Uint16(h[28:]))
		start := 30 + nlen + xlen
		if start > len(h) {
			break
		}
		name := string(h[30 : 30+nlen])
		body := h[start:]
		if flags&8 == 0 && comp <= uint64(len(body)) {
			body = body[:comp]
		} else {
			// Sizes follow the data: bound it by the next header.
			if j := bytes.Index(body, sig); j >= 0 {
				body = body[:j]
			}
			comp = uint64(len(body))
		}
		e := zipEntry{name: name, method: method, flags: flags, comp: comp, size: size}
		if flags&8 != 0 {
			e.size = 0
		}
		e.open = func() (io.ReadCloser, error) {
			if method == zip.Deflate {
				return flate.NewReader(bytes.NewReader(body)), nil
			}
			return io.NopCloser(bytes.NewReader(body)), nil
		}
		out = append(out, e)
		p += i + start + len(body)
	}
	return out
}
