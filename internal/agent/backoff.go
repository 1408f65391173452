package agent

import (
	"math/rand/v2"
	"time"
)

// backoff spaces reconnection attempts: exponential growth from base up to
// max, with full jitter (a uniformly random wait between zero and the
// current ceiling) so that a fleet cut off by the same server restart does
// not come back in lockstep.
type backoff struct {
	base, max time.Duration
	attempt   int
	// rand returns a value in [0, n); nil means math/rand/v2.
	rand func(n int64) int64
}

// ceiling is the upper bound of the next wait.
func (b *backoff) ceiling() time.Duration {
	d := b.base
	for i := 0; i < b.attempt && d < b.max; i++ {
		d *= 2
	}
	return min(d, b.max)
}

// Next returns the wait before the next attempt and advances.
func (b *backoff) Next() time.Duration {
	c := b.ceiling()
	b.attempt++
	r := b.rand
	if r == nil {
		r = rand.Int64N
	}
	return time.Duration(r(int64(c) + 1))
}

// Reset starts over after a connection that worked.
func (b *backoff) Reset() { b.attempt = 0 }
