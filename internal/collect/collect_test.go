package collect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseNet(t *testing.T) {
	ap := netip.MustParseAddrPort
	tests := []struct {
		proto string
		want  []Conn
	}{
		{"tcp", []Conn{
			{Proto: "tcp", Local: ap("0.0.0.0:2024"), Remote: ap("0.0.0.0:0"), State: "LISTEN", UID: 0, Inode: 1518},
			{Proto: "tcp", Local: ap("127.0.0.1:25672"), Remote: ap("127.0.0.1:50000"), State: "ESTABLISHED", UID: 106, Inode: 6867},
		}},
		{"tcp6", []Conn{
			{Proto: "tcp6", Local: ap("[::1]:4369"), Remote: ap("[::]:0"), State: "LISTEN", UID: 106, Inode: 7277},
			// IPv4-mapped addresses are unmapped so that they compare
			// equal to the IPv4 table's.
			{Proto: "tcp6", Local: ap("127.0.0.1:80"), Remote: ap("127.0.0.2:54321"), State: "TIME_WAIT", UID: 0, Inode: 0},
		}},
		{"udp", []Conn{
			{Proto: "udp", Local: ap("127.0.0.53:53"), Remote: ap("0.0.0.0:0"), State: "UNCONNECTED", UID: 101, Inode: 5123},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.proto, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.proto))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := ParseNet(tt.proto, f.Name(), f)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(got, tt.want, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); d != "" {
				t.Errorf("ParseNet (-got +want):\n%s", d)
			}
		})
	}
}

