// Package sqlitebox keeps notice campaigns and their outbox in a SQLite file
// of their own: what `mamori notify` uses when it works from a register
// export rather than through the server.
package sqlitebox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/notify"
	_ "modernc.org/sqlite"
)

const schema = `
CREATE TABLE IF NOT EXISTS notify_campaigns (
	id TEXT PRIMARY KEY,
	state TEXT NOT NULL,
	doc TEXT NOT NULL,
	lease_owner TEXT NOT NULL DEFAULT '',
	lease_until INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS notify_outbox (
	id INTEGER PRIMARY KEY,
	campaign TEXT NOT NULL,
	person_id TEXT NOT NULL,
	channel TEXT NOT NULL,
	state TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	next_at INTEGER NOT NULL DEFAULT 0,
	message_id TEXT NOT NULL DEFAULT '',
	person TEXT NOT NULL,
	response TEXT NOT NULL DEFAULT '',
	bounce TEXT NOT NULL DEFAULT '',
	batch TEXT NOT NULL DEFAULT '',
	queued_at INTEGER NOT NULL DEFAULT 0,
	sending_at INTEGER NOT NULL DEFAULT 0,
	done_at INTEGER NOT NULL DEFAULT 0,
	UNIQUE (campaign, person_id, channel)
);
CREATE INDEX IF NOT EXISTS notify_outbox_state ON notify_outbox (campaign, channel, state, id);
CREATE INDEX IF NOT EXISTS notify_outbox_message ON notify_outbox (message_id);
`

// Box is a campaign store and outbox on one SQLite file.
type Box struct {
	w, r *sql.DB
}

// Open opens or creates the file. Every commit is synchronous (WAL with
// synchronous=FULL): a row is durably `sending` before the SMTP DATA starts,
// even across a power cut.
func Open(ctx context.Context, file string) (*Box, error) {
	const pragmas = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)"
	w, err := sql.Open("sqlite", "file:"+file+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("outbox %s: %w", file, err)
	}
	w.SetMaxOpenConns(1)
	if _, err := w.ExecContext(ctx, schema); err != nil {
		w.Close()
		return nil, fmt.Errorf("outbox %s: schema: %w", file, err)
	}
	r, err := sql.Open("sqlite", "file:"+file+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("outbox %s: %w", file, err)
	}
	r.SetMaxOpenConns(4)
	return &Box{w: w, r: r}, nil
}

// Close closes the file.
func (b *Box) Close() error { return errors.Join(b.r.Close(), b.w.Close()) }

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// Add implements notify.Outbox.
func (b *Box) Add(ctx context.Context, rows []notify.Row) error {
	tx, err := b.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("outbox add: %w", err)
	}
	defer tx.Rollback()
	if err := insert(ctx, tx, rows); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("outbox add: %w", err)
	}
	return nil
}

