package notify_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mamori-dev/mamori/internal/notify"
)

func TestParseDSN(t *testing.T) {
	for _, tc := range []struct {
		file string
		want notify.DSN
	}{
		{"dsn-hard.eml", notify.DSN{MessageID: notify.MessageID("c-dsn", "p-hard", "example.jp"), ReportingMTA: "mx.example",
			Recipients: []notify.DSNRecipient{{Recipient: "hard@example.com", Action: "failed", Status: "5.1.1", Diagnostic: "550 5.1.1 <hard@example.com>: Recipient address rejected: User unknown"}}}},
		{"dsn-soft.eml", notify.DSN{MessageID: notify.MessageID("c-dsn", "p-soft", "example.jp"), ReportingMTA: "mx.example",
			Recipients: []notify.DSNRecipient{{Recipient: "soft@example.com", Action: "failed", Status: "4.2.2", Diagnostic: "452 4.2.2 Mailbox full"}}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := notify.ParseDSN(f)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(got, tc.want); d != "" {
				t.Errorf("(-got +want):\n%s", d)
			}
		})
	}
	if _, err := notify.ParseDSN(strings.NewReader("Subject: hello\r\n\r\nnot a report\r\n")); err == nil || !strings.Contains(err.Error(), "not a delivery status") {
		t.Errorf("plain message: %v", err)
	}
}

// TestBouncesFromMaildir: a hard bounce turns the notice into a letter, a
// soft one queues the e-mail again, a delay is only noted.
func TestBouncesFromMaildir(t *testing.T) {
	c := testCampaign("c-dsn")
	c.From = "notice@example.jp"
	box := setup(t, c, []notify.Person{person("p-hard", "hard@example.com", true), person("p-soft", "soft@example.com", true), person("p-late", "late@example.com", true)})
	ctx := context.Background()
	rows, _ := box.List(ctx, notify.Query{Campaign: c.ID})
	var ch []notify.Change
	for _, r := range rows {
		ch = append(ch, notify.Change{ID: r.ID, From: notify.Queued, To: notify.Sent, At: time.Now(), Attempts: 1, Response: "250 ok"})
	}
	box.Apply(ctx, ch)
	dir := t.TempDir()
	for _, f := range []string{"dsn-hard.eml", "dsn-soft.eml", "dsn-delayed.eml"} {
		b, _ := os.ReadFile(filepath.Join("testdata", f))
		if err := notify.WriteMaildir(dir, b); err != nil {
			t.Fatal(err)
		}
	}
	notify.WriteMaildir(dir, []byte("Subject: out of office\r\n\r\nI am away.\r\n"))
	s := &notify.Sender{Outbox: box, Backoff: func(int) time.Duration { return time.Hour }}
	lines, err := s.ReadBounces(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 4 {
		t.Errorf("report lines: %q", lines)
	}
	got := map[string]notify.State{}
	for k, v := range rowsByPerson(t, box, c.ID) {
		got[k] = v.State
	}
	want := map[string]notify.State{"p-hard/email": notify.Bounced, "p-hard/letter": notify.Queued, "p-soft/email": notify.Queued, "p-late/email": notify.Sent}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("(-got +want):\n%s", d)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "new")); len(left) != 0 {
		t.Errorf("%d messages left in new/", len(left))
	}
	// Reading again applies nothing twice.
	if lines, _ := s.ReadBounces(ctx, dir); len(lines) != 0 {
		t.Errorf("second read: %q", lines)
	}
}

func FuzzParseDSN(f *testing.F) {
	for _, name := range []string{"dsn-hard.eml", "dsn-soft.eml", "dsn-delayed.eml"} {
		b, _ := os.ReadFile(filepath.Join("testdata", name))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := notify.ParseDSN(strings.NewReader(string(b)))
		if err == nil {
			for _, r := range d.Recipients {
				if r.Hard() && r.Soft() {
					t.Errorf("recipient both hard and soft: %+v", r)
				}
			}
		}
	})
}

func FuzzReadRecipients(f *testing.F) {
	f.Add("person_id,name,email,postal_code,address,language,items\np-1,山田,a@b.jp,100-0001,東京都,ja,email=a***@b.jp;phone=090-****-0000\n")
	f.Add("person_id,name\n,x\n")
	f.Fuzz(func(t *testing.T, s string) {
		n := 0
		err := notify.ReadRecipients(strings.NewReader(s), func(p notify.Person) error {
			if p.ID == "" {
				t.Errorf("person without id: %+v", p)
			}
			n++
			return nil
		})
		if err != nil && !strings.HasPrefix(err.Error(), "recipients:") {
			t.Errorf("error without context: %v", err)
		}
	})
}
