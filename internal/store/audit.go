package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mamori-dev/mamori/internal/audit"
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
// records, so that both commit or neither does: the entry becomes the next
// leaf of the audit log's Merkle tree (internal/audit). An entry without
// actor or action is refused. The hooks registered with OnAudit run in the
// same transaction.
func (t *Tx) AppendAudit(ctx context.Context, a AuditEntry) error {
	if a.Actor == "" || a.Action == "" {
		return errors.New("audit entry without actor or action")
	}
	if a.Result == "" {
		a.Result = audit.ResultOK
	}
	e, err := t.appendLeaf(ctx, a)
	if err != nil {
		return err
	}
	for _, h := range t.s.auditHooks() {
		if err := h(ctx, t, e); err != nil {
			return err
		}
	}
	return nil
}

// AppendAudit records an action that changes nothing else in the
// database (e.g. a token file rotated, or a refused API call).
func (s *Store) AppendAudit(ctx context.Context, a AuditEntry) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.AppendAudit(ctx, a) })
}

// AuditHook runs inside the transaction of every audit append, after the
// entry: a capability reacting to audited changes (the incident workspace
// records a linked host's isolation in the incident's history) commits
// with them.
type AuditHook func(ctx context.Context, tx *Tx, e audit.Entry) error

// OnAudit registers a hook; capabilities register theirs when they are
// built, before the server serves.
func (s *Store) OnAudit(h AuditHook) {
	s.hookMu.Lock()
	defer s.hookMu.Unlock()
	s.onAudit = append(s.onAudit, h)
}

func (s *Store) auditHooks() []AuditHook {
	s.hookMu.RLock()
	defer s.hookMu.RUnlock()
	return s.onAudit
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
		return "", fmt.Errorf("setting %s: %w", key, err)
	}
	return v, nil
}

// PutSetting stores a setting, replacing any previous value.
func (t *Tx) PutSetting(ctx context.Context, key, value string) error {
	_, err := t.Exec(ctx, "put-setting", key, value)
	return err
}
