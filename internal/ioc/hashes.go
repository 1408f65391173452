package ioc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/mamori-dev/mamori/internal/scan"
)

// HashSet holds MD5, SHA-1 and SHA-256 indicators. Fixed-size array keys
// keep a million entries compact and make lookups allocation-free.
type HashSet struct {
	md5    map[[16]byte]int32
	sha1   map[[20]byte]int32
	sha256 map[[32]byte]int32
	// descs is indexed by the map values; descriptions repeat a lot in
	// real feeds, so each distinct one is stored once.
	descs   []string
	descIdx map[string]int32
}

var (
	_ scan.Matcher     = (*HashSet)(nil)
	_ scan.ContentFree = (*HashSet)(nil)
)

// NewHashSet returns an empty set.
func NewHashSet() *HashSet {
	return &HashSet{
		md5:     map[[16]byte]int32{},
		sha1:    map[[20]byte]int32{},
		sha256:  map[[32]byte]int32{},
		descIdx: map[string]int32{},
	}
}

// Len is the number of distinct indicators.
func (s *HashSet) Len() int { return len(s.md5) + len(s.sha1) + len(s.sha256) }

// Add adds one hex digest; its length decides the algorithm.
func (s *HashSet) Add(digest, description string) error {
	digest = strings.TrimSpace(digest)
	raw, err := hex.DecodeString(digest)
	if err != nil {
		return fmt.Errorf("%q is not a hex digest", digest)
	}
	d, ok := s.descIdx[description]
	if !ok {
		d = int32(len(s.descs))
		s.descs = append(s.descs, description)
		s.descIdx[description] = d
	}
	switch len(raw) {
	case 16:
		s.md5[[16]byte(raw)] = d
	case 20:
		s.sha1[[20]byte(raw)] = d
	case 32:
		s.sha256[[32]byte(raw)] = d
	default:
		return fmt.Errorf("%q has %d hex digits; want 32 (MD5), 40 (SHA-1) or 64 (SHA-256)", digest, len(digest))
	}
	return nil
}

// Lookup returns the description of a hex digest if it is an indicator.
func (s *HashSet) Lookup(digest string) (string, bool) {
	var buf [32]byte
	n, err := hex.Decode(buf[:], []byte(digest))
	if err != nil {
		return "", false
	}
	var d int32
	var ok bool
	switch n {
	case 16:
		d, ok = s.md5[[16]byte(buf[:16])]
	case 20:
		d, ok = s.sha1[[20]byte(buf[:20])]
	case 32:
		d, ok = s.sha256[[32]byte(buf[:32])]
	}
	if !ok {
		return "", false
	}
	return s.descs[d], true
}

// LoadHashFile adds the indicators of one file. Accepted, as responders
// receive them: one digest per line; "digest;description" and
// "digest;score;description" (signature-base); "digest  name" (sha256sum
// output, including its backslash-escaped names); CSV with a header row
// naming a sha256, sha1, md5 or hash column, separated by commas, tabs or
// semicolons (PowerShell's Export-Csv of Get-FileHash, with its #TYPE
// line); '#' comments and blank lines, also above a CSV header. UTF-8 with
// or without a BOM and UTF-16 (as Windows tools write) are read.
// Algorithms may be mixed. An error names the file and line.
func (s *HashSet) LoadHashFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("hash IOC file: %w", err)
	}
	defer f.Close()
	return s.LoadHashes(path, f)
}

// LoadHashes is LoadHashFile for content already open; name is used in
// error messages.
func (s *HashSet) LoadHashes(path string, r io.Reader) error {
	br := bufio.NewReader(utf8Text(r))
	head, _ := br.Peek(4096)
	if cols, ok := csvHashColumns(head); ok {
		return s.loadCSV(path, br, cols)
	}
	return eachLine(path, br, func(line int, text string) error {
		digest, desc := splitHashLine(text)
		if err := s.Add(digest, desc); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		return nil
	})
}

// eachLine calls fn with every line that is neither blank nor a '#'
// comment, trimmed, with its 1-based number.
func eachLine(path string, r io.Reader, fn func(line int, text string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if err := fn(line, text); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s:%d: %w", path, line+1, err)
	}
	return nil
}

// utf8Text returns r as UTF-8 without a byte-order mark: feeds exported on
// Windows come as UTF-16 (with a BOM, or without one but with the NUL
// bytes of ASCII text in UTF-16LE) or with a UTF-8 BOM that would otherwise
// glue itself to a quoted CSV header.
func utf8Text(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	head, _ := br.Peek(64)
	switch {
	case bytes.HasPrefix(head, []byte{0xef, 0xbb, 0xbf}):
		br.Discard(3)
		return br
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}), bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		return transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
	case looksUTF16LE(head):
		return transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder())
	}
	return br
}

// looksUTF16LE reports ASCII text in UTF-16LE: every odd byte NUL, every
// even byte not.
func looksUTF16LE(b []byte) bool {
	if len(b) < 8 {
		return false
	}
	for i := 0; i+1 < len(b); i += 2 {
		if b[i] == 0 || b[i+1] != 0 {
			return false
		}
	}
	return true
}

