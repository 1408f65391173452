package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/server"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
)

func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestAuditVerifyCatchesTampering: a log changed or cut in the SQLite file
// fails verification naming the entry; the untouched log, its export and
// the restored log verify.
func TestAuditVerifyCatchesTampering(t *testing.T) {
	srv, ts, dir, tokens := newTestServer(t)
	alice := tokens[httpapi.RoleResponder]
	code, b := call(t, ts, alice, "POST", "/api/v1/incidents", `{"title":"Ransomware on fs01","severity":"critical","reason":"ransom note"}`)
	if code != 201 {
		t.Fatalf("open: %d %s", code, b)
	}
	id := regexp.MustCompile(`"id": "(i-[0-9a-f]+)"`).FindSubmatch(b)[1]
	for _, st := range []string{"contained", "investigating"} {
		if code, b := call(t, ts, alice, "POST", "/api/v1/incidents/"+string(id)+"/state", `{"state":"`+st+`","reason":"next"}`); code != 200 {
			t.Fatalf("state %s: %d %s", st, code, b)
		}
	}
	if code, _ := call(t, ts, alice, "POST", "/api/v1/incidents/"+string(id)+"/state", `{"state":"notifying","reason":"skip"}`); code != 409 {
		t.Fatalf("open → notifying: %d", code)
	}
	// Closing signs the last checkpoint.
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	// 5 users, open, 2 state changes, 1 refusal: 9 entries.
	code, out, errs := runCmd("audit", "verify", "--data", dir)
	if code != 0 || !regexp.MustCompile(`^ok: 9 entries, root [A-Za-z0-9+/]{43}=\n1 signed checkpoint by mamori-audit\S*, the latest at 9 entries`).MatchString(out) {
		t.Fatalf("clean log: exit %d\n%s%s", code, out, errs)
	}
	export := filepath.Join(t.TempDir(), "audit.jsonl")
	if code, _, errs := runCmd("audit", "export", "--data", dir, "--format", "jsonl", "-o", export); code != 0 {
		t.Fatalf("export: %d %s", code, errs)
	}
	if code, out, errs := runCmd("audit", "verify", "--export", export, "--key", filepath.Join(dir, "audit.pub")); code != 0 || !strings.HasPrefix(out, "ok: 9 entries") {
		t.Fatalf("export verify: %d %s%s", code, out, errs)
	}

	db, err := sql.Open("sqlite", filepath.Join(dir, "mamori.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var id6, reason6 string
	if err := db.QueryRow(`SELECT id, reason FROM audit_log WHERE idx = 6`).Scan(&id6, &reason6); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, tamper, restore string
		want                  string
	}{
		{"changed reason", `UPDATE audit_log SET reason = 'routine check' WHERE idx = 6`, `UPDATE audit_log SET reason = ? WHERE idx = 6`,
			regexp.QuoteMeta(`FAILED: entry 6 (id ` + id6 + `): changed`)},
		{"deleted entry", `DELETE FROM audit_log WHERE idx = 6`, "",
			`FAILED: entry 6: missing: entry 5 \(id a-[0-9a-f]{16}\) is followed by entry 7`},
	} {
		exec(tc.tamper)
		code, out, errs := runCmd("audit", "verify", "--data", dir)
		if code != 1 || out != "" || !regexp.MustCompile(tc.want).MatchString(errs) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 1 and %q", tc.name, code, out, errs, tc.want)
		}
		if tc.restore != "" {
			exec(tc.restore, reason6)
			if code, out, errs := runCmd("audit", "verify", "--data", dir); code != 0 {
				t.Errorf("%s restored: exit %d %s%s", tc.name, code, out, errs)
			}
		}
	}
	// The export made before the deletion still verifies.
	if code, _, _ := runCmd("audit", "verify", "--export", export, "--key", filepath.Join(dir, "audit.pub")); code != 0 {
		t.Errorf("earlier export no longer verifies: %d", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "audit.key")); err != nil {
		t.Error(err)
	}
}

// TestCheckpointsWhileEntriesArrive: the server signs checkpoints on its
// own as entries arrive (every CheckpointEvery), not only when asked.
func TestCheckpointsWhileEntriesArrive(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	srv, err := server.New(context.Background(), server.Config{DataDir: dir, Listen: "127.0.0.1:0",
		Capabilities: capabilities, CheckpointEvery: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	var checkpoints []struct{ Size int64 }
	for i := 1; i <= 3; i++ {
		if code, b := call(t, ts, srv.AdminToken(), "POST", "/api/v1/incidents", `{"title":"t","reason":"r"}`); code != 201 {
			t.Fatalf("open: %d %s", code, b)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, b := call(t, ts, srv.AdminToken(), "GET", "/api/v1/audit/checkpoints", "")
			if err := json.Unmarshal(b, &checkpoints); err != nil {
				t.Fatal(err)
			}
			if len(checkpoints) > 0 && checkpoints[len(checkpoints)-1].Size == int64(i) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no checkpoint of size %d: %+v", i, checkpoints)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if len(checkpoints) != 3 {
		t.Errorf("%d checkpoints for 3 entries, want one per size: %+v", len(checkpoints), checkpoints)
	}
}
