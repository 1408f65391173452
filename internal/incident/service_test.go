package incident

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
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

// TestAutoIncidentJoin checks that one outbreak on several hosts makes one
// incident: a high-score detection on a host outside any incident joins
// the incident the policy opened last, while it is open and within the
// join window, and each join is in the history and the audit log.
func TestAutoIncidentJoin(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		clock := now
		c, err := Capability(httpapi.Env{Store: st, Now: func() time.Time { return clock }})
		if err != nil {
			t.Fatal(err)
		}
		svc := c.(*Service)
		for _, h := range []string{"h-1", "h-2", "h-3", "h-4", "h-5", "h-6"} {
			err := st.InTx(ctx, func(tx *store.Tx) error {
				return tx.CreateHost(ctx, &store.Host{ID: h, Name: "pc-" + h, EnrolledAt: now, Monitoring: "normal", CertSerial: "s" + h})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		det := func(host, finding, score string) store.Detection {
			return store.Detection{HostID: host, FindingID: finding, Type: "yara", Rule: "Implant", SeenAt: clock.Add(-time.Minute), ReceivedAt: clock,
				Meta: map[string]string{"score": score}}
		}
		insert := func(ds ...store.Detection) {
			t.Helper()
			if _, err := st.InsertDetections(ctx, ds); err != nil {
				t.Fatal(err)
			}
		}
		incidents := func() []Incident {
			t.Helper()
			ins, err := List(ctx, st, "", "", 100)
			if err != nil {
				t.Fatal(err)
			}
			return ins
		}
		hostsOf := func(id string) []string {
			t.Helper()
			hs, err := Hosts(ctx, st, id)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, h := range hs {
				out = append(out, h.HostID)
			}
			return out
		}

		// The first detections of two hosts in one batch (the ingester
		// commits several agents' batches together) make one incident.
		insert(det("h-1", "f1", "90"), det("h-2", "f2", "90"))
		ins := incidents()
		if len(ins) != 1 {
			t.Fatalf("%d incidents, want 1: %+v", len(ins), ins)
		}
		outbreak := ins[0].ID
		// Ten minutes later, with the incident contained, a third host
		// joins it; a low score on a fourth host opens nothing and joins
		// nothing.
		err = st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, "incident-set-state", outbreak, string(Open), string(Contained), ms(clock))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		clock = now.Add(10 * time.Minute)
		insert(det("h-3", "f3", "80"), det("h-4", "f4", "20"))
		if n := len(incidents()); n != 1 {
			t.Fatalf("%d incidents after the third host, want 1", n)
		}
		if diff := cmp.Diff(hostsOf(outbreak), []string{"h-1", "h-2", "h-3"}); diff != "" {
			t.Errorf("hosts of the outbreak (-got +want):\n%s", diff)
		}
		cs, err := CountsOf(ctx, st, outbreak)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(cs, IncidentCounts{Hosts: 3, Detections: 3}); diff != "" {
			t.Errorf("counts (-got +want):\n%s", diff)
		}
		hist, err := History(ctx, st, outbreak, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range hist {
			got = append(got, e.Actor+" "+string(e.Kind)+" "+e.Target+" ("+e.Reason+")")
		}
		want := []string{
			"policy:auto-incident opened  (rule Implant score 90 >= 70)",
			"policy:auto-incident host_linked h-1 (rule Implant score 90 >= 70)",
			"policy:auto-incident detection_linked 1 (rule Implant score 90 >= 70)",
			"policy:auto-incident host_linked h-2 (rule Implant score 90 >= 70 on host pc-h-2, 0s after incident " + outbreak + " opened: same outbreak (join window 24h))",
			"policy:auto-incident detection_linked 2 (rule Implant score 90 >= 70 on host pc-h-2, 0s after incident " + outbreak + " opened: same outbreak (join window 24h))",
			"policy:auto-incident host_linked h-3 (rule Implant score 80 >= 70 on host pc-h-3, 10m after incident " + outbreak + " opened: same outbreak (join window 24h))",
			"policy:auto-incident detection_linked 3 (rule Implant score 80 >= 70 on host pc-h-3, 10m after incident " + outbreak + " opened: same outbreak (join window 24h))",
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("history (-got +want):\n%s", diff)
		}
		var audited []string
		v, _ := audit.NewVerifier(nil, nil)
		err = st.EachAuditEntry(ctx, func(e *audit.Entry) error {
			if e.Actor == AutoActor {
				audited = append(audited, e.Action+" "+e.Role+" "+e.Target+" "+e.Detail)
			}
			return v.Add(e)
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(audited[1:], []string{
			"incident.link_host system " + outbreak + " host=h-2 detection=2",
			"incident.link_host system " + outbreak + " host=h-3 detection=3",
		}); diff != "" {
			t.Errorf("joins audited (-got +want):\n%s", diff)
		}

		// Past the window a new outbreak opens its own incident, which the
		// next host joins.
		clock = now.Add(24*time.Hour + 10*time.Minute + time.Second)
		insert(det("h-4", "f5", "90"))
		insert(det("h-5", "f6", "90"))
		ins = incidents()
		if len(ins) != 2 {
			t.Fatalf("%d incidents after the window, want 2", len(ins))
		}
		second := ins[0].ID
		if second == outbreak {
			second = ins[1].ID
		}
		if diff := cmp.Diff(hostsOf(second), []string{"h-4", "h-5"}); diff != "" {
			t.Errorf("hosts of the second outbreak (-got +want):\n%s", diff)
		}

		// A policy stored without the window keeps the default; a window
		// of 0 set through the API makes every host open its own.
		err = st.InTx(ctx, func(tx *store.Tx) error {
			return tx.PutSetting(ctx, settingPolicy, `{"enabled":true,"min_score":70}`)
		})
		if err != nil {
			t.Fatal(err)
		}
		var p AutoPolicy
		if code := callPolicy(t, svc, "GET", "", &p); code != 200 || p != DefaultAutoPolicy {
			t.Errorf("GET policy: %d %+v, want %+v", code, p, DefaultAutoPolicy)
		}
		if code := callPolicy(t, svc, "PUT", `{"enabled":true,"min_score":70}`, &p); code != 200 || p.JoinWindowSeconds != 86400 {
			t.Errorf("PUT without the window: %d %+v, want the default window", code, p)
		}
		var e struct{ Error string }
		if code := callPolicy(t, svc, "PUT", `{"enabled":true,"min_score":70,"join_window_seconds":-5}`, &e); code != 400 || !strings.Contains(e.Error, "join_window_seconds") {
			t.Errorf("PUT a negative window: %d %q", code, e.Error)
		}
		if code := callPolicy(t, svc, "PUT", `{"enabled":true,"min_score":70,"join_window_seconds":0}`, &p); code != 200 || p.JoinWindowSeconds != 0 {
			t.Errorf("PUT a window of 0: %d %+v", code, p)
		}
		insert(det("h-6", "f7", "90"))
		if n := len(incidents()); n != 3 {
			t.Errorf("%d incidents with no join window, want 3", n)
		}
	})
}

// callPolicy calls the policy route's handler as the bootstrap admin and
// decodes its answer into out.
func callPolicy(t *testing.T, s *Service, method, body string, out any) int {
	t.Helper()
	r := httptest.NewRequest(method, "/api/v1/policy/auto-incident", strings.NewReader(body))
	r = r.WithContext(httpapi.WithPrincipal(r.Context(), httpapi.BootstrapAdmin))
	w := httptest.NewRecorder()
	if method == "GET" {
		s.getPolicy(w, r)
	} else {
		s.putPolicy(w, r)
	}
	if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
		t.Fatalf("%s policy: %v: %s", method, err, w.Body)
	}
	return w.Code
}
