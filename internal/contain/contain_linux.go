//go:build linux

package contain

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// TableName is the name of mamori's nftables table (family inet).
const TableName = "mamori"

// NFTables is the Linux Isolator: one nftables table, "inet mamori",
// managed over netlink.
type NFTables struct {
	mu      sync.Mutex // one batch at a time: Isolate and Release must not interleave
	netnsFD int
}

var _ Isolator = (*NFTables)(nil)

// New returns the nftables Isolator. It does not touch the kernel; errors
// (no permission, no nf_tables) surface on first use.
func New(opts ...Option) (Isolator, error) {
	return NewNFTables(opts...), nil
}

// NewNFTables is New with the concrete type, for callers on Linux only.
func NewNFTables(opts ...Option) *NFTables {
	o := buildOptions(opts)
	return &NFTables{netnsFD: o.netnsFD}
}

func (n *NFTables) conn() (*nftables.Conn, error) {
	var copts []nftables.ConnOption
	if n.netnsFD >= 0 {
		copts = append(copts, nftables.WithNetNSFd(n.netnsFD))
	}
	c, err := nftables.New(copts...)
	if err != nil {
		return nil, fmt.Errorf("firewall: netlink: %w", err)
	}
	return c, nil
}

var table = &nftables.Table{Name: TableName, Family: nftables.TableFamilyINet}

// Isolate replaces mamori's table with one enforcing p. The batch adds the
// table (a no-op when present), deletes it and builds it again, and the
// kernel commits the batch as one transaction: the old ruleset stays in
// force until the new one is complete.
func (n *NFTables) Isolate(ctx context.Context, p Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return n.batch(ctx, "isolate: install", func(c *nftables.Conn) {
		c.AddTable(table)
		c.DelTable(table)
		c.AddTable(table)
		for _, ch := range buildChains(p) {
			chain := c.AddChain(&nftables.Chain{
				Name:     ch.name,
				Table:    table,
				Hooknum:  ch.hook,
				Priority: nftables.ChainPriorityFilter,
				Type:     nftables.ChainTypeFilter,
				Policy:   &drop,
			})
			for _, r := range ch.rules {
				c.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: r})
			}
		}
	})
}

// Release deletes mamori's table. Adding it first in the same batch makes
// the delete succeed whether or not the host was isolated.
func (n *NFTables) Release(ctx context.Context) error {
	return n.batch(ctx, "release: delete", func(c *nftables.Conn) {
		c.AddTable(table)
		c.DelTable(table)
	})
}

// batch sends the messages build queues as one netlink batch, which the
// kernel applies as one transaction or not at all.
func (n *NFTables) batch(ctx context.Context, what string, build func(*nftables.Conn)) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("firewall: %s table inet %s: %w", what, TableName, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	c, err := n.conn()
	if err != nil {
		return err
	}
	build(c)
	if err := c.Flush(); err != nil {
		return fmt.Errorf("firewall: %s table inet %s: %w", what, TableName, err)
	}
	return nil
}

// Active reports whether mamori's table is present with its three base
// chains dropping by default. A table someone has tampered with (a chain
// deleted or its policy turned to accept) counts as not active, so the agent
// re-applies it.
func (n *NFTables) Active(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("firewall: active: %w", err)
	}
	c, err := n.conn()
	if err != nil {
		return false, err
	}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		return false, fmt.Errorf("firewall: active: list chains: %w", err)
	}
	want := map[string]bool{chainInput: true, chainOutput: true, chainForward: true}
	for _, ch := range chains {
		if ch.Table == nil || ch.Table.Name != TableName || !want[ch.Name] {
			continue
		}
		if ch.Policy == nil || *ch.Policy != nftables.ChainPolicyDrop {
			return false, nil
		}
		delete(want, ch.Name)
	}
	return len(want) == 0, nil
}

var drop = nftables.ChainPolicyDrop

const (
	chainInput   = "input"
	chainOutput  = "output"
	chainForward = "forward"
)

type chainSpec struct {
	name  string
	hook  *nftables.ChainHook
	rules [][]expr.Any
}

