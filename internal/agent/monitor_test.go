package agent

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

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
