package server

import (
	"context"
	"sync"
	"time"
)

// limiter is a set of token buckets, one per key (a source address, an
// agent): each holds up to burst tokens and refills at rate per second.
type limiter struct {
	rate, burst float64
	now         func() time.Time

	mu sync.Mutex
	m  map[string]*bucket
	// pruneAt is the size at which the next prune runs: it doubles when a
	// prune frees little, so many active keys do not cost a scan each.
	pruneAt int
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds the memory of a limiter fed from many addresses: past
// it, full buckets (keys idle long enough to have refilled) are dropped.
const maxBuckets = 10000

func newLimiter(rate, burst float64, now func() time.Time) *limiter {
	return &limiter{rate: rate, burst: burst, now: now, m: map[string]*bucket{}, pruneAt: maxBuckets}
}

// take removes n tokens from key's bucket and returns how long the caller
// must wait before acting, 0 when the tokens were there. Taking more than
// the bucket holds goes into debt, so a steady caller is slowed to the
// rate.
func (l *limiter) take(key string, n float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.bucket(key, now)
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	b.tokens -= n
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / l.rate * float64(time.Second))
}

// allow takes one token if there is one, without going into debt; when
// there is none it reports how long until there is.
func (l *limiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.bucket(key, now)
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	}
	b.tokens--
	return true, 0
}

// bucket returns key's bucket, making a full one for a new key.
func (l *limiter) bucket(key string, now time.Time) *bucket {
	b := l.m[key]
	if b == nil {
		if len(l.m) >= l.pruneAt {
			for k, b := range l.m {
				if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
					delete(l.m, k)
				}
			}
			l.pruneAt = max(maxBuckets, 2*len(l.m))
		}
		b = &bucket{tokens: l.burst, last: now}
		l.m[key] = b
	}
	return b
}

// wait sleeps for d or until ctx ends.
func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
