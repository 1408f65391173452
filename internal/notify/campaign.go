package notify

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// NewRow makes the first outbox row for p in campaign c: e-mail when p has
// an address, a letter when only a postal address; ok is false when p
// cannot be reached either way.
func NewRow(c Campaign, p Person, now time.Time) (Row, bool) {
	ch, ok := p.Channel()
	if !ok {
		return Row{}, false
	}
	r := Row{Campaign: c.ID, Person: p, Channel: ch, State: Queued, QueuedAt: now}
	if ch == Email {
		r.MessageID = MessageID(c.ID, p.ID, c.From[strings.LastIndexByte(c.From, '@')+1:])
	}
	return r, true
}

// Freeze computes the hash that approval stores: the campaign's content
// (templates, incident texts by language, fallback, sender, zone) and every row's channel and person, in
// id order, up to row id upTo (all rows when 0; rows added later, such as
// letters after hard bounces, are not part of what was approved). It
// reads the outbox a page at a time and returns the last row id hashed.
func Freeze(ctx context.Context, box Outbox, c Campaign, upTo int64) (hash string, n int, last int64, err error) {
	h := sha256.New()
	content, _ := json.Marshal(struct {
		T map[string]TemplateSource
		L string
		X map[string]Facts
		S [5]string
	}{c.Templates, c.Language, c.Texts, [5]string{c.From, c.FromName, c.ReplyTo, c.Zone, c.Fallback}})
	h.Write(content)
	h.Write([]byte{'\n'})
	var after int64
	for {
		rows, err := box.List(ctx, Query{Campaign: c.ID, After: after, Limit: 1000})
		if err != nil {
			return "", 0, 0, err
		}
		if len(rows) == 0 || (upTo > 0 && rows[0].ID > upTo) {
			return hex.EncodeToString(h.Sum(nil)), n, after, nil
		}
		for _, r := range rows {
			if upTo > 0 && r.ID > upTo {
				break
			}
			p, _ := json.Marshal(r.Person)
			h.Write([]byte(string(r.Channel) + "\t"))
			h.Write(p)
			h.Write([]byte{'\n'})
			after = r.ID
			n++
		}
	}
}

// Approve validates the templates, freezes the recipient list and moves the
// campaign from draft to approved. A test send must have gone first.
func Approve(ctx context.Context, cs Campaigns, box Outbox, id, by, reason string, now time.Time) (Campaign, error) {
	c, err := cs.Campaign(ctx, id)
	if err != nil {
		return c, err
	}
	if c.State != Draft {
		return c, fmt.Errorf("campaign %s is %s; only a draft can be approved: %w", id, c.State, ErrConflict)
	}
	if c.TestSentAt.IsZero() {
		return c, fmt.Errorf("campaign %s: send a test notice first: %w", id, ErrConflict)
	}
	if _, err := ParseTemplates(c.Templates, c.Language); err != nil {
		return c, err
	}
	if strings.TrimSpace(reason) == "" {
		return c, fmt.Errorf("campaign %s: approval needs a reason", id)
	}
	if c.Hash, c.Recipients, c.LastRow, err = Freeze(ctx, box, c, 0); err != nil {
		return c, err
	}
	c.State, c.ApprovedBy, c.ApprovedAt, c.Reason = Approved, by, now.UTC(), reason
	return c, cs.UpdateCampaign(ctx, c, Draft)
}

// ExportHeader is the header of the proof-of-notice CSV.
var ExportHeader = []string{"campaign", "person_id", "name", "channel", "state", "attempts", "message_id", "queued_at", "sending_at", "done_at", "response", "bounce", "batch"}

// Export writes every row of a campaign as proof of notice, as CSV or
// JSONL, a page at a time. Times are RFC 3339 UTC. Contact details are left
// out: the proof says who was told, how and when.
func Export(ctx context.Context, box Outbox, campaign, format string, w io.Writer) error {
	var cw *csv.Writer
	enc := json.NewEncoder(w)
	switch format {
	case "csv":
		cw = csv.NewWriter(w)
		cw.Write(ExportHeader)
	case "jsonl":
	default:
		return fmt.Errorf("export: format %q: want csv or jsonl", format)
	}
	t := func(v time.Time) string {
		if v.IsZero() {
			return ""
		}
		return v.UTC().Format(time.RFC3339)
	}
	var after int64
	for {
		rows, err := box.List(ctx, Query{Campaign: campaign, After: after, Limit: 1000})
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			break
		}
		for _, r := range rows {
			after = r.ID
			rec := []string{r.Campaign, r.Person.ID, r.Person.Name, string(r.Channel), string(r.State), strconv.Itoa(r.Attempts), r.MessageID,
				t(r.QueuedAt), t(r.SendingAt), t(r.DoneAt), r.Response, r.Bounce, r.Batch}
			if cw != nil {
				if err := cw.Write(rec); err != nil {
					return fmt.Errorf("export: %w", err)
				}
				continue
			}
			obj := map[string]any{}
			for i, k := range ExportHeader {
				if rec[i] != "" {
					obj[k] = rec[i]
				}
			}
			obj["attempts"] = r.Attempts
			if err := enc.Encode(obj); err != nil {
				return fmt.Errorf("export: %w", err)
			}
		}
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	return nil
}
