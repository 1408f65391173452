package nstest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"
)

// Addresses of the two ends of a Link.
var (
	ServerV4 = netip.MustParseAddr("198.18.0.1")
	AgentV4  = netip.MustParseAddr("198.18.0.2")
	ServerV6 = netip.MustParseAddr("2001:db8:18::1")
	AgentV6  = netip.MustParseAddr("2001:db8:18::2")
)

// Require skips t unless it runs as root with the ip command available.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces and nftables rules")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs the ip command from iproute2 (apt-get install -y iproute2)")
	}
}

// NS is a network namespace that exists until the test ends.
type NS struct {
	Name string
	f    *os.File
}

var (
	seq       atomic.Int64
	sweepOnce sync.Once
)

// sweepStale deletes namespaces left by test processes that died before
// their cleanup ran (a timeout, a kill); the name carries the pid.
func sweepStale() {
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		var pid, n int
		if _, err := fmt.Sscanf(e.Name(), "mamori-%d-%d", &pid, &n); err != nil || pid == os.Getpid() {
			continue
		}
		if err := unix.Kill(pid, 0); errors.Is(err, unix.ESRCH) {
			exec.Command("ip", "netns", "del", e.Name()).Run()
		}
	}
}

// New creates a network namespace with loopback up, named uniquely for this
// process, and deletes it when t ends. It skips t when the kernel has no
// nf_tables, since every user of this package needs it.
func New(t testing.TB) *NS {
	t.Helper()
	Require(t)
	sweepOnce.Do(sweepStale)
	name := fmt.Sprintf("mamori-%d-%d", os.Getpid(), seq.Add(1))
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("delete netns %s: %v: %s", name, err, out)
		}
	})
	f, err := os.Open("/run/netns/" + name)
	if err != nil {
		t.Fatalf("open netns %s: %v", name, err)
	}
	t.Cleanup(func() { f.Close() })
	n := &NS{Name: name, f: f}
	run(t, "ip", "-n", name, "link", "set", "lo", "up")
	c, err := nftables.New(nftables.WithNetNSFd(n.FD()))
	if err == nil {
		_, err = c.ListTables()
	}
	if err != nil {
		t.Skipf("nftables unavailable in a network namespace (is the nf_tables module loaded?): %v", err)
	}
	return n
}

// FD is the namespace's file descriptor, valid until the test ends.
func (n *NS) FD() int { return int(n.f.Fd()) }

// Link joins server and agent with a veth pair: ServerV4 and ServerV6 on
// the server's end, AgentV4 and AgentV6 on the agent's.
func Link(t testing.TB, server, agent *NS) {
	t.Helper()
	run(t, "ip", "link", "add", "veth-s", "netns", server.Name, "type", "veth", "peer", "name", "veth-a", "netns", agent.Name)
	for _, end := range []struct {
		ns     *NS
		dev    string
		v4, v6 netip.Addr
	}{{server, "veth-s", ServerV4, ServerV6}, {agent, "veth-a", AgentV4, AgentV6}} {
		run(t, "ip", "-n", end.ns.Name, "addr", "add", end.v4.String()+"/24", "dev", end.dev)
		// nodad: duplicate address detection would leave the address
		// unusable for a second or two.
		run(t, "ip", "-n", end.ns.Name, "addr", "add", end.v6.String()+"/64", "dev", end.dev, "nodad")
		run(t, "ip", "-n", end.ns.Name, "link", "set", end.dev, "up")
	}
}

// Do runs fn on an OS thread switched into n, and switches back after. A
// thread that cannot be switched back is not returned to the Go scheduler.
func (n *NS) Do(fn func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("nstest: open own netns: %w", err)
	}
	defer orig.Close()
	if err := unix.Setns(n.FD(), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("nstest: enter netns %s: %w", n.Name, err)
	}
	ferr := fn()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked: it dies with this goroutine instead
		// of running other goroutines in the wrong namespace.
		return fmt.Errorf("nstest: return from netns %s: %w", n.Name, err)
	}
	runtime.UnlockOSThread()
	return ferr
}

// Greeting is what a Serve listener writes to every connection.
const Greeting = "mamori-nstest\n"

// Serve listens on addr inside n until the test ends; it greets every
// connection with Greeting, then echoes what it receives for up to 30 s.
func (n *NS) Serve(t testing.TB, addr string) {
	t.Helper()
	var ln net.Listener
	if err := n.Do(func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		t.Fatalf("listen on %s in %s: %v", addr, n.Name, err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				if _, err := io.WriteString(c, Greeting); err == nil {
					io.Copy(c, c)
				}
			}()
		}
	}()
}

