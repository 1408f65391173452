package testutil

import (
	"net"
	"sync/atomic"
	"testing"
)

func TestEventually(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	Eventually(t, "three polls", func() bool { return n.Add(1) >= 3 })
	if got := n.Load(); got != 3 {
		t.Errorf("polled %d times, want 3", got)
	}
}

// TestListenerSurvivesRestart: a listener made from the file can be closed
// and another made, on the same port, while connections queue meanwhile.
func TestListenerSurvivesRestart(t *testing.T) {
	t.Parallel()
	f := ListenerFile(t)
	first := Listener(t, f)
	addr := first.Addr().String()
	first.Close()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial between listeners: %v", err)
	}
	defer c.Close()
	second := Listener(t, f)
	defer second.Close()
	if second.Addr().String() != addr {
		t.Errorf("second listener on %s, want %s", second.Addr(), addr)
	}
	got, err := second.Accept()
	if err != nil {
		t.Fatal(err)
	}
	got.Close()
}
