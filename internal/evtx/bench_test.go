package evtx_test

import (
	"context"
	"os"
	"testing"

	"github.com/mamori-dev/mamori/internal/evtx"
	"github.com/mamori-dev/mamori/internal/logevent"
)

// BenchmarkEvents reads a file to events, parse only: the file named by
// MAMORI_EVTX_BENCH_FILE (bench/hunt.sh makes a large one), else a small
// one written from the regression corpus. MAMORI_EVTX_BENCH_PARALLEL=1
// uses the parallel chunk mode.
func BenchmarkEvents(b *testing.B) {
	path := os.Getenv("MAMORI_EVTX_BENCH_FILE")
	if path == "" {
		path = writeCorpus(b, corpusRecords(b), 5000)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	parallel := os.Getenv("MAMORI_EVTX_BENCH_PARALLEL") == "1"
	b.SetBytes(st.Size())
	b.ResetTimer()
	records := 0
	for range b.N {
		n, errs := countEvents(b, path, parallel)
		if errs > 0 {
			b.Fatalf("%d read errors", errs)
		}
		records += n
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(records)/float64(b.N), "records")
}

func countEvents(b *testing.B, path string, parallel bool) (n, errs int) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	r, err := evtx.Open(f, st.Size(), path)
	if err != nil {
		b.Fatal(err)
	}
	count := func(*logevent.Event) error { n++; return nil }
	onErr := func(error) { errs++ }
	if parallel {
		err = r.ParallelEvents(context.Background(), 0, count, onErr)
	} else {
		err = r.Events(context.Background(), count, onErr)
	}
	if err != nil {
		b.Fatal(err)
	}
	return n, errs
}
