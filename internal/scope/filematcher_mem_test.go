package scope

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/mamori-dev/mamori/internal/pii"
	"github.com/mamori-dev/mamori/internal/scan"
)

// customerRows is a customer CSV of rows rows: name, e-mail, phone, birth
// date, address; about 100 bytes a row.
func customerRows(rows int) []byte {
	var sb strings.Builder
	sb.WriteString("氏名,メールアドレス,電話番号,生年月日,住所\n")
	for i := range rows {
		fmt.Fprintf(&sb, "%s%s %d,user%d@example.jp,090-%04d-%04d,19%02d-%02d-%02d,%s%d-%d-%d\n",
			surnames[i%len(surnames)], given[i/len(surnames)%len(given)], i, i, i/10000%10000, i%10000,
			50+i%50, 1+i%12, 1+i%28, prefs[i%len(prefs)], 1+i%9, 1+i%20, 1+i%30)
	}
	return []byte(sb.String())
}

// heapSampler wraps a matcher and samples the heap every 4096 records it
// emits: in the scan's own goroutine, so that the samples fall at the same
// points of the file however loaded the machine is.
type heapSampler struct {
	scan.Matcher
	n, peak uint64
}

func (h *heapSampler) Match(ctx context.Context, f *scan.File, emit func(scan.Record)) error {
	return h.Matcher.Match(ctx, f, func(r scan.Record) {
		if h.n++; h.n%4096 == 0 {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			h.peak = max(h.peak, m.HeapAlloc)
		}
		emit(r)
	})
}

// peakHeap runs fn and returns the highest heap h sampled above the heap
// before fn, in bytes. The collector runs at every 5% of growth, so that
// the samples are nearly all live data.
func peakHeap(h *heapSampler, fn func()) uint64 {
	defer debug.SetGCPercent(debug.SetGCPercent(5))
	// Twice: what sync.Pools keep goes at the second.
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.peak = 0
	fn()
	return h.peak - min(h.peak, ms.HeapAlloc)
}

// TestFileMatcherMemory checks that a FileMatcher holds about two parts
// of a file's subjects, not the file's: over a 10 MiB CSV of 100,000
// customers, its peak heap stays within 16 parts (8 MiB) of the
// personal-data matcher's own. Holding every subject, as it did before
// streaming, took about 40 MiB more.
//
//	go test -run FileMatcherMemory -v ./internal/scope
func TestFileMatcherMemory(t *testing.T) {
	const rows = 100000
	data := customerRows(rows)
	file := func() *scan.File {
		return &scan.File{Path: "/d/customers.csv", Size: int64(len(data)), Data: data, SHA256: "00"}
	}
	inner := &heapSampler{Matcher: pii.NewMatcher(pii.Options{Reveal: true})}
	// The matcher's tables and buffers are made on first use.
	inner.Match(context.Background(), file(), func(scan.Record) {})
	innerPeak := peakHeap(inner, func() { inner.Match(context.Background(), file(), func(scan.Record) {}) })
	m := NewFileMatcher(inner, testKey, "JP")
	var parts []*FileResult
	subjects := 0
	peak := peakHeap(inner, func() {
		m.Match(context.Background(), file(), func(r scan.Record) {
			if fr, ok := r.(*FileResult); ok {
				subjects += len(fr.Subjects)
				fr.Subjects = nil // sent on, as an agent does
				parts = append(parts, fr)
			}
		})
	})
	t.Logf("%d rows, %.1f MiB file, %d parts: peak heap %.2f MiB, the personal-data matcher's alone %.2f MiB",
		rows, float64(len(data))/(1<<20), len(parts), float64(peak)/(1<<20), float64(innerPeak)/(1<<20))
	if subjects != rows {
		t.Errorf("%d subjects, want %d", subjects, rows)
	}
	if bound := innerPeak + 16*uint64(m.PartBytes); peak > bound {
		t.Errorf("peak heap %d bytes, over %d: the matcher's own plus 16 parts", peak, bound)
	}
}
