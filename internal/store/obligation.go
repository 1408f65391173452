package store

import (
	"context"
	"fmt"
	"time"
)

// ObligationFacts are the facts a person set for an incident's
// obligations assessment: the JSON document internal/obligation reads and
// the drafts' narrative (its DraftContext), kept as written, with who set
// them, when and why.
type ObligationFacts struct {
	IncidentID string
	Facts      []byte
	Context    []byte
	UpdatedAt  time.Time
	UpdatedBy  string
	Reason     string
}

// ObligationFacts returns the facts set for an incident, or ErrNotFound
// when none were (the facts are then derived).
func (s *Store) ObligationFacts(ctx context.Context, incidentID string) (*ObligationFacts, error) {
	return obligationFacts(ctx, s.r, s.query("obligation-facts-get"), incidentID)
}

// ObligationFacts is the same read inside a transaction.
func (t *Tx) ObligationFacts(ctx context.Context, incidentID string) (*ObligationFacts, error) {
	return obligationFacts(ctx, t.tx, t.s.query("obligation-facts-get"), incidentID)
}

func obligationFacts(ctx context.Context, q querier, query, id string) (*ObligationFacts, error) {
	o := &ObligationFacts{IncidentID: id}
	var facts, dctx string
	var at int64
	err := q.QueryRowContext(ctx, query, id).Scan(&facts, &dctx, &at, &o.UpdatedBy, &o.Reason)
	if isNoRows(err) {
		return nil, fmt.Errorf("obligation facts of incident %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("obligation facts of incident %s: %w", id, err)
	}
	o.Facts, o.Context, o.UpdatedAt = []byte(facts), []byte(dctx), fromMS(at)
	return o, nil
}

// PutObligationFacts stores the facts set for an incident, replacing any
// earlier ones; the caller appends the audit entry in the same transaction.
func (t *Tx) PutObligationFacts(ctx context.Context, o *ObligationFacts) error {
	dctx := string(o.Context)
	if dctx == "" {
		dctx = "{}"
	}
	_, err := t.Exec(ctx, "obligation-facts-put", o.IncidentID, string(o.Facts), dctx, toMS(o.UpdatedAt), o.UpdatedBy, o.Reason)
	return err
}

// DeleteObligationFacts drops the facts set for an incident, so they are
// derived again.
func (t *Tx) DeleteObligationFacts(ctx context.Context, incidentID string) error {
	_, err := t.Exec(ctx, "obligation-facts-delete", incidentID)
	return err
}
