package store_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/store/storetest"
)

func openWithIncident(t testing.TB, dsn string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	storetest.Exec(t, dsn, "INSERT INTO incidents (id, title, summary, severity, state, aware_at, opened_by, created_at, updated_at) VALUES ('i-1', 't', '', 'high', 'open', 1, 'x', 1, 1)")
	return st
}

func TestTimelineFiltersAndPaging(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := openWithIncident(t, dsn)
		t0 := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
		var evs []store.TimelineEvent
		for i := range 10 {
			host, kind, level := "h-a", "logon_failed", ""
			if i%2 == 1 {
				host, kind, level = "h-b", "sigma", "high"
			}
			// Two events share each time, so paging must order by id too.
			evs = append(evs, store.TimelineEvent{HostID: host, Key: strconv.Itoa(i), At: t0.Add(time.Duration(i/2) * time.Minute),
				Source: "log", Kind: kind, Level: level, LevelRank: store.LevelRank(level), Summary: fmt.Sprint("event ", i), Fields: map[string]string{"i": strconv.Itoa(i)}})
		}
		err := st.InTx(ctx, func(tx *store.Tx) error {
			n, err := tx.InsertTimeline(ctx, "i-1", evs)
			if n != 10 {
				t.Errorf("inserted %d, want 10", n)
			}
			if err != nil {
				return err
			}
			n, err = tx.InsertTimeline(ctx, "i-1", evs[:3]) // a re-sent batch adds nothing
			if n != 0 {
				t.Errorf("re-inserted %d, want 0", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		keys := func(f store.TimelineFilter) []string {
			var out []string
			for {
				page, err := st.Timeline(ctx, "i-1", f)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range page {
					out = append(out, e.Key)
				}
				if len(page) < f.Limit || f.Limit == 0 {
					return out
				}
				last := page[len(page)-1]
				f.AfterAt, f.AfterID = last.At, last.ID
			}
		}
		tests := []struct {
			name string
			f    store.TimelineFilter
			want []string
		}{
			{"all, pages of 3", store.TimelineFilter{Limit: 3}, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}},
			{"host", store.TimelineFilter{HostID: "h-a"}, []string{"0", "2", "4", "6", "8"}},
			{"kind and level", store.TimelineFilter{Kind: "sigma", MinLevel: "medium"}, []string{"1", "3", "5", "7", "9"}},
			{"level too high", store.TimelineFilter{MinLevel: "critical"}, nil},
			{"level alone", store.TimelineFilter{MinLevel: "high"}, []string{"1", "3", "5", "7", "9"}},
			{"host and kind", store.TimelineFilter{HostID: "h-b", Kind: "sigma"}, []string{"1", "3", "5", "7", "9"}},
			{"window", store.TimelineFilter{From: t0.Add(time.Minute), To: t0.Add(2 * time.Minute)}, []string{"2", "3", "4", "5"}},
		}
		for _, tt := range tests {
			if diff := cmp.Diff(keys(tt.f), tt.want); diff != "" {
				t.Errorf("%s (-got +want):\n%s", tt.name, diff)
			}
		}
	})
}

// BenchmarkTimeline measures ingest (events/s, in batches as agents send
// them) and a filtered query over the whole table. MAMORI_BENCH_TIMELINE
// sets the number of events (default 100000; bench/timeline.sh uses 10^7).
func BenchmarkTimeline(b *testing.B) {
	n := 100000
	if v := os.Getenv("MAMORI_BENCH_TIMELINE"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	backends := map[string]func(testing.TB) string{
		"sqlite":   func(tb testing.TB) string { return b.TempDir() + "/mamori.db" },
		"postgres": func(tb testing.TB) string { return storetest.TestPostgres(tb) },
	}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			dsn := backends[name](b)
			st := openWithIncident(b, dsn)
			ctx := context.Background()
			t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			start := time.Now()
			const batch = 1000
			for i := 0; i < n; i += batch {
				evs := make([]store.TimelineEvent, 0, batch)
				for j := i; j < min(n, i+batch); j++ {
					kind, level := "log", ""
					if j%1000 == 0 {
						kind, level = "sigma", "high"
					}
					evs = append(evs, store.TimelineEvent{HostID: fmt.Sprintf("h-%03d", j%200), Key: strconv.Itoa(j),
						At: t0.Add(time.Duration(j) * 50 * time.Millisecond), Source: "log", Kind: kind, Level: level, LevelRank: store.LevelRank(level),
						Summary: "sshd: Failed password for root from 203.0.113.66", Ref: "/var/log/auth.log#" + strconv.Itoa(j),
						Fields: map[string]string{"user": "root", "source_ip": "203.0.113.66"}})
				}
				if err := st.InTx(ctx, func(tx *store.Tx) error { _, err := tx.InsertTimeline(ctx, "i-1", evs); return err }); err != nil {
					b.Fatal(err)
				}
			}
			ingest := float64(n) / time.Since(start).Seconds()
			mid := t0.Add(time.Duration(n/2) * 50 * time.Millisecond)
			b.ResetTimer()
			for b.Loop() {
				// A responder's typical view: one host, a day, high hits first page;
				// then a page of one host's events in the middle of the window.
				if _, err := st.Timeline(ctx, "i-1", store.TimelineFilter{Kind: "sigma", MinLevel: "high", Limit: 100}); err != nil {
					b.Fatal(err)
				}
				if _, err := st.Timeline(ctx, "i-1", store.TimelineFilter{HostID: "h-007", From: mid, To: mid.Add(24 * time.Hour), Limit: 100}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(ingest, "ingest-events/s")
		})
	}
}

// TestTimelineInsertCounts: a batch longer than one INSERT's rows, partly
// stored already and repeating an event within itself, counts only what
// is new, on both backends.
func TestTimelineInsertCounts(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := openWithIncident(t, dsn)
		t0 := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
		ev := func(i int) store.TimelineEvent {
			return store.TimelineEvent{HostID: "h-a", Key: strconv.Itoa(i), At: t0.Add(time.Duration(i) * time.Second), Source: "log", Kind: "log",
				Summary: fmt.Sprint("event ", i), Fields: map[string]string{"i": strconv.Itoa(i)}}
		}
		var first, second []store.TimelineEvent
		for i := range 100 {
			first = append(first, ev(i))
		}
		for i := 50; i < 550; i++ {
			second = append(second, ev(i))
		}
		second = append(second, ev(300))
		for _, tc := range []struct {
			evs  []store.TimelineEvent
			want int
		}{{first, 100}, {second, 450}, {second, 0}} {
			err := st.InTx(ctx, func(tx *store.Tx) error {
				n, err := tx.InsertTimeline(ctx, "i-1", tc.evs)
				if n != tc.want {
					t.Errorf("inserted %d of %d, want %d", n, len(tc.evs), tc.want)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if all, err := st.Timeline(ctx, "i-1", store.TimelineFilter{Limit: 10000}); err != nil || len(all) != 550 {
			t.Errorf("%d events stored (%v), want 550", len(all), err)
		}
	})
}
