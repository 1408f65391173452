package contain

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
)

// Policy is what an isolated host may still talk to. Loopback is always
// allowed.
type Policy struct {
	// Server lists the mamori server's addresses and port (TCP); at least
	// one is required, or isolation would strand the host.
	Server []netip.AddrPort
	// DNS lists resolvers the host may query on port 53 (UDP and TCP).
	// Empty means no DNS.
	DNS []netip.Addr
	// AllowDHCP permits DHCP (UDP 67/68) and DHCPv6 (UDP 546/547) client
	// traffic, so the host keeps its lease and with it the route to the
	// server.
	AllowDHCP bool
}

// Isolator enforces a Policy on the host. Each method checks ctx before it
// asks the kernel; the kernel's answer itself takes milliseconds and is not
// interrupted.
type Isolator interface {
	// Isolate installs mamori's ruleset for p, replacing any earlier one in
	// a single atomic step.
	Isolate(ctx context.Context, p Policy) error
	// Release removes mamori's ruleset and nothing else. Releasing a host
	// that is not isolated is not an error.
	Release(ctx context.Context) error
	// Active reports whether mamori's ruleset is in force.
	Active(ctx context.Context) (bool, error)
}

// Option configures New.
type Option func(*options)

type options struct {
	netnsFD int // -1: the calling process's network namespace
}

// WithNetNS makes the Isolator act on the network namespace open at fd
// (for example /run/netns/NAME) instead of the process's own. The caller
// keeps ownership of fd and must keep it open while the Isolator is used.
func WithNetNS(fd int) Option {
	return func(o *options) { o.netnsFD = fd }
}

func buildOptions(opts []Option) options {
	o := options{netnsFD: -1}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Validate reports the first problem that would make p unsafe or impossible
// to enforce, naming the field.
func (p Policy) Validate() error {
	if len(p.Server) == 0 {
		return errors.New("isolation policy field Server: no server address; isolating would cut the host off for good")
	}
	for i, s := range p.Server {
		if !s.Addr().IsValid() {
			return fmt.Errorf("isolation policy field Server[%d]: invalid address", i)
		}
		if s.Addr().Zone() != "" {
			return fmt.Errorf("isolation policy field Server[%d]: %s: zoned addresses are not supported", i, s)
		}
		if s.Port() == 0 {
			return fmt.Errorf("isolation policy field Server[%d]: %s: port 0", i, s)
		}
	}
	for i, a := range p.DNS {
		if !a.IsValid() {
			return fmt.Errorf("isolation policy field DNS[%d]: invalid address", i)
		}
		if a.Zone() != "" {
			return fmt.Errorf("isolation policy field DNS[%d]: %s: zoned addresses are not supported", i, a)
		}
	}
	return nil
}
