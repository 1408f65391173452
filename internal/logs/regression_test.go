package logs

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/evtx"
	"github.com/mamori-dev/mamori/internal/logevent"
)

type sameEvent struct {
	EventID            int64
	RecordID           uint64
	Time               time.Time
	Channel, Provider  string
	Host, Service, Cat string
	Fields             map[string]string
}

func readSame(t *testing.T, path string) []sameEvent {
	var out []sameEvent
	_, err := ReadFile(context.Background(), path, func(e *logevent.Event) error {
		s := sameEvent{EventID: e.EventID, RecordID: e.RecordID, Time: e.Time.Truncate(time.Microsecond),
			Channel: e.Channel, Provider: e.Provider, Host: e.Host, Service: e.Service, Cat: e.Category,
			Fields: map[string]string{}}
		for k, v := range e.Fields {
			s.Fields[k] = sameText(v)
		}
		out = append(out, s)
		return nil
	}, func(err error) { t.Errorf("%v", err) })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameText renders a value for comparison; GUIDs lose the braces and
// values the trailing blanks that the .json renderings leave out.
func sameText(v any) string {
	s := strings.TrimRight(evtx.Text(v), " \t\r\n")
	if len(s) == 38 && s[0] == '{' && s[37] == '}' && s[9] == '-' {
		return strings.ToUpper(s[1:37])
	}
	return s
}

// jsonDiffers names the fields where a shipped .json rendering says
// something else than its .evtx (evtxexport agrees with the .evtx).
var jsonDiffers = map[string]string{
	"ad691d92-15f2-4181-9aa4-723c74f9ddc3.json": "ParentCommandLine", // Explorer.EXE vs Explorer.exe
}

// TestRegressionJSON reads each SigmaHQ regression .evtx and the .json
// rendering shipped beside it: both must give the same events, field for
// field, so rules see the same thing whichever form a user has.
func TestRegressionJSON(t *testing.T) {
	dir := "../../../shared/corpus/sigma/regression_data"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no corpus at %s", dir)
	}
	files, records := 0, 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".evtx" {
			return err
		}
		j := strings.TrimSuffix(p, ".evtx") + ".json"
		if _, err := os.Stat(j); err != nil {
			return nil
		}
		got, want := readSame(t, p), readSame(t, j)
		if field, ok := jsonDiffers[filepath.Base(j)]; ok {
			for _, e := range append(got, want...) {
				delete(e.Fields, field)
			}
		}
		if d := cmp.Diff(got, want); d != "" {
			t.Errorf("%s (-evtx +json):\n%s", p, d)
		}
		files++
		records += len(got)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d .evtx/.json pairs, %d records", files, records)
}

// TestEVTXCompressed reads regression .evtx files gzipped and zipped: the
// streaming reader gives the events of the random-access one.
func TestEVTXCompressed(t *testing.T) {
	dir := "../../../shared/corpus/sigma/regression_data"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no corpus at %s", dir)
	}
	var paths []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && filepath.Ext(p) == ".evtx" && len(paths) < 5 {
			paths = append(paths, p)
		}
		return err
	})
	tmp := t.TempDir()
	zpath := filepath.Join(tmp, "evtx.zip")
	zf, err := os.Create(zpath)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(zf)
	var want []sameEvent
	for i, p := range paths {
		plain := readSame(t, p)
		want = append(want, plain...)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		w.Write(b)
		w.Close()
		gzPath := filepath.Join(tmp, fmt.Sprintf("%d.evtx.gz", i))
		if err := os.WriteFile(gzPath, gz.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(readSame(t, gzPath), plain); d != "" {
			t.Errorf("%s gzipped (-got +want):\n%s", p, d)
		}
		m, _ := zw.Create(fmt.Sprintf("logs/%d.evtx", i))
		m.Write(b)
	}
	zw.Close()
	zf.Close()
	if d := cmp.Diff(readSame(t, zpath), want); d != "" {
		t.Errorf("zip (-got +want):\n%s", d)
	}
}
