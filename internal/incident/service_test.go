package incident

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/audit"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/store/storetest"
)

// TestAutoIncident runs the policy where it runs in the server: as the
// store's detection hook, in the ingest transaction.
func TestAutoIncident(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		clock := now
		if _, err := Capability(httpapi.Env{Store: st, Now: func() time.Time { return clock }}); err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"h-1", "h-2"} {
			err := st.InTx(ctx, func(tx *store.Tx) error {
				return tx.CreateHost(ctx, &store.Host{ID: h, Name: "pc-" + h, EnrolledAt: now, Monitoring: "normal", CertSerial: "s" + h})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		seen := now.Add(-10 * time.Minute)
		det := func(host, finding, score string) store.Detection {
			return store.Detection{HostID: host, FindingID: finding, Type: "yara", Rule: "Ransom_Note", SeenAt: seen, ReceivedAt: now,
				Meta: map[string]string{"score": score}}
		}
		// A low score opens nothing; a high one on h-1 opens an incident
		// whose aware_at is the detection's time; the low one after it in
		// the same batch joins it.
		if _, err := st.InsertDetections(ctx, []store.Detection{det("h-1", "f1", "20"), det("h-1", "f2", "80"), det("h-1", "f3", "10"), det("h-2", "f4", "30")}); err != nil {
			t.Fatal(err)
		}
		ins, err := List(ctx, st, "", "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(ins) != 1 {
			t.Fatalf("%d incidents, want 1: %+v", len(ins), ins)
		}
		in := ins[0]
		if in.Title != "Ransom_Note on pc-h-1" || !in.AwareAt.Equal(seen) || in.OpenedBy != AutoActor || in.Severity != High || in.State != Open {
			t.Errorf("auto incident %+v", in)
		}
		// A later batch on h-1 links to it; h-2 stays out.
		clock = now.Add(time.Minute)
		if _, err := st.InsertDetections(ctx, []store.Detection{det("h-1", "f5", "5"), det("h-1", "f6", "5"), det("h-2", "f7", "5")}); err != nil {
			t.Fatal(err)
		}
		c, err := CountsOf(ctx, st, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c, IncidentCounts{Hosts: 1, Detections: 4}); diff != "" {
			t.Errorf("counts (-got +want):\n%s", diff)
		}
		// An isolation of h-1 and a fleet-wide monitoring change are
		// recorded in it; one of h-2 is not.
		for _, a := range []store.AuditEntry{
			{At: clock, Actor: "alice", Role: "responder", Action: "isolate", Target: "h-1", Reason: "ransomware", Detail: "none -> requested"},
			{At: clock, Actor: "agent:h-1", Role: "agent", Action: "isolation_status", Target: "h-1", Detail: "requested -> isolated"},
			{At: clock, Actor: "alice", Role: "responder", Action: "isolate", Target: "h-2", Reason: "x", Detail: "none -> requested"},
			{At: clock, Actor: "alice", Role: "responder", Action: "monitoring", Target: "fleet", Reason: "campaign", Detail: "heightened"},
		} {
			if err := st.AppendAudit(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		hist, err := History(ctx, st, in.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range hist {
			got = append(got, e.Actor+" "+string(e.Kind)+" "+e.From+">"+e.To+" "+e.Target+" ("+e.Reason+")")
		}
		want := []string{
			"policy:auto-incident opened >open  (rule Ransom_Note score 80 >= 70)",
			"policy:auto-incident host_linked > h-1 (rule Ransom_Note score 80 >= 70)",
			"policy:auto-incident detection_linked > 2 (rule Ransom_Note score 80 >= 70)",
			"policy:auto-incident detection_linked > 3 (new detections on its hosts)",
			"policy:auto-incident detection_linked > 5..6 (2 detections) (new detections on its hosts)",
			"alice isolation none>requested h-1 (isolate: ransomware)",
			"agent:h-1 isolation requested>isolated h-1 ()",
			"alice monitoring >heightened fleet (campaign)",
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("history (-got +want):\n%s", diff)
		}
		// Every automatic action is in the audit log, which verifies.
		var actions []string
		v, _ := audit.NewVerifier(nil, nil)
		err = st.EachAuditEntry(ctx, func(e *audit.Entry) error {
			if e.Actor == AutoActor {
				actions = append(actions, e.Action+" "+e.Role)
			}
			return v.Add(e)
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(actions, []string{"incident.open system", "incident.link_detection system", "incident.link_detection system"}); diff != "" {
			t.Errorf("automatic actions audited (-got +want):\n%s", diff)
		}
	})
}
