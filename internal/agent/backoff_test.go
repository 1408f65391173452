package agent

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBackoffCeilings(t *testing.T) {
	// With rand returning its maximum, Next is the ceiling itself.
	b := backoff{base: 500 * time.Millisecond, max: 30 * time.Second, rand: func(n int64) int64 { return n - 1 }}
	var got []time.Duration
	for range 10 {
		got = append(got, b.Next())
	}
	s := time.Second
	want := []time.Duration{s / 2, s, 2 * s, 4 * s, 8 * s, 16 * s, 30 * s, 30 * s, 30 * s, 30 * s}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("ceilings (-got +want):\n%s", d)
	}
	b.Reset()
	if got := b.Next(); got != s/2 {
		t.Errorf("after Reset: %v, want %v", got, s/2)
	}
}

func TestBackoffJitter(t *testing.T) {
	b := backoff{base: time.Second, max: 30 * time.Second}
	const n = 2000
	var sum time.Duration
	distinct := map[time.Duration]bool{}
	for range n {
		b.attempt = 10 // ceiling pinned at max
		d := b.Next()
		if d < 0 || d > 30*time.Second {
			t.Fatalf("wait %v outside [0, 30s]", d)
		}
		sum += d
		distinct[d] = true
	}
	// Full jitter is uniform on [0, max]: the mean of 2000 draws lies
	// within a few percent of max/2, and the draws are spread out.
	mean := sum / n
	if mean < 13*time.Second || mean > 17*time.Second {
		t.Errorf("mean wait %v, want about 15s", mean)
	}
	if len(distinct) < n/2 {
		t.Errorf("only %d distinct waits in %d draws", len(distinct), n)
	}
}
