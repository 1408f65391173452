package notify

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/mamori-dev/mamori/internal/notify/letter"
)

// PrintBatch puts up to limit queued letters of a campaign into batch (they
// become sending: printed, not yet posted) and writes the batch's PDF and
// contractor CSV. Called again with the same batch name it prints the same
// letters again, so a lost file never means a lost or doubled letter.
func PrintBatch(ctx context.Context, box Outbox, comp *Composer, batch string, limit int, fonts letter.Fonts, pdf, csv io.Writer) (int, error) {
	campaign := comp.Campaign.ID
	existing, err := box.List(ctx, Query{Campaign: campaign, Channel: Letter, Batch: batch, Limit: 1})
	if err != nil {
		return 0, err
	}
	if len(existing) == 0 {
		queued, err := box.List(ctx, Query{Campaign: campaign, Channel: Letter, State: Queued, Limit: limit})
		if err != nil {
			return 0, err
		}
		var changes []Change
		for _, r := range queued {
			changes = append(changes, Change{ID: r.ID, From: Queued, To: Sending, At: comp.Now(), Attempts: r.Attempts + 1, Batch: batch})
		}
		if len(changes) > 0 {
			if _, err := box.Apply(ctx, changes); err != nil {
				return 0, err
			}
		}
	}
	letters, err := render(ctx, box, comp, Query{Campaign: campaign, Channel: Letter, Batch: batch})
	if err != nil {
		return 0, err
	}
	if len(letters) == 0 {
		return 0, nil
	}
	sheets, err := letter.Write(pdf, letters, fonts)
	if err != nil {
		return 0, err
	}
	return len(letters), letter.WriteCSV(csv, batch, sheets)
}

// PrintPending marks every queued letter of a campaign printed (sending,
// in batch) and writes one PDF of all its letters printed and not yet
// posted. A second call before MarkPosted prints those letters again with
// any queued since, so a lost download never means a lost letter, and a
// letter queued after the download is not marked posted unprinted.
func PrintPending(ctx context.Context, box Outbox, comp *Composer, batch string, fonts letter.Fonts, pdf io.Writer) (int, error) {
	campaign := comp.Campaign.ID
	for {
		queued, err := box.List(ctx, Query{Campaign: campaign, Channel: Letter, State: Queued, Limit: 500})
		if err != nil {
			return 0, err
		}
		if len(queued) == 0 {
			break
		}
		var changes []Change
		for _, r := range queued {
			changes = append(changes, Change{ID: r.ID, From: Queued, To: Sending, At: comp.Now(), Attempts: r.Attempts + 1, Batch: batch})
		}
		if _, err := box.Apply(ctx, changes); err != nil {
			return 0, err
		}
	}
	letters, err := render(ctx, box, comp, Query{Campaign: campaign, Channel: Letter, State: Sending})
	if err != nil || len(letters) == 0 {
		return 0, err
	}
	if _, err := letter.Write(pdf, letters, fonts); err != nil {
		return 0, err
	}
	return len(letters), nil
}

// render lays out the letters of the rows q selects, in id order.
func render(ctx context.Context, box Outbox, comp *Composer, q Query) ([]letter.Letter, error) {
	var letters []letter.Letter
	q.Limit = 500
	for {
		rows, err := box.List(ctx, q)
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			return letters, nil
		}
		for _, r := range rows {
			q.After = r.ID
			rd, err := comp.Render(r.Person)
			if err != nil {
				return nil, err
			}
			letters = append(letters, letter.Letter{PersonID: r.Person.ID, PostalCode: r.Person.PostalCode, Address: r.Person.Address, Name: r.Person.Name,
				Date: FormatDate(comp.Now().In(comp.Zone), rd.Lang), Sender: comp.Campaign.Texts[rd.Lang].Organization, Body: rd.Text})
		}
	}
}

// MarkPosted records that the letters of a batch were posted on the date
// the operator gives; batch "" means every printed letter of the campaign.
func MarkPosted(ctx context.Context, box Outbox, campaign, batch string, posted time.Time) (int, error) {
	n := 0
	for {
		rows, err := box.List(ctx, Query{Campaign: campaign, Channel: Letter, State: Sending, Batch: batch, Limit: 500})
		if err != nil {
			return n, err
		}
		if len(rows) == 0 {
			if n == 0 {
				what := "batch " + batch
				if batch == "" {
					what = "campaign " + campaign
				}
				return 0, fmt.Errorf("%s: no printed letters waiting: %w", what, ErrNotFound)
			}
			return n, nil
		}
		var changes []Change
		for _, r := range rows {
			changes = append(changes, Change{ID: r.ID, From: Sending, To: Sent, At: posted, Attempts: r.Attempts, Response: "posted " + posted.Format("2006-01-02")})
		}
		if _, err := box.Apply(ctx, changes); err != nil {
			return n, err
		}
		n += len(changes)
	}
}
