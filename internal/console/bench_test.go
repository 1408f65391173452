package console

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/incident"
	"github.com/mamori-dev/mamori/internal/server"
	"github.com/mamori-dev/mamori/internal/store"
)

// BenchmarkIncidentPage renders the dashboard of an incident with 10,000
// hosts and 100,000 detections (target: under 300 ms a page).
func BenchmarkIncidentPage(b *testing.B) {
	const hosts, detections = 10_000, 100_000
	f := newFixture(b, server.Config{Now: time.Now})
	var in struct {
		ID string `json:"id"`
	}
	f.apiAdmin(b, "POST", "/incidents", `{"title":"Worm across the fleet","severity":"critical","reason":"bench"}`, &in)
	ctx := context.Background()
	now := time.Now().UTC()
	err := f.st.InTx(ctx, func(tx *store.Tx) error {
		for i := range hosts {
			id := fmt.Sprintf("h-%016x", i)
			if err := tx.CreateHost(ctx, &store.Host{ID: id, Name: fmt.Sprintf("pc%05d", i), OS: "windows", Arch: "amd64",
				EnrolledAt: now, Monitoring: "normal", Isolation: "none", KeySHA256: fmt.Sprintf("%064x", i), CertPEM: "-"}); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "incident-link-host", in.ID, id, store.ToMS(now), "bench", "bench"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	ds := make([]store.Detection, 0, detections)
	for i := range detections {
		ds = append(ds, store.Detection{HostID: fmt.Sprintf("h-%016x", i%hosts), FindingID: fmt.Sprintf("f-%d", i), Type: "yara",
			Source: "scheduled", Rule: "Ransom_Note", Path: fmt.Sprintf(`C:\Users\Public\readme-%d.txt`, i), SeenAt: now, ReceivedAt: now})
	}
	if _, err := f.st.InsertDetections(ctx, ds); err != nil {
		b.Fatal(err)
	}
	err = f.st.InTx(ctx, func(tx *store.Tx) error {
		for i := range detections {
			if _, err := tx.Exec(ctx, "incident-link-detection", in.ID, int64(i+1), fmt.Sprintf("h-%016x", i%hosts), store.ToMS(now), "bench", "bench"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	br := f.login(b, "rei")
	if testing.Verbose() {
		t0 := time.Now()
		incident.CountsOf(ctx, f.st, in.ID)
		b.Logf("CountsOf %v", time.Since(t0))
		t0 = time.Now()
		incident.History(ctx, f.st, in.ID, 0, 1000)
		b.Logf("History %v", time.Since(t0))
		t0 = time.Now()
		incident.Hosts(ctx, f.st, in.ID)
		b.Logf("Hosts %v", time.Since(t0))
		for _, p := range []string{"/incidents/" + in.ID, "/incidents/" + in.ID + "/hosts", "/incidents/" + in.ID + "/detections?limit=100",
			"/incidents/" + in.ID + "/obligations", "/hosts/h-0000000000000001"} {
			t0 := time.Now()
			f.apiAdmin(b, "GET", p, "", nil)
			b.Logf("API %s: %v", p, time.Since(t0))
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if resp := br.get(b, "/incidents/"+in.ID); resp.code != http.StatusOK {
			b.Fatalf("%d %s", resp.code, resp.body)
		}
	}
}
