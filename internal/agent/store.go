package agent

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/mamori-dev/mamori/internal/dbfile"
	"path/filepath"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/wire"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

//go:embed store.sql
var storeSQL string

// queries holds store.sql split at its "-- name:" markers.
var queries = func() map[string]string {
	q := map[string]string{}
	for _, part := range strings.Split(storeSQL, "-- name: ")[1:] {
		name, body, _ := strings.Cut(part, "\n")
		q[strings.TrimSpace(name)] = strings.TrimSpace(body)
	}
	return q
}()

func query(name string) string {
	q, ok := queries[name]
	if !ok {
		panic("agent: no query " + name + " in store.sql")
	}
	return q
}

// store is the agent's state in DIR/agent.db: the findings queue, small
// key/value state (bundle, monitoring level, isolation) and the sweeps it
// was given. Writes are synchronous (WAL with synchronous=FULL) so that a
// finding the queue accepted survives a crash or power loss.
type store struct {
	db *sql.DB
	// notify is signalled (without blocking) on every enqueue so the
	// sender wakes up.
	notify chan struct{}
}

func openStore(ctx context.Context, dir string) (*store, error) {
	path := filepath.Join(dir, "agent.db")
	if err := dbfile.OwnerOnly(path); err != nil {
		return nil, fmt.Errorf("agent database: %w", err)
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("agent database: open %s: %w", path, err)
	}
	// One connection: SQLite serialises writers anyway, and this keeps
	// the queue's ordering simple.
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, query("schema")); err != nil {
		db.Close()
		return nil, fmt.Errorf("agent database: %s: schema: %w", path, err)
	}
	return &store{db: db, notify: make(chan struct{}, 1)}, nil
}

func (s *store) Close() error { return s.db.Close() }

// Enqueue stores findings durably. A finding whose ID is already queued is
// not stored twice.
func (s *store) Enqueue(ctx context.Context, fs []wire.Finding) error {
	if len(fs) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("agent database: queue: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, query("enqueue"))
	if err != nil {
		return fmt.Errorf("agent database: queue: %w", err)
	}
	for _, f := range fs {
		b, err := json.Marshal(f)
		if err != nil {
			return fmt.Errorf("agent database: queue finding %s: %w", f.ID, err)
		}
		if _, err := stmt.ExecContext(ctx, f.ID, b); err != nil {
			return fmt.Errorf("agent database: queue finding %s: %w", f.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("agent database: queue: %w", err)
	}
	select {
	case s.notify <- struct{}{}:
	default:
	}
	return nil
}

// queued is one finding read back from the queue.
type queued struct {
	seq     int64
	finding wire.Finding
	// size is the finding's JSON encoding in bytes, as it goes on the wire.
	size int
}

// Pending returns up to limit findings queued after seq, oldest first.
func (s *store) Pending(ctx context.Context, after int64, limit int) ([]queued, error) {
	rows, err := s.db.QueryContext(ctx, query("pending"), after, limit)
	if err != nil {
		return nil, fmt.Errorf("agent database: queue: %w", err)
	}
	defer rows.Close()
	var out []queued
	for rows.Next() {
		var q queued
		var body []byte
		if err := rows.Scan(&q.seq, &body); err != nil {
			return nil, fmt.Errorf("agent database: queue: %w", err)
		}
		if err := json.Unmarshal(body, &q.finding); err != nil {
			return nil, fmt.Errorf("agent database: queue entry %d: %w", q.seq, err)
		}
		q.size = len(body)
		out = append(out, q)
	}
	return out, rows.Err()
}

// Delete removes the acknowledged findings first..last.
func (s *store) Delete(ctx context.Context, first, last int64) error {
	if _, err := s.db.ExecContext(ctx, query("delete-range"), first, last); err != nil {
		return fmt.Errorf("agent database: queue: %w", err)
	}
	return nil
}

// Len is the number of findings awaiting acknowledgement.
func (s *store) Len(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, query("count")).Scan(&n)
	return n, err
}

// Bounds returns the oldest and newest queued sequence numbers, 0 and 0
// for an empty queue.
func (s *store) Bounds(ctx context.Context) (first, last int64, err error) {
	err = s.db.QueryRowContext(ctx, query("bounds")).Scan(&first, &last)
	if err != nil {
		err = fmt.Errorf("agent database: queue: %w", err)
	}
	return first, last, err
}

// WaitDelivered returns once every finding queued up to seq has been
// acknowledged and removed, or when ctx ends.
func (s *store) WaitDelivered(ctx context.Context, seq int64) error {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		first, _, err := s.Bounds(ctx)
		if err != nil {
			return err
		}
		if first == 0 || first > seq {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// GetState decodes the JSON value of key into v; it reports false when the
// key is unset.
func (s *store) GetState(ctx context.Context, key string, v any) (bool, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, query("get-state"), key).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("agent database: state %s: %w", key, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("agent database: state %s: %w", key, err)
	}
	return true, nil
}

// PutState stores v as JSON under key.
func (s *store) PutState(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("agent database: state %s: %w", key, err)
	}
	if _, err := s.db.ExecContext(ctx, query("put-state"), key, b); err != nil {
		return fmt.Errorf("agent database: state %s: %w", key, err)
	}
	return nil
}

// sweepRow is a sweep the agent was given, with its local progress.
type sweepRow struct {
	sweep    wire.Sweep
	status   wire.SweepStatus
	accepted bool // state is still "queued": not started here yet
}

// AddSweep records a sweep; it reports false when the sweep was known.
func (s *store) AddSweep(ctx context.Context, sw wire.Sweep) (bool, error) {
	b, err := json.Marshal(sw)
	if err != nil {
		return false, fmt.Errorf("agent database: sweep %s: %w", sw.SweepID, err)
	}
	res, err := s.db.ExecContext(ctx, query("add-sweep"), sw.SweepID, b, sw.ExpiresAt.Unix())
	if err != nil {
		return false, fmt.Errorf("agent database: sweep %s: %w", sw.SweepID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// UpdateSweep stores a sweep's progress.
func (s *store) UpdateSweep(ctx context.Context, st wire.SweepStatus) error {
	if _, err := s.db.ExecContext(ctx, query("update-sweep"), st.State, st.Files, st.Findings, st.Error, st.SweepID); err != nil {
		return fmt.Errorf("agent database: sweep %s: %w", st.SweepID, err)
	}
	return nil
}

// Sweeps lists the sweeps not yet expired, oldest first; expired ones are
// forgotten.
func (s *store) Sweeps(ctx context.Context, now time.Time) ([]sweepRow, error) {
	if _, err := s.db.ExecContext(ctx, query("prune-sweeps"), now.Unix()); err != nil {
		return nil, fmt.Errorf("agent database: sweeps: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, query("sweeps"))
	if err != nil {
		return nil, fmt.Errorf("agent database: sweeps: %w", err)
	}
	defer rows.Close()
	var out []sweepRow
	for rows.Next() {
		var r sweepRow
		var body []byte
		if err := rows.Scan(&r.status.SweepID, &body, &r.status.State, &r.status.Files, &r.status.Findings, &r.status.Error); err != nil {
			return nil, fmt.Errorf("agent database: sweeps: %w", err)
		}
		if err := json.Unmarshal(body, &r.sweep); err != nil {
			return nil, fmt.Errorf("agent database: sweep %s: %w", r.status.SweepID, err)
		}
		r.accepted = r.status.State == wire.SweepQueued
		out = append(out, r)
	}
	return out, rows.Err()
}
