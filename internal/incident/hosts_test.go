package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/store/storetest"
)

// TestHostsPaging: GET /incidents/{id}/hosts pages by host id with after
// and limit, and without them still answers every linked host.
func TestHostsPaging(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		s := &Service{st: st}
		in := Incident{ID: "i-1", Title: "t", Severity: High, State: Open, AwareAt: now, OpenedBy: "rita", CreatedAt: now, UpdatedAt: now}
		var all []string
		err = st.InTx(ctx, func(tx *store.Tx) error {
			if err := insertIncident(ctx, tx, in); err != nil {
				return err
			}
			for i := 250; i > 0; i-- {
				h := fmt.Sprintf("h-%03d", i)
				all = append([]string{h}, all...)
				if err := tx.CreateHost(ctx, &store.Host{ID: h, Name: h, EnrolledAt: now, Monitoring: "normal", CertSerial: "s" + h}); err != nil {
					return err
				}
				if _, err := linkHost(ctx, tx, in.ID, IncidentHost{HostID: h, LinkedAt: now, LinkedBy: "rita", Reason: "r"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		get := func(query string) (int, []string, string) {
			r := httptest.NewRequest("GET", "/api/v1/incidents/i-1/hosts"+query, nil)
			r.SetPathValue("id", "i-1")
			r = r.WithContext(httpapi.WithPrincipal(r.Context(), httpapi.BootstrapAdmin))
			w := httptest.NewRecorder()
			s.hosts(w, r)
			var hs []IncidentHost
			json.Unmarshal(w.Body.Bytes(), &hs)
			ids := []string{}
			for _, h := range hs {
				ids = append(ids, h.HostID)
			}
			return w.Code, ids, w.Body.String()
		}
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"", all},
			{"?limit=2", all[:2]},
			{"?after=h-002&limit=3", all[2:5]},
			{"?after=h-200", all[200:]},
			{"?after=h-100", all[100:200]},
			{"?after=h-250", []string{}},
			{"?limit=1000", all},
		} {
			code, got, body := get(tc.query)
			if code != 200 {
				t.Errorf("%s: %d %s", tc.query, code, body)
				continue
			}
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("%s (-got +want):\n%s", tc.query, diff)
			}
		}
		for _, q := range []string{"?limit=0", "?limit=1001", "?limit=x"} {
			if code, _, body := get(q); code != 400 || !strings.Contains(body, "limit") {
				t.Errorf("%s: %d %s", q, code, body)
			}
		}
	})
}
