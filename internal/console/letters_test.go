package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mamori-dev/mamori/internal/notify"
	"github.com/mamori-dev/mamori/internal/notify/letter"
	"github.com/mamori-dev/mamori/internal/notify/storebox"
	"github.com/mamori-dev/mamori/internal/server"
	"github.com/mamori-dev/mamori/internal/store"
)

// TestCampaignLetters: the campaign page offers privacy the letters to
// print and the mark that they were posted, and no one else; both go
// through the API routes.
func TestCampaignLetters(t *testing.T) {
	f := newFixture(t, server.Config{})
	f.seed(t)
	ctx := context.Background()
	c := notify.Campaign{ID: "c-letters", Incident: f.incident, State: notify.Approved, Templates: notify.DefaultTemplates(), Language: "ja",
		Texts: map[string]notify.Facts{"ja": {Organization: "株式会社サンプル", Summary: "s", Cause: "c", SecondaryHarm: "h", Contact: "x"}},
		From:  "notice@example.jp", Zone: "Asia/Tokyo", CreatedAt: f.clock.Now(), Recipients: 2}
	err := f.st.InTx(ctx, func(tx *store.Tx) error {
		if err := storebox.CreateCampaign(ctx, tx, c); err != nil {
			return err
		}
		var rows []notify.Row
		for _, p := range []notify.Person{{ID: "p-1", Name: "佐藤 花子", PostalCode: "530-0001", Address: "大阪府大阪市北区梅田1-1-1"},
			{ID: "p-2", Name: "山田 太郎", Email: "taro@example.com"}} {
			row, _ := notify.NewRow(c, p, c.CreatedAt)
			rows = append(rows, row)
		}
		return storebox.Insert(ctx, tx, rows)
	})
	if err != nil {
		t.Fatal(err)
	}
	page := "/incidents/" + f.incident + "/campaigns"
	action := page + "/" + c.ID + "/letters"
	for name, offered := range map[string]bool{"pia": true, "ada": true, "rei": false, "vic": false} {
		b := f.login(t, name)
		resp := b.get(t, page)
		if got := strings.Contains(resp.body, `action="`+action+`"`); resp.code != 200 || got != offered {
			t.Errorf("%s: campaigns page %d, letters offered %v, want %v", name, resp.code, got, offered)
		}
		if !offered {
			if resp := b.do(t, "POST", action, url.Values{"reason": {"print"}, "csrf": {b.csrf}}, nil); resp.code != http.StatusForbidden {
				t.Errorf("%s downloads letters: %d", name, resp.code)
			}
		}
	}
	b := f.login(t, "pia")
	if strings.Contains(b.get(t, page).body, `action="`+action+`/posted"`) {
		t.Error("mark posted offered before anything was printed")
	}
	resp := b.do(t, "POST", action, url.Values{"reason": {"to the print shop"}, "csrf": {b.csrf}}, nil)
	if _, err := letter.FindFonts(); err != nil {
		if resp.code != http.StatusConflict || !strings.Contains(resp.body, "IPAex") {
			t.Errorf("letters without fonts: %d %s", resp.code, resp.body)
		}
		t.Skip(err)
	}
	if resp.code != 200 || resp.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(resp.body, "%PDF-") ||
		!strings.Contains(resp.header.Get("Content-Disposition"), "c-letters-letters.pdf") {
		t.Fatalf("letters: %d %v %.100q", resp.code, resp.header, resp.body)
	}
	if !strings.Contains(b.get(t, page).body, `action="`+action+`/posted"`) {
		t.Error("mark posted not offered after printing")
	}
	if resp := b.do(t, "POST", action+"/posted", url.Values{"reason": {"posted at the counter"}, "csrf": {b.csrf}}, nil); resp.code != http.StatusSeeOther {
		t.Fatalf("posted: %d %s", resp.code, resp.body)
	}
	if body := b.get(t, page).body; strings.Contains(body, `action="`+action+`"`) || !strings.Contains(body, "sent 1") {
		t.Errorf("after posting the page still offers letters or lacks the count:\n%s", body)
	}
}
