package store

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/store/storetest"
)

// TestMigrations applies the migrations one at a time, Fleet-style: each
// must apply on top of the previous one, record its version, and leave
// re-running Migrate a no-op.
func TestMigrations(t *testing.T) {
	t.Parallel()
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

// TestMigrationMergedLate: a migration from a branch merged after a newer
// one was applied still applies.
func TestMigrationMergedLate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := open(t.TempDir() + "/m.db")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ms, err := s.migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 3 {
		t.Skip("needs three migrations")
	}
	if err := s.Migrate(ctx, ms[0].version); err != nil {
		t.Fatal(err)
	}
	// Apply the newest first, as a deployment of the other branch would.
	last := ms[len(ms)-1]
	if _, err := s.w.ExecContext(ctx, last.sql); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)`, last.version); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	applied, err := s.appliedMigrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(ms) {
		t.Errorf("%d migrations applied, want %d", len(applied), len(ms))
	}
}

func TestMigrationNames(t *testing.T) {
	t.Parallel()
	file := &fstest.MapFile{Data: []byte("SELECT 1;")}
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"ok", fstest.MapFS{
			"migrations/sqlite/0001_a.sql": file, "migrations/postgres/0001_a.sql": file,
			"migrations/sqlite/202612010900_b.sql": file, "migrations/postgres/202612010900_b.sql": file,
		}, ""},
		{"one dialect only", fstest.MapFS{
			"migrations/sqlite/0001_a.sql": file, "migrations/postgres/0001_a.sql": file,
			"migrations/sqlite/202612010900_incident.sql": file,
		}, "store: migration 202612010900_incident.sql exists in migrations/sqlite but not in migrations/postgres; every schema change needs both dialects"},
		{"same version", fstest.MapFS{
			"migrations/sqlite/202612010900_a.sql": file, "migrations/postgres/202612010900_a.sql": file,
			"migrations/sqlite/202612010900_b.sql": file, "migrations/postgres/202612010900_b.sql": file,
		}, "store: migrations migrations/sqlite/202612010900_a.sql and 202612010900_b.sql have the same version 202612010900; rename the newer one with the current time"},
		{"bad name", fstest.MapFS{
			"migrations/sqlite/incident.sql": file, "migrations/postgres/incident.sql": file,
		}, "store: migration migrations/sqlite/incident.sql: name must be YYYYMMDDHHMM_name.sql (lower case, digits, _)"},
	}
	for _, tt := range tests {
		got := ""
		if err := checkDialects(tt.files); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestQueryNamesUnique(t *testing.T) {
	t.Parallel()
	q, where := map[string]string{}, map[string]string{}
	if err := parseQueries("queries/hosts.sql", "-- name: a\nSELECT 1;\n", q, where); err != nil {
		t.Fatal(err)
	}
	err := parseQueries("queries/incident.sql", "-- comment\n-- name: b\nSELECT 2;\n-- name: a\nSELECT 3;\n", q, where)
	want := `store: query "a" is defined twice: queries/hosts.sql:1 and queries/incident.sql:4`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	if _, err := loadQueries(); err != nil {
		t.Errorf("the embedded queries: %v", err)
	}
}

// TestSchemasAgree compares the tables and columns SQLite and PostgreSQL
// have after all migrations: a migration written for one dialect and
// mistranslated for the other shows up here.
func TestSchemasAgree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg, err := Open(ctx, storetest.TestPostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	lite, err := Open(ctx, t.TempDir()+"/schema.db")
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	got, err := lite.columns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := pg.columns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("tables and columns (-sqlite +postgres):\n%s", diff)
	}
}

// columns lists "table.column" for every table of the store's schema.
func (s *Store) columns(ctx context.Context) (map[string][]string, error) {
	q := `SELECT table_name, column_name FROM information_schema.columns
	      WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`
	if s.dialect == SQLite {
		q = `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
		     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`
	}
	rows, err := s.r.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			return nil, err
		}
		out[table] = append(out[table], strings.ToLower(col))
	}
	return out, rows.Err()
}
