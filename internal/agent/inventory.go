package agent

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strings"

	"github.com/mamori-dev/mamori/internal/wire"
)

// inventory describes the host and the agent's state now.
func (a *Agent) inventory() wire.Inventory {
	hostname, _ := os.Hostname()
	if hostname == "" {
		hostname = "unknown"
	}
	inv := wire.Inventory{
		Hostname:     hostname,
		OS:           runtime.GOOS,
		Arch:         runtime.GOARCH,
		OSVersion:    osRelease("/etc/os-release"),
		IPs:          hostIPs(),
		AgentVersion: Version,
	}
	a.mu.Lock()
	inv.Monitoring = a.monitoring
	inv.Isolation = a.isolation
	if a.bundle != nil {
		inv.BundleVersion = a.bundle.version
	}
	a.mu.Unlock()
	return inv
}

// osRelease returns PRETTY_NAME from an os-release file.
func osRelease(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	return ""
}

// hostIPs lists the host's non-loopback addresses.
func hostIPs() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []string
	for _, ad := range addrs {
		if n, ok := ad.(*net.IPNet); ok && !n.IP.IsLoopback() {
			out = append(out, n.IP.String())
		}
	}
	slices.Sort(out)
	return out
}

func sameInventory(x, y wire.Inventory) bool { return reflect.DeepEqual(x, y) }

// ParseLabels parses --labels: comma-separated key=value pairs. Keys must
// be non-empty and unique; values may be empty.
func ParseLabels(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]string{}
	for i, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("--labels item %d %q: want key=value", i+1, kv)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("--labels item %d: key %q given twice", i+1, k)
		}
		out[k] = v
	}
	return out, nil
}
