package store

import (
	"context"
	"fmt"
	"time"
)

// Audit is one recorded action: who did what to which target, when and why.
type Audit struct {
	ID     int64
	At     time.Time
	Actor  string
	Action string
	Target string
	Reason string
	Detail string
}

// AddAudit records an action.
func (s *Store) AddAudit(ctx context.Context, a Audit) error {
	return s.exec(ctx, "insert-audit", toMS(a.At), a.Actor, a.Action, a.Target, a.Reason, a.Detail)
}

// AuditLog lists actions in order, optionally for one target, after id
// afterID, at most limit (0 means 1000).
func (s *Store) AuditLog(ctx context.Context, target string, afterID int64, limit int) ([]Audit, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.r.QueryContext(ctx, s.query("list-audit"), target, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: audit: %w", err)
	}
	defer rows.Close()
	out := []Audit{}
	for rows.Next() {
		var a Audit
		var at int64
		if err := rows.Scan(&a.ID, &at, &a.Actor, &a.Action, &a.Target, &a.Reason, &a.Detail); err != nil {
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
	var v string
	err := s.r.QueryRowContext(ctx, s.query("get-setting"), key).Scan(&v)
	if isNoRows(err) {
		return "", fmt.Errorf("store: setting %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: setting %s: %w", key, err)
	}
	return v, nil
}

// PutSetting stores a setting, replacing any previous value.
func (s *Store) PutSetting(ctx context.Context, key, value string) error {
	return s.exec(ctx, "put-setting", key, value)
}
