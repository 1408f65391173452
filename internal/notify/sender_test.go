package notify_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mamori-dev/mamori/internal/notify"
	"github.com/mamori-dev/mamori/internal/notify/notifytest"
	"github.com/mamori-dev/mamori/internal/notify/smtpout"
	"github.com/mamori-dev/mamori/internal/notify/sqlitebox"
)

func facts() notify.Facts {
	return notify.Facts{Organization: "株式会社サンプル", Summary: "2026年11月20日、当社の顧客管理サーバーが不正アクセスを受けました。",
		Cause: "VPN装置の脆弱性を悪用されたことによるものです。", SecondaryHarm: "現時点で二次被害は確認されておりません。",
		Contact: "個人情報お問い合わせ窓口 0120-000-000（平日9時〜18時）"}
}

func testCampaign(id string) notify.Campaign {
	return notify.Campaign{ID: id, State: notify.Draft, Templates: notify.DefaultTemplates(), Language: "ja", Texts: map[string]notify.Facts{"ja": facts()},
		From: "notice@example.jp", FromName: "株式会社サンプル", Zone: "Asia/Tokyo", CreatedAt: time.Now()}
}

// setup creates an outbox with a campaign and one row per person.
func setup(t *testing.T, c notify.Campaign, people []notify.Person) *sqlitebox.Box {
	t.Helper()
	box, err := sqlitebox.Open(context.Background(), filepath.Join(t.TempDir(), "outbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { box.Close() })
	if err := box.CreateCampaign(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	var rows []notify.Row
	for _, p := range people {
		r, ok := notify.NewRow(c, p, time.Now())
		if !ok {
			t.Fatalf("person %s has no channel", p.ID)
		}
		rows = append(rows, r)
	}
	if err := box.Add(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	return box
}

func person(id, email string, postal bool) notify.Person {
	p := notify.Person{ID: id, Name: "山田 " + id, Email: email, Language: "ja", Items: []notify.Item{{Category: "email", Masked: "y***@example.com"}}}
	if postal {
		p.PostalCode, p.Address = "100-0001", "東京都千代田区千代田1-1"
	}
	return p
}

func sender(t *testing.T, box *sqlitebox.Box, c notify.Campaign, addr string) *notify.Sender {
	t.Helper()
	comp, err := notify.NewComposer(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	pool := smtpout.New(smtpout.Config{Addr: addr, TLS: "none", MaxConns: 4})
	t.Cleanup(func() { pool.Close() })
	return &notify.Sender{Outbox: box, Transport: pool, Compose: comp.Compose, Workers: 4, MaxAttempts: 3,
		Backoff: func(int) time.Duration { return time.Millisecond }, Wait: true}
}

type rowView struct {
	State    notify.State
	Attempts int
	Response string
	Bounce   string
}

func rowsByPerson(t *testing.T, box notify.Outbox, campaign string) map[string]rowView {
	t.Helper()
	rows, err := box.List(context.Background(), notify.Query{Campaign: campaign, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]rowView{}
	for _, r := range rows {
		out[r.Person.ID+"/"+string(r.Channel)] = rowView{r.State, r.Attempts, r.Response, r.Bounce}
	}
	return out
}

func TestSendStatesFromInjectedReplies(t *testing.T) {
	srv := notifytest.Start(t, notifytest.Options{})
	c := testCampaign("c-states")
	people := []notify.Person{
		person("p-ok1", "ok1@a.example", false),
		person("p-ok2", "ok2@b.example", true),
		person("p-r451", "rcpt451@a.example", true),
		person("p-r550", "rcpt550@a.example", true),
		person("p-r550n", "rcpt550n@a.example", false),
		person("p-d451", "data451@a.example", false),
		person("p-d554", "data554@b.example", true),
		person("p-flaky", "flaky@b.example", false),
		person("p-post", "", true),
	}
	box := setup(t, c, people)
	s := sender(t, box, c, srv.Addr)
	if err := s.Run(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	got := rowsByPerson(t, box, c.ID)
	for k, v := range got { // the accepted reply's queue id varies; its code does not
		if v.State == notify.Sent {
			v.Response = v.Response[:3]
			got[k] = v
		}
	}
	want := map[string]rowView{
		"p-ok1/email":   {notify.Sent, 1, "250", ""},
		"p-ok2/email":   {notify.Sent, 1, "250", ""},
		"p-r451/email":  {notify.Failed, 3, "451 4.2.0 mailbox busy, try later", ""},
		"p-r550/email":  {notify.Bounced, 1, "550 5.1.1 no such user", "550 5.1.1 no such user"},
		"p-r550/letter": {notify.Queued, 0, "", ""},
		"p-r550n/email": {notify.Bounced, 1, "550 5.1.1 no such user", "550 5.1.1 no such user"},
		"p-d451/email":  {notify.Failed, 3, "451 4.3.0 temporary failure", ""},
		"p-d554/email":  {notify.Bounced, 1, "554 5.6.0 content rejected", "554 5.6.0 content rejected"},
		"p-d554/letter": {notify.Queued, 0, "", ""},
		"p-flaky/email": {notify.Sent, 2, "250", ""},
		"p-post/letter": {notify.Queued, 0, "", ""},
	}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("rows (-got +want):\n%s", d)
	}
	wantRcpt := map[string]int{"ok1@a.example": 1, "ok2@b.example": 1, "flaky@b.example": 1}
	if d := cmp.Diff(srv.Recipients(), wantRcpt); d != "" {
		t.Errorf("accepted at the server (-got +want):\n%s", d)
	}
	// A second run finds nothing to do and sends nothing again.
	if err := s.Run(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	if srv.Total() != 3 {
		t.Errorf("server accepted %d messages after a second run, want 3", srv.Total())
	}
}

func TestResolveRowsLeftSending(t *testing.T) {
	c := testCampaign("c-resolve")
	people := []notify.Person{person("p-1", "one@a.example", false), person("p-2", "two@a.example", false), person("p-3", "three@a.example", false)}
	for _, tc := range []struct {
		name    string
		checker bool
		want    map[string]notify.State
	}{
		{"maildir", true, map[string]notify.State{"p-1/email": notify.Sent, "p-2/email": notify.Queued, "p-3/email": notify.Sent}},
		{"no checker", false, map[string]notify.State{"p-1/email": notify.Unknown, "p-2/email": notify.Unknown, "p-3/email": notify.Unknown}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			box := setup(t, c, people)
			ctx := context.Background()
			rows, _ := box.List(ctx, notify.Query{Campaign: c.ID})
			var changes []notify.Change
			for _, r := range rows {
				changes = append(changes, notify.Change{ID: r.ID, From: notify.Queued, To: notify.Sending, At: time.Now(), Attempts: 1})
			}
			if _, err := box.Apply(ctx, changes); err != nil {
				t.Fatal(err)
			}
			// The mailbox holds p-1's and p-3's notices: the crash came after
			// the server accepted them.
			dir := t.TempDir()
			for _, r := range []notify.Row{rows[0], rows[2]} {
				msg := fmt.Sprintf("Message-ID: %s\r\nSubject: x\r\n\r\nbody\r\n", r.MessageID)
				if err := notify.WriteMaildir(dir, []byte(msg)); err != nil {
					t.Fatal(err)
				}
			}
			// The rows became sending a minute ago: past SettleAfter, so
			// the check runs at once.
			later := func() time.Time { return time.Now().Add(time.Minute) }
			s := &notify.Sender{Outbox: box, Now: later}
			if tc.checker {
				s.Checker = &notify.MaildirChecker{Dir: dir}
			}
			if _, err := s.Resolve(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			got := map[string]notify.State{}
			for k, v := range rowsByPerson(t, box, c.ID) {
				got[k] = v.State
			}
			if d := cmp.Diff(got, tc.want); d != "" {
				t.Errorf("states (-got +want):\n%s", d)
			}
		})
	}
}
