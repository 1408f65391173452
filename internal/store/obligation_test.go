package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/store/storetest"
)

func TestObligationFacts(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		s := open(t, dsn)
		ctx := context.Background()
		if _, err := s.ObligationFacts(ctx, "i-1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unset facts: err = %v, want ErrNotFound", err)
		}
		first := &store.ObligationFacts{IncidentID: "i-1", Facts: []byte(`{"cause":"malware"}`), Context: []byte(`{}`), UpdatedAt: t0, UpdatedBy: "alice", Reason: "EDR shows exfiltration"}
		inTx(t, s, func(ctx context.Context, tx *store.Tx) error { return tx.PutObligationFacts(ctx, first) })
		second := &store.ObligationFacts{IncidentID: "i-1", Facts: []byte(`{"cause":"insider"}`), Context: []byte(`{"organization":"ACME"}`), UpdatedAt: t0.Add(3600e9), UpdatedBy: "bob", Reason: "it was an employee"}
		inTx(t, s, func(ctx context.Context, tx *store.Tx) error { return tx.PutObligationFacts(ctx, second) })
		got, err := s.ObligationFacts(ctx, "i-1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, second); diff != "" {
			t.Errorf("replaced facts (-got +want):\n%s", diff)
		}
		inTx(t, s, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteObligationFacts(ctx, "i-1") })
		if _, err := s.ObligationFacts(ctx, "i-1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted facts: err = %v, want ErrNotFound", err)
		}
	})
}