func insert(ctx context.Context, tx *sql.Tx, rows []notify.Row) error {
	st, err := tx.PrepareContext(ctx, `INSERT INTO notify_outbox (campaign, person_id, channel, state, attempts, next_at, message_id, person, queued_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (campaign, person_id, channel) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("outbox add: %w", err)
	}
	defer st.Close()
	for _, r := range rows {
		p, err := json.Marshal(r.Person)
		if err != nil {
			return fmt.Errorf("outbox add: %w", err)
		}
		if _, err := st.ExecContext(ctx, r.Campaign, r.Person.ID, string(r.Channel), string(r.State), r.Attempts, ms(r.NextAt), r.MessageID, string(p), ms(r.QueuedAt)); err != nil {
			return fmt.Errorf("outbox add %s: %w", r.Person.ID, err)
		}
	}
	return nil
}

const columns = `id, campaign, channel, state, attempts, next_at, message_id, person, response, bounce, batch, queued_at, sending_at, done_at`

func scan(rs interface{ Scan(...any) error }) (notify.Row, error) {
	var r notify.Row
	var ch, st, person string
	var next, q, s, d int64
	if err := rs.Scan(&r.ID, &r.Campaign, &ch, &st, &r.Attempts, &next, &r.MessageID, &person, &r.Response, &r.Bounce, &r.Batch, &q, &s, &d); err != nil {
		return r, err
	}
	r.Channel, r.State = notify.Channel(ch), notify.State(st)
	r.NextAt, r.QueuedAt, r.SendingAt, r.DoneAt = fromMS(next), fromMS(q), fromMS(s), fromMS(d)
	if err := json.Unmarshal([]byte(person), &r.Person); err != nil {
		return r, fmt.Errorf("row %d: person: %w", r.ID, err)
	}
	return r, nil
}

// List implements notify.Outbox.
func (b *Box) List(ctx context.Context, q notify.Query) ([]notify.Row, error) {
	var where []string
	args := []any{q.Campaign, q.After}
	where = append(where, "campaign = ?", "id > ?")
	if q.Channel != "" {
		where, args = append(where, "channel = ?"), append(args, string(q.Channel))
	}
	if q.State != "" {
		where, args = append(where, "state = ?"), append(args, string(q.State))
	}
	if q.Batch != "" {
		where, args = append(where, "batch = ?"), append(args, q.Batch)
	}
	if !q.DueBy.IsZero() {
		where, args = append(where, "next_at <= ?"), append(args, ms(q.DueBy))
	}
	if q.Limit <= 0 {
		q.Limit = 500
	}
	args = append(args, q.Limit)
	rs, err := b.r.QueryContext(ctx, "SELECT "+columns+" FROM notify_outbox WHERE "+strings.Join(where, " AND ")+" ORDER BY id LIMIT ?", args...)
	if err != nil {
		return nil, fmt.Errorf("outbox list: %w", err)
	}
	defer rs.Close()
	var out []notify.Row
	for rs.Next() {
		r, err := scan(rs)
		if err != nil {
			return nil, fmt.Errorf("outbox list: %w", err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("outbox list: %w", err)
	}
	return out, nil
}

func ends(s notify.State) bool {
	return s == notify.Sent || s == notify.Failed || s == notify.Bounced || s == notify.Unknown
}

// Apply implements notify.Outbox.
func (b *Box) Apply(ctx context.Context, changes []notify.Change) ([]bool, error) {
	tx, err := b.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("outbox apply: %w", err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `UPDATE notify_outbox SET state = ?, attempts = ?, next_at = ?,
		response = CASE WHEN ? = '' THEN response ELSE ? END,
		bounce = CASE WHEN ? = '' THEN bounce ELSE ? END,
		batch = CASE WHEN ? = '' THEN batch ELSE ? END,
		sending_at = CASE WHEN ? > 0 THEN ? ELSE sending_at END,
		done_at = CASE WHEN ? > 0 THEN ? ELSE done_at END
		WHERE id = ? AND state = ?`)
	if err != nil {
		return nil, fmt.Errorf("outbox apply: %w", err)
	}
	defer st.Close()
	ok := make([]bool, len(changes))
	for i, c := range changes {
		var sending, done int64
		if c.To == notify.Sending {
			sending = ms(c.At)
		}
		if ends(c.To) {
			done = ms(c.At)
		}
		res, err := st.ExecContext(ctx, string(c.To), c.Attempts, ms(c.NextAt), c.Response, c.Response, c.Bounce, c.Bounce, c.Batch, c.Batch,
			sending, sending, done, done, c.ID, string(c.From))
		if err != nil {
			return nil, fmt.Errorf("outbox apply row %d: %w", c.ID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, fmt.Errorf("outbox apply row %d: %w", c.ID, err)
		}
		ok[i] = n == 1
		if ok[i] && c.Add != nil {
			if err := insert(ctx, tx, []notify.Row{*c.Add}); err != nil {
				return nil, err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("outbox apply: %w", err)
	}
	return ok, nil
}

// ByMessageID implements notify.Outbox.
func (b *Box) ByMessageID(ctx context.Context, mid string) (notify.Row, error) {
	r, err := scan(b.r.QueryRowContext(ctx, "SELECT "+columns+" FROM notify_outbox WHERE message_id = ? AND channel = 'email'", mid))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("outbox: message %s: %w", mid, notify.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("outbox: message %s: %w", mid, err)
	}
	return r, nil
}

// Counts implements notify.Outbox.
func (b *Box) Counts(ctx context.Context, campaign string) (notify.Counts, error) {
	rs, err := b.r.QueryContext(ctx, "SELECT channel, state, COUNT(*) FROM notify_outbox WHERE campaign = ? GROUP BY channel, state", campaign)
	if err != nil {
		return nil, fmt.Errorf("outbox counts: %w", err)
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
func (b *Box) NextDue(ctx context.Context, campaign string, ch notify.Channel) (time.Time, bool, error) {
	var at sql.NullInt64
	err := b.r.QueryRowContext(ctx, "SELECT MIN(next_at) FROM notify_outbox WHERE campaign = ? AND channel = ? AND state = 'queued'", campaign, string(ch)).Scan(&at)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("outbox next due: %w", err)
	}
	if !at.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(at.Int64).UTC(), true, nil
}

// CreateCampaign implements notify.Campaigns.
func (b *Box) CreateCampaign(ctx context.Context, c notify.Campaign) error {
	doc, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("campaign %s: %w", c.ID, err)
	}
	if _, err := b.w.ExecContext(ctx, "INSERT INTO notify_campaigns (id, state, doc) VALUES (?, ?, ?)", c.ID, string(c.State), string(doc)); err != nil {
		return fmt.Errorf("campaign %s: %w", c.ID, err)
	}
	return nil
}

// Campaign implements notify.Campaigns.
func (b *Box) Campaign(ctx context.Context, id string) (notify.Campaign, error) {
	var c notify.Campaign
	var doc string
	err := b.r.QueryRowContext(ctx, "SELECT doc FROM notify_campaigns WHERE id = ?", id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("campaign %s: %w", id, notify.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("campaign %s: %w", id, err)
	}
	if err := json.Unmarshal([]byte(doc), &c); err != nil {
		return c, fmt.Errorf("campaign %s: %w", id, err)
	}
	return c, nil
}

// UpdateCampaign implements notify.Campaigns.
func (b *Box) UpdateCampaign(ctx context.Context, c notify.Campaign, from notify.CampaignState) error {
	doc, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("campaign %s: %w", c.ID, err)
	}
	res, err := b.w.ExecContext(ctx, "UPDATE notify_campaigns SET state = ?, doc = ? WHERE id = ? AND state = ?", string(c.State), string(doc), c.ID, string(from))
	if err != nil {
		return fmt.Errorf("campaign %s: %w", c.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("campaign %s is not %s: %w", c.ID, from, notify.ErrConflict)
	}
	return nil
}

// Lease implements notify.Campaigns.
func (b *Box) Lease(ctx context.Context, id, owner string, until, now time.Time) (string, bool, error) {
	tx, err := b.w.BeginTx(ctx, nil)
	if err != nil {
		return "", false, fmt.Errorf("campaign %s lease: %w", id, err)
	}
	defer tx.Rollback()
	var holder string
	var exp int64
	err = tx.QueryRowContext(ctx, "SELECT lease_owner, lease_until FROM notify_campaigns WHERE id = ?", id).Scan(&holder, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, fmt.Errorf("campaign %s: %w", id, notify.ErrNotFound)
	}
	if err != nil {
		return "", false, fmt.Errorf("campaign %s lease: %w", id, err)
	}
	if holder != "" && holder != owner && exp > ms(now) && !notify.OwnerGone(holder) {
		return holder, false, nil
	}
	if _, err := tx.ExecContext(ctx, "UPDATE notify_campaigns SET lease_owner = ?, lease_until = ? WHERE id = ?", owner, ms(until), id); err != nil {
		return "", false, fmt.Errorf("campaign %s lease: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return "", false, fmt.Errorf("campaign %s lease: %w", id, err)
	}
	return owner, true, nil
}
