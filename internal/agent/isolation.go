package agent

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/contain"
	"github.com/mamori-dev/mamori/internal/wire"
)

// Isolator is what the agent needs of internal/contain.
type Isolator = contain.Isolator

// probeTimeout bounds the check that the server is still reachable once
// isolation is in force.
const probeTimeout = 5 * time.Second

// isolationState is kept in the store so that isolation survives restarts
// and reboots until the server releases the host.
type isolationState struct {
	State  string     `json:"state"`
	Policy policyJSON `json:"policy"`
	Reason string     `json:"reason,omitempty"`
}

// policyJSON is contain.Policy in a form that round-trips through JSON.
type policyJSON struct {
	Server    []string `json:"server"`
	DNS       []string `json:"dns,omitempty"`
	AllowDHCP bool     `json:"allow_dhcp"`
}

func toPolicyJSON(p contain.Policy) policyJSON {
	var j policyJSON
	for _, s := range p.Server {
		j.Server = append(j.Server, s.String())
	}
	for _, d := range p.DNS {
		j.DNS = append(j.DNS, d.String())
	}
	j.AllowDHCP = p.AllowDHCP
	return j
}

func (j policyJSON) policy() (contain.Policy, error) {
	var p contain.Policy
	for i, s := range j.Server {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return p, fmt.Errorf("policy.server[%d]: %w", i, err)
		}
		p.Server = append(p.Server, ap)
	}
	for i, s := range j.DNS {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return p, fmt.Errorf("policy.dns[%d]: %w", i, err)
		}
		p.DNS = append(p.DNS, a)
	}
	p.AllowDHCP = j.AllowDHCP
	return p, p.Validate()
}

func (a *Agent) isolator() (Isolator, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cfg.Isolator == nil {
		iso, err := contain.New()
		if err != nil {
			return nil, err
		}
		a.cfg.Isolator = iso
	}
	return a.cfg.Isolator, nil
}

// buildPolicy resolves the server's addresses: those of the URL the agent
// connects to, plus those the server named in the command.
func (a *Agent) buildPolicy(ctx context.Context, cmd wire.Isolate) (contain.Policy, error) {
	u, err := url.Parse(a.cfg.ServerURL)
	if err != nil {
		return contain.Policy{}, err
	}
	urlPort, _ := strconv.Atoi(u.Port())
	if urlPort == 0 {
		urlPort = 443
	}
	port := cmd.ServerPort
	if port == 0 {
		port = urlPort
	}
	seen := map[netip.AddrPort]bool{}
	var p contain.Policy
	add := func(a netip.Addr, port int) {
		ap := netip.AddrPortFrom(a.Unmap(), uint16(port))
		if !seen[ap] {
			seen[ap] = true
			p.Server = append(p.Server, ap)
		}
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", u.Hostname())
	if err != nil {
		return p, fmt.Errorf("resolving server %s: %w", u.Hostname(), err)
	}
	for _, ad := range addrs {
		add(ad, urlPort)
	}
	for i, s := range cmd.ServerAddrs {
		ad, err := netip.ParseAddr(s)
		if err != nil {
			return p, fmt.Errorf("isolate.server_addrs[%d]: %w", i, err)
		}
		add(ad, port)
	}
	if cmd.AllowDNS {
		for i, s := range cmd.Resolvers {
			ad, err := netip.ParseAddr(s)
			if err != nil {
				return p, fmt.Errorf("isolate.resolvers[%d]: %w", i, err)
			}
			p.DNS = append(p.DNS, ad)
		}
		if len(cmd.Resolvers) == 0 {
			p.DNS = systemResolvers("/etc/resolv.conf")
		}
	}
	p.AllowDHCP = cmd.AllowDHCP
	return p, p.Validate()
}

// systemResolvers reads the nameserver lines of a resolv.conf.
func systemResolvers(path string) []netip.Addr {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []netip.Addr
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "nameserver" {
			if a, err := netip.ParseAddr(fields[1]); err == nil {
				out = append(out, a)
			}
		}
	}
	return out
}

