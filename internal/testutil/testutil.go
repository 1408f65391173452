// Package testutil holds helpers shared by the tests of several packages.
package testutil

import (
	"net"
	"os"
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

// ListenerFile binds a loopback TCP port for the whole test and returns
// the listening socket as a file. A server under test listens on it
// through net.FileListener (in this process) or as an inherited descriptor
// (cmd.ExtraFiles), and a restarted server gets the same port back without
// it ever being free for another process to take, as a free port closed
// and bound again would be.
func ListenerFile(t testing.TB) *os.File {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// Listener returns a new listener on f's socket; closing it leaves f open.
func Listener(t testing.TB, f *os.File) net.Listener {
	t.Helper()
	ln, err := net.FileListener(f)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
