// Package storebox keeps notice campaigns and their outbox in the server's
// store (SQLite or PostgreSQL), through the named queries in
// internal/store/queries/notify.sql. It is a thin adapter: the semantics
// are notify's, and sqlitebox implements the same interfaces on a file of
// its own.
package storebox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mamori-dev/mamori/internal/notify"
	"github.com/mamori-dev/mamori/internal/store"
)

// Box is a notify.Outbox and notify.Campaigns on a store.
type Box struct {
	S *store.Store
}

func ms(t time.Time) int64 { return store.ToMS(t) }

// Add implements notify.Outbox.
func (b Box) Add(ctx context.Context, rows []notify.Row) error {
	return b.S.InTx(ctx, func(tx *store.Tx) error { return Insert(ctx, tx, rows) })
}

// Insert adds outbox rows in tx, for a caller that audits in the same
// transaction.
func Insert(ctx context.Context, tx *store.Tx, rows []notify.Row) error {
	for _, r := range rows {
		p, err := json.Marshal(r.Person)
		if err != nil {
			return fmt.Errorf("outbox add: %w", err)
		}
		if _, err := tx.Exec(ctx, "notify-outbox-insert", r.Campaign, r.Person.ID, string(r.Channel), string(r.State), r.Attempts, ms(r.NextAt), r.MessageID, string(p), ms(r.QueuedAt)); err != nil {
			return fmt.Errorf("outbox add %s: %w", r.Person.ID, err)
		}
	}
	return nil
}

