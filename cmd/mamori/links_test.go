package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/incident"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
)

// TestLinksByHand: a responder links and unlinks hosts and detections;
// the counts and the history follow, and an unknown host or detection is
// refused.
func TestLinksByHand(t *testing.T) {
	_, ts, dir, tokens := newTestServer(t)
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "mamori.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	for _, h := range []string{"h-1", "h-2"} {
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			return tx.CreateHost(ctx, &store.Host{ID: h, Name: h, EnrolledAt: now, Monitoring: "normal", CertSerial: "s" + h})
		}); err != nil {
			t.Fatal(err)
		}
	}
	ds := []store.Detection{{HostID: "h-2", FindingID: "f1", Type: "ioc", SeenAt: now, ReceivedAt: now}}
	if _, err := st.InsertDetections(ctx, ds); err != nil {
		t.Fatal(err)
	}
	alice := tokens[httpapi.RoleResponder]
	var v incident.IncidentView
	code, b := call(t, ts, alice, "POST", "/api/v1/incidents", `{"title":"t","hosts":["h-1"],"reason":"r"}`)
	if code != 201 || json.Unmarshal(b, &v) != nil {
		t.Fatalf("open: %d %s", code, b)
	}
	base := "/api/v1/incidents/" + v.ID
	for _, tc := range []struct {
		method, path, body string
		code               int
		counts             incident.IncidentCounts
	}{
		{"POST", "/hosts", `{"host_id":"h-9","reason":"x"}`, 404, incident.IncidentCounts{}},
		{"POST", "/hosts", `{"host_id":"h-2"}`, 400, incident.IncidentCounts{}},
		{"POST", "/detections", `{"detection_id":` + itoa(ds[0].ID) + `,"reason":"same hash as on h-1"}`, 200, incident.IncidentCounts{Hosts: 2, Detections: 1}},
		{"POST", "/detections", `{"detection_id":999,"reason":"x"}`, 404, incident.IncidentCounts{}},
		{"DELETE", "/hosts/h-1", `{"reason":"false positive on h-1"}`, 200, incident.IncidentCounts{Hosts: 1, Detections: 1}},
		{"DELETE", "/hosts/h-1", `{"reason":"again"}`, 404, incident.IncidentCounts{}},
		{"DELETE", "/detections/" + itoa(ds[0].ID), `{"reason":"benign"}`, 200, incident.IncidentCounts{Hosts: 1}},
	} {
		code, b := call(t, ts, alice, tc.method, base+tc.path, tc.body)
		if code != tc.code {
			t.Errorf("%s %s %s: %d %s, want %d", tc.method, tc.path, tc.body, code, b, tc.code)
			continue
		}
		if code != 200 {
			continue
		}
		var got incident.IncidentView
		json.Unmarshal(b, &got)
		if diff := cmp.Diff(got.Counts, tc.counts); diff != "" {
			t.Errorf("%s %s: counts (-got +want):\n%s", tc.method, tc.path, diff)
		}
	}
	code, b = call(t, ts, tokens[httpapi.RoleViewer], "GET", base, "")
	if code != 200 || json.Unmarshal(b, &v) != nil {
		t.Fatalf("get: %d", code)
	}
	var kinds []string
	for _, e := range v.History {
		kinds = append(kinds, string(e.Kind)+" "+e.Target)
	}
	want := []string{"opened ", "host_linked h-1", "detection_linked " + itoa(ds[0].ID), "host_linked h-2", "host_unlinked h-1", "detection_unlinked " + itoa(ds[0].ID)}
	if diff := cmp.Diff(kinds, want); diff != "" {
		t.Errorf("history (-got +want):\n%s", diff)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