// buildChains turns p into the three base chains' rules, in order.
func buildChains(p Policy) []chainSpec {
	in := [][]expr.Any{rule(ifname(expr.MetaKeyIIFNAME, "lo"))}
	out := [][]expr.Any{rule(ifname(expr.MetaKeyOIFNAME, "lo"))}

	for _, s := range p.Server {
		a := s.Addr().Unmap()
		out = append(out, rule(addr(a, false), l4(unix.IPPROTO_TCP), port(s.Port(), false)))
		in = append(in, rule(addr(a, true), l4(unix.IPPROTO_TCP), port(s.Port(), true)))
	}
	for _, r := range p.DNS {
		a := r.Unmap()
		for _, proto := range []byte{unix.IPPROTO_UDP, unix.IPPROTO_TCP} {
			out = append(out, rule(addr(a, false), l4(proto), port(53, false)))
			in = append(in, rule(addr(a, true), l4(proto), port(53, true)))
		}
	}
	if p.AllowDHCP {
		out = append(out,
			rule(nfproto(unix.NFPROTO_IPV4), l4(unix.IPPROTO_UDP), port(68, true), port(67, false)),
			rule(nfproto(unix.NFPROTO_IPV6), l4(unix.IPPROTO_UDP), port(546, true), port(547, false)))
		in = append(in,
			rule(nfproto(unix.NFPROTO_IPV4), l4(unix.IPPROTO_UDP), port(67, true), port(68, false)),
			rule(nfproto(unix.NFPROTO_IPV6), l4(unix.IPPROTO_UDP), port(547, true), port(546, false)))
	}
	// Router and neighbour solicitation and advertisement (ICMPv6 types
	// 133-136) are IPv6's ARP; multicast listener queries and reports
	// (130-132, and 143 for MLDv2) keep switches that snoop MLD delivering
	// the solicited-node multicast that neighbour discovery relies on.
	for _, types := range [][2]byte{{130, 136}, {143, 143}} {
		r := rule(nfproto(unix.NFPROTO_IPV6), l4(unix.IPPROTO_ICMPV6), icmpTypeRange(types[0], types[1]))
		out = append(out, r)
		in = append(in, r)
	}
	// ICMP errors (fragmentation needed, packet too big, unreachable) about
	// a connection conntrack already knows; only the server's connections
	// can exist, and dropping these would break path MTU discovery to it.
	in = append(in,
		rule(l4(unix.IPPROTO_ICMP), ctRelated()),
		rule(l4(unix.IPPROTO_ICMPV6), ctRelated()))

	return []chainSpec{
		{name: chainInput, hook: nftables.ChainHookInput, rules: in},
		{name: chainOutput, hook: nftables.ChainHookOutput, rules: out},
		{name: chainForward, hook: nftables.ChainHookForward},
	}
}

// rule joins matches and appends accept.
func rule(matches ...[]expr.Any) []expr.Any {
	var r []expr.Any
	for _, m := range matches {
		r = append(r, m...)
	}
	return append(r, &expr.Verdict{Kind: expr.VerdictAccept})
}

func ifname(key expr.MetaKey, name string) []expr.Any {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: b},
	}
}

func nfproto(proto byte) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
	}
}

func l4(proto byte) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
	}
}

// addr matches the source (src) or destination address a, after matching
// the family a belongs to; in an inet table the network header can be
// either.
func addr(a netip.Addr, src bool) []expr.Any {
	fam, off, size := byte(unix.NFPROTO_IPV4), uint32(16), uint32(4) // IPv4 daddr
	switch {
	case a.Is4() && src:
		off = 12
	case a.Is6():
		fam, off, size = unix.NFPROTO_IPV6, 24, 16
		if src {
			off = 8
		}
	}
	return append(nfproto(fam),
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: size},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: a.AsSlice()},
	)
}

// port matches the TCP or UDP source (src) or destination port; both
// headers start with the two ports, so one payload offset serves both.
func port(p uint16, src bool) []expr.Any {
	off := uint32(2)
	if src {
		off = 0
	}
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: off, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binary.BigEndian.AppendUint16(nil, p)},
	}
}

func icmpTypeRange(from, to byte) []expr.Any {
	load := &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1}
	if from == to {
		return []expr.Any{load, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{from}}}
	}
	return []expr.Any{load, &expr.Range{Op: expr.CmpOpEq, Register: 1, FromData: []byte{from}, ToData: []byte{to}}}
}

func ctRelated() []expr.Any {
	return []expr.Any{
		&expr.Ct{Key: expr.CtKeySTATE, Register: 1},
		&expr.Bitwise{
			SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(expr.CtStateBitRELATED),
			Xor:  binaryutil.NativeEndian.PutUint32(0),
		},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(0)},
	}
}
