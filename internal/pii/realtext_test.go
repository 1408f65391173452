package pii_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/mamori-dev/mamori/internal/pii"
)

// Real text holds no customer data, so everything but e-mail addresses
// (authors, bug trackers) found in it is a false alarm. Go's source tree is
// on every machine that runs these tests: 133 MB whose whole-tree budget
// is 150 non-e-mail findings. By default every 40th file is scanned (a few
// hundred files, under a second); MAMORI_PII_REALTEXT=all scans them all.
func TestRealTextGoSource(t *testing.T) {
	//lint:ignore SA1019 any large real text will do; without the tree the test skips
	root := filepath.Join(runtime.GOROOT(), "src")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("Go source tree not found: %v", err)
	}
	every := 40
	if os.Getenv("MAMORI_PII_REALTEXT") == "all" {
		every = 1
	}
	var files, bytes, found int
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return err
		}
		n++
		if n%every != 0 {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		bytes += len(data)
		occ, _, _ := pii.ScanBytes(context.Background(), path, data, pii.Options{Reveal: true})
		for _, o := range occ {
			if o.Category != pii.Email {
				found++
				t.Logf("%s:%d: %s %q", path, o.Line, o.Category, o.Value)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The budget scales with the bytes scanned: 150 per 133 MB.
	budget := max(2, 150*bytes/133_000_000)
	t.Logf("%d files, %d bytes: %d non-e-mail findings (budget %d)", files, bytes, found, budget)
	if found > budget {
		t.Errorf("%d non-e-mail findings in %d bytes of Go source, budget %d", found, bytes, budget)
	}
}

// The tz database's coordinates (+3540+13942, +2048-10515) are not phones.
func TestRealTextTimeZones(t *testing.T) {
	paths, _ := filepath.Glob("/usr/share/zoneinfo/*.tab")
	if len(paths) == 0 {
		t.Skip("no tz database tables in /usr/share/zoneinfo")
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		occ, _, _ := pii.ScanBytes(context.Background(), p, data, pii.Options{Reveal: true})
		for _, o := range occ {
			t.Errorf("%s:%d: %s %q", p, o.Line, o.Category, o.Value)
		}
	}
}
