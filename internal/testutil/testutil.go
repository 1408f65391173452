// Package testutil holds helpers shared by the tests of several packages.
package testutil

import (
	"testing"
	"time"
)

// EventuallyTimeout is how long Eventually waits: generous, because the tests
// using it check correctness on a loaded machine, not timing; a hang still
// fails the test rather than the whole run.
const EventuallyTimeout = 45 * time.Second

// Eventually polls cond every 20 ms until it holds, failing t with what
// when it has not within EventuallyTimeout. It is how tests wait for
// something asynchronous: never a fixed sleep.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(EventuallyTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", EventuallyTimeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
