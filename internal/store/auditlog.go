package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mamori-dev/mamori/internal/audit"
)

// auditLockKey is the PostgreSQL advisory lock that serialises appends:
// each entry's index and previous hash come from the one before it, so two
// transactions must not read the same head. SQLite's single writer already
// serialises them.
const auditLockKey = 0x6d616d6f7269 // "mamori"

// appendLeaf appends a as the next leaf of the audit log.
func (t *Tx) appendLeaf(ctx context.Context, a AuditEntry) (audit.Entry, error) {
	if t.s.dialect == Postgres {
		if _, err := t.tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(auditLockKey)); err != nil {
			return audit.Entry{}, fmt.Errorf("audit lock: %w", err)
		}
	}
	next, prev := int64(0), audit.Hash{}
	var h []byte
	err := t.tx.StmtContext(ctx, t.s.auditHead).QueryRowContext(ctx).Scan(&next, &h)
	switch {
	case isNoRows(err):
		next = 0
	case err != nil:
		return audit.Entry{}, fmt.Errorf("audit head: %w", err)
	default:
		if len(h) != len(prev) {
			return audit.Entry{}, fmt.Errorf("audit entry %d: stored hash of %d bytes", next, len(h))
		}
		copy(prev[:], h)
		next++
	}
	e := audit.Entry{
		Time: a.At, Actor: a.Actor, Role: a.Role, Action: a.Action, Target: a.Target, Reason: a.Reason,
		RequestID: a.RequestID, Result: a.Result, Detail: a.Detail,
	}
	if err := e.Seal(next, prev); err != nil {
		return audit.Entry{}, fmt.Errorf("%w", err)
	}
	_, err = t.tx.StmtContext(ctx, t.s.auditInsert).ExecContext(ctx, e.Index, e.ID, toMS(e.Time), e.Actor, e.Role, e.Action,
		e.Target, e.Reason, e.RequestID, e.Result, e.Detail, e.Prev[:], e.Hash[:])
	if err != nil {
		return audit.Entry{}, fmt.Errorf("audit append: %w", err)
	}
	return e, nil
}

