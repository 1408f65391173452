package yara

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/scan"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestMatcherGolden checks the ndjson records `mamori scan --rules` emits,
// the output contract, against testdata/golden.ndjson.
func TestMatcherGolden(t *testing.T) {
	r, err := CompileFiles(context.Background(), []string{"testdata/golden.yar"}, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/golden.data")
	if err != nil {
		t.Fatal(err)
	}
	m := r.Matcher(0)
	var out bytes.Buffer
	f := &scan.File{Path: "/data/golden.data", Size: int64(len(data)), Data: data, SHA256: "00"}
	err = m.Match(context.Background(), f, func(rec scan.Record) {
		if rec.Kind() != "yara" || !rec.Finding() || rec.Text() == "" {
			t.Errorf("record %#v: kind %q finding %v text %q", rec, rec.Kind(), rec.Finding(), rec.Text())
		}
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
		out.WriteByte('\n')
	})
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "golden.ndjson")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(out.String(), string(want)); diff != "" {
		t.Errorf("records (-got +want):\n%s", diff)
	}

	// Files over the size limit arrive without data and are not scanned.
	err = m.Match(context.Background(), &scan.File{Path: "/big", Size: 1 << 40}, func(rec scan.Record) {
		t.Errorf("record for a file without data: %#v", rec)
	})
	if err != nil {
		t.Fatal(err)
	}
}
