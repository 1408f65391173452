package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/scope/scopeapi/scopetest"
)

// TestScopeIncident: agents report personal data on two hosts of an
// incident; `mamori scope --incident` uploads the master data, prints the
// server's counts and writes the masked register and the summary.
func TestScopeIncident(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	url, _ := startServer(t, dir)
	ca := filepath.Join(dir, "ca.pem")
	caPEM, _ := os.ReadFile(ca)
	enrol, _ := os.ReadFile(filepath.Join(dir, "enroll.token"))
	tokens := map[string]string{}
	for _, u := range [][2]string{{"rita", "responder"}, {"pia", "privacy"}, {"vic", "viewer"}} {
		code, out, errs := runCmd("user", "add", "--data", dir, "--name", u[0], "--role", u[1])
		if code != 0 {
			t.Fatalf("user add: %s", errs)
		}
		tokens[u[0]] = filepath.Join(t.TempDir(), u[0]+".token")
		os.WriteFile(tokens[u[0]], []byte(out), 0o600)
	}
	web := scopetest.Enrol(t, url, caPEM, strings.TrimSpace(string(enrol)), "web1")
	db := scopetest.Enrol(t, url, caPEM, strings.TrimSpace(string(enrol)), "db1")
	web.SendResults(scopetest.Result("/srv/data/customers.csv", strings.Repeat("a", 64),
		scopetest.Subject("", 1, "person_name", "山田太郎", "email", "taro.yamada@example.jp", "phone", "+819012345678"),
		scopetest.Subject("", 2, "person_name", "佐藤花子", "email", "hanako@example.jp")))
	db.SendResults(scopetest.Result("/backup/export.zip", strings.Repeat("b", 64),
		scopetest.Subject("customers.csv", 1, "person_name", "山田太郎", "phone", "+819012345678")))

	api := func(user string, args ...string) (int, string, string) {
		return runCmd(append(args, "--server", url, "--ca", ca, "--token", "@"+tokens[user])...)
	}
	code, out, errs := api("rita", "incident", "open", "--title", "breach", "--host", web.ID, "--host", db.ID, "--reason", "test")
	id := regexp.MustCompile(`^i-[0-9a-f]{16}`).FindString(out)
	if code != 0 || id == "" {
		t.Fatalf("open: %d %s %s", code, out, errs)
	}
	master := filepath.Join(t.TempDir(), "crm.csv")
	os.WriteFile(master, []byte("氏名,メールアドレス\n山田太郎,taro.yamada@example.jp\n"), 0o600)
	outDir := filepath.Join(t.TempDir(), "out")
	code, out, errs = api("pia", "scope", "--incident", id, "--master", master, "--reason", "crm export", "--out", outDir)
	want := "uploaded " + master + ": 1 rows\n" +
		"2 people from 7 occurrences in 2 files (2 sources) on 2 hosts; 1 matched the master data, 0 without a contact channel, 0 proposals to review (0 name-only mentions)\n" +
		"  present      2\n" +
		"wrote " + filepath.Join(outDir, "people.csv") + " (masked)\n"
	if code != 0 || out != want {
		t.Fatalf("scope: %d\n%s\nwant\n%s\n%s", code, out, want, errs)
	}
	csv, _ := os.ReadFile(filepath.Join(outDir, "people.csv"))
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if len(lines) != 3 || lines[0] != strings.Join(scope.PeopleHeader, ",") || strings.Contains(string(csv), "taro.yamada@") || !strings.Contains(string(csv), "ta***@example.jp") {
		t.Errorf("people.csv:\n%s", csv)
	}
	var sum scope.Summary
	if b, err := os.ReadFile(filepath.Join(outDir, "summary.json")); err != nil || json.Unmarshal(b, &sum) != nil || sum.People != 2 || sum.MatchedMaster != 1 {
		t.Errorf("summary.json: %+v %v", sum, err)
	}
	// A viewer reads the counts but not the people; only privacy uploads.
	if code, out, errs := api("vic", "scope", "--incident", id); code != 0 || !strings.HasPrefix(out, "2 people") {
		t.Errorf("viewer summary: %d %s %s", code, out, errs)
	}
	if code, _, errs := api("vic", "scope", "--incident", id, "--out", outDir); code != 1 || !strings.Contains(errs, "403") {
		t.Errorf("viewer export: %d %s", code, errs)
	}
	if code, _, errs := api("rita", "scope", "--incident", id, "--master", master, "--reason", "x"); code != 1 || !strings.Contains(errs, "403") {
		t.Errorf("responder upload: %d %s", code, errs)
	}
	if code, _, errs := api("pia", "scope", "--incident", id, "--pii-results", "x.ndjson"); code != 2 || !strings.Contains(errs, "--pii-results is for saved results") {
		t.Errorf("mixed modes: %d %s", code, errs)
	}
}
