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
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

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
	W3C       Format = "w3c" // W3C extended log format (IIS)
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
	// A damaged file header still leaves the first chunk's signature.
	if bytes.HasPrefix(head, []byte("ElfFile\x00")) || len(head) >= 4096+8 && bytes.HasPrefix(head[4096:], []byte("ElfChnk\x00")) {
		return EVTX
	}
	t := bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	t = bytes.TrimLeft(t, " \t\r\n")
	// evtx_dump writes "Record N" before each JSON rendering.
	if m := reRecordLine.FindIndex(t); m != nil && m[0] == 0 {
		if rest := bytes.TrimLeft(t[m[1]:], " \t\r\n"); len(rest) > 0 && rest[0] == '{' {
			return JSON
		}
	}
	if len(t) == 0 {
		return ""
	}
	switch t[0] {
	case '[':
		// An array of objects; "[2024-03-01 10:00] ..." is a text log.
		if rest := bytes.TrimLeft(t[1:], " \t\r\n"); len(rest) == 0 || rest[0] == '{' || rest[0] == ']' {
			return JSON
		}
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
	return readFile(ctx, path, false, fn, onErr)
}

// ReadFileUnordered is ReadFile for callers that sort events themselves:
// an uncompressed EVTX file's chunks are decoded on all cores and arrive in
// any chunk order (events of one chunk in order; fn is still never called
// concurrently). Other inputs are read as ReadFile reads them.
func ReadFileUnordered(ctx context.Context, path string, fn func(*logevent.Event) error, onErr func(error)) (Format, error) {
	return readFile(ctx, path, true, fn, onErr)
}

func readFile(ctx context.Context, path string, unordered bool, fn func(*logevent.Event) error, onErr func(error)) (Format, error) {
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
	if Detect(head[:hn]) == EVTX {
		r, err := evtx.Open(f, st.Size(), path)
		if err != nil {
			return EVTX, err
		}
		if unordered {
			return EVTX, r.ParallelEvents(ctx, 0, fn, recordErrors(onErr))
		}
		return EVTX, r.Events(ctx, fn, recordErrors(onErr))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	br, text := sniff(f)
	format := detectNamed(path, text)
	return format, readStream(ctx, format, path, br, st.ModTime(), fn, onErr)
}

// historyNames are the shells' history files.
var historyNames = map[string]bool{
	".bash_history": true, ".zsh_history": true, ".sh_history": true, ".history": true,
	".ash_history": true,
}

// detectNamed is Detect, except that a history without timestamps, which
// has no content to know it by, is known by its well-known name (its
// events then have no time). name may end in .gz or be archive!member.
func detectNamed(name string, head []byte) Format {
	format := Detect(head)
	if _, member, ok := strings.Cut(name, "!"); ok {
		name = member
	}
	if format == "" && historyNames[strings.TrimSuffix(filepath.Base(name), ".gz")] && utf8.Valid(head) {
		format = History
	}
	return format
}

// sniff buffers r and returns its head, decoding UTF-16 text (Windows
// PowerShell 5 writes its redirections and Out-File as UTF-16LE with a
// byte order mark) to UTF-8.
func sniff(r io.Reader) (*bufio.Reader, []byte) {
	br := bufio.NewReaderSize(r, HeadSize)
	head, _ := br.Peek(HeadSize)
	if len(head) >= 2 && (head[0] == 0xff && head[1] == 0xfe || head[0] == 0xfe && head[1] == 0xff) {
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		br = bufio.NewReaderSize(transform.NewReader(br, dec), HeadSize)
		head, _ = br.Peek(HeadSize)
	}
	return br, head
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
	br, head := sniff(zr)
	format := detectNamed(name, head)
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
	br, head = sniff(br)
	format := detectNamed(name, head)
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
