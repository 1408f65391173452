package store

import (
	"context"
	"testing"

	"github.com/mamori-dev/mamori/internal/store/storetest"
)

// TestMigrations applies the migrations one at a time, Fleet-style: each
// must apply on top of the previous one, record its version, and leave
// re-running Migrate a no-op. Both dialects must have the same versions.
func TestMigrations(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, err := open(dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ms, err := s.migrations()
		if err != nil {
			t.Fatal(err)
		}
		other := &Store{dialect: SQLite}
		if s.dialect == SQLite {
			other.dialect = Postgres
		}
		oms, err := other.migrations()
		if err != nil {
			t.Fatal(err)
		}
		if len(oms) != len(ms) {
			t.Errorf("%s has %d migrations, %s has %d", s.dialect, len(ms), other.dialect, len(oms))
		}
		for _, m := range ms {
			t.Run(m.name, func(t *testing.T) {
				if err := s.Migrate(ctx, m.version); err != nil {
					t.Fatal(err)
				}
				if err := s.Migrate(ctx, m.version); err != nil {
					t.Fatalf("re-run: %v", err)
				}
				v, err := s.SchemaVersion(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if v != m.version {
					t.Errorf("schema version %d, want %d", v, m.version)
				}
			})
		}
		// Every named query must prepare against the full schema.
		for name, q := range s.q {
			st, err := s.w.PrepareContext(ctx, q)
			if err != nil {
				t.Errorf("query %s does not prepare: %v", name, err)
				continue
			}
			st.Close()
		}
	})
}
