package logs

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/logevent"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// goldenMtime dates RFC 3164 lines: the test copies set it, so the year
// rule is exercised (February lines stay in 2024, a March 2 mtime).
var goldenMtime = time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC)

// render reads a file and renders its format, events and errors as JSONL,
// with the temporary directory taken out of names.
func render(t *testing.T, path string) []byte {
	t.Helper()
	dir := filepath.Dir(path) + string(filepath.Separator)
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	format, err := ReadFile(context.Background(), path, func(e *logevent.Event) error {
		e.Source = strings.TrimPrefix(e.Source, dir)
		return enc.Encode(e)
	}, func(err error) {
		var re *RecordError
		if !errors.As(err, &re) {
			t.Errorf("error not a *RecordError: %v", err)
		}
		enc.Encode(map[string]string{"error": strings.ReplaceAll(err.Error(), dir, "")})
	})
	if err != nil {
		t.Fatalf("ReadFile(%s): %v", path, err)
	}
	return append([]byte(`{"format":"`+string(format)+`"}`+"\n"), out.Bytes()...)
}

// copyAt copies a testdata file into dir with the golden modification time.
func copyAt(t *testing.T, src, dir string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(dst, goldenMtime, goldenMtime); err != nil {
		t.Fatal(err)
	}
	return dst
}

func inputs(t *testing.T) []string {
	all, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	var in []string
	for _, p := range all {
		if !strings.HasSuffix(p, ".golden.jsonl") {
			in = append(in, p)
		}
	}
	return in
}

// TestGolden reads every input under testdata/ and compares the events
// and record errors with its .golden.jsonl (go test -update rewrites them).
func TestGolden(t *testing.T) {
	for _, in := range inputs(t) {
		t.Run(filepath.Base(in), func(t *testing.T) {
			got := render(t, copyAt(t, in, t.TempDir()))
			golden := in + ".golden.jsonl"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(string(got), string(want)); d != "" {
				t.Errorf("%s (-got +want):\n%s", in, d)
			}
		})
	}
}

// TestCompressed reads each input gzipped and inside a zip: the events are
// those of the plain file, named archive!member in a zip.
func TestCompressed(t *testing.T) {
	dir := t.TempDir()
	zpath := filepath.Join(dir, "logs.zip")
	zf, err := os.Create(zpath)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(zf)
	var wantZip [][]byte
	for _, in := range inputs(t) {
		plain := render(t, copyAt(t, in, t.TempDir()))
		b, _ := os.ReadFile(in)

		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		w.Write(b)
		w.Close()
		gzPath := filepath.Join(dir, filepath.Base(in))
		os.WriteFile(gzPath, gz.Bytes(), 0o644)
		os.Chtimes(gzPath, goldenMtime, goldenMtime)
		if d := cmp.Diff(string(render(t, gzPath)), string(plain)); d != "" {
			t.Errorf("%s gzipped (-got +want):\n%s", in, d)
		}

		m, _ := zw.CreateHeader(&zip.FileHeader{Name: filepath.Base(in), Modified: goldenMtime, Method: zip.Deflate})
		m.Write(b)
		wantZip = append(wantZip, plain)
	}
	zw.Close()
	zf.Close()
	got := render(t, zpath)
	lines := strings.SplitN(string(got), "\n", 2)
	var want strings.Builder
	for _, p := range wantZip {
		_, rest, _ := strings.Cut(string(p), "\n")
		for _, l := range strings.SplitAfter(rest, "\n") {
			if l == "" {
				continue
			}
			// In a zip, sources and error file names gain the archive's name.
			l = strings.Replace(l, `"Source":"`, `"Source":"logs.zip!`, 1)
			if strings.HasPrefix(l, `{"error":"`) {
				l = `{"error":"logs.zip!` + strings.TrimPrefix(l, `{"error":"`)
			}
			want.WriteString(l)
		}
	}
	if d := cmp.Diff(lines[1], want.String()); d != "" {
		t.Errorf("zip (-got +want):\n%s", d)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		head string
		want Format
	}{
		{"ElfFile\x00rest", EVTX},
		{strings.Repeat("\x00", 4096) + "ElfChnk\x00", EVTX}, // damaged file header
		{"[{\"a\":1}]", JSON},
		{"[\n  {\"a\":1}]", JSON},
		{"[2024-03-01 10:00:00] app started\n", ""},
		{"{\n  \"Event\": {}\n}", JSON},
		{"{\"a\":1}\n{\"a\":2}\n", JSONL},
		{"{\"__REALTIME_TIMESTAMP\":\"1\"}\n", Journal},
		{"Mar  1 00:00:00 h sshd[1]: Accepted password for a from 1.2.3.4 port 1 ssh2\n", Auth},
		{"Mar  1 00:00:00 h kernel: x\n", Syslog},
		{"<34>1 2024-03-01T22:14:15.003Z h su - ID47 - x\n", Auth},
		{"type=SYSCALL msg=audit(1.2:3): a=b\n", Auditd},
		{"1.2.3.4 - - [01/Mar/2024:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n", WebAccess},
		{"#1709251200\nls\n", History},
		{"#Software: Microsoft Internet Information Services 10.0\n", W3C},
		{"#Version: 1.0\n#Fields: date time c-ip\n", W3C},
		{": 1709251300:0;ls\n", History},
		{"hello world\n", ""},
		{"", ""},
		{"\x00\x01\x02", ""},
	}
	for _, tt := range tests {
		if got := Detect([]byte(tt.head)); got != tt.want {
			t.Errorf("Detect(%q) = %q, want %q", tt.head, got, tt.want)
		}
	}
}

// TestStop checks that fn's error stops reading and is returned.
func TestStop(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	_, err := ReadFile(context.Background(), "testdata/auth.log", func(*logevent.Event) error {
		n++
		return stop
	}, func(error) {})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("ReadFile = %v after %d events, want stop after 1", err, n)
	}
}

// TestUnordered reads EVTX files both ways: the same events, in any order
// (internal/evtx's TestWriteRead covers the parallel mode on many chunks).
func TestUnordered(t *testing.T) {
	corpus := "../../../shared/corpus/sigma/regression_data"
	if _, err := os.Stat(corpus); err != nil {
		t.Skipf("no corpus at %s", corpus)
	}
	var paths []string
	filepath.WalkDir(corpus, func(p string, d os.DirEntry, err error) error {
		if err == nil && filepath.Ext(p) == ".evtx" {
			paths = append(paths, p)
		}
		return err
	})
	for _, p := range paths[:10] {
		count := func(read func(context.Context, string, func(*logevent.Event) error, func(error)) (Format, error)) map[int64]uint64 {
			got := map[int64]uint64{}
			format, err := read(context.Background(), p, func(e *logevent.Event) error {
				got[e.Offset] = e.RecordID
				return nil
			}, func(err error) { t.Error(err) })
			if err != nil || format != EVTX {
				t.Fatalf("%s: %q, %v", p, format, err)
			}
			return got
		}
		if d := cmp.Diff(count(ReadFileUnordered), count(ReadFile)); d != "" {
			t.Errorf("%s (-unordered +ordered):\n%s", p, d)
		}
	}
}
