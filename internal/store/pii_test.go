package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/store/storetest"
)

// A pii_file finding never becomes a detection: without a sink it is
// dropped, with one the sink takes it in the batch's transaction.
func TestPIIFindingsBypassDetections(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := open(t, dsn)
		addHost(t, st, "h-1")
		now := time.Now()
		batch := []store.Detection{
			{HostID: "h-1", FindingID: "f-1", Type: store.PIIFileType, SeenAt: now, ReceivedAt: now, Detail: []byte(`{"path":"/x","subjects":[{"values":[{"category":"email","value":"a@example.jp"}]}]}`)},
			{HostID: "h-1", FindingID: "f-2", Type: "ioc", Rule: "r", SeenAt: now, ReceivedAt: now},
		}
		n, err := st.InsertDetections(ctx, batch)
		if err != nil || n != 1 {
			t.Fatalf("without a sink: %d new, %v; want 1 (the ioc)", n, err)
		}
		var got []string
		st.OnPIIFiles(func(ctx context.Context, tx *store.Tx, ds []*store.Detection) (int, error) {
			for _, d := range ds {
				got = append(got, d.FindingID)
			}
			return len(ds), nil
		})
		batch[0].FindingID, batch[1].FindingID = "f-3", "f-4"
		if n, err := st.InsertDetections(ctx, batch); err != nil || n != 2 || len(got) != 1 || got[0] != "f-3" {
			t.Fatalf("with a sink: %d new, %v, sink saw %q", n, err, got)
		}
		if c, err := st.CountDetections(ctx); err != nil || c != 2 {
			t.Fatalf("%d detections stored, want the 2 iocs: %v", c, err)
		}
	})
}
