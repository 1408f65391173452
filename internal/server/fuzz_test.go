package server

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/wire"
)

// FuzzAgentMessage feeds arbitrary bytes to what the server does with a
// message from an agent before touching the store: decode, then the
// checks of findings, sweep reports and inventory. None may panic, and a
// finding that passes has its fields within bounds.
func FuzzAgentMessage(f *testing.F) {
	now := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	for _, m := range []*wire.Message{
		{Type: wire.TypeFindings, Findings: &wire.Findings{Seq: 1, Findings: []wire.Finding{{ID: "f1", Type: "yara", Rule: "r", Size: 3, SeenAt: now, Meta: map[string]string{"score": "80"}}}}},
		{Type: wire.TypeSweepStatus, SweepStatus: &wire.SweepStatus{SweepID: "s-1", State: wire.SweepDone, Files: 3}},
		{Type: wire.TypeHeartbeat, Heartbeat: &wire.Heartbeat{Inventory: &wire.Inventory{Hostname: "h", OS: "linux", IPs: []string{"10.0.0.1", "x"}, Monitoring: "normal", Isolation: "none"}}},
	} {
		b, err := wire.Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"v":1,"type":"findings","findings":{"seq":1,"findings":[{"id":"a","type":"t","size":-1,"seen_at":"0001-01-01T00:00:00Z"}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := wire.Decode(b)
		if err != nil {
			return
		}
		switch m.Type {
		case wire.TypeFindings:
			for i := range m.Findings.Findings {
				x := &m.Findings.Findings[i]
				if checkFinding(x, now) != nil {
					continue
				}
				if x.Size < 0 || len(x.Type) > maxShortBytes || len(x.Path) > maxPathBytes {
					t.Errorf("accepted finding out of bounds: %+v", x)
				}
				if x.SeenAt.Before(now.Add(-maxFindingAge)) || x.SeenAt.After(now.Add(maxClockAhead)) {
					t.Errorf("accepted seen_at %v outside the window", x.SeenAt)
				}
			}
		case wire.TypeSweepStatus:
			checkSweepStatus(m.SweepStatus)
		case wire.TypeHello:
			inventory(m.Hello.Inventory)
		case wire.TypeHeartbeat:
			if m.Heartbeat.Inventory != nil {
				inventory(*m.Heartbeat.Inventory)
			}
		}
	})
}

// FuzzAPIRequest decodes arbitrary bodies into every route's request type
// and the enrolment request, as the handlers do, then runs their checks.
// Nothing may panic, and what decodes must encode again.
func FuzzAPIRequest(f *testing.F) {
	s := &Server{}
	var types []reflect.Type
	for _, r := range s.fleetRoutes() {
		if r.Request != nil {
			types = append(types, reflect.TypeOf(r.Request))
		}
	}
	types = append(types, reflect.TypeFor[wire.EnrollRequest]())
	for _, seed := range []string{
		`{"level":"heightened","hosts":"all","reason":"x"}`,
		`{"yara":"rule x { condition: true }","paths":["/srv"],"hosts":["h-1"],"expires_in_seconds":60}`,
		`{"labels":{"site":"tokyo"}}`,
		`{"csr":"-----BEGIN CERTIFICATE REQUEST-----","name":"web1","labels":{"a":"b"}}`,
		`{"hosts":[]}`, `{"reason":"a"} {}`, "{\"name\":\"\xff\"}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, typ := range types {
			v := reflect.New(typ)
			r := httptest.NewRequest("POST", "/", bytes.NewReader(b))
			if err := httpapi.DecodeBody(r, 0, v.Interface()); err != nil {
				continue
			}
			switch x := v.Interface().(type) {
			case *SweepIn:
				checkSelector(x.Hosts, x.Labels, x.Reason)
				validateBundle(&BundleIn{Name: x.Name, YARA: x.YARA, Hashes: x.Hashes})
			case *FleetMonitoringChange:
				checkSelector(x.Hosts, x.Labels, x.Reason)
			case *wire.EnrollRequest:
				checkEnrollRequest(x)
			}
			if _, err := json.Marshal(v.Interface()); err != nil {
				t.Errorf("%s decoded from %q does not encode: %v", typ, b, err)
			}
		}
	})
}
