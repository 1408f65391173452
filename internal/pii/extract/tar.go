package extract

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// gzip and tar, the archives logs and backups come in, are read like zip:
// members through Read with the same limits. A gzip file's content is the
// member named by the file name without ".gz" (".tgz" gives ".tar").

func isGzip(data []byte) bool {
	return len(data) >= 3 && data[0] == 0x1F && data[1] == 0x8B && data[2] == 8
}

func isTar(data []byte) bool {
	return len(data) >= 512 && (bytes.Equal(data[257:262], []byte("ustar")))
}

func (r *reader) readGzip(name, member string, data []byte, depth int) error {
	inner := strings.TrimSuffix(path.Base(name), path.Ext(name))
	if strings.HasSuffix(strings.ToLower(name), ".tgz") {
		inner += ".tar"
	}
	if inner == "" {
		inner = "content"
	}
	m := joinMember(member, inner)
	if depth >= r.lim.MaxDepth {
		r.report(member, 0, fmt.Errorf("archive nested deeper than %d levels not read", r.lim.MaxDepth))
		return nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return r.archiveFailed(member, fmt.Errorf("gzip: %w", err))
	}
	b, ok := r.inflate(m, zr, int64(len(data)), 0, true)
	if !ok {
		return nil
	}
	return r.read(inner, m, b, depth+1)
}

func (r *reader) readTar(member string, data []byte, depth int) error {
	if depth >= r.lim.MaxDepth {
		r.report(member, 0, fmt.Errorf("archive nested deeper than %d levels not read", r.lim.MaxDepth))
		return nil
	}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			r.report(member, 0, fmt.Errorf("tar: %w", err))
			return nil
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		m := joinMember(member, h.Name)
		if r.members >= r.lim.MaxMembers {
			r.report(m, 0, fmt.Errorf("more than %d archive members; the rest not read", r.lim.MaxMembers))
			return nil
		}
		r.members++
		// Tar does not compress: its members cannot be bombs, only big.
		b, ok := r.inflate(m, tr, h.Size, h.Size, false)
		if !ok {
			if r.stopped() {
				return nil
			}
			continue
		}
		if err := r.read(path.Base(h.Name), m, b, depth+1); err != nil {
			return err
		}
	}
}

// archiveFailed reports an archive that cannot be opened at all: an error
// of Read itself for the file, a report for a member.
func (r *reader) archiveFailed(member string, err error) error {
	if member == "" {
		return err
	}
	r.report(member, 0, err)
	return nil
}

// inflate reads a member's stream within the limits. comp is its stored
// size, against which the ratio limit applies when ratio is set; size is
// the size its header claims (0: unknown), beyond which it is truncated.
func (r *reader) inflate(m string, rd io.Reader, comp, size int64, ratio bool) ([]byte, bool) {
	remain := r.lim.MaxTotal - r.total
	if remain <= 0 {
		return nil, false
	}
	bomb := int64(-1)
	limit := remain
	if ratio {
		bomb = int64(float64(max(comp, 1)) * r.lim.MaxRatio)
		limit = min(limit, bomb)
	}
	if size > 0 {
		limit = min(limit, size)
	}
	b, err := io.ReadAll(io.LimitReader(rd, limit+1))
	r.total += int64(len(b))
	switch {
	case int64(len(b)) <= limit:
	case limit == bomb:
		r.report(m, 0, fmt.Errorf("compression ratio above %g (zip bomb?); member not read", r.lim.MaxRatio))
		return nil, false
	case limit == remain:
		r.report(m, 0, fmt.Errorf("archive contents exceed %d bytes; the rest not read", r.lim.MaxTotal))
		return nil, false
	default:
		r.report(m, 0, fmt.Errorf("member larger than its header's %d bytes; read up to it", size))
		b = b[:limit]
	}
	switch {
	case err == nil:
	case errors.Is(err, io.ErrUnexpectedEOF):
		r.report(m, 0, fmt.Errorf("truncated; read %d bytes", len(b)))
	default:
		r.report(m, 0, fmt.Errorf("%w; read %d bytes", err, len(b)))
	}
	return b, true
}
