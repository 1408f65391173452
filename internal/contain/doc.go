// Package contain owns host containment: cutting a host off from the network
// except for the mamori server, and lifting that again. It knows nothing of
// the agent or the server; the agent builds a Policy from an isolate command
// and calls an Isolator, probes the server itself and rolls back on failure.
//
// On Linux the Isolator installs one nftables table of mamori's own,
// "inet mamori", through netlink (github.com/google/nftables; the nft binary
// is never run). The table has input, output and forward base chains whose
// policy drops; the only accepted traffic is loopback, TCP to and from the
// server's addresses and port, DNS to and from the configured resolvers,
// DHCP and DHCPv6 client traffic when allowed, ICMPv6 neighbour and
// multicast listener discovery (without them IPv6 stops resolving
// link-layer addresses, the server's included) and ICMP errors related to
// a tracked connection (so path MTU discovery towards the server keeps
// working). The whole table is replaced in one netlink batch, so there is
// no moment at which a half-built ruleset is in force, and Release deletes
// that table and nothing else: whatever firewall the host already runs is
// left as it was. Because the drop policies live in their own base chains,
// an accept in another table cannot open a hole in isolation (every base
// chain on a hook must accept). The forward chain accepts nothing:
// containers and virtual machines routed through the host are cut off with
// it.
//
// The tests run against the real kernel in throwaway network namespaces
// (package nstest, which also holds the end-to-end test with the mamori
// server and agent); they need root and skip otherwise.
//
// # Other platforms
//
// The Isolator interface is all the agent uses, so another platform needs
// only a file with its build tag providing New. On other systems New
// currently returns an error wrapping errors.ErrUnsupported.
//
// Windows would use the Windows Filtering Platform (fwpuclnt.dll through
// golang.org/x/sys/windows): open an engine session, add a provider and a
// sublayer owned by mamori, and inside one transaction add, at the
// FWPM_LAYER_ALE_AUTH_CONNECT_V4/V6 and ALE_AUTH_RECV_ACCEPT_V4/V6 layers,
// permit filters for the server's addresses and port, the resolvers on port
// 53, DHCP and loopback at a high weight, and a block-all filter at the
// lowest weight. Filters added with FWPM_FILTER_FLAG_PERSISTENT survive a
// reboot, or the agent re-applies them at start as it does on Linux; Release
// deletes the sublayer's filters and the sublayer, which leaves every other
// product's filters alone, the same contract as the nftables table here.
//
// macOS would use pf with an anchor of mamori's own, "com.mamori", referenced
// from the main ruleset: load "block drop all", "pass quick on lo0" and
// "pass quick proto tcp to/from <server> port <port>" (and the DNS and DHCP
// passes) with `pfctl -a com.mamori -f -`, enable pf with a reference
// (`pfctl -E`, keeping the token so Release can `pfctl -X` it), and release
// by flushing only that anchor (`pfctl -a com.mamori -F all`). pf loads an
// anchor's rules atomically, which gives the same no-gap replacement.
package contain
