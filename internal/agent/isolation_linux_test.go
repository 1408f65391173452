package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mamori-dev/mamori/internal/contain"
	"github.com/mamori-dev/mamori/internal/contain/nstest"
	"github.com/mamori-dev/mamori/internal/testutil"
	"github.com/mamori-dev/mamori/internal/wire"
)

// TestIsolationPersists drives isolation through the API with real nftables
// rules, in a throwaway network namespace standing in for the host (the
// agent itself runs in the test's namespace, so its server probe passes;
// the containment e2e test in internal/contain/nstest covers the traffic
// itself). The state must survive an agent restart and a wipe of the rules
// (a reboot), and release must remove them.
func TestIsolationPersists(t *testing.T) {
	nstest.Require(t)
	host := nstest.New(t)
	root := t.TempDir()
	f := startServer(t, filepath.Join(root, "server"), testutil.ListenerFile(t))
	scan := filepath.Join(root, "scan")
	if err := os.MkdirAll(scan, 0o755); err != nil {
		t.Fatal(err)
	}
	agentDir := filepath.Join(root, "agent")
	iso := contain.NewNFTables(contain.WithNetNS(host.FD()))
	ctx := context.Background()
	active := func() bool {
		t.Helper()
		on, err := iso.Active(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return on
	}

	a := startAgentWith(t, f, "isolated", agentDir, scan, iso)
	testutil.Eventually(t, "agent online", func() bool { return f.hosts()["isolated"].Online })
	f.call("POST", "/hosts/"+a.a.ID()+"/isolate", map[string]string{"reason": "e2e"}, nil)
	testutil.Eventually(t, "host isolated", func() bool { return f.hosts()["isolated"].Isolation == wire.IsolationIsolated })
	if !active() {
		t.Fatal("host reported isolated but mamori's table is not in force")
	}

	// Agent stops, and the rules vanish as in a reboot; the restarted
	// agent puts them back before it connects.
	a.stop()
	if err := iso.Release(ctx); err != nil {
		t.Fatal(err)
	}
	a = startAgentWith(t, f, "isolated", agentDir, scan, iso)
	testutil.Eventually(t, "isolation re-applied", active)
	testutil.Eventually(t, "host online and still isolated", func() bool {
		h := f.hosts()["isolated"]
		return h.Online && h.Isolation == wire.IsolationIsolated
	})

	// Someone flushes mamori's table while the agent runs: the agent puts
	// it back within a heartbeat instead of leaving the host open while the
	// server shows it isolated.
	if err := iso.Release(ctx); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "isolation restored after tampering", active)

	f.call("POST", "/hosts/"+a.a.ID()+"/release", map[string]string{"reason": "cleaned"}, nil)
	testutil.Eventually(t, "host released", func() bool { return f.hosts()["isolated"].Isolation == wire.IsolationNone })
	if active() {
		t.Error("released host still has mamori's table")
	}
	// Released state is kept too: a restart does not isolate again.
	a.stop()
	startAgentWith(t, f, "isolated", agentDir, scan, iso)
	testutil.Eventually(t, "agent back online", func() bool { return f.hosts()["isolated"].Online })
	if active() {
		t.Error("restart after release isolated the host again")
	}
}
