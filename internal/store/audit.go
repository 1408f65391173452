package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// AuditEntry is one recorded action: who (actor, under which role) did what
// to which target, when, why, in which API request, with which result.
type AuditEntry struct {
	ID     int64
	At     time.Time
	Actor  string
	Role   string
	Action string
	Target string
	Reason string
	// Detail is what changed, e.g. "normal -> heightened".
	Detail    string
	RequestID string
	// Result is "ok" or why the action was refused or failed.
	Result string
}

// AppendAudit records an action in the transaction of the change it
// records, so that both commit or neither does. An entry without actor or
// action is refused.
func (t *Tx) AppendAudit(ctx context.Context, a AuditEntry) error {
	if a.Actor == "" || a.Action == "" {
		return errors.New("store: audit entry without actor or action")
	}
	if a.Result == "" {
		a.Result = "ok"
	}
	_, err := t.Exec(ctx, "insert-audit", toMS(a.At), a.Actor, a.Role, a.Action, a.Target, a.Reason, a.Detail, a.RequestID, a.Result)
	return err
}

// AppendAudit records an action that changes nothing else in the
// database (e.g. a token file rotated).
func (s *Store) AppendAudit(ctx context.Context, a AuditEntry) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.AppendAudit(ctx, a) })
}

// AuditLog lists actions in order, optionally for one target, after id
// afterID, at most limit (0 means 1000).
func (s *Store) AuditLog(ctx context.Context, target string, afterID int64, limit int) ([]AuditEntry, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.r.QueryContext(ctx, s.query("list-audit"), target, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: audit: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var a AuditEntry
		var at int64
		if err := rows.Scan(&a.ID, &at, &a.Actor, &a.Role, &a.Action, &a.Target, &a.Reason, &a.Detail, &a.RequestID, &a.Result); err != nil {
			return nil, fmt.Errorf("store: audit: %w", err)
		}
		a.At = fromMS(at)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: audit: %w", err)
	}
	return out, nil
}

// Setting returns a stored setting or ErrNotFound.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	return setting(ctx, s.r, s.query("get-setting"), key)
}

// Setting returns a stored setting or ErrNotFound, as the transaction sees
// it.
func (t *Tx) Setting(ctx context.Context, key string) (string, error) {
	return setting(ctx, t.tx, t.s.query("get-setting"), key)
}

func setting(ctx context.Context, q querier, query, key string) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, query, key).Scan(&v)
	if isNoRows(err) {
		return "", fmt.Errorf("setting %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: setting %s: %w", key, err)
	}
	return v, nil
}

// PutSetting stores a setting, replacing any previous value.
func (t *Tx) PutSetting(ctx context.Context, key, value string) error {
	_, err := t.Exec(ctx, "put-setting", key, value)
	return err
}
