package server

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	t.Parallel()
	clock := newClock()
	l := newLimiter(10, 20, clock.Now) // 10 a second, 20 at once
	if d := l.take("a", 20); d != 0 {
		t.Errorf("burst: wait %v, want 0", d)
	}
	if d := l.take("a", 10); d != time.Second {
		t.Errorf("10 over the burst: wait %v, want 1s", d)
	}
	if d := l.take("b", 5); d != 0 {
		t.Errorf("another key: wait %v, want 0", d)
	}
	clock.Advance(3 * time.Second) // a: -10 + 30 = 20
	if d := l.take("a", 20); d != 0 {
		t.Errorf("after refilling: wait %v, want 0", d)
	}
	for i := range 3 {
		ok, _ := l.allow("c")
		if !ok {
			t.Fatalf("allow %d refused within the burst", i)
		}
	}
	l2 := newLimiter(1, 2, clock.Now)
	l2.allow("x")
	l2.allow("x")
	if ok, retry := l2.allow("x"); ok || retry != time.Second {
		t.Errorf("over the burst: %v, retry %v; want refused, 1s", ok, retry)
	}
}

// TestLimiterForgetsIdleKeys: past maxBuckets keys, those idle long enough
// to have refilled are dropped; active ones are kept.
func TestLimiterForgetsIdleKeys(t *testing.T) {
	t.Parallel()
	clock := newClock()
	l := newLimiter(1, 1, clock.Now)
	l.take("active", 1)
	for i := range maxBuckets - 1 {
		l.allow(fmt.Sprint("idle-", i))
	}
	clock.Advance(2 * time.Second)
	l.take("active", 2) // still in debt after the refill
	l.allow("new")
	if n := len(l.m); n != 2 {
		t.Errorf("%d buckets after pruning, want 2 (active and new)", n)
	}
	if d := l.take("active", 0); d == 0 {
		t.Error("the active key's debt was forgotten")
	}
}