func TestParseNetErrors(t *testing.T) {
	head := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	tests := []struct {
		name, body, want string
	}{
		{"short", "0: 00000000:07E8 00000000:0000 0A\n", "x:2: 4 fields"},
		{"bad address", "0: 0000000G:07E8 00000000:0000 0A 0:0 0:0 0 0 0 1\n", "x:2: local address"},
		{"v4 length", "0: 000000:07E8 00000000:0000 0A 0:0 0:0 0 0 0 1\n", "6 hex digits, want 8"},
		{"no port", "0: 00000000 00000000:0000 0A 0:0 0:0 0 0 0 1\n", "has no port"},
		{"bad inode", "0: 00000000:07E8 00000000:0000 0A 0:0 0:0 0 0 0 x\n", "x:2: inode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseNet("tcp", "x", strings.NewReader(head+tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func FuzzParseNet(f *testing.F) {
	for _, p := range []string{"tcp", "tcp6", "udp"} {
		b, err := os.ReadFile(filepath.Join("testdata", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p == "tcp6", string(b))
	}
	f.Fuzz(func(t *testing.T, v6 bool, s string) {
		proto := "tcp"
		if v6 {
			proto = "tcp6"
		}
		conns, err := ParseNet(proto, "fuzz", strings.NewReader(s))
		if err != nil {
			return
		}
		for _, c := range conns {
			if !c.Local.IsValid() || !c.Remote.IsValid() || c.State == "" {
				t.Fatalf("invalid conn without error: %+v", c)
			}
		}
	})
}

// TestConnectionsLive opens a listening socket and expects to find it,
// attributed to this process.
func TestConnectionsLive(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	want := netip.MustParseAddrPort(ln.Addr().String())
	conns, err := Connections(context.Background(), "/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		if c.Local == want && c.State == "LISTEN" {
			if c.PID != os.Getpid() {
				t.Errorf("listener %v owned by pid %d, want %d", want, c.PID, os.Getpid())
			}
			return
		}
	}
	t.Errorf("listener %v not among %d connections", want, len(conns))
}

func TestProcessesLive(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	h := NewHasher()
	procs, err := Processes(context.Background(), "/proc", h)
	if err != nil {
		t.Fatal(err)
	}
	var self *Process
	for i := range procs {
		if procs[i].PID == os.Getpid() {
			self = &procs[i]
		}
	}
	if self == nil {
		t.Fatalf("own pid %d not among %d processes", os.Getpid(), len(procs))
	}
	want := Process{PID: os.Getpid(), PPID: os.Getppid(), UID: os.Getuid(), Exe: exe, SHA256: hex.EncodeToString(sum[:])}
	if d := cmp.Diff(*self, want, cmpopts.IgnoreFields(Process{}, "Comm", "Cmdline")); d != "" {
		t.Errorf("own process (-got +want):\n%s", d)
	}
	if len(h.cache) == 0 {
		t.Error("hasher cached nothing")
	}
}

func TestHasherCache(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bin")
	write := func(s string, mtime time.Time) {
		if err := os.WriteFile(p, []byte(s), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	digest := func(s string) string { d := sha256.Sum256([]byte(s)); return hex.EncodeToString(d[:]) }
	h := NewHasher()
	t0 := time.Unix(1700000000, 0)
	steps := []struct {
		content string
		mtime   time.Time
		want    string
	}{
		{"one", t0, digest("one")},
		// Same size and mtime: a cache hit, even though the bytes differ.
		// This is the documented trade-off (a stat instead of a read).
		{"two", t0, digest("one")},
		{"two", t0.Add(time.Second), digest("two")},
	}
	for i, s := range steps {
		write(s.content, s.mtime)
		got, err := h.Hash(p)
		if err != nil {
			t.Fatal(err)
		}
		if got != s.want {
			t.Errorf("step %d: hash %s, want %s", i, got, s.want)
		}
	}
	h.MaxSize = 1
	write("three", t0.Add(2*time.Second))
	if _, err := h.Hash(p); err == nil || !strings.Contains(err.Error(), "hashing limit") {
		t.Errorf("oversized: err = %v", err)
	}
}

func TestPersistenceAndDiff(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/srv/alice:/bin/sh\nnobody:x:65534:65534::/:/usr/sbin/nologin\n")
	write("etc/crontab", "* * * * * root true\n")
	write("etc/cron.d/backup", "0 1 * * * root /backup\n")
	write("var/spool/cron/crontabs/bob", "@reboot /tmp/x\n")
	write("etc/systemd/system/evil.service", "[Service]\nExecStart=/tmp/evil\n")
	if err := os.Symlink("/etc/systemd/system/evil.service", filepath.Join(root, "etc/systemd/system/evil-link.service")); err != nil {
		t.Fatal(err)
	}
	write("root/.bashrc", "alias ls=ls\n")
	write("srv/alice/.ssh/authorized_keys", "ssh-ed25519 AAAA alice\n")
	write("srv/alice/.config/systemd/user/miner.service", "[Service]\n")
	write("home/carol/.profile", "export PATH\n")
	write("etc/unrelated.conf", "x\n")

	ctx := context.Background()
	before, err := Persistence(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	type kp struct{ Kind, Path string }
	var got []kp
	for _, it := range before {
		got = append(got, kp{it.Kind, it.Path})
	}
	want := []kp{
		{KindCron, "/etc/cron.d/backup"},
		{KindCron, "/etc/crontab"},
		{KindSystemd, "/etc/systemd/system/evil-link.service"},
		{KindSystemd, "/etc/systemd/system/evil.service"},
		{KindShellRC, "/home/carol/.profile"},
		{KindShellRC, "/root/.bashrc"},
		{KindSystemd, "/srv/alice/.config/systemd/user/miner.service"},
		{KindAuthorizedKeys, "/srv/alice/.ssh/authorized_keys"},
		{KindCron, "/var/spool/cron/crontabs/bob"},
	}
	if d := cmp.Diff(got, want); d != "" {
		t.Fatalf("Persistence (-got +want):\n%s", d)
	}
	for _, it := range before {
		if it.Target == "" && len(it.SHA256) != 64 {
			t.Errorf("%s: sha256 %q", it.Path, it.SHA256)
		}
	}

	write("srv/alice/.ssh/authorized_keys", "ssh-ed25519 AAAA alice\nssh-rsa BBBB attacker\n")
	write("etc/cron.d/persist", "* * * * * root /tmp/x\n")
	if err := os.Remove(filepath.Join(root, "etc/crontab")); err != nil {
		t.Fatal(err)
	}
	after, err := Persistence(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	type op struct{ Op, Path string }
	var ops []op
	for _, c := range Diff(before, after) {
		ops = append(ops, op{c.Op, c.Item.Path})
	}
	wantOps := []op{
		{"added", "/etc/cron.d/persist"},
		{"removed", "/etc/crontab"},
		{"changed", "/srv/alice/.ssh/authorized_keys"},
	}
	if d := cmp.Diff(ops, wantOps); d != "" {
		t.Errorf("Diff (-got +want):\n%s", d)
	}
	if d := Diff(after, after); len(d) != 0 {
		t.Errorf("Diff of identical snapshots: %v", d)
	}
}
