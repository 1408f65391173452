package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestIncidentAndUserCommands drives mamori user and mamori incident as a
// responder would, against a server over TLS.
func TestIncidentAndUserCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	url, _ := startServer(t, dir)
	tokens := map[string]string{}
	for _, u := range [][2]string{{"alice", "responder"}, {"vic", "viewer"}} {
		code, out, errs := runCmd("user", "add", "--data", dir, "--name", u[0], "--role", u[1])
		if code != 0 || !regexp.MustCompile(`^mamori_[A-Za-z0-9_-]{43}\n$`).MatchString(out) {
			t.Fatalf("user add %s: %d %q %s", u[0], code, out, errs)
		}
		tokens[u[0]] = filepath.Join(t.TempDir(), u[0]+".token")
		os.WriteFile(tokens[u[0]], []byte(out), 0o600)
	}
	if code, _, errs := runCmd("user", "add", "--data", dir, "--name", "alice", "--role", "viewer"); code != 1 || !strings.Contains(errs, "user alice: already exists") {
		t.Errorf("second alice: %d %s", code, errs)
	}
	if code, _, errs := runCmd("user", "add", "--data", dir, "--name", "bob", "--role", "root"); code != 2 || !strings.Contains(errs, `unknown role "root"`) {
		t.Errorf("unknown role: %d %s", code, errs)
	}
	api := func(user string, args ...string) (int, string, string) {
		return runCmd(append([]string{"incident", args[0], "--server", url, "--ca", filepath.Join(dir, "ca.pem"), "--token", "@" + tokens[user]}, args[1:]...)...)
	}
	code, out, errs := api("alice", "open", "--title", "Lost laptop", "--severity", "high", "--aware-at", "2026-11-29T09:00:00+09:00", "--reason", "reported by its owner")
	m := regexp.MustCompile(`^(i-[0-9a-f]{16})  Lost laptop\nstate     open \(next: contained, investigating, closed \(with a reason\)\)\nseverity  high\naware at  2026-11-29T00:00:00Z\n`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("open: %d\n%s%s", code, out, errs)
	}
	id := m[1]
	if code, out, _ := api("vic", "list"); code != 0 || !strings.Contains(out, id+"  open   high") {
		t.Errorf("list: %d\n%s", code, out)
	}
	for _, tc := range []struct {
		user  string
		args  []string
		code  int
		erred string
	}{
		{"alice", []string{"state", id, "notifying", "--reason", "x"}, 1, "409 Conflict: open → notifying is not allowed"},
		{"alice", []string{"state", id, "closed"}, 1, "409 Conflict: open → closed is not the normal course and needs a reason"},
		{"alice", []string{"state", id, "investigating"}, 1, "400 Bad Request: field reason: required"},
		{"vic", []string{"state", id, "investigating", "--reason", "x"}, 1, "403 Forbidden: vic has role viewer"},
		{"alice", []string{"state", id}, 2, "want 2 argument(s), got 1"},
		{"alice", []string{"show", "i-0000000000000000"}, 1, "404 Not Found"},
		{"alice", []string{"state", id, "investigating", "--reason", "nothing to contain: the laptop is gone"}, 0, ""},
	} {
		code, _, errs := api(tc.user, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.erred) {
			t.Errorf("%s %v: exit %d, stderr %q; want %d and %q", tc.user, tc.args, code, errs, tc.code, tc.erred)
		}
	}
	code, out, _ = api("vic", "show", id)
	if code != 0 || !strings.Contains(out, "state open → investigating  (nothing to contain: the laptop is gone)") {
		t.Errorf("show: %d\n%s", code, out)
	}
	// A disabled user's token stops working; a new token replaces the old.
	if code, _, errs := runCmd("user", "disable", "--data", dir, "--name", "vic", "--reason", "left the team"); code != 0 {
		t.Fatalf("disable: %s", errs)
	}
	if code, _, errs := api("vic", "list"); code != 1 || !strings.Contains(errs, "401") {
		t.Errorf("disabled user: %d %s", code, errs)
	}
	old := tokens["alice"]
	code, out, _ = runCmd("user", "token", "--data", dir, "--name", "alice")
	if code != 0 {
		t.Fatal("token")
	}
	tokens["alice"] = filepath.Join(t.TempDir(), "alice2.token")
	os.WriteFile(tokens["alice"], []byte(out), 0o600)
	if code, _, _ := api("alice", "list"); code != 0 {
		t.Errorf("new token: %d", code)
	}
	tokens["alice"] = old
	if code, _, errs := api("alice", "list"); code != 1 || !strings.Contains(errs, "401") {
		t.Errorf("revoked token: %d %s", code, errs)
	}
	// passwd reads one line of stdin when it is not a terminal.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("correct horse battery\n")
	w.Close()
	stdin := os.Stdin
	os.Stdin = r
	code, _, errs = runCmd("user", "passwd", "--data", dir, "--name", "alice")
	os.Stdin = stdin
	if code != 0 {
		t.Errorf("passwd: %d %s", code, errs)
	}
	code, out, _ = runCmd("user", "list", "--data", dir)
	if code != 0 || !regexp.MustCompile(`(?m)^vic\s+viewer\s+disabled\s`).MatchString(out) {
		t.Errorf("user list: %d\n%s", code, out)
	}
}
