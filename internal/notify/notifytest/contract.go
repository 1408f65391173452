package notifytest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/notify"
	"github.com/mamori-dev/mamori/internal/notify/smtpout"
)

// Box is what an outbox implementation provides: sqlitebox and storebox
// run the same contract.
type Box interface {
	notify.Outbox
	notify.Campaigns
}

// OutboxContract checks an implementation's behaviour: duplicates ignored,
// compare-and-set moves, a real send with injected failures, lookups by
// Message-ID, counts, leases and campaign state changes.
func OutboxContract(t *testing.T, box Box) {
	ctx := context.Background()
	srv := Start(t, Options{})
	c := notify.Campaign{ID: "c-contract", State: notify.Draft, Templates: notify.DefaultTemplates(), Language: "ja",
		Texts: map[string]notify.Facts{"ja": {Organization: "株式会社サンプル", Summary: "s", Cause: "c", SecondaryHarm: "h", Contact: "x"}},
		From:  "notice@example.jp", Zone: "Asia/Tokyo", CreatedAt: time.Now()}
	if err := box.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	people := []notify.Person{
		{ID: "p-ok", Name: "一", Email: "ok@a.example"},
		{ID: "p-hard", Name: "二", Email: "rcpt550@a.example", PostalCode: "100-0001", Address: "東京都千代田区"},
		{ID: "p-flaky", Name: "三", Email: "flaky@b.example"},
	}
	var rows []notify.Row
	for _, p := range people {
		r, _ := notify.NewRow(c, p, time.Now())
		rows = append(rows, r)
	}
	for range 2 { // the second Add is a no-op
		if err := box.Add(ctx, rows); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := box.Counts(ctx, c.ID); err != nil || n.Total(notify.Queued) != 3 {
		t.Fatalf("counts after adding twice: %v, %v", n, err)
	}
	first, err := box.List(ctx, notify.Query{Campaign: c.ID, Limit: 1})
	if err != nil || len(first) != 1 || first[0].Person.ID != "p-ok" || first[0].Person.Name != "一" {
		t.Fatalf("list: %+v, %v", first, err)
	}
	if ok, err := box.Apply(ctx, []notify.Change{{ID: first[0].ID, From: notify.Sending, To: notify.Sent, At: time.Now()}}); err != nil || ok[0] {
		t.Errorf("a change from the wrong state applied: %v, %v", ok, err)
	}
	comp, err := notify.NewComposer(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	pool := smtpout.New(smtpout.Config{Addr: srv.Addr, TLS: "none"})
	defer pool.Close()
	s := &notify.Sender{Outbox: box, Transport: pool, Compose: comp.Compose, Workers: 2, Wait: true, Backoff: func(int) time.Duration { return time.Millisecond }}
	if err := s.Run(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	all, _ := box.List(ctx, notify.Query{Campaign: c.ID})
	got := map[string]string{}
	for _, r := range all {
		got[r.Person.ID+"/"+string(r.Channel)] = string(r.State)
	}
	want := map[string]string{"p-ok/email": "sent", "p-hard/email": "bounced", "p-hard/letter": "queued", "p-flaky/email": "sent"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s is %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if srv.Total() != 2 {
		t.Errorf("server accepted %d, want 2", srv.Total())
	}
	r, err := box.ByMessageID(ctx, rows[2].MessageID)
	if err != nil || r.Person.ID != "p-flaky" || r.Attempts != 2 || r.SendingAt.IsZero() || r.DoneAt.IsZero() {
		t.Errorf("by message id: %+v, %v", r, err)
	}
	if _, err := box.ByMessageID(ctx, "<nope@x>"); !errors.Is(err, notify.ErrNotFound) {
		t.Errorf("unknown message id: %v", err)
	}
	if _, ok, err := box.NextDue(ctx, c.ID, notify.Email); ok || err != nil {
		t.Errorf("next due with nothing queued: %v, %v", ok, err)
	}
	now := time.Now()
	if _, ok, _ := box.Lease(ctx, c.ID, "host/1/a", now.Add(time.Minute), now); !ok {
		t.Error("free lease refused")
	}
	if h, ok, _ := box.Lease(ctx, c.ID, "host/2/b", now.Add(time.Minute), now); ok || h != "host/1/a" {
		t.Errorf("held lease given away: %v %q", ok, h)
	}
	if _, ok, _ := box.Lease(ctx, c.ID, "host/2/b", now.Add(3*time.Minute), now.Add(2*time.Minute)); !ok {
		t.Error("expired lease refused")
	}
	c.State = notify.Approved
	if err := box.UpdateCampaign(ctx, c, notify.Running); !errors.Is(err, notify.ErrConflict) {
		t.Errorf("update from the wrong state: %v", err)
	}
	if err := box.UpdateCampaign(ctx, c, notify.Draft); err != nil {
		t.Error(err)
	}
	if got, err := box.Campaign(ctx, c.ID); err != nil || got.State != notify.Approved {
		t.Errorf("campaign: %v, %v", got.State, err)
	}
	if _, err := box.Campaign(ctx, "c-none"); !errors.Is(err, notify.ErrNotFound) {
		t.Errorf("unknown campaign: %v", err)
	}
}
