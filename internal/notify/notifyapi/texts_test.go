package notifyapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/notify/notifyapi"
	"github.com/mamori-dev/mamori/internal/notify/notifytest"
	"github.com/mamori-dev/mamori/internal/notify/smtpout"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/store/storetest"
)

var (
	jaTexts = notifyapi.NoticeFacts{Organization: "株式会社サンプル", Summary: "顧客管理サーバーが不正アクセスを受けました。", Cause: "VPN装置の脆弱性の悪用",
		SecondaryHarm: "なりすましメールにご注意ください。", Contact: "お問い合わせ窓口 0120-000-000"}
	enTexts = notifyapi.NoticeFacts{Organization: "Sample K.K.", Summary: "Our customer server was accessed without authorisation.", Cause: "A flaw in our VPN device",
		SecondaryHarm: "Please beware of phishing e-mails.", Contact: "Customer desk +81 3-0000-0000"}
)

// textPart is the decoded text/plain part of a notice.
func textPart(t *testing.T, msg []byte) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
}

// TestCampaignTexts: each notice carries the incident texts of its own
// language; a campaign whose recipients read a language it has no texts in
// is refused naming the missing field, and approval freezes the texts.
func TestCampaignTexts(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		now := time.Now().UnixMilli()
		err = st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, "incident-insert", "i-1", "VPN breach", "", "high", "notifying", now, "rita", now, now)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		srv := notifytest.Start(t, notifytest.Options{})
		ts := serve(t, notifyapi.New(httpapi.Env{Store: st, Log: slog.New(slog.DiscardHandler), Now: time.Now}, &smtpout.Config{Addr: srv.Addr, TLS: "none"}))
		base := "/incidents/i-1/campaigns"
		people := []notifyapi.NoticeRecipient{
			{ID: "p-1", Name: "山田 太郎", Email: "taro@example.com", Language: "ja"},
			{ID: "p-2", Name: "Jane Smith", Email: "jane@example.org", Language: "en"},
		}
		request := func(edit func(*notifyapi.CampaignRequest)) notifyapi.CampaignRequest {
			r := notifyapi.CampaignRequest{Texts: map[string]notifyapi.NoticeFacts{"ja": jaTexts, "en": enTexts},
				From: "notice@example.jp", Reason: "notify", Recipients: people}
			if edit != nil {
				edit(&r)
			}
			return r
		}
		for _, tc := range []struct {
			name string
			edit func(*notifyapi.CampaignRequest)
			want string
		}{
			{"no texts", func(r *notifyapi.CampaignRequest) { r.Texts = nil }, "field texts: required"},
			{"only the default language's facts", func(r *notifyapi.CampaignRequest) { r.Texts, r.Facts = nil, &jaTexts },
				"field texts.en: required: recipients[1] (p-2) reads en; give the texts.en or a fallback language"},
			{"a language without texts", func(r *notifyapi.CampaignRequest) { delete(r.Texts, "en") }, "field texts.en: required: recipients[1] (p-2)"},
			{"an item left out", func(r *notifyapi.CampaignRequest) { en := enTexts; en.Cause = " "; r.Texts["en"] = en }, "field texts.en.cause: required"},
			{"facts and texts.ja", func(r *notifyapi.CampaignRequest) { r.Facts = &jaTexts }, "field facts: the texts in ja are given twice"},
			{"fallback without texts", func(r *notifyapi.CampaignRequest) { r.Fallback = "fr" }, `field fallback: \"fr\": the campaign needs both texts.fr and templates.fr`},
			{"texts without a template", func(r *notifyapi.CampaignRequest) {
				r.Texts["ko"] = enTexts
				r.Recipients = append(r.Recipients[:2:2], notifyapi.NoticeRecipient{ID: "p-3", Name: "Kim", Email: "kim@example.kr", Language: "ko"})
			}, "field templates.ko: required: recipients[2] (p-3) reads ko"},
		} {
			if code, body := call(t, ts, "resp", "POST", base, request(tc.edit), nil); code != 400 || !strings.Contains(body, tc.want) {
				t.Errorf("%s: %d %s, want 400 with %q", tc.name, code, body, tc.want)
			}
		}

		// A reader of a language without texts gets the fallback's notice,
		// all of it in that language.
		var fb notifyapi.CampaignView
		withKo := request(func(r *notifyapi.CampaignRequest) {
			r.Fallback = "ja"
			r.Recipients = append(r.Recipients[:2:2], notifyapi.NoticeRecipient{ID: "p-3", Name: "Kim", Email: "kim@example.kr", Language: "ko"})
		})
		if code, body := call(t, ts, "resp", "POST", base, withKo, &fb); code != 201 || fb.Fallback != "ja" || strings.Join(fb.Languages, ",") != "en,ja" {
			t.Fatalf("with a fallback: %d %s", code, body)
		}
		if code, body := call(t, ts, "resp", "POST", base+"/"+fb.ID+"/test", notifyapi.CampaignTestSend{To: "ko@example.jp", Person: "p-3", Reason: "check"}, nil); code != 200 {
			t.Fatalf("test p-3: %d %s", code, body)
		}
		if msgs := srv.Messages(); len(msgs) != 1 {
			t.Fatalf("%d messages at the server, want the test of p-3", len(msgs))
		} else if text := textPart(t, msgs[0]); !strings.Contains(text, jaTexts.Summary) || !strings.Contains(text, "Kim 様") || strings.Contains(text, enTexts.Summary) {
			t.Errorf("p-3's notice in the fallback language:\n%s", text)
		}

		// approved creates a campaign, sends a test of each person's notice
		// and approves it; it returns the hash and the test messages.
		approved := func(req notifyapi.CampaignRequest) (string, map[string]string) {
			t.Helper()
			var c notifyapi.CampaignView
			if code, body := call(t, ts, "resp", "POST", base, req, &c); code != 201 {
				t.Fatalf("create: %d %s", code, body)
			}
			texts := map[string]string{}
			for _, p := range req.Recipients {
				before := len(srv.Messages())
				if code, body := call(t, ts, "resp", "POST", base+"/"+c.ID+"/test", notifyapi.CampaignTestSend{To: "officer@example.jp", Person: p.ID, Reason: "check"}, nil); code != 200 {
					t.Fatalf("test %s: %d %s", p.ID, code, body)
				}
				msgs := srv.Messages()
				if len(msgs) != before+1 {
					t.Fatalf("test %s: %d messages at the server, want %d", p.ID, len(msgs), before+1)
				}
				texts[p.ID] = textPart(t, msgs[len(msgs)-1])
			}
			if code, body := call(t, ts, "priv", "POST", base+"/"+c.ID+"/approve", notifyapi.CampaignReason{Reason: "reviewed"}, &c); code != 200 {
				t.Fatalf("approve: %d %s", code, body)
			}
			return c.Hash, texts
		}
		hash, texts := approved(request(nil))
		for id, lang := range map[string]struct{ has, hasNot notifyapi.NoticeFacts }{"p-1": {jaTexts, enTexts}, "p-2": {enTexts, jaTexts}} {
			for _, s := range []string{lang.has.Organization, lang.has.Summary, lang.has.Cause, lang.has.SecondaryHarm, lang.has.Contact} {
				if !strings.Contains(texts[id], s) {
					t.Errorf("%s's notice lacks %q:\n%s", id, s, texts[id])
				}
			}
			for _, s := range []string{lang.hasNot.Organization, lang.hasNot.Summary, lang.hasNot.Cause, lang.hasNot.SecondaryHarm, lang.hasNot.Contact} {
				if strings.Contains(texts[id], s) {
					t.Errorf("%s's notice carries %q of the other language:\n%s", id, s, texts[id])
				}
			}
		}
		if again, _ := approved(request(nil)); again != hash {
			t.Errorf("the same campaign approved twice: hashes %s and %s", hash, again)
		}
		other, _ := approved(request(func(r *notifyapi.CampaignRequest) {
			en := enTexts
			en.Cause = "A flaw in our firewall"
			r.Texts["en"] = en
		}))
		if other == hash {
			t.Errorf("another English cause, the same hash %s: approval does not freeze the texts", hash)
		}
	})
}
