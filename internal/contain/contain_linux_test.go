package contain_test

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/nftables"

	"github.com/mamori-dev/mamori/internal/contain"
	"github.com/mamori-dev/mamori/internal/contain/nstest"
)

var update = flag.Bool("update", false, "rewrite the golden rulesets in testdata/")

const serverPort = 8443

func dualStack() contain.Policy {
	return contain.Policy{
		Server: []netip.AddrPort{
			netip.AddrPortFrom(nstest.ServerV4, serverPort),
			netip.AddrPortFrom(nstest.ServerV6, serverPort),
		},
	}
}

// isolator returns an Isolator acting on a fresh namespace.
func isolator(t *testing.T) (*contain.NFTables, *nstest.NS) {
	t.Helper()
	ns := nstest.New(t)
	return contain.NewNFTables(contain.WithNetNS(ns.FD())), ns
}

func TestIsolateGolden(t *testing.T) {
	tests := []struct {
		name string
		p    contain.Policy
	}{
		{"server-v4", contain.Policy{Server: []netip.AddrPort{netip.MustParseAddrPort("198.18.0.1:8443")}}},
		{"server-v4-mapped", contain.Policy{Server: []netip.AddrPort{netip.MustParseAddrPort("[::ffff:198.18.0.1]:8443")}}},
		{"dual-stack-dns-dhcp", contain.Policy{
			Server: []netip.AddrPort{
				netip.MustParseAddrPort("198.18.0.1:8443"),
				netip.MustParseAddrPort("198.18.0.9:443"),
				netip.MustParseAddrPort("[2001:db8:18::1]:8443"),
			},
			DNS:       []netip.Addr{netip.MustParseAddr("198.18.0.53"), netip.MustParseAddr("2001:db8:18::53")},
			AllowDHCP: true,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iso, ns := isolator(t)
			if err := iso.Isolate(context.Background(), tt.p); err != nil {
				t.Fatal(err)
			}
			got := ns.NFT(t, "list", "table", "inet", contain.TableName)
			golden := filepath.Join("testdata", tt.name+".nft")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, string(want)); diff != "" {
				t.Errorf("ruleset differs from %s (-got +want):\n%s", golden, diff)
			}
		})
	}
}

func TestIsolateRejectsBadPolicy(t *testing.T) {
	iso, ns := isolator(t)
	if err := iso.Isolate(context.Background(), contain.Policy{}); err == nil {
		t.Fatal("Isolate with no server succeeded; it must refuse to strand the host")
	}
	if got := ns.NFT(t, "list", "ruleset"); got != "" {
		t.Errorf("ruleset after refused Isolate:\n%s\nwant empty", got)
	}
}

// TestIsolateReplaces applies a policy twice and then a narrower one: the
// ruleset must be exactly the last policy's, with no rules left over.
func TestIsolateReplaces(t *testing.T) {
	ctx := context.Background()
	iso, ns := isolator(t)
	wide := dualStack()
	wide.DNS = []netip.Addr{nstest.ServerV4}
	wide.AllowDHCP = true
	narrow := contain.Policy{Server: []netip.AddrPort{netip.AddrPortFrom(nstest.ServerV4, serverPort)}}

	if err := iso.Isolate(ctx, wide); err != nil {
		t.Fatal(err)
	}
	once := ns.NFT(t, "list", "ruleset")
	if err := iso.Isolate(ctx, wide); err != nil {
		t.Fatalf("second Isolate: %v", err)
	}
	if diff := cmp.Diff(ns.NFT(t, "list", "ruleset"), once); diff != "" {
		t.Errorf("re-applying the same policy changed the ruleset (-got +want):\n%s", diff)
	}

	if err := iso.Isolate(ctx, narrow); err != nil {
		t.Fatal(err)
	}
	got := ns.NFT(t, "list", "ruleset")
	fresh, freshNS := isolator(t)
	if err := fresh.Isolate(ctx, narrow); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, freshNS.NFT(t, "list", "ruleset")); diff != "" {
		t.Errorf("narrowed ruleset differs from one applied fresh (-got +want):\n%s", diff)
	}
}

