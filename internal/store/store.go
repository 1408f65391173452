package store

import (
	"bufio"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"github.com/mamori-dev/mamori/internal/dbfile"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

//go:embed queries migrations
var files embed.FS

// ErrNotFound is returned when the host, sweep or setting asked for does not
// exist.
var ErrNotFound = errors.New("not found")

// Dialect names the database engine.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is the server's database. It is safe for concurrent use.
type Store struct {
	dialect Dialect
	// w takes every write. On SQLite it holds one connection, because
	// SQLite has one writer anyway and queueing in Go is cheaper than
	// SQLITE_BUSY retries; r serves reads concurrently from WAL snapshots.
	// On PostgreSQL both are the same pool.
	w, r *sql.DB
	q    map[string]string

	hookMu       sync.RWMutex
	onAudit      []AuditHook
	onDetections []DetectionHook
	onPII        PIISink

	// auditHead and auditInsert are prepared by Open.
	auditHead, auditInsert *sql.Stmt
}

// Open opens the database named by dsn and applies pending migrations. A dsn
// starting with postgres:// or postgresql:// is a pgx connection string;
// anything else is a SQLite file path, optionally prefixed with sqlite:.
func Open(ctx context.Context, dsn string) (*Store, error) {
	s, err := open(dsn)
	if err != nil {
		return nil, err
	}
	if err := s.w.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("cannot connect: %w", err)
	}
	if err := s.Migrate(ctx, 0); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepareAudit(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.convertLegacyAudit(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func open(dsn string) (*Store, error) {
	q, err := loadQueries()
	if err != nil {
		return nil, err
	}
	s := &Store{q: q}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("opening postgres: %w", err)
		}
		db.SetMaxOpenConns(16)
		db.SetMaxIdleConns(16)
		s.dialect, s.w, s.r = Postgres, db, db
		return s, nil
	}
	file := strings.TrimPrefix(dsn, "sqlite:")
	if file == "" {
		return nil, errors.New("empty database path")
	}
	if err := dbfile.OwnerOnly(file); err != nil {
		return nil, err
	}
	const pragmas = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"
	w, err := sql.Open("sqlite", "file:"+file+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", file, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite", "file:"+file+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", file, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	s.dialect, s.w, s.r = SQLite, w, r
	return s, nil
}

// Dialect reports the engine in use.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes the database.
func (s *Store) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// querier is what both the store's pools and a transaction offer, so the
// same code serves Store methods and Tx methods.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// loadQueries reads every queries/*.sql file: each query follows a
// "-- name: NAME" line and runs to the next one. A name used twice, in one
// file or two, is an error naming both places.
func loadQueries() (map[string]string, error) {
	ents, err := fs.ReadDir(files, "queries")
	if err != nil {
		return nil, err
	}
	q := map[string]string{}
	where := map[string]string{}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		file := path.Join("queries", e.Name())
		b, err := files.ReadFile(file)
		if err != nil {
			return nil, err
		}
		if err := parseQueries(file, string(b), q, where); err != nil {
			return nil, err
		}
	}
	return q, nil
}

func parseQueries(file, text string, q, where map[string]string) error {
	var name string
	var body strings.Builder
	flush := func() {
		if name != "" {
			q[name] = strings.TrimSuffix(strings.TrimSpace(body.String()), ";")
		}
		body.Reset()
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for line := 1; sc.Scan(); line++ {
		l := sc.Text()
		if n, ok := strings.CutPrefix(l, "-- name: "); ok {
			flush()
			name = strings.TrimSpace(n)
			at := fmt.Sprintf("%s:%d", file, line)
			if prev, dup := where[name]; dup {
				return fmt.Errorf("query %q is defined twice: %s and %s", name, prev, at)
			}
			where[name] = at
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(l), "--") {
			continue
		}
		body.WriteString(l)
		body.WriteByte('\n')
	}
	flush()
	return nil
}

func (s *Store) query(name string) string {
	q, ok := s.q[name]
	if !ok {
		// Query names are constants in this package; a miss is a bug
		// caught by every test that reaches it.
		panic("store: no query " + name)
	}
	return q
}

// migration is one schema change. Its version is the number its file name
// starts with: 0001 and 0002 from before timestamps, since then
// YYYYMMDDHHMM, so that two branches adding migrations at once do not
// collide on a number.
type migration struct {
	version int64
	name    string
	sql     string
}

var migrationName = regexp.MustCompile(`^([0-9]+)_[a-z0-9_]+\.sql$`)

func migrationsOf(fsys fs.FS, d Dialect) ([]migration, error) {
	dir := path.Join("migrations", string(d))
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	seen := map[int64]string{}
	for _, e := range ents {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration %s/%s: name must be YYYYMMDDHHMM_name.sql (lower case, digits, _)", dir, e.Name())
		}
		v, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("migration %s/%s: %w", dir, e.Name(), err)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s/%s and %s have the same version %d; rename the newer one with the current time", dir, prev, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// checkDialects reports migrations that exist for one dialect and not the
// other: every schema change needs both.
func checkDialects(fsys fs.FS) error {
	names := map[Dialect]map[string]bool{}
	for _, d := range []Dialect{SQLite, Postgres} {
		ms, err := migrationsOf(fsys, d)
		if err != nil {
			return err
		}
		names[d] = map[string]bool{}
		for _, m := range ms {
			names[d][m.name] = true
		}
	}
	var errs []error
	for _, pair := range [][2]Dialect{{SQLite, Postgres}, {Postgres, SQLite}} {
		var missing []string
		for n := range names[pair[0]] {
			if !names[pair[1]][n] {
				missing = append(missing, n)
			}
		}
		sort.Strings(missing)
		for _, n := range missing {
			errs = append(errs, fmt.Errorf("migration %s exists in migrations/%s but not in migrations/%s; every schema change needs both dialects", n, pair[0], pair[1]))
		}
	}
	return errors.Join(errs...)
}

func (s *Store) migrations() ([]migration, error) {
	if err := checkDialects(files); err != nil {
		return nil, err
	}
	return migrationsOf(files, s.dialect)
}

// Migrate applies the migrations not yet applied up to version to (0 for
// all), oldest first, each in its own transaction together with its
// schema_migrations row. A migration older than the newest applied one
// (from a branch merged later) is still applied.
func (s *Store) Migrate(ctx context.Context, to int64) error {
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	applied, err := s.appliedMigrations(ctx)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if applied[m.version] || (to > 0 && m.version > to) {
			continue
		}
		err := s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, m.version, toMS(time.Now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

func (s *Store) appliedMigrations(ctx context.Context) (map[int64]bool, error) {
	rows, err := s.w.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("schema version: %w", err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("schema version: %w", err)
		}
		out[v] = true
	}
	return out, rows.Err()
}

// SchemaVersion is the highest migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var v sql.NullInt64
	if err := s.w.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v.Int64, nil
}

func (s *Store) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Tx is a transaction: what its methods change commits together or not at
// all. Inside InTx use only the Tx, never the Store: on SQLite the Store's
// one writer connection is the transaction's, so a Store write would wait
// for itself forever.
type Tx struct {
	s  *Store
	tx *sql.Tx
}

// InTx runs f in a transaction, committing when it returns nil and rolling
// back when it returns an error (which InTx returns) or panics. Every state
// change and the audit entry recording it go through one InTx.
func (s *Store) InTx(ctx context.Context, f func(tx *Tx) error) (err error) {
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			sqlTx.Rollback()
			panic(p)
		}
	}()
	if err := f(&Tx{s: s, tx: sqlTx}); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Dialect reports the engine the transaction runs on.
func (t *Tx) Dialect() Dialect { return t.s.dialect }

// Exec runs the named query (from queries/*.sql) in the transaction.
func (t *Tx) Exec(ctx context.Context, name string, args ...any) (sql.Result, error) {
	res, err := t.tx.ExecContext(ctx, t.s.query(name), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return res, nil
}

// Query runs the named query in the transaction.
func (t *Tx) Query(ctx context.Context, name string, args ...any) (*sql.Rows, error) {
	rows, err := t.tx.QueryContext(ctx, t.s.query(name), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return rows, nil
}

// QueryRow runs the named query, which returns at most one row, in the
// transaction.
func (t *Tx) QueryRow(ctx context.Context, name string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.s.query(name), args...)
}

// Query runs a named read query outside any transaction.
func (s *Store) Query(ctx context.Context, name string, args ...any) (*sql.Rows, error) {
	rows, err := s.r.QueryContext(ctx, s.query(name), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return rows, nil
}

// ToMS converts a time to stored Unix milliseconds (the zero time is 0),
// for capabilities that run their own named queries.
func ToMS(t time.Time) int64 { return toMS(t) }

// FromMS is the inverse of ToMS.
func FromMS(v int64) time.Time { return fromMS(v) }

// toMS converts a time to stored Unix milliseconds; the zero time is 0.
func toMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS is the inverse of toMS.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
