package hunt

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mamori-dev/mamori/internal/sigma"
)

// BenchmarkHunt hunts through $MAMORI_HUNT_BENCH_INPUT (an .evtx file or a
// directory, e.g. one bench/evtxgen wrote) with every SigmaHQ Windows rule,
// or with the embedded rule set when MAMORI_HUNT_BENCH_RULES=embedded (far
// fewer rules: reading the EVTX is then most of the work).
func BenchmarkHunt(b *testing.B) {
	in := os.Getenv("MAMORI_HUNT_BENCH_INPUT")
	if in == "" {
		b.Skip("MAMORI_HUNT_BENCH_INPUT not set")
	}
	var rs *sigma.Ruleset
	if os.Getenv("MAMORI_HUNT_BENCH_RULES") == "embedded" {
		rs = DefaultRules(sigma.Options{})
	} else {
		rs = sigma.New(sigma.Options{})
		if err := rs.AddPath(filepath.Join(corpusDir, "rules", "windows")); err != nil {
			b.Fatal(err)
		}
		rs.Build()
	}
	b.ResetTimer()
	var bytes, events int64
	for i := 0; i < b.N; i++ {
		res, err := Run(context.Background(), []string{in}, Options{Rules: rs})
		if err != nil {
			b.Fatal(err)
		}
		bytes += res.Bytes
		events += res.Events
	}
	b.SetBytes(bytes / int64(b.N))
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
