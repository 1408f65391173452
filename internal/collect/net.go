package collect

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Conn is one socket from /proc/net/{tcp,tcp6,udp,udp6}.
type Conn struct {
	Proto  string         `json:"proto"`
	Local  netip.AddrPort `json:"local"`
	Remote netip.AddrPort `json:"remote"`
	State  string         `json:"state"`
	UID    int            `json:"uid"`
	Inode  uint64         `json:"inode"`
	// PID is the first process found holding the socket, 0 when none was
	// visible (another network namespace, or a process that exited).
	PID  int    `json:"pid,omitempty"`
	Comm string `json:"comm,omitempty"`
}

// Key identifies a connection across snapshots; it leaves out the
// socket inode and owner because those say nothing new to a responder.
func (c Conn) Key() string {
	return c.Proto + " " + c.Local.String() + " " + c.Remote.String() + " " + c.State
}

// tcpStates names the kernel's TCP states (include/net/tcp_states.h).
var tcpStates = map[uint64]string{
	1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
	6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING",
	12: "NEW_SYN_RECV",
}

// ParseNet parses one /proc/net/{tcp,tcp6,udp,udp6} table. proto is the
// file's base name; name is used in error messages.
func ParseNet(proto, name string, r io.Reader) ([]Conn, error) {
	v6 := strings.HasSuffix(proto, "6")
	udp := strings.HasPrefix(proto, "udp")
	var out []Conn
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if line == 1 {
			continue // column header
		}
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 10 {
			return out, fmt.Errorf("%s:%d: %d fields, want at least 10", name, line, len(f))
		}
		local, err := parseSockAddr(f[1], v6)
		if err != nil {
			return out, fmt.Errorf("%s:%d: local address: %w", name, line, err)
		}
		remote, err := parseSockAddr(f[2], v6)
		if err != nil {
			return out, fmt.Errorf("%s:%d: remote address: %w", name, line, err)
		}
		st, err := strconv.ParseUint(f[3], 16, 8)
		if err != nil {
			return out, fmt.Errorf("%s:%d: state %q: %w", name, line, f[3], err)
		}
		uid, err := strconv.Atoi(f[7])
		if err != nil {
			return out, fmt.Errorf("%s:%d: uid %q: %w", name, line, f[7], err)
		}
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil {
			return out, fmt.Errorf("%s:%d: inode %q: %w", name, line, f[9], err)
		}
		state := tcpStates[st]
		if udp {
			// UDP reuses the TCP numbers: 7 is an unconnected socket, 1 a
			// connected one.
			state = map[uint64]string{1: "CONNECTED", 7: "UNCONNECTED"}[st]
		}
		if state == "" {
			state = "0x" + strings.ToUpper(f[3])
		}
		out = append(out, Conn{Proto: proto, Local: local, Remote: remote, State: state, UID: uid, Inode: inode})
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// parseSockAddr decodes "0100007F:1F90". The kernel prints each 32-bit word
// of the address in host byte order, the port in plain hex.
func parseSockAddr(s string, v6 bool) (netip.AddrPort, error) {
	host, port, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("%q has no port", s)
	}
	p, err := strconv.ParseUint(port, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("port %q: %w", port, err)
	}
	want := 8
	if v6 {
		want = 32
	}
	if len(host) != want {
		return netip.AddrPort{}, fmt.Errorf("address %q: %d hex digits, want %d", host, len(host), want)
	}
	raw, err := hex.DecodeString(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("address %q: %w", host, err)
	}
	var b [16]byte
	for i := 0; i < len(raw); i += 4 {
		binary.BigEndian.PutUint32(b[i:], binary.NativeEndian.Uint32(raw[i:]))
	}
	var a netip.Addr
	if v6 {
		a = netip.AddrFrom16(b).Unmap()
	} else {
		a = netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrPortFrom(a, uint16(p)), nil
}

// Connections reads every socket table under procRoot (normally "/proc")
// and attributes each socket to a process through /proc/*/fd. A missing
// table (no IPv6) is skipped.
func Connections(ctx context.Context, procRoot string) ([]Conn, error) {
	var all []Conn
	for _, proto := range []string{"tcp", "tcp6", "udp", "udp6"} {
		path := filepath.Join(procRoot, "net", proto)
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("connections: %w", err)
		}
		conns, err := ParseNet(proto, path, f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("connections: %w", err)
		}
		all = append(all, conns...)
	}
	owners, err := socketOwners(ctx, procRoot)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if o, ok := owners[all[i].Inode]; ok {
			all[i].PID, all[i].Comm = o.pid, o.comm
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Key() < all[j].Key() })
	return all, nil
}

type owner struct {
	pid  int
	comm string
}

// socketOwners maps socket inodes to the lowest PID holding them. Processes
// that vanish or deny access mid-walk are skipped: the table is a best
// effort snapshot, not a failure.
func socketOwners(ctx context.Context, procRoot string) (map[uint64]owner, error) {
	pids, err := listPIDs(procRoot)
	if err != nil {
		return nil, err
	}
	owners := map[uint64]owner{}
	for _, pid := range pids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		dir := filepath.Join(procRoot, strconv.Itoa(pid), "fd")
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		var comm string
		for _, e := range ents {
			link, err := os.Readlink(filepath.Join(dir, e.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") || !strings.HasSuffix(link, "]") {
				continue
			}
			ino, err := strconv.ParseUint(link[len("socket:["):len(link)-1], 10, 64)
			if err != nil {
				continue
			}
			if _, seen := owners[ino]; seen {
				continue
			}
			if comm == "" {
				comm = readComm(procRoot, pid)
			}
			owners[ino] = owner{pid: pid, comm: comm}
		}
	}
	return owners, nil
}

// listPIDs returns the numeric entries of procRoot in ascending order.
func listPIDs(procRoot string) ([]int, error) {
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids, nil
}

func readComm(procRoot string, pid int) string {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "comm"))
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}
