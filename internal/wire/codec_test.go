package wire

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func validMessages() []*Message {
	b := Bundle{Version: 3, Name: "r", YARA: "rule a { condition: true }", Hashes: []string{"d41d8cd98f00b204e9800998ecf8427e"}}
	b.SHA256 = BundleDigest(b.YARA, b.Hashes)
	inv := Inventory{Hostname: "h", OS: "linux", AgentVersion: "dev", Monitoring: MonitoringNormal, Isolation: IsolationNone}
	ts := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	return []*Message{
		{Type: TypeHello, Hello: &Hello{AgentID: "a1", Inventory: inv}},
		{Type: TypeHeartbeat, Heartbeat: &Heartbeat{}},
		{Type: TypeHeartbeat, Heartbeat: &Heartbeat{Inventory: &inv}},
		{Type: TypeFindings, Findings: &Findings{Seq: 7, Findings: []Finding{{ID: "f1", Type: "yara", Rule: "a", Path: "/x", SeenAt: ts, Meta: map[string]string{"severity": "90"}}}}},
		{Type: TypeSweepStatus, SweepStatus: &SweepStatus{SweepID: "s1", State: SweepDone, Files: 10, Findings: 1}},
		{Type: TypeIsolationStatus, IsolationStatus: &IsolationStatus{State: IsolationFailed, Error: "server unreachable"}},
		{Type: TypeBundleStatus, BundleStatus: &BundleStatus{Version: 3, Loaded: true}},
		{Type: TypeCommandAck, CommandAck: &CommandAck{ID: "c1"}},
		{Type: TypeWelcome, Welcome: &Welcome{AgentID: "a1", ServerTime: ts, HeartbeatSeconds: 15}},
		{Type: TypeAck, Ack: &Ack{Seq: 7}},
		{Type: TypeBundle, ID: "c2", Bundle: &b},
		{Type: TypeSweep, ID: "c3", Sweep: &Sweep{SweepID: "s1", Bundle: b, Paths: []string{"/tmp"}, ExpiresAt: ts}},
		{Type: TypeScan, ID: "c4", Scan: &Scan{}},
		{Type: TypeSetMonitoring, ID: "c5", SetMonitoring: &SetMonitoring{Level: MonitoringHeightened, ScanIntervalSeconds: 60}},
		{Type: TypeIsolate, ID: "c6", Isolate: &Isolate{ServerPort: 8443, AllowDNS: true}},
		{Type: TypeRelease, ID: "c7", Release: &Release{}},
		{Type: TypePing, ID: "c8", Ping: &Ping{SentAt: ts}},
		{Type: TypeCancelSweep, ID: "c9", CancelSweep: &CancelSweep{SweepID: "s1"}},
		{Type: TypeSweepStatus, SweepStatus: &SweepStatus{SweepID: "s1", State: SweepCancelled, Files: 4}},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, m := range validMessages() {
		t.Run(string(m.Type), func(t *testing.T) {
			b, err := Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, m); diff != "" {
				t.Errorf("round trip (-got +want):\n%s", diff)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"not json", `{`, "wire: decode"},
		{"no version", `{"type":"ping","id":"1","ping":{}}`, "field v"},
		{"no type", `{"v":1}`, "field type: missing"},
		{"missing payload", `{"v":1,"type":"hello"}`, "field hello: missing"},
		{"two payloads", `{"v":1,"type":"ack","ack":{},"ping":{}}`, "2 payloads"},
		{"command without id", `{"v":1,"type":"ping","ping":{}}`, "field id: missing"},
		{"bad level", `{"v":1,"type":"set_monitoring","id":"1","set_monitoring":{"level":"max"}}`, "set_monitoring.level"},
		{"bad port", `{"v":1,"type":"isolate","id":"1","isolate":{"server_port":0}}`, "isolate.server_port"},
		{"finding without id", `{"v":1,"type":"findings","findings":{"seq":1,"findings":[{"type":"ioc"}]}}`, "findings.findings[0].id"},
		{"bundle tampered", `{"v":1,"type":"bundle","id":"1","bundle":{"version":1,"yara":"x","sha256":"00"}}`, "does not match"},
		{"sweep state", `{"v":1,"type":"sweep_status","sweep_status":{"sweep_id":"s","state":"queued"}}`, "sweep_status.state"},
		{"cancel without sweep", `{"v":1,"type":"cancel_sweep","id":"1","cancel_sweep":{}}`, "cancel_sweep.sweep_id"},
		{"hello hostname", `{"v":1,"type":"hello","hello":{"agent_id":"a","inventory":{}}}`, "hello.inventory.hostname"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode(%s) error = %v, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestDecodeUnknownTypeAndFields(t *testing.T) {
	_, err := Decode([]byte(`{"v":2,"type":"telepathy","telepathy":{}}`))
	if !errors.Is(err, ErrUnknownType) {
		t.Errorf("unknown type: error = %v, want ErrUnknownType", err)
	}
	m, err := Decode([]byte(`{"v":2,"type":"ack","ack":{"seq":4,"later":true},"extra":1}`))
	if err != nil {
		t.Fatalf("newer peer's extra fields: %v", err)
	}
	if m.Ack.Seq != 4 {
		t.Errorf("seq = %d, want 4", m.Ack.Seq)
	}
}

func TestEncodeRejectsOversizedBatch(t *testing.T) {
	fs := make([]Finding, MaxFindingsPerBatch+1)
	for i := range fs {
		fs[i] = Finding{ID: "x", Type: "ioc"}
	}
	if _, err := Encode(&Message{Type: TypeFindings, Findings: &Findings{Findings: fs}}); err == nil {
		t.Error("Encode accepted an oversized batch")
	}
}

func TestBundleDigest(t *testing.T) {
	// The separator keeps a hash moved into the YARA text from colliding.
	if BundleDigest("a", []string{"b"}) == BundleDigest("ab", nil) {
		t.Error("digest ignores the YARA/hashes boundary")
	}
	if got, want := BundleDigest("", nil), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"; got != want {
		t.Errorf("BundleDigest(\"\", nil) = %s, want %s", got, want)
	}
}

func FuzzDecode(f *testing.F) {
	for _, m := range validMessages() {
		b, err := Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"v":1,"type":"findings","findings":{"findings":[{}]}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode and decode to the same message.
		out, err := Encode(m)
		if err != nil {
			t.Fatalf("decoded message does not re-encode: %v", err)
		}
		if _, err := Decode(out); err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
	})
}