// prepareAudit prepares the two statements of every append once, when the
// store opens (inside a transaction the SQLite writer connection is taken):
// parsing them again for each entry costs a third of an audited write.
func (s *Store) prepareAudit(ctx context.Context) error {
	var err error
	if s.auditHead, err = s.w.PrepareContext(ctx, s.query("audit-head")); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if s.auditInsert, err = s.w.PrepareContext(ctx, s.query("audit-insert")); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

func scanEntry(rows interface{ Scan(...any) error }) (audit.Entry, error) {
	var e audit.Entry
	var at int64
	var prev, hash []byte
	if err := rows.Scan(&e.Index, &e.ID, &at, &e.Actor, &e.Role, &e.Action, &e.Target, &e.Reason, &e.RequestID,
		&e.Result, &e.Detail, &prev, &hash); err != nil {
		return e, err
	}
	e.Time = fromMS(at).UTC()
	// A hash of the wrong length is kept as zero bytes where it fits: the
	// verifier then reports the entry as changed rather than the reader
	// failing on it.
	copy(e.Prev[:], prev)
	copy(e.Hash[:], hash)
	if len(prev) != len(e.Prev) {
		e.Prev = audit.Hash{}
		e.Prev[0] = 1
	}
	if len(hash) != len(e.Hash) {
		e.Hash = audit.Hash{}
		e.Hash[0] = 1
	}
	return e, nil
}

// AuditEntries returns up to limit entries from index from on, optionally
// only those for target.
func (s *Store) AuditEntries(ctx context.Context, target string, from int64, limit int) ([]audit.Entry, error) {
	var rows *sql.Rows
	var err error
	if target == "" {
		rows, err = s.r.QueryContext(ctx, s.query("audit-entries"), from, limit)
	} else {
		rows, err = s.r.QueryContext(ctx, s.query("audit-entries-target"), target, from, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	defer rows.Close()
	out := []audit.Entry{}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return out, nil
}

// AuditEntry returns the entry at index i.
func (s *Store) AuditEntry(ctx context.Context, i int64) (audit.Entry, error) {
	e, err := scanEntry(s.r.QueryRowContext(ctx, s.query("audit-entry"), i))
	if isNoRows(err) {
		return e, fmt.Errorf("audit entry %d: %w", i, ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("audit entry %d: %w", i, err)
	}
	return e, nil
}

// EachAuditEntry calls f with every entry in index order, in one read; f
// must not keep the entry, which is reused.
func (s *Store) EachAuditEntry(ctx context.Context, f func(*audit.Entry) error) error {
	rows, err := s.r.QueryContext(ctx, s.query("audit-all"))
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		if err := f(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// AuditHashes returns the stored leaf hashes from index from on, at most
// limit, for the server's in-memory tree. They must be contiguous.
func (s *Store) AuditHashes(ctx context.Context, from int64, limit int) ([]audit.Hash, error) {
	rows, err := s.r.QueryContext(ctx, s.query("audit-hashes"), from, limit)
	if err != nil {
		return nil, fmt.Errorf("audit hashes: %w", err)
	}
	defer rows.Close()
	var out []audit.Hash
	for rows.Next() {
		var idx int64
		var b []byte
		if err := rows.Scan(&idx, &b); err != nil {
			return nil, fmt.Errorf("audit hashes: %w", err)
		}
		if want := from + int64(len(out)); idx != want || len(b) != len(audit.Hash{}) {
			return nil, fmt.Errorf("audit log: entry %d is missing or malformed (found index %d)", want, idx)
		}
		out = append(out, audit.Hash(b))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit hashes: %w", err)
	}
	return out, nil
}

// AddCheckpoint stores a signed checkpoint.
func (s *Store) AddCheckpoint(ctx context.Context, c audit.Checkpoint, signed []byte) error {
	return s.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, "audit-checkpoint-insert", c.Size, c.Root[:], toMS(c.Time), string(signed))
		return err
	})
}

// Checkpoints returns every signed checkpoint, smallest tree first.
func (s *Store) Checkpoints(ctx context.Context) ([][]byte, error) {
	rows, err := s.r.QueryContext(ctx, s.query("audit-checkpoints"))
	if err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("checkpoints: %w", err)
		}
		out = append(out, []byte(n))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	return out, nil
}

// LatestCheckpoint returns the signed checkpoint of the largest tree, or
// ErrNotFound before the first.
func (s *Store) LatestCheckpoint(ctx context.Context) ([]byte, error) {
	var n string
	err := s.r.QueryRowContext(ctx, s.query("audit-checkpoint-latest")).Scan(&n)
	if isNoRows(err) {
		return nil, fmt.Errorf("audit checkpoint: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return []byte(n), nil
}

// convertLegacyAudit moves the entries of the audit table of earlier
// versions into the audit log, oldest first, in one transaction: the old
// table could be rewritten by anyone with the database, so its entries are
// vouched for from the moment they are converted.
func (s *Store) convertLegacyAudit(ctx context.Context) error {
	return s.InTx(ctx, func(tx *Tx) error {
		rows, err := tx.tx.QueryContext(ctx, s.query("audit-legacy"))
		if err != nil {
			return fmt.Errorf("legacy audit: %w", err)
		}
		var old []AuditEntry
		for rows.Next() {
			var a AuditEntry
			var at int64
			if err := rows.Scan(&a.ID, &at, &a.Actor, &a.Role, &a.Action, &a.Target, &a.Reason, &a.Detail, &a.RequestID, &a.Result); err != nil {
				rows.Close()
				return fmt.Errorf("legacy audit: %w", err)
			}
			a.At = fromMS(at)
			old = append(old, a)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("legacy audit: %w", err)
		}
		if len(old) == 0 {
			return nil
		}
		for _, a := range old {
			if a.Result == "" {
				a.Result = audit.ResultOK
			}
			if a.At.IsZero() {
				a.At = fromMS(1)
			}
			if _, err := tx.appendLeaf(ctx, a); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, "audit-legacy-delete")
		return err
	})
}