func splitHashLine(text string) (digest, desc string) {
	// sha256sum writes a name holding a backslash or newline as
	// "\digest  escaped\nname".
	escaped := strings.HasPrefix(text, `\`)
	if escaped {
		text = text[1:]
	}
	if i := strings.IndexByte(text, ';'); i >= 0 {
		digest, desc = text[:i], strings.TrimSpace(text[i+1:])
		// signature-base also writes digest;score;description.
		if j := strings.IndexByte(desc, ';'); j > 0 {
			if _, err := strconv.Atoi(desc[:j]); err == nil {
				desc = strings.TrimSpace(desc[j+1:])
			}
		}
		return strings.TrimSpace(digest), desc
	}
	if i := strings.IndexAny(text, " \t"); i >= 0 {
		// sha256sum style: "digest  filename" or "digest *filename".
		name := strings.TrimLeft(strings.TrimSpace(text[i:]), "*")
		if escaped {
			name = unescapeSumName(name)
		}
		return text[:i], name
	}
	return text, ""
}

// unescapeSumName undoes coreutils' escaping of file names: \\ and \n.
func unescapeSumName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			case '\\':
				b.WriteByte('\\')
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// hashColumnNames lists header cells that name a digest column, in order
// of preference when a file has several.
var hashColumnNames = []string{"sha256", "sha1", "md5", "hash"}

// descColumnNames lists header cells whose column describes the indicator,
// best first.
var descColumnNames = []string{"description", "desc", "comment", "malware", "family", "threat", "name", "path"}

type csvColumns struct {
	hashes []int
	desc   int
	comma  rune
}

// csvHashColumns decides whether the file is CSV with a header naming a
// digest column, looking only at its first line.
func csvHashColumns(head []byte) (csvColumns, bool) {
	// The header is the first line that is neither blank nor a comment
	// (PowerShell's Export-Csv starts with "#TYPE ...").
	var first string
	for rest := string(head); rest != ""; {
		line := rest
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			first = line
			break
		}
	}
	for _, comma := range []rune{',', '\t', ';'} {
		if !strings.ContainsRune(first, comma) {
			continue
		}
		r := csv.NewReader(strings.NewReader(first))
		r.Comma = comma
		cells, err := r.Read()
		if err != nil {
			continue
		}
		cols := csvColumns{desc: -1, comma: comma}
		for _, want := range hashColumnNames {
			for i, c := range cells {
				if strings.EqualFold(strings.TrimSpace(c), want) {
					cols.hashes = append(cols.hashes, i)
				}
			}
		}
	desc:
		for _, want := range descColumnNames {
			for i, c := range cells {
				if strings.EqualFold(strings.TrimSpace(c), want) {
					cols.desc = i
					break desc
				}
			}
		}
		if len(cols.hashes) > 0 {
			return cols, true
		}
	}
	return csvColumns{}, false
}

func (s *HashSet) loadCSV(path string, r io.Reader, cols csvColumns) error {
	cr := csv.NewReader(r)
	cr.Comma = cols.comma
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	if _, err := cr.Read(); err != nil {
		return fmt.Errorf("%s:1: %w", path, err)
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			// csv.ParseError carries the line and column already.
			return fmt.Errorf("%s: %w", path, err)
		}
		line, _ := cr.FieldPos(0)
		desc := ""
		if cols.desc >= 0 && cols.desc < len(rec) {
			desc = strings.TrimSpace(rec[cols.desc])
		}
		added := false
		for _, c := range cols.hashes {
			if c >= len(rec) || strings.TrimSpace(rec[c]) == "" {
				continue
			}
			if err := s.Add(rec[c], desc); err != nil {
				return fmt.Errorf("%s:%d: column %d: %w", path, line, c+1, err)
			}
			added = true
		}
		if !added {
			return fmt.Errorf("%s:%d: row has no digest in its hash column", path, line)
		}
	}
}

// Digests asks the scanner for MD5 and SHA-1 only when such indicators are
// loaded: SHA-256 alone is markedly cheaper on big trees.
func (s *HashSet) Digests() scan.Digests {
	var d scan.Digests
	if len(s.md5) > 0 {
		d |= scan.MD5
	}
	if len(s.sha1) > 0 {
		d |= scan.SHA1
	}
	return d
}

func (s *HashSet) ContentFree() {}

// Match emits one record per indicator the file's digests hit.
func (s *HashSet) Match(_ context.Context, f *scan.File, emit func(scan.Record)) error {
	for _, c := range []struct{ algo, digest string }{{"md5", f.MD5}, {"sha1", f.SHA1}, {"sha256", f.SHA256}} {
		if c.digest == "" {
			continue
		}
		if desc, ok := s.Lookup(c.digest); ok {
			emit(&HashRecord{Type: "ioc", Path: scan.DisplayPath(f.Path), PathRaw: scan.RawPath(f.Path), Size: f.Size, SHA256: f.SHA256, Indicator: c.algo + ":" + c.digest, Description: desc})
		}
	}
	return nil
}

// HashRecord is the ndjson "ioc" record.
type HashRecord struct {
	Type        string `json:"type"`
	Path        string `json:"path"`
	PathRaw     string `json:"path_raw,omitempty"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Indicator   string `json:"indicator"`
	Description string `json:"description"`
}

func (r *HashRecord) Kind() string  { return "ioc" }
func (r *HashRecord) Finding() bool { return true }
func (r *HashRecord) Text() string {
	if r.Description == "" {
		return fmt.Sprintf("IOC %s %s", r.Indicator, r.Path)
	}
	return fmt.Sprintf("IOC %s %s (%s)", r.Indicator, r.Path, r.Description)
}
