package server

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
)

// DefaultMaxConnsPerAddress caps the connections one source address may
// hold open that are not an agent's established WebSocket: TLS handshakes,
// enrolments and API calls. An address at the cap has further connections
// closed at once, so idle sockets from one attacker cannot use up the
// server's file descriptors.
const DefaultMaxConnsPerAddress = 256

// limitListener closes connections from an address that already holds
// max unestablished ones. Loopback is not limited: local load tests open
// thousands of agent connections at once, and a local user can exhaust the
// server anyway.
type limitListener struct {
	net.Listener
	max           int
	allowLoopback bool
	log           func(addr string)

	mu    sync.Mutex
	count map[string]int
}

func newLimitListener(ln net.Listener, max int, allowLoopback bool, log func(addr string)) *limitListener {
	return &limitListener{Listener: ln, max: max, allowLoopback: allowLoopback, log: log, count: map[string]int{}}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
		if ip := net.ParseIP(host); l.allowLoopback && ip != nil && ip.IsLoopback() {
			return c, nil
		}
		l.mu.Lock()
		over := l.count[host] >= l.max
		if !over {
			l.count[host]++
		}
		l.mu.Unlock()
		if over {
			c.Close()
			l.log(host)
			continue
		}
		return &countedConn{Conn: c, l: l, host: host}, nil
	}
}

func (l *limitListener) release(host string) {
	l.mu.Lock()
	if l.count[host]--; l.count[host] <= 0 {
		delete(l.count, host)
	}
	l.mu.Unlock()
}

// countedConn is a connection counted against its address until it is
// closed or becomes an agent's WebSocket (hijacked).
type countedConn struct {
	net.Conn
	l    *limitListener
	host string
	once sync.Once
}

func (c *countedConn) uncount() { c.once.Do(func() { c.l.release(c.host) }) }

func (c *countedConn) Close() error {
	c.uncount()
	return c.Conn.Close()
}

// connState uncounts a connection when it is hijacked by the agent gateway,
// which only happens after the agent's certificate was checked.
func connState(c net.Conn, st http.ConnState) {
	if st != http.StateHijacked {
		return
	}
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if cc, ok := c.(*countedConn); ok {
		cc.uncount()
	}
}
