// Package storetest runs tests against every store backend: SQLite always,
// PostgreSQL when MAMORI_TEST_POSTGRES names one.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

// PostgresEnv names the environment variable holding the PostgreSQL URL that
// tests use; tests needing PostgreSQL skip when it is unset.
const PostgresEnv = "MAMORI_TEST_POSTGRES"

// ForEachBackend runs f as a parallel subtest against a fresh SQLite store and, when
// PostgresEnv is set, a fresh PostgreSQL store in a schema of its own that is
// dropped afterwards. Other packages' tests (the server's) use it too, so
// that everything stored runs against both engines. f receives the DSN too,
// so it can reopen the same database.
func ForEachBackend(t *testing.T, f func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		f(t, filepath.Join(t.TempDir(), "mamori.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		f(t, TestPostgres(t))
	})
}

// TestPostgres creates an empty schema in the PostgreSQL database named by
// PostgresEnv, drops it when the test ends and returns a DSN whose
// search_path is that schema. It skips t when PostgresEnv is unset.
func TestPostgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s to a postgres:// URL (CI uses postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", PostgresEnv)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	schema := "mamori_test_" + hex.EncodeToString(rnd[:])
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		t.Fatalf("create schema in %s: %v", base, err)
	}
	t.Cleanup(func() {
		if _, err := db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		db.Close()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return fmt.Sprintf("%s%ssearch_path=%s", base, sep, schema)
}

// Exec runs statement on the database dsn names (a SQLite path or a
// PostgreSQL URL from TestPostgres) on a connection of its own, to break
// or inspect a store behind its back.
func Exec(t testing.TB, dsn, statement string) {
	t.Helper()
	driver, name := "sqlite", dsn
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		driver = "pgx"
	}
	db, err := sql.Open(driver, name)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), statement); err != nil {
		t.Fatalf("%s: %v", statement, err)
	}
}
