package server

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// TestLimitListener: an address at the cap has further connections closed;
// closing one or hijacking it (an established agent) frees its place.
func TestLimitListener(t *testing.T) {
	t.Parallel()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := make(chan string, 10)
	ln := newLimitListener(raw, 2, false, func(addr string) { refused <- addr })
	defer ln.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	dial()
	dial()
	first, second := <-accepted, <-accepted
	third := dial()
	if addr := <-refused; addr != "127.0.0.1" {
		t.Errorf("refused %s", addr)
	}
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := third.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("connection over the cap: read %v, want EOF", err)
	}
	first.Close()
	dial()
	<-accepted
	connState(tls.Server(second, &tls.Config{}), 0) // not hijacked: still counted
	dial()
	<-refused
	connState(tls.Server(second, &tls.Config{}), http.StateHijacked)
	dial()
	<-accepted
}

// TestIdleConnectionsClosed: a connection that never completes a TLS
// handshake, and a keep-alive connection left idle, are closed by the
// server.
func TestIdleConnectionsClosed(t *testing.T) {
	t.Parallel()
	ts := startServerWith(t, Config{HeaderTimeout: time.Second, IdleTimeout: time.Second})
	addr := ts.Addr().String()
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := raw.Read(make([]byte, 1)); !closedByPeer(err) {
		t.Errorf("silent connection: read %v, want it closed by the server", err)
	}
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ts.ca.pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(c); err != nil && !closedByPeer(err) {
		t.Errorf("idle keep-alive connection: %v, want closed by the server", err)
	}
}

// closedByPeer reports a read that ended because the other side closed:
// EOF, or a reset when it closed with data unread.
func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}
