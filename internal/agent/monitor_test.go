package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/collect"
	"github.com/mamori-dev/mamori/internal/wire"
)

// TestCollectorPass runs the collectors on fixture trees: the first pass is
// a silent baseline, later passes queue one event per change, and a
// persistence change already reported is not queued again.
func TestCollectorPass(t *testing.T) {
	ctx := context.Background()
	st, err := openStore(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fsRoot := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(fsRoot, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/crontab", "* * * * * root true\n")
	write("root/.ssh/authorized_keys", "ssh-ed25519 AAAA admin\n")
	a := &Agent{st: st, log: slog.New(slog.DiscardHandler), procRoot: t.TempDir(), fsRoot: fsRoot}
	c := &collector{a: a}

	queued := func() []string {
		qs, err := st.Pending(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, q := range qs {
			f := q.finding
			if f.Type != "persistence" || f.Source != wire.SourceCollector {
				t.Errorf("unexpected finding %+v", f)
			}
			out = append(out, f.Detail["op"].(string)+" "+f.Path)
		}
		sort.Strings(out)
		return out
	}
	if err := c.pass(ctx); err != nil {
		t.Fatal(err)
	}
	if got := queued(); len(got) != 0 {
		t.Fatalf("baseline queued %v", got)
	}
	write("etc/cron.d/miner", "@reboot root /tmp/.x\n")
	write("root/.ssh/authorized_keys", "ssh-ed25519 AAAA admin\nssh-rsa BBBB intruder\n")
	if err := c.pass(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"added /etc/cron.d/miner", "changed /root/.ssh/authorized_keys"}
	if d := cmp.Diff(queued(), want); d != "" {
		t.Errorf("after changes (-got +want):\n%s", d)
	}
	// Nothing new: nothing more queued.
	if err := c.pass(ctx); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(queued(), want); d != "" {
		t.Errorf("after an idle pass (-got +want):\n%s", d)
	}
}

// TestCollectorMatchesRunningExecutable gives the process collector a
// fixture /proc with one process whose executable's SHA-256 is in the
// bundle, and expects a finding under the executable's own path (it is read
// through /proc/PID/exe, which works even for a deleted binary).
func TestCollectorMatchesRunningExecutable(t *testing.T) {
	ctx := context.Background()
	bin := filepath.Join(t.TempDir(), "dropper")
	content := []byte("\x7fELF not really, but bad\n")
	if err := os.WriteFile(bin, content, 0o755); err != nil {
		t.Fatal(err)
	}
	proc := t.TempDir()
	pdir := filepath.Join(proc, "4242")
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(pdir, "status"), []byte("Name:\tdropper\nPPid:\t1\nUid:\t0\t0\t0\t0\n"), 0o644)
	os.WriteFile(filepath.Join(pdir, "cmdline"), []byte(bin+"\x00--quiet\x00"), 0o644)
	if err := os.Symlink(bin, filepath.Join(pdir, "exe")); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	b, err := compileBundle(newBundle(3, "dropper-hash", "", hex.EncodeToString(sum[:])))
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := &Agent{st: st, log: slog.New(slog.DiscardHandler), procRoot: proc, fsRoot: t.TempDir(), bundle: b}
	if err := (&collector{a: a, hasher: collect.NewHasher()}).pass(ctx); err != nil {
		t.Fatal(err)
	}
	qs, err := st.Pending(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, q := range qs {
		f := q.finding
		got = append(got, fmt.Sprintf("%s %s %s %s scanned_as=%v", f.Type, f.Source, f.Rule, f.Path, f.Detail["scanned_as"]))
	}
	want := []string{fmt.Sprintf("ioc collector dropper-hash %s scanned_as=%s", bin, filepath.Join(pdir, "exe"))}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("findings (-got +want):\n%s", d)
	}
}
