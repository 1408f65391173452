package pii_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/mamori-dev/mamori/internal/pii"
	"github.com/mamori-dev/mamori/internal/pii/piicorpus"
	"github.com/mamori-dev/mamori/internal/scan"
)

// benchCorpus returns about size bytes of generated files.
func benchCorpus(size int) []piicorpus.File {
	g := piicorpus.New(7)
	var files []piicorpus.File
	for n := 0; n < size; {
		f := g.Next()
		files = append(files, f)
		n += len(f.Data)
	}
	return files
}

// BenchmarkScanBytes measures detection, validation and grouping over the
// mixed generated corpus, per core (run with -cpu 1).
func BenchmarkScanBytes(b *testing.B) {
	files := benchCorpus(16 << 20)
	var total int64
	for _, f := range files {
		total += int64(len(f.Data))
	}
	b.SetBytes(total)
	b.ResetTimer()
	for b.Loop() {
		for _, f := range files {
			pii.ScanBytes(context.Background(), f.Name, f.Data, pii.Options{})
		}
	}
}

// BenchmarkScanKind measures each file kind on its own.
func BenchmarkScanKind(b *testing.B) {
	files := benchCorpus(8 << 20)
	for k := 0; k < piicorpus.Kinds; k++ {
		var kind []piicorpus.File
		var total int64
		for i := k; i < len(files); i += piicorpus.Kinds {
			kind = append(kind, files[i])
			total += int64(len(files[i].Data))
		}
		b.Run(filepath.Ext(kind[0].Name)+"_"+kind[0].Name[:3], func(b *testing.B) {
			b.SetBytes(total)
			for b.Loop() {
				for _, f := range kind {
					pii.ScanBytes(context.Background(), f.Name, f.Data, pii.Options{})
				}
			}
		})
	}
}

// BenchmarkScanDir scans the files under $MAMORI_PII_BENCH_DIR once per
// iteration, reading each file inside the loop as mamori scan does;
// bench/pii.sh uses it when the binary has no --pii yet.
func BenchmarkScanDir(b *testing.B) {
	dir := os.Getenv("MAMORI_PII_BENCH_DIR")
	if dir == "" {
		b.Skip("MAMORI_PII_BENCH_DIR not set")
	}
	var paths []string
	var total int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				paths = append(paths, p)
				total += fi.Size()
			}
		}
		return nil
	})
	m := pii.NewMatcher(pii.Options{})
	emit := func(scan.Record) {}
	b.SetBytes(total)
	b.ResetTimer()
	for b.Loop() {
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				b.Fatal(err)
			}
			if err := m.Match(context.Background(), &scan.File{Path: p, Size: int64(len(data)), Data: data}, emit); err != nil {
				b.Fatal(err)
			}
		}
	}
}
