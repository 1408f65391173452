package logs

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mamori-dev/mamori/internal/evtx"
	"github.com/mamori-dev/mamori/internal/logevent"
)

// Format is a detected input format.
type Format string

// The formats Detect names.
const (
	EVTX      Format = "evtx"
	JSON      Format = "json"  // one JSON document (object, array, or objects one after another)
	JSONL     Format = "jsonl" // one JSON object per line
	Journal   Format = "journal"
	Auth      Format = "auth"   // syslog lines, some of them from sshd/sudo/su/useradd/passwd
	Syslog    Format = "syslog" // RFC 3164 or RFC 5424 lines
	Auditd    Format = "auditd"
	WebAccess Format = "webaccess"
	History   Format = "history"
)

// RecordError reports a record that could not be read; reading goes on
// after it.
type RecordError struct {
	File   string
	Offset int64 // byte offset in File (in the member or decompressed stream for archives)
	Err    error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("%s: offset %d: %v", e.File, e.Offset, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// HeadSize is how many leading bytes Detect wants to see.
const HeadSize = 8192

// Detect names the format of a file from its first bytes (content, not
// file name); "" if it is not a log mamori reads. head should hold the
// first HeadSize bytes, or the whole file if shorter.
func Detect(head []byte) Format {
	if bytes.HasPrefix(head, []byte("ElfFile\x00")) {
		return EVTX
	}
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	t = bytes.TrimPrefix(t, []byte("\xef\xbb\xbf"))
	t = bytes.TrimLeft(t, " \t\r\n")
	if len(t) == 0 {
		return ""
	}
	switch t[0] {
	case '[':
		return JSON
	case '{':
		first := t
		if i := bytes.IndexByte(t, '\n'); i >= 0 {
			first = t[:i]
		}
		if bytes.Contains(first, []byte(`"__REALTIME_TIMESTAMP"`)) {
			return Journal
		}
		if json1Valid(first) {
			return JSONL
		}
		return JSON
	}
	return detectText(t)
}

// ReadFile reads one file (or .gz, or every member of a .zip, detected by
// content) and calls fn for each event in file order. A damaged record is
// passed to onErr as *RecordError and reading goes on; fn's error stops
// reading and is returned. The format returned is that of the file (of its
// first log member for a zip); "" with a nil error means not a log.
func ReadFile(ctx context.Context, path string, fn func(*logevent.Event) error, onErr func(error)) (Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	switch {
	case n == 4 && string(magic[:]) == "PK\x03\x04":
		return readZip(ctx, path, f, st.Size(), st.ModTime(), fn, onErr)
	case n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		return readGzip(ctx, path, f, st.ModTime(), fn, onErr)
	}
	head := make([]byte, HeadSize)
	hn, _ := io.ReadFull(f, head)
	format := Detect(head[:hn])
	if format == EVTX {
		r, err := evtx.Open(f, st.Size(), path)
		if err != nil {
			return format, err
		}
		return format, r.Events(ctx, fn, recordErrors(onErr))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	return format, readStream(ctx, format, path, f, st.ModTime(), fn, onErr)
}

// readStream reads a decompressed stream of a known format.
func readStream(ctx context.Context, format Format, name string, r io.Reader, mtime time.Time, fn func(*logevent.Event) error, onErr func(error)) error {
	switch format {
	case "":
		return nil
	case EVTX:
		return evtx.Stream(ctx, r, name, fn, recordErrors(onErr))
	case JSON:
		return readJSON(ctx, name, r, fn, onErr)
	case JSONL, Journal:
		return readJSONL(ctx, name, r, fn, onErr)
	}
	p := &lineParser{format: format, name: name, mtime: mtime.UTC()}
	return p.read(ctx, r, fn, onErr)
}

func readGzip(ctx context.Context, name string, r io.Reader, mtime time.Time, fn func(*logevent.Event) error, onErr func(error)) (Format, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	defer zr.Close()
	if !zr.ModTime.IsZero() {
		mtime = zr.ModTime
	}
	br := bufio.NewReaderSize(zr, HeadSize)
	head, _ := br.Peek(HeadSize)
	format := Detect(head)
	if err := readStream(ctx, format, name, br, mtime, fn, onErr); err != nil {
		return format, err
	}
	return format, nil
}

func readZip(ctx context.Context, name string, ra io.ReaderAt, size int64, mtime time.Time, fn func(*logevent.Event) error, onErr func(error)) (Format, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	// A damaged member is reported and the next one read; only fn's error
	// or cancellation stops the archive.
	var stop error
	keep := func(e *logevent.Event) error {
		if err := fn(e); err != nil {
			stop = err
			return err
		}
		return nil
	}
	var first Format
	for _, m := range zr.File {
		if m.FileInfo().IsDir() {
			continue
		}
		if err := ctx.Err(); err != nil {
			return first, err
		}
		member := name + "!" + m.Name
		format, err := readMember(ctx, member, m, keep, onErr)
		if first == "" {
			first = format
		}
		if err != nil {
			if stop != nil || ctx.Err() != nil {
				return first, err
			}
			var re *RecordError
			if !errors.As(err, &re) {
				err = &RecordError{File: member, Offset: -1, Err: err}
			}
			onErr(err)
		}
	}
	return first, nil
}

func readMember(ctx context.Context, name string, m *zip.File, fn func(*logevent.Event) error, onErr func(error)) (Format, error) {
	rc, err := m.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, HeadSize)
	head, _ := br.Peek(HeadSize)
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		return readGzip(ctx, name, br, m.Modified, fn, onErr)
	}
	format := Detect(head)
	return format, readStream(ctx, format, name, br, m.Modified, fn, onErr)
}

// recordErrors passes the EVTX reader's errors on as *RecordError, the one
// error type callers of this package see for damaged records.
func recordErrors(onErr func(error)) func(error) {
	return func(err error) {
		var ee *evtx.Error
		if errors.As(err, &ee) {
			err = &RecordError{File: ee.File, Offset: ee.Offset, Err: ee.Err}
		}
		onErr(err)
	}
}