// TestReleaseOnlyMamori checks that a table someone else owns survives
// isolation and release, and that Release and Active behave when nothing is
// installed.
func TestReleaseOnlyMamori(t *testing.T) {
	ctx := context.Background()
	iso, ns := isolator(t)

	if err := iso.Release(ctx); err != nil {
		t.Fatalf("Release when not isolated: %v", err)
	}
	if active, err := iso.Active(ctx); err != nil || active {
		t.Fatalf("Active before Isolate = %v, %v; want false, nil", active, err)
	}

	c, err := nftables.New(nftables.WithNetNSFd(ns.FD()))
	if err != nil {
		t.Fatal(err)
	}
	foreign := c.AddTable(&nftables.Table{Name: "site", Family: nftables.TableFamilyINet})
	accept := nftables.ChainPolicyAccept
	c.AddChain(&nftables.Chain{
		Name: "input", Table: foreign, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter, Policy: &accept,
	})
	if err := c.Flush(); err != nil {
		t.Fatalf("add foreign table: %v", err)
	}
	before := ns.NFT(t, "list", "ruleset")

	if err := iso.Isolate(ctx, dualStack()); err != nil {
		t.Fatal(err)
	}
	if active, err := iso.Active(ctx); err != nil || !active {
		t.Fatalf("Active after Isolate = %v, %v; want true, nil", active, err)
	}
	if err := iso.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if active, err := iso.Active(ctx); err != nil || active {
		t.Fatalf("Active after Release = %v, %v; want false, nil", active, err)
	}
	if diff := cmp.Diff(ns.NFT(t, "list", "ruleset"), before); diff != "" {
		t.Errorf("ruleset after Release differs from before Isolate (-got +want):\n%s", diff)
	}
	if err := iso.Release(ctx); err != nil {
		t.Fatalf("second Release: %v", err)
	}
}