// Session is a TCP connection from inside a namespace to a Serve listener.
type Session struct {
	c    net.Conn
	r    *bufio.Reader
	addr string
}

// Open dials addr over TCP from inside n and reads the Serve greeting, so
// both directions must pass.
func (n *NS) Open(ctx context.Context, addr string, timeout time.Duration) (*Session, error) {
	var c net.Conn
	if err := n.Do(func() (err error) {
		d := net.Dialer{Timeout: timeout}
		c, err = d.DialContext(ctx, "tcp", addr)
		return err
	}); err != nil {
		return nil, err
	}
	s := &Session{c: c, r: bufio.NewReader(c), addr: addr}
	c.SetDeadline(time.Now().Add(timeout))
	line, err := s.r.ReadString('\n')
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("read greeting from %s: %w", addr, err)
	}
	if line != Greeting {
		c.Close()
		return nil, fmt.Errorf("greeting from %s: %q, want %q", addr, line, Greeting)
	}
	return s, nil
}

// Echo sends a line on the open connection and waits for it to come back.
func (s *Session) Echo(timeout time.Duration) error {
	s.c.SetDeadline(time.Now().Add(timeout))
	const line = "still there?\n"
	if _, err := io.WriteString(s.c, line); err != nil {
		return fmt.Errorf("send to %s: %w", s.addr, err)
	}
	got, err := s.r.ReadString('\n')
	if err != nil {
		return fmt.Errorf("echo from %s: %w", s.addr, err)
	}
	if got != line {
		return fmt.Errorf("echo from %s: %q, want %q", s.addr, got, line)
	}
	return nil
}

// Close closes the connection.
func (s *Session) Close() error { return s.c.Close() }

// Reach opens a Session to addr from inside n and closes it; nil means the
// greeting arrived.
func (n *NS) Reach(ctx context.Context, addr string, timeout time.Duration) error {
	s, err := n.Open(ctx, addr, timeout)
	if err != nil {
		return err
	}
	return s.Close()
}

// ServeUDP echoes every datagram received on addr inside n until the test
// ends.
func (n *NS) ServeUDP(t testing.TB, addr string) {
	t.Helper()
	var pc net.PacketConn
	if err := n.Do(func() (err error) {
		pc, err = net.ListenPacket("udp", addr)
		return err
	}); err != nil {
		t.Fatalf("listen on udp %s in %s: %v", addr, n.Name, err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			k, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:k], from)
		}
	}()
}

// ReachUDP sends a datagram from local (any port when empty) inside n to a
// ServeUDP echo at addr and waits for the echo, so both directions must
// pass. It returns nil when the echo arrives.
func (n *NS) ReachUDP(local, addr string, timeout time.Duration) error {
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return err
	}
	var laddr *net.UDPAddr
	if local != "" {
		if laddr, err = net.ResolveUDPAddr("udp", local); err != nil {
			return err
		}
	}
	var c *net.UDPConn
	if err := n.Do(func() (err error) {
		c, err = net.DialUDP("udp", laddr, raddr)
		return err
	}); err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, Greeting); err != nil {
		return fmt.Errorf("send to %s: %w", addr, err)
	}
	buf := make([]byte, len(Greeting)+1)
	k, err := c.Read(buf)
	if err != nil {
		return fmt.Errorf("echo from %s: %w", addr, err)
	}
	if string(buf[:k]) != Greeting {
		return fmt.Errorf("echo from %s: %q, want %q", addr, buf[:k], Greeting)
	}
	return nil
}

// Command returns a command that runs inside n (through `ip netns exec`,
// which execs the program, so the process is the program itself).
func (n *NS) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// NFT runs the nft command inside n and returns its output; tests use it to
// dump rulesets, never to change them.
func (n *NS) NFT(t testing.TB, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs the nft command to dump rulesets (apt-get install -y nftables)")
	}
	out, err := exec.Command("ip", append([]string{"netns", "exec", n.Name, "nft"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("nft %s in %s: %v: %s", strings.Join(args, " "), n.Name, err, out)
	}
	return string(out)
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// Percentile is the nearest-rank p-th percentile (0 < p <= 100) of ds, which
// it sorts; zero when ds is empty.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	rank := int(math.Ceil(p / 100 * float64(len(ds))))
	return ds[max(rank, 1)-1]
}

// ReportPercentiles adds the p50 and p99 of ds, in milliseconds, to b's
// results under the given name.
func ReportPercentiles(b *testing.B, name string, ds []time.Duration) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(Percentile(ds, 50)), name+"-p50-ms")
	b.ReportMetric(ms(Percentile(ds, 99)), name+"-p99-ms")
}
