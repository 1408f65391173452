package hunt

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mamori-dev/mamori/internal/sigma"
)

// BenchmarkHunt hunts through $MAMORI_HUNT_BENCH_INPUT (an .evtx file or a
// directory, e.g. one bench/evtxgen wrote) with every SigmaHQ Windows rule.
func BenchmarkHunt(b *testing.B) {
	in := os.Getenv("MAMORI_HUNT_BENCH_INPUT")
	if in == "" {
		b.Skip("MAMORI_HUNT_BENCH_INPUT not set")
	}
	rs := sigma.New(sigma.Options{})
	if err := rs.AddPath(filepath.Join(corpusDir, "rules", "windows")); err != nil {
		b.Fatal(err)
	}
	rs.Build()
	b.ResetTimer()
	var bytes int64
	for i := 0; i < b.N; i++ {
		res, err := Run(context.Background(), []string{in}, Options{Rules: rs})
		if err != nil {
			b.Fatal(err)
		}
		bytes += res.Bytes
	}
	b.SetBytes(bytes / int64(b.N))
}
