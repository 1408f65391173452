package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/testutil"
	"github.com/mamori-dev/mamori/internal/wire"
)

// endlessRule never finishes a file on its own: only the per-file timeout
// (a minute) or a cancellation ends it, so a sweep with it over a few files
// runs for minutes unless cancelled.
const endlessRule = `rule endless { condition: for all i in (0..9223372036854775807) : (i >= 0) }`

// localSweepState is the sweep's state in the agent's own store.
func localSweepState(t *testing.T, ta *testAgent, id string) string {
	t.Helper()
	rows, err := ta.a.st.Sweeps(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.status.SweepID == id {
			return r.status.State
		}
	}
	return ""
}

type sweepHostView struct {
	HostID string `json:"host_id"`
	State  string `json:"state"`
	Files  int64  `json:"files"`
}

type sweepView struct {
	State string          `json:"state"`
	Hosts []sweepHostView `json:"hosts"`
}

// TestCancelSweepReachesAgents: cancelling a sweep over the API ends the
// scan on a connected agent, which reports it cancelled; an agent that was
// away holding the sweep learns of the cancellation when it reconnects and
// does not finish it.
func TestCancelSweepReachesAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end fleet test")
	}
	root := t.TempDir()
	f := startServer(t, filepath.Join(root, "server"), testutil.ListenerFile(t))
	slow := filepath.Join(root, "slow")
	if err := os.MkdirAll(slow, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		plant(t, filepath.Join(slow, fmt.Sprintf("f%d", i)), "content\n")
	}
	agentDir := filepath.Join(root, "agent")
	ta := startAgent(t, f, "busy", agentDir, t.TempDir())
	testutil.Eventually(t, "agent online", func() bool { return f.hosts()["busy"].Online })
	host := ta.a.ID()

	launch := func() string {
		var sw struct {
			ID string `json:"id"`
		}
		f.call("POST", "/sweeps", map[string]any{"name": "slow", "yara": endlessRule, "paths": []string{slow}, "hosts": []string{host}, "reason": "cancel test"}, &sw)
		testutil.Eventually(t, "sweep running on the agent", func() bool { return localSweepState(t, ta, sw.ID) == wire.SweepRunning })
		return sw.ID
	}
	get := func(id string) sweepView {
		var v sweepView
		f.call("GET", "/sweeps/"+id, nil, &v)
		return v
	}

	// Connected: the running scan ends and the agent says so.
	id := launch()
	cancelled := time.Now()
	var v sweepView
	f.call("DELETE", "/sweeps/"+id, map[string]string{"reason": "wrong rule"}, &v)
	if v.State != "cancelled" || len(v.Hosts) != 1 || v.Hosts[0].State != wire.SweepCancelled {
		t.Fatalf("DELETE answered %+v, want the sweep and its host cancelled", v)
	}
	testutil.Eventually(t, "agent reports the sweep cancelled", func() bool { return localSweepState(t, ta, id) == wire.SweepCancelled })
	t.Logf("agent stopped the sweep's scan %v after the DELETE", time.Since(cancelled).Round(time.Millisecond))
	// The scan would take minutes; the agent stopped it, and its final
	// report (cancelled, with the files it had finished) reached the
	// server.
	if d := time.Since(cancelled); d > 30*time.Second {
		t.Errorf("the agent took %v to stop the sweep", d)
	}
	testutil.Eventually(t, "server shows the agent's cancelled report", func() bool {
		h := get(id).Hosts[0]
		return h.State == wire.SweepCancelled && h.Files < 5
	})

	// Away: the agent stops while the sweep runs, the sweep is cancelled
	// meanwhile, and the agent comes back.
	id = launch()
	ta.stop()
	testutil.Eventually(t, "agent offline", func() bool { return !f.hosts()["busy"].Online })
	f.call("DELETE", "/sweeps/"+id, map[string]string{"reason": "wrong rule"}, nil)
	logs := &logRecords{}
	ta = startAgentLogged(t, f, "busy", agentDir, t.TempDir(), nil, slog.New(logs))
	testutil.Eventually(t, "agent back", func() bool { return f.hosts()["busy"].Online })
	testutil.Eventually(t, "returning agent learns the sweep is cancelled", func() bool { return localSweepState(t, ta, id) == wire.SweepCancelled })
	if v := get(id); v.State != "cancelled" || v.Hosts[0].State != wire.SweepCancelled {
		t.Errorf("after reconnect: %+v, want the sweep and its host cancelled", v)
	}
	if n := len(logs.named("sweep started")); n != 0 {
		t.Errorf("the returning agent started the cancelled sweep %d times, want 0", n)
	}
}

// logRecords is a log handler keeping every record.
type logRecords struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecords) WithGroup(string) slog.Handler            { return l }
func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r.Clone())
	return nil
}

// named returns the records with message msg.
func (l *logRecords) named(msg string) []slog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []slog.Record
	for _, r := range l.recs {
		if r.Message == msg {
			out = append(out, r)
		}
	}
	return out
}

// TestScanLogHasNoNilError: a scan that went well logs no err attribute
// (err=<nil> reads like a failure to whoever greps for err=).
func TestScanLogHasNoNilError(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end fleet test")
	}
	f := startServer(t, t.TempDir(), testutil.ListenerFile(t))
	logs := &logRecords{}
	startAgentLogged(t, f, "quiet", t.TempDir(), t.TempDir(), nil, slog.New(logs))
	testutil.Eventually(t, "agent online", func() bool { return f.hosts()["quiet"].Online })
	f.call("POST", "/rules", map[string]any{"name": "r", "yara": `rule r { strings: $a = "zz" condition: $a }`, "hashes": []string{}}, nil)
	testutil.Eventually(t, "the new bundle's scan", func() bool { return len(logs.named("scan finished")) > 0 })
	for _, r := range logs.named("scan finished") {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "err" {
				t.Errorf("scan finished with err=%v", a.Value)
			}
			return true
		})
	}
}