func scanRows(rs *sql.Rows) ([]notify.Row, error) {
	defer rs.Close()
	var out []notify.Row
	for rs.Next() {
		var r notify.Row
		var ch, st, person string
		var next, q, s, d int64
		if err := rs.Scan(&r.ID, &r.Campaign, &ch, &st, &r.Attempts, &next, &r.MessageID, &person, &r.Response, &r.Bounce, &r.Batch, &q, &s, &d); err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
		r.Channel, r.State = notify.Channel(ch), notify.State(st)
		r.NextAt, r.QueuedAt, r.SendingAt, r.DoneAt = store.FromMS(next), store.FromMS(q), store.FromMS(s), store.FromMS(d)
		if err := json.Unmarshal([]byte(person), &r.Person); err != nil {
			return nil, fmt.Errorf("outbox row %d: person: %w", r.ID, err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return out, nil
}

// List implements notify.Outbox.
func (b Box) List(ctx context.Context, q notify.Query) ([]notify.Row, error) {
	if q.Limit <= 0 {
		q.Limit = 500
	}
	var rs *sql.Rows
	var err error
	if !q.DueBy.IsZero() && q.Channel != "" && q.State != "" && q.Batch == "" {
		rs, err = b.S.Query(ctx, "notify-outbox-due", q.Campaign, string(q.Channel), string(q.State), q.After, ms(q.DueBy), q.Limit)
	} else if q.DueBy.IsZero() {
		rs, err = b.S.Query(ctx, "notify-outbox-list", q.Campaign, q.After, string(q.Channel), string(q.State), q.Batch, q.Limit)
	} else {
		return nil, errors.New("outbox list: a due-by query needs a channel and a state")
	}
	if err != nil {
		return nil, err
	}
	return scanRows(rs)
}

// Apply implements notify.Outbox.
func (b Box) Apply(ctx context.Context, changes []notify.Change) ([]bool, error) {
	var ok []bool
	err := b.S.InTx(ctx, func(tx *store.Tx) error {
		ok = make([]bool, len(changes))
		for i, c := range changes {
			var sending, done int64
			if c.To == notify.Sending {
				sending = ms(c.At)
			}
			switch c.To {
			case notify.Sent, notify.Failed, notify.Bounced, notify.Unknown:
				done = ms(c.At)
			}
			res, err := tx.Exec(ctx, "notify-outbox-apply", string(c.To), c.Attempts, ms(c.NextAt), c.Response, c.Bounce, c.Batch, sending, done, c.ID, string(c.From))
			if err != nil {
				return fmt.Errorf("outbox apply row %d: %w", c.ID, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("outbox apply row %d: %w", c.ID, err)
			}
			ok[i] = n == 1
			if ok[i] && c.Add != nil {
				if err := Insert(ctx, tx, []notify.Row{*c.Add}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return ok, err
}

// ByMessageID implements notify.Outbox.
func (b Box) ByMessageID(ctx context.Context, mid string) (notify.Row, error) {
	rs, err := b.S.Query(ctx, "notify-outbox-by-message", mid)
	if err != nil {
		return notify.Row{}, err
	}
	rows, err := scanRows(rs)
	if err != nil {
		return notify.Row{}, err
	}
	if len(rows) == 0 {
		return notify.Row{}, fmt.Errorf("outbox: message %s: %w", mid, notify.ErrNotFound)
	}
	return rows[0], nil
}

// Counts implements notify.Outbox.
func (b Box) Counts(ctx context.Context, campaign string) (notify.Counts, error) {
	rs, err := b.S.Query(ctx, "notify-outbox-counts", campaign)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := notify.Counts{}
	for rs.Next() {
		var ch, st string
		var n int
		if err := rs.Scan(&ch, &st, &n); err != nil {
			return nil, fmt.Errorf("outbox counts: %w", err)
		}
		if out[notify.Channel(ch)] == nil {
			out[notify.Channel(ch)] = map[notify.State]int{}
		}
		out[notify.Channel(ch)][notify.State(st)] = n
	}
	return out, rs.Err()
}

// NextDue implements notify.Outbox.
func (b Box) NextDue(ctx context.Context, campaign string, ch notify.Channel) (time.Time, bool, error) {
	rs, err := b.S.Query(ctx, "notify-outbox-next-due", campaign, string(ch))
	if err != nil {
		return time.Time{}, false, err
	}
	defer rs.Close()
	at := int64(-1)
	if rs.Next() {
		if err := rs.Scan(&at); err != nil {
			return time.Time{}, false, fmt.Errorf("outbox next due: %w", err)
		}
	}
	if at < 0 {
		return time.Time{}, false, rs.Err()
	}
	return time.UnixMilli(at).UTC(), true, rs.Err()
}

// CreateCampaign implements notify.Campaigns.
func (b Box) CreateCampaign(ctx context.Context, c notify.Campaign) error {
	return b.S.InTx(ctx, func(tx *store.Tx) error { return CreateCampaign(ctx, tx, c) })
}

// CreateCampaign stores c in tx, for a caller that audits in the same
// transaction.
func CreateCampaign(ctx context.Context, tx *store.Tx, c notify.Campaign) error {
	doc, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("campaign %s: %w", c.ID, err)
	}
	if _, err := tx.Exec(ctx, "notify-campaign-insert", c.ID, c.Incident, string(c.State), string(doc), ms(c.CreatedAt)); err != nil {
		return fmt.Errorf("campaign %s: %w", c.ID, err)
	}
	return nil
}

// Campaign implements notify.Campaigns.
func (b Box) Campaign(ctx context.Context, id string) (notify.Campaign, error) {
	cs, err := b.campaigns(ctx, "notify-campaign-by-id", id)
	if err != nil {
		return notify.Campaign{}, err
	}
	if len(cs) == 0 {
		return notify.Campaign{}, fmt.Errorf("campaign %s: %w", id, notify.ErrNotFound)
	}
	return cs[0], nil
}

// CampaignsOf lists an incident's campaigns in id order, a page at a time.
func (b Box) CampaignsOf(ctx context.Context, incident, after string, limit int) ([]notify.Campaign, error) {
	return b.campaigns(ctx, "notify-campaigns-of-incident", incident, after, limit)
}

func (b Box) campaigns(ctx context.Context, name string, args ...any) ([]notify.Campaign, error) {
	rs, err := b.S.Query(ctx, name, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []notify.Campaign
	for rs.Next() {
		var doc string
		if err := rs.Scan(&doc); err != nil {
			return nil, fmt.Errorf("campaigns: %w", err)
		}
		var c notify.Campaign
		if err := json.Unmarshal([]byte(doc), &c); err != nil {
			return nil, fmt.Errorf("campaigns: %w", err)
		}
		out = append(out, c)
	}
	return out, rs.Err()
}

// UpdateCampaign implements notify.Campaigns.
func (b Box) UpdateCampaign(ctx context.Context, c notify.Campaign, from notify.CampaignState) error {
	return b.S.InTx(ctx, func(tx *store.Tx) error { return UpdateCampaign(ctx, tx, c, from) })
}

// UpdateCampaign replaces c in tx if it is in state from, for a caller that
// audits in the same transaction.
func UpdateCampaign(ctx context.Context, tx *store.Tx, c notify.Campaign, from notify.CampaignState) error {
	doc, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("campaign %s: %w", c.ID, err)
	}
	res, err := tx.Exec(ctx, "notify-campaign-update", c.ID, string(c.State), string(doc), string(from))
	if err != nil {
		return fmt.Errorf("campaign %s: %w", c.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("campaign %s is not %s: %w", c.ID, from, notify.ErrConflict)
	}
	return nil
}

// Lease implements notify.Campaigns.
func (b Box) Lease(ctx context.Context, id, owner string, until, now time.Time) (string, bool, error) {
	var holder string
	ok := false
	err := b.S.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, "notify-campaign-lease-holder", id).Scan(&holder); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("campaign %s: %w", id, notify.ErrNotFound)
			}
			return fmt.Errorf("campaign %s lease: %w", id, err)
		}
		gone := ""
		if notify.OwnerGone(holder) {
			gone = holder
		}
		res, err := tx.Exec(ctx, "notify-campaign-lease", id, owner, ms(until), ms(now), gone)
		if err != nil {
			return fmt.Errorf("campaign %s lease: %w", id, err)
		}
		n, _ := res.RowsAffected()
		if ok = n == 1; ok {
			holder = owner
		}
		return nil
	})
	return holder, ok, err
}

// CampaignsInState lists campaigns in state st in id order, a page at a
// time: the background sender looks for the ones that are sending.
func (b Box) CampaignsInState(ctx context.Context, st notify.CampaignState, after string, limit int) ([]notify.Campaign, error) {
	return b.campaigns(ctx, "notify-campaigns-in-state", string(st), after, limit)
}