// probe checks that the server still answers a TLS handshake with the
// agent's certificate: a fresh connection, so that it proves new traffic
// passes and not only the already-established WebSocket.
//
// It dials the policy's resolved addresses, not the URL's host name: DNS
// may be blocked by the very isolation being checked.
func (a *Agent) probe(ctx context.Context, p contain.Policy) error {
	u, err := url.Parse(a.cfg.ServerURL)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	conf := a.tlsConf.Clone()
	conf.ServerName = u.Hostname()
	d := tls.Dialer{Config: conf}
	if len(p.Server) == 0 {
		return errors.New("no server address to probe")
	}
	var errs []error
	for _, ap := range p.Server {
		c, err := d.DialContext(ctx, "tcp", ap.String())
		if err == nil {
			return c.Close()
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("server unreachable after isolation: %w", errors.Join(errs...))
}

func (a *Agent) setIsolation(state, errText string) {
	a.mu.Lock()
	a.isolation, a.isoErr = state, errText
	a.mu.Unlock()
}

func (a *Agent) reportIsolation(ctx context.Context, cmdID, state, errText string) {
	st := &wire.IsolationStatus{State: state, Error: errText, CommandID: cmdID}
	if err := a.send(ctx, &wire.Message{Type: wire.TypeIsolationStatus, IsolationStatus: st}); err != nil && !errors.Is(err, errOffline) {
		a.log.Warn("sending isolation status", "err", err)
	}
	a.sendInventory(ctx)
}

// isolate applies isolation, proves the server is still reachable, keeps
// the state, and reports; any failure rolls back to no isolation.
func (a *Agent) isolate(ctx context.Context, cmdID string, cmd wire.Isolate) {
	err := a.doIsolate(ctx, cmd)
	if err != nil {
		a.log.Error("isolation failed", "err", err)
		a.setIsolation(wire.IsolationFailed, err.Error())
		a.reportIsolation(ctx, cmdID, wire.IsolationFailed, err.Error())
		return
	}
	a.log.Warn("host isolated", "reason", cmd.Reason)
	a.setIsolation(wire.IsolationIsolated, "")
	a.reportIsolation(ctx, cmdID, wire.IsolationIsolated, "")
}

func (a *Agent) doIsolate(ctx context.Context, cmd wire.Isolate) error {
	iso, err := a.isolator()
	if err != nil {
		return err
	}
	p, err := a.buildPolicy(ctx, cmd)
	if err != nil {
		return err
	}
	if err := iso.Isolate(ctx, p); err != nil {
		return fmt.Errorf("applying isolation: %w", err)
	}
	fail := func(cause error) error {
		if rerr := iso.Release(context.WithoutCancel(ctx)); rerr != nil {
			return fmt.Errorf("%w; rolling back also failed: %v", cause, rerr)
		}
		return fmt.Errorf("%w (rolled back)", cause)
	}
	// The state is stored before the probe: a crash during the probe must
	// leave rules and stored state in agreement, so the next start
	// re-applies them rather than leaving orphan rules nobody tracks.
	st := isolationState{State: wire.IsolationIsolated, Policy: toPolicyJSON(p), Reason: cmd.Reason}
	if err := a.st.PutState(ctx, stateIsolation, st); err != nil {
		return fail(fmt.Errorf("storing isolation state: %w", err))
	}
	if err := a.probe(ctx, p); err != nil {
		if serr := a.st.PutState(context.WithoutCancel(ctx), stateIsolation, isolationState{State: wire.IsolationNone}); serr != nil {
			err = fmt.Errorf("%w; clearing stored state: %v", err, serr)
		}
		return fail(err)
	}
	return nil
}

// guardIsolation re-applies isolation when its rules vanished while the
// host is meant to be isolated (an intruder or an administrator flushed
// the ruleset): the server would otherwise show "isolated" for an open host.
func (a *Agent) guardIsolation(ctx context.Context) {
	a.mu.Lock()
	isolated := a.isolation == wire.IsolationIsolated
	a.mu.Unlock()
	if !isolated {
		return
	}
	iso, err := a.isolator()
	if err != nil {
		return
	}
	if ok, err := iso.Active(ctx); err != nil || ok {
		return
	}
	a.log.Warn("isolation rules were removed behind the agent's back; re-applying")
	if err := a.reapplyIsolation(ctx); err != nil {
		a.log.Error("re-applying isolation", "err", err)
		a.setIsolation(wire.IsolationFailed, err.Error())
		a.reportIsolation(ctx, "", wire.IsolationFailed, err.Error())
	}
}

func (a *Agent) release(ctx context.Context, cmdID string) {
	err := a.doRelease(ctx)
	if err != nil {
		a.log.Error("release failed", "err", err)
		a.mu.Lock()
		state := a.isolation
		a.mu.Unlock()
		a.setIsolation(state, err.Error())
		a.reportIsolation(ctx, cmdID, wire.IsolationFailed, err.Error())
		return
	}
	a.log.Warn("host released from isolation")
	a.setIsolation(wire.IsolationNone, "")
	a.reportIsolation(ctx, cmdID, wire.IsolationNone, "")
}

func (a *Agent) doRelease(ctx context.Context) error {
	iso, err := a.isolator()
	if err != nil {
		return err
	}
	if err := iso.Release(ctx); err != nil {
		return fmt.Errorf("releasing isolation: %w", err)
	}
	return a.st.PutState(ctx, stateIsolation, isolationState{State: wire.IsolationNone})
}

// reapplyIsolation restores isolation kept from an earlier run, before the
// agent talks to anyone: a reboot must not open the host up.
func (a *Agent) reapplyIsolation(ctx context.Context) error {
	var st isolationState
	ok, err := a.st.GetState(ctx, stateIsolation, &st)
	if err != nil || !ok || st.State != wire.IsolationIsolated {
		return err
	}
	a.setIsolation(wire.IsolationIsolated, "")
	p, err := st.Policy.policy()
	if err != nil {
		return fmt.Errorf("stored isolation policy: %w", err)
	}
	iso, err := a.isolator()
	if err != nil {
		return err
	}
	if err := iso.Isolate(ctx, p); err != nil {
		return fmt.Errorf("re-applying isolation: %w", err)
	}
	a.log.Warn("isolation re-applied from stored state")
	return nil
}
