package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
)

func TestAssessCommand(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			out, errOut, code := mamori(t, "assess", "--facts", "testdata/assess-facts.json", "--format", format)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, "assess-out."+format, out)
		})
	}
}

func TestAssessCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	writeFile(t, bad, `{"aware_at":"2026-03-02T10:00:00+09:00","cause":"malware","categories":["email"],"people":{"JP":1,"ZZ":2}}`)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"invalid facts name the field", []string{"--facts", bad}, "people.ZZ: not an ISO 3166-1 alpha-2 country code"},
		{"missing file", []string{"--facts", filepath.Join(dir, "none.json")}, "no such file"},
		{"no --facts", nil, "--facts FILE is required"},
		{"bad format", []string{"--facts", bad, "--format", "yaml"}, `--format "yaml"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := mamori(t, append([]string{"assess"}, c.args...)...)
			if code != 2 || out != "" || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and stderr containing %q", code, out, errOut, c.want)
			}
		})
	}
}

func TestAssessCommandDrafts(t *testing.T) {
	dir := t.TempDir()
	facts := filepath.Join(dir, "facts.json")
	drafts := filepath.Join(dir, "drafts")
	writeFile(t, facts, `{"aware_at":"2026-03-02T10:00:00+09:00","cause":"malware","categories":["person_name","email"],"people":{"JP":5}}`)
	register := filepath.Join(dir, "summary.json")
	writeFile(t, register, `{"people":5,"by_category":{"email":5,"person_name":5},"by_exposure":{"exfiltrated":5},"by_country":{"JP":5},"by_channel":{"email":5}}`)
	_, errOut, code := mamori(t, "assess", "--facts", facts, "--drafts", drafts, "--context", "../../internal/obligation/testdata/context.json", "--register", register)
	if code != 0 || !strings.Contains(errOut, "wrote 5 drafts") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, name := range []string{"ppc-report.md", "ppc-report.html", "ppc-report.json", "individual-notice-ja.json", "public-statement-en.md"} {
		if _, err := os.Stat(filepath.Join(drafts, name)); err != nil {
			t.Error(err)
		}
	}
	ppc, err := os.ReadFile(filepath.Join(drafts, "ppc-report.md"))
	if err != nil || !strings.Contains(string(ppc), "外部送信の痕跡あり: 5名") {
		t.Errorf("PPC report lacks the register's exposure counts (%v):\n%s", err, ppc)
	}
	writeFile(t, facts, `{"aware_at":"2026-03-02T10:00:00+09:00","cause":"malware","categories":["person_name","email"],"people":{"JP":6}}`)
	_, errOut, code = mamori(t, "assess", "--facts", facts, "--drafts", drafts, "--context", "../../internal/obligation/testdata/context.json")
	if code != 0 || !strings.Contains(errOut, "-- 本人の数: 5名") || !strings.Contains(errOut, "+- 本人の数: 6名") {
		t.Errorf("exit %d; stderr lacks the diff of the changed count:\n%s", code, errOut)
	}
}

// The server serves the same assessment per incident: a privacy user sets
// the facts with a reason, any reader gets the duties with a countdown.
func TestObligationsOnServer(t *testing.T) {
	_, ts, _, tokens := newTestServer(t)
	code, body := call(t, ts, tokens[httpapi.RoleResponder], "POST", "/api/v1/incidents",
		`{"title":"Emotet on pc-7","aware_at":"2026-03-02T10:00:00+09:00","reason":"EDR alert"}`)
	var in struct{ ID string }
	if code != 201 || json.Unmarshal(body, &in) != nil {
		t.Fatalf("open incident: %d %s", code, body)
	}
	facts := `{"facts":{"cause":"malware","categories":["person_name","credit_card"],"people":{"JP":12}},"reason":"first count"}`
	if code, body := call(t, ts, tokens[httpapi.RoleResponder], "PUT", "/api/v1/incidents/"+in.ID+"/obligations/facts", facts); code != 403 {
		t.Errorf("responder sets facts: %d %s, want 403", code, body)
	}
	if code, body := call(t, ts, tokens[httpapi.RolePrivacy], "PUT", "/api/v1/incidents/"+in.ID+"/obligations/facts", facts); code != 200 {
		t.Fatalf("privacy sets facts: %d %s", code, body)
	}
	code, body = call(t, ts, tokens[httpapi.RoleViewer], "GET", "/api/v1/incidents/"+in.ID+"/obligations", "")
	var v struct {
		Duties []struct {
			Law, Duty, Stage string
			Due              *string
			Remaining        *int64 `json:"remaining_seconds"`
		}
		FactsSource string `json:"facts_source"`
	}
	if code != 200 || json.Unmarshal(body, &v) != nil {
		t.Fatalf("obligations: %d %s", code, body)
	}
	if len(v.Duties) != 3 || v.Duties[0].Stage != "preliminary" || *v.Duties[0].Due != "2026-03-05T23:59:59+09:00" ||
		v.Duties[0].Remaining == nil || v.Duties[1].Stage != "final" || *v.Duties[1].Due != "2026-04-30T23:59:59+09:00" || v.FactsSource != "set" {
		t.Errorf("obligations: %s", body)
	}
}
