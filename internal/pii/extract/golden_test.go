package extract

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// TestGolden reads every file under testdata/in and compares its records,
// offsets and errors with testdata/golden.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/in/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			err = Read(context.Background(), name, data, DefaultLimits, func(r *Record) error {
				for _, f := range r.Fields {
					fmt.Fprintf(&b, "record %d member=%q key=%q path=%q line=%d offset=%d-%d text=%q\n",
						r.Index, f.Member, f.Key, f.Path, f.Line, f.Offset(0), f.Offset(len(f.Text)), f.Text)
				}
				return nil
			}, func(err error) { fmt.Fprintf(&b, "error member=%q: %v\n", ErrorMember(err), err) })
			if err != nil {
				fmt.Fprintf(&b, "Read: %v\n", err)
			}
			golden := filepath.Join("testdata", "golden", name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(b.String(), string(want)); diff != "" {
				t.Errorf("%s (-got +want):\n%s", name, diff)
			}
		})
	}
}