// TestActiveDetectsTampering: a mamori table whose chain was deleted, or
// whose policy was turned to accept, no longer isolates.
func TestActiveDetectsTampering(t *testing.T) {
	ctx := context.Background()
	table := &nftables.Table{Name: contain.TableName, Family: nftables.TableFamilyINet}
	accept := nftables.ChainPolicyAccept
	tests := []struct {
		name   string
		tamper func(c *nftables.Conn)
	}{
		{"chain deleted", func(c *nftables.Conn) {
			c.DelChain(&nftables.Chain{Name: "forward", Table: table})
		}},
		{"policy accept", func(c *nftables.Conn) {
			c.AddChain(&nftables.Chain{
				Name: "output", Table: table, Type: nftables.ChainTypeFilter,
				Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityFilter, Policy: &accept,
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iso, ns := isolator(t)
			if err := iso.Isolate(ctx, dualStack()); err != nil {
				t.Fatal(err)
			}
			c, err := nftables.New(nftables.WithNetNSFd(ns.FD()))
			if err != nil {
				t.Fatal(err)
			}
			tt.tamper(c)
			if err := c.Flush(); err != nil {
				t.Fatalf("tamper: %v", err)
			}
			if active, err := iso.Active(ctx); err != nil || active {
				t.Fatalf("Active after tampering = %v, %v; want false, nil", active, err)
			}
			if err := iso.Isolate(ctx, dualStack()); err != nil {
				t.Fatalf("re-apply over tampered table: %v", err)
			}
			if active, err := iso.Active(ctx); err != nil || !active {
				t.Fatalf("Active after re-apply = %v, %v; want true, nil", active, err)
			}
		})
	}
}

// TestConnectivity isolates the agent's namespace and checks, over real
// TCP and UDP across a veth pair, IPv4 and IPv6, what it can still reach.
func TestConnectivity(t *testing.T) {
	// Services on the server's side: the gateway, DNS over TCP and UDP,
	// DHCP servers and some other service. Each probe names the policy
	// switch that lets it through isolation.
	type probe struct {
		name     string
		reach    func(agent *nstest.NS, timeout time.Duration) error
		allowsBy string // "server", "dns", "dhcp", or "" for never
	}
	var probes []probe
	for _, pair := range []struct{ server, agent netip.Addr }{
		{nstest.ServerV4, nstest.AgentV4}, {nstest.ServerV6, nstest.AgentV6},
	} {
		tcp := func(port uint16, by string) probe {
			addr := netip.AddrPortFrom(pair.server, port).String()
			return probe{"tcp " + addr, func(a *nstest.NS, d time.Duration) error {
				return a.Reach(context.Background(), addr, d)
			}, by}
		}
		udp := func(from, port uint16, by string) probe {
			addr := netip.AddrPortFrom(pair.server, port).String()
			local := netip.AddrPortFrom(pair.agent, from).String()
			return probe{"udp " + local + " -> " + addr, func(a *nstest.NS, d time.Duration) error {
				return a.ReachUDP(local, addr, d)
			}, by}
		}
		dhcpClient, dhcpServer := uint16(68), uint16(67)
		if pair.server.Is6() {
			dhcpClient, dhcpServer = 546, 547
		}
		probes = append(probes,
			tcp(serverPort, "server"),
			tcp(53, "dns"),
			udp(0, 53, "dns"),
			udp(dhcpClient, dhcpServer, "dhcp"),
			tcp(9000, ""),
			udp(0, 9000, ""),
		)
	}
	serverOnly := dualStack()
	everything := dualStack()
	everything.DNS = []netip.Addr{nstest.ServerV4, nstest.ServerV6}
	everything.AllowDHCP = true
	tests := []struct {
		name    string
		p       contain.Policy
		allowed map[string]bool
	}{
		{"server only", serverOnly, map[string]bool{"server": true}},
		{"server, DNS and DHCP", everything, map[string]bool{"server": true, "dns": true, "dhcp": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			server, agent := nstest.New(t), nstest.New(t)
			nstest.Link(t, server, agent)
			for _, ip := range []netip.Addr{nstest.ServerV4, nstest.ServerV6} {
				for _, port := range []uint16{serverPort, 53, 9000} {
					server.Serve(t, netip.AddrPortFrom(ip, port).String())
				}
				for _, port := range []uint16{53, 67, 547, 9000} {
					server.ServeUDP(t, netip.AddrPortFrom(ip, port).String())
				}
			}
			iso := contain.NewNFTables(contain.WithNetNS(agent.FD()))

			// check runs the probes in parallel: a blocked one costs a
			// whole timeout.
			check := func(phase string, isolated bool) {
				t.Helper()
				errs := make([]error, len(probes))
				var wg sync.WaitGroup
				for i, pr := range probes {
					want := !isolated || tt.allowed[pr.allowsBy]
					// A dropped packet only times out; a short wait keeps
					// the test quick, a long one keeps a loaded machine
					// from failing it.
					timeout := 500 * time.Millisecond
					if want {
						timeout = 5 * time.Second
					}
					wg.Go(func() {
						err := pr.reach(agent, timeout)
						if want != (err == nil) {
							errs[i] = fmt.Errorf("%s: %s: err = %v, want reachable = %v", phase, pr.name, err, want)
						}
					})
				}
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						t.Error(err)
					}
				}
			}

			check("before Isolate", false)
			// Connections open before isolation, the way a remote
			// shell's would be: only the server's may survive it.
			sessions := map[string]bool{} // address: survives
			for _, ip := range []netip.Addr{nstest.ServerV4, nstest.ServerV6} {
				sessions[netip.AddrPortFrom(ip, serverPort).String()] = true
				sessions[netip.AddrPortFrom(ip, 9000).String()] = false
			}
			open := map[string]*nstest.Session{}
			for addr := range sessions {
				s, err := agent.Open(ctx, addr, 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				open[addr] = s
			}
			if err := iso.Isolate(ctx, tt.p); err != nil {
				t.Fatal(err)
			}
			check("isolated", true)
			for addr, survives := range sessions {
				timeout := 500 * time.Millisecond
				if survives {
					timeout = 5 * time.Second
				}
				if err := open[addr].Echo(timeout); survives != (err == nil) {
					t.Errorf("connection to %s opened before isolation: echo err = %v, want it to survive = %v", addr, err, survives)
				}
			}
			// Forget the server's link-layer address: reaching it again
			// over IPv6 now needs neighbour discovery through the rules.
			if out, err := agent.Command(ctx, "ip", "neigh", "flush", "all").CombinedOutput(); err != nil {
				t.Fatalf("ip neigh flush: %v: %s", err, out)
			}
			check("isolated, neighbour cache flushed", true)
			if err := iso.Release(ctx); err != nil {
				t.Fatal(err)
			}
			check("released", false)
		})
	}
}

// BenchmarkIsolateRelease times, per cycle, Isolate until Active reads the
// rules back from the kernel, and Release likewise. Run the 50
// cycles with -benchtime 50x.
func BenchmarkIsolateRelease(b *testing.B) {
	ctx := context.Background()
	ns := nstest.New(b)
	iso := contain.NewNFTables(contain.WithNetNS(ns.FD()))
	p := dualStack()
	p.DNS = []netip.Addr{nstest.ServerV4}
	p.AllowDHCP = true
	var isolate, release []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := iso.Isolate(ctx, p); err != nil {
			b.Fatal(err)
		}
		if active, err := iso.Active(ctx); err != nil || !active {
			b.Fatalf("Active after Isolate = %v, %v", active, err)
		}
		isolate = append(isolate, time.Since(start))

		start = time.Now()
		if err := iso.Release(ctx); err != nil {
			b.Fatal(err)
		}
		if active, err := iso.Active(ctx); err != nil || active {
			b.Fatalf("Active after Release = %v, %v", active, err)
		}
		release = append(release, time.Since(start))
	}
	nstest.ReportPercentiles(b, "isolate", isolate)
	nstest.ReportPercentiles(b, "release", release)
}
