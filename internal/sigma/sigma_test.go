package sigma

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mamori-dev/mamori/internal/logevent"
)

func ruleYAML(detection string) string {
	return "title: t\nid: 11111111-2222-3333-4444-555555555555\nlevel: high\nlogsource:\n  product: windows\n  service: security\ndetection:\n" + detection
}

func secEvent(fields map[string]any) *logevent.Event {
	return &logevent.Event{Product: "windows", Channel: "Security", Provider: "Microsoft-Windows-Security-Auditing", EventID: 4624, Fields: fields}
}

func compileOne(t *testing.T, src string) *Ruleset {
	t.Helper()
	rs := New(Options{Placeholders: map[string][]string{"Admins": {"alice", "bob"}}})
	rs.AddFile("t.yml", []byte(src))
	if len(rs.Refused) > 0 {
		t.Fatalf("refused: %v", rs.Refused)
	}
	return rs
}

func TestDetection(t *testing.T) {
	tests := []struct {
		name      string
		detection string
		fields    map[string]any
		want      bool
	}{
		{"exact case-insensitive", "  sel:\n    User: ADMIN\n  condition: sel", map[string]any{"User": "admin"}, true},
		{"exact differs", "  sel:\n    User: admin\n  condition: sel", map[string]any{"User": "admin2"}, false},
		{"number", "  sel:\n    LogonType: 3\n  condition: sel", map[string]any{"LogonType": int64(3)}, true},
		{"list is or", "  sel:\n    User: [a, b]\n  condition: sel", map[string]any{"User": "b"}, true},
		{"non-ascii contains on ascii", "  sel:\n    CommandLine|contains: ['😀', 'é']\n  condition: sel", map[string]any{"CommandLine": "echo hi"}, false},
		{"non-ascii contains found", "  sel:\n    CommandLine|contains: ['😀', 'É']\n  condition: sel", map[string]any{"CommandLine": "café"}, true},
		{"non-ascii among ascii", "  sel:\n    CommandLine|contains: ['😀', 'echo']\n  condition: sel", map[string]any{"CommandLine": "echo hi"}, true},
		{"all with non-ascii on ascii", "  sel:\n    CommandLine|contains|all: ['echo', 'é']\n  condition: sel", map[string]any{"CommandLine": "echo hi"}, false},
		{"all with non-ascii found", "  sel:\n    CommandLine|contains|all: ['echo', 'é']\n  condition: sel", map[string]any{"CommandLine": "echo hé"}, true},
		{"folds to ascii", "  sel:\n    User: 'K'\n  condition: sel", map[string]any{"User": "k"}, true},
		{"map is and", "  sel:\n    User: a\n    Host: h\n  condition: sel", map[string]any{"User": "a", "Host": "x"}, false},
		{"list of maps is or", "  sel:\n    - User: a\n    - Host: h\n  condition: sel", map[string]any{"User": "z", "Host": "h"}, true},
		{"contains", "  sel:\n    Cmd|contains: ' -enc '\n  condition: sel", map[string]any{"Cmd": "powershell -ENC abc"}, true},
		{"startswith", "  sel:\n    Cmd|startswith: 'c:\\windows\\'\n  condition: sel", map[string]any{"Cmd": `C:\Windows\x.exe`}, true},
		{"endswith", "  sel:\n    Img|endswith: '\\cmd.exe'\n  condition: sel", map[string]any{"Img": `C:\x\CMD.EXE`}, true},
		{"wildcard inside", "  sel:\n    Img: 'c:\\\\*\\\\cmd.?xe'\n  condition: sel", map[string]any{"Img": `C:\a\b\cmd.exe`}, true},
		{"backslash-star is a literal star", "  sel:\n    Img: 'c:\\*x'\n  condition: sel", map[string]any{"Img": `c:*x`}, true},
		{"escaped star is literal", "  sel:\n    Img: 'a\\*b'\n  condition: sel", map[string]any{"Img": "axb"}, false},
		{"escaped star matches star", "  sel:\n    Img: 'a\\*b'\n  condition: sel", map[string]any{"Img": "a*b"}, true},
		{"contains all", "  sel:\n    Cmd|contains|all: [a, b]\n  condition: sel", map[string]any{"Cmd": "xax"}, false},
		{"contains all hit", "  sel:\n    Cmd|contains|all: [a, b]\n  condition: sel", map[string]any{"Cmd": "xaxb"}, true},
		{"re is cased", "  sel:\n    Cmd|re: '^Foo'\n  condition: sel", map[string]any{"Cmd": "foo"}, false},
		{"re i", "  sel:\n    Cmd|re|i: '^Foo'\n  condition: sel", map[string]any{"Cmd": "foo"}, true},
		{"re s", "  sel:\n    Cmd|re|s: 'a.b'\n  condition: sel", map[string]any{"Cmd": "a\nb"}, true},
		{"re m", "  sel:\n    Cmd|re|m: '^b$'\n  condition: sel", map[string]any{"Cmd": "a\nb"}, true},
		{"cased", "  sel:\n    Cmd|cased: Foo\n  condition: sel", map[string]any{"Cmd": "foo"}, false},
		{"base64", "  sel:\n    Cmd|base64: 'abc'\n  condition: sel", map[string]any{"Cmd": "YWJj"}, true},
		{"base64 is cased", "  sel:\n    Cmd|base64: 'abc'\n  condition: sel", map[string]any{"Cmd": "ywjj"}, false},
		{"base64offset contains", "  sel:\n    Cmd|base64offset|contains: 'http'\n  condition: sel", map[string]any{"Cmd": "x " + "eGh0dHA6Ly8="}, true},
		{"base64offset offset 1", "  sel:\n    Cmd|base64offset|contains: 'http'\n  condition: sel", map[string]any{"Cmd": "aHR0cA=="}, true},
		{"wide base64offset", "  sel:\n    Cmd|wide|base64offset|contains: 'ping'\n  condition: sel", map[string]any{"Cmd": "cABpAG4AZwA="}, true},
		{"utf16be", "  sel:\n    Cmd|utf16be|base64: 'A'\n  condition: sel", map[string]any{"Cmd": "AEE="}, true},
		{"windash", "  sel:\n    Cmd|windash|contains: ' -exec '\n  condition: sel", map[string]any{"Cmd": "x /exec y"}, true},
		{"windash en dash", "  sel:\n    Cmd|windash|contains: ' -exec '\n  condition: sel", map[string]any{"Cmd": "x \u2013exec y"}, true},
		{"cidr", "  sel:\n    Ip|cidr: 10.0.0.0/8\n  condition: sel", map[string]any{"Ip": "10.2.3.4"}, true},
		{"cidr v6", "  sel:\n    Ip|cidr: 'fe80::/10'\n  condition: sel", map[string]any{"Ip": "fe80::1"}, true},
		{"cidr outside", "  sel:\n    Ip|cidr: 10.0.0.0/8\n  condition: sel", map[string]any{"Ip": "11.2.3.4"}, false},
		{"gt", "  sel:\n    N|gt: 5\n  condition: sel", map[string]any{"N": int64(6)}, true},
		{"lte", "  sel:\n    N|lte: 5\n  condition: sel", map[string]any{"N": "6"}, false},
		{"exists", "  sel:\n    N|exists: true\n  condition: sel", map[string]any{"N": ""}, true},
		{"exists false", "  sel:\n    N|exists: false\n  condition: sel", map[string]any{"M": 1}, true},
		{"fieldref", "  sel:\n    A|fieldref: B\n  condition: sel", map[string]any{"A": "X", "B": "x"}, true},
		{"fieldref differs", "  sel:\n    A|fieldref: B\n  condition: sel", map[string]any{"A": "X", "B": "y"}, false},
		{"fieldref startswith", "  sel:\n    A|fieldref|startswith: B\n  condition: sel", map[string]any{"A": "xyz", "B": "xy"}, true},
		{"expand", "  sel:\n    U|expand: '%Admins%'\n  condition: sel", map[string]any{"U": "bob"}, true},
		{"expand unknown matches nothing", "  sel:\n    U|expand: '%Nobody%'\n  condition: sel", map[string]any{"U": "%Nobody%"}, false},
		{"null absent", "  sel:\n    U: null\n  condition: sel", map[string]any{}, true},
		{"null empty", "  sel:\n    U: null\n  condition: sel", map[string]any{"U": ""}, true},
		{"null present", "  sel:\n    U: null\n  condition: sel", map[string]any{"U": "x"}, false},
		{"empty string", "  sel:\n    U: ''\n  condition: sel", map[string]any{"U": ""}, true},
		{"keywords", "  kw:\n    - 'mimikatz'\n  condition: kw", map[string]any{"A": "run Mimikatz.exe"}, true},
		{"keywords all", "  kw:\n    '|all':\n      - 'a'\n      - 'q'\n  condition: kw", map[string]any{"A": "a", "B": "b"}, false},
		{"list value", "  sel:\n    U: b\n  condition: sel", map[string]any{"U": []any{"a", "b"}}, true},
		{"not", "  sel:\n    U: a\n  condition: not sel", map[string]any{"U": "b"}, true},
		{"and not", "  sel:\n    U: a\n  f:\n    H: x\n  condition: sel and not f", map[string]any{"U": "a", "H": "x"}, false},
		{"precedence", "  a:\n    U: 1\n  b:\n    U: 2\n  c:\n    H: 3\n  condition: a or b and c", map[string]any{"U": "1"}, true},
		{"parens", "  a:\n    U: 1\n  b:\n    U: 2\n  c:\n    H: 3\n  condition: (a or b) and c", map[string]any{"U": "1"}, false},
		{"1 of pattern", "  sel_a:\n    U: 1\n  sel_b:\n    U: 2\n  condition: 1 of sel_*", map[string]any{"U": "2"}, true},
		{"all of pattern", "  sel_a:\n    U: 1\n  sel_b:\n    H: 2\n  condition: all of sel_*", map[string]any{"U": "1"}, false},
		{"all of them", "  a:\n    U: 1\n  b:\n    H: 2\n  condition: all of them", map[string]any{"U": "1", "H": "2"}, true},
		{"them skips underscore", "  a:\n    U: 1\n  _b:\n    H: 2\n  condition: all of them", map[string]any{"U": "1"}, true},
		{"condition list", "  a:\n    U: 1\n  b:\n    H: 2\n  condition:\n    - a\n    - b", map[string]any{"H": "2"}, true},
		{"header EventID", "  sel:\n    EventID: 4624\n  condition: sel", map[string]any{}, true},
		{"unicode fold", "  sel:\n    U|contains: 'ÄRGER'\n  condition: sel", map[string]any{"U": "großer ärger"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := compileOne(t, ruleYAML(tt.detection))
			got := len(rs.NewMatcher().Match(secEvent(tt.fields))) == 1
			if got != tt.want {
				t.Errorf("match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRefused(t *testing.T) {
	tests := []struct {
		name, src, reason string
	}{
		{"unknown modifier", ruleYAML("  sel:\n    A|nope: x\n  condition: sel"), `unknown modifier "nope"`},
		{"unknown identifier", ruleYAML("  sel:\n    A: x\n  condition: sel and other"), `unknown search identifier "other"`},
		{"aggregation", ruleYAML("  sel:\n    A: x\n  condition: sel | count() > 5"), "correlation rule"},
		{"re2", ruleYAML("  sel:\n    A|re: '(?!x)'\n  condition: sel"), "regular expression"},
		{"no condition", ruleYAML("  sel:\n    A: x"), "no condition"},
		{"unreadable", "title: t\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  sel:\n    a: b\n  condition: sel", ErrUnreadableSource.Error()},
		{"bad level", "title: t\nlevel: severe\nlogsource:\n  product: windows\ndetection:\n  sel:\n    a: b\n  condition: sel", "unknown level"},
		{"unknown windows service", "title: t\nlogsource:\n  product: windows\n  service: nope\ndetection:\n  sel:\n    a: b\n  condition: sel", "no channel mapping"},
		{"bad yaml", "title: [", "YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := New(Options{})
			rs.AddFile("r.yml", []byte(tt.src))
			if len(rs.Rules) != 0 || len(rs.Refused) != 1 {
				t.Fatalf("rules %d refused %v", len(rs.Rules), rs.Refused)
			}
			if r := rs.Refused[0]; r.File != "r.yml" || !strings.Contains(r.Reason, tt.reason) {
				t.Errorf("refusal %q, want a reason containing %q", r, tt.reason)
			}
		})
	}
}

// TestLogsourceIsolation: a rule for Security event 4624 does not see an
// Application event with the same id (Chainsaw #122), and a Sysmon
// category rule sees only its event ids.
func TestLogsourceIsolation(t *testing.T) {
	rs := New(Options{})
	rs.AddFile("a.yml", []byte(ruleYAML("  sel:\n    EventID: 4624\n  condition: sel")))
	rs.AddFile("b.yml", []byte("title: b\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    Image|endswith: '\\x.exe'\n  condition: sel"))
	rs.AddFile("c.yml", []byte("title: c\nlogsource:\n  product: linux\n  service: sshd\ndetection:\n  sel:\n    event: ssh_failed\n  condition: sel"))
	m := rs.NewMatcher()
	titles := func(e *logevent.Event) []string {
		var out []string
		for _, h := range m.Match(e) {
			out = append(out, h.Rule.Title)
		}
		return out
	}
	tests := []struct {
		name string
		ev   *logevent.Event
		want []string
	}{
		{"security", secEvent(nil), []string{"t"}},
		{"application", &logevent.Event{Channel: "Application", EventID: 4624}, nil},
		{"sysmon 1", &logevent.Event{Channel: sysmonChannel, Provider: sysmonProvider, EventID: 1, Fields: map[string]any{"Image": `C:\x.exe`}}, []string{"b"}},
		{"sysmon 11", &logevent.Event{Channel: sysmonChannel, EventID: 11, Fields: map[string]any{"Image": `C:\x.exe`}}, nil},
		{"security 4688 aliases", &logevent.Event{Channel: "Security", EventID: 4688, Fields: map[string]any{"NewProcessName": `C:\x.exe`}}, []string{"b"}},
		{"sshd", &logevent.Event{Product: "linux", Service: "auth", Fields: map[string]any{"program": "sshd", "event": "ssh_failed"}}, []string{"c"}},
		{"not sshd", &logevent.Event{Product: "linux", Service: "auth", Fields: map[string]any{"program": "sudo", "event": "ssh_failed"}}, nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(titles(tt.ev), tt.want); diff != "" {
			t.Errorf("%s: (-got +want)\n%s", tt.name, diff)
		}
	}
}

func TestMatchedFields(t *testing.T) {
	rs := compileOne(t, ruleYAML("  sel:\n    User: admin\n    Cmd|contains: enc\n  other:\n    X: 1\n  condition: sel or other"))
	hits := rs.NewMatcher().Match(secEvent(map[string]any{"User": "Admin", "Cmd": "a -enc b"}))
	if len(hits) != 1 {
		t.Fatalf("hits %d", len(hits))
	}
	want := []FieldMatch{{"User", "Admin"}, {"Cmd", "a -enc b"}}
	if diff := cmp.Diff(hits[0].Matched, want); diff != "" {
		t.Errorf("(-got +want)\n%s", diff)
	}
}

const correlationRules = `title: failed
name: failed
id: 00000000-0000-0000-0000-000000000001
logsource:
  product: linux
  service: auth
detection:
  sel:
    event: ssh_failed
  condition: sel
---
title: ok
name: ok
id: 00000000-0000-0000-0000-000000000002
logsource:
  product: linux
  service: auth
detection:
  sel:
    event: ssh_accepted
  condition: sel
---
title: brute
name: brute
level: medium
correlation:
  type: event_count
  rules: [failed]
  group-by: [source_ip]
  timespan: 5m
  condition:
    gte: 3
---
title: users
correlation:
  type: value_count
  rules: [failed]
  group-by: [source_ip]
  timespan: 5m
  condition:
    field: user
    gte: 2
---
title: brute then ok
level: high
correlation:
  type: temporal_ordered
  rules: [brute, ok]
  group-by: [source_ip]
  timespan: 10m
---
title: both
correlation:
  type: temporal
  rules: [failed, ok]
  group-by: [source_ip]
  timespan: 1m
`

func TestCorrelation(t *testing.T) {
	rs := New(Options{})
	rs.AddFile("c.yml", []byte(correlationRules))
	if len(rs.Refused) > 0 {
		t.Fatal(rs.Refused)
	}
	m, c := rs.NewMatcher(), rs.NewCorrelator()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	add := func(sec int, ev, ip, user string) {
		e := &logevent.Event{Time: base.Add(time.Duration(sec) * time.Second), Product: "linux", Service: "auth",
			Fields: map[string]any{"event": ev, "source_ip": ip, "user": user}}
		for _, h := range m.Match(e) {
			if !h.Rule.Suppressed() {
				t.Errorf("rule %s referenced without generate is not suppressed", h.Rule.Title)
			}
			c.Observe(e, h.Rule)
		}
	}
	// Deliberately out of order: the correlator sorts.
	add(400, "ssh_accepted", "10.0.0.1", "root")
	add(0, "ssh_failed", "10.0.0.1", "root")
	add(10, "ssh_failed", "10.0.0.1", "admin")
	add(20, "ssh_failed", "10.0.0.1", "root")
	add(30, "ssh_failed", "10.0.0.2", "root")
	add(31, "ssh_accepted", "10.0.0.2", "root")
	type got struct {
		Title string
		Group string
		Count int64
		At    int
	}
	var gots []got
	for _, h := range c.Results() {
		gots = append(gots, got{h.Rule.Title, h.Group[0].Value, h.Count, int(h.Time.Sub(base).Seconds())})
	}
	want := []got{
		{"users", "10.0.0.1", 2, 10},
		{"brute", "10.0.0.1", 3, 20},
		{"both", "10.0.0.2", 2, 31},
		{"brute then ok", "10.0.0.1", 2, 400},
	}
	if diff := cmp.Diff(gots, want); diff != "" {
		t.Errorf("(-got +want)\n%s", diff)
	}
}
