package notifyapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/notify/letter"
	"github.com/mamori-dev/mamori/internal/notify/notifyapi"
	"github.com/mamori-dev/mamori/internal/notify/notifytest"
	"github.com/mamori-dev/mamori/internal/notify/smtpout"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/store/storetest"
)

func get(t *testing.T, ts string, token, path string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", ts+httpapi.Prefix+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// TestLetters prints a campaign's letters on the server and marks them
// posted: who may, what the PDF holds, and that a letter is printed until
// it is posted and only then.
func TestLetters(t *testing.T) {
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
		svc := notifyapi.New(httpapi.Env{Store: st, Log: slog.New(slog.DiscardHandler), Now: time.Now}, &smtpout.Config{Addr: srv.Addr, TLS: "none"})
		ts := serve(t, svc)

		req := notifyapi.CampaignRequest{Facts: &notifyapi.NoticeFacts{Organization: "株式会社サンプル", Summary: "概要", Cause: "原因", SecondaryHarm: "二次被害", Contact: "窓口"},
			From: "notice@example.jp", Reason: "notify the people in the register",
			Recipients: []notifyapi.NoticeRecipient{
				{ID: "p-1", Name: "山田 太郎", Email: "taro@example.com"},
				{ID: "p-2", Name: "佐藤 花子", PostalCode: "530-0001", Address: "大阪府大阪市北区梅田1-1-1"},
				{ID: "p-3", Name: "鈴木 一郎", PostalCode: "060-0001", Address: "北海道札幌市中央区北一条西1-1"},
			}}
		base := "/incidents/i-1/campaigns"
		var c notifyapi.CampaignView
		if code, body := call(t, ts, "resp", "POST", base, req, &c); code != 201 {
			t.Fatalf("create: %d %s", code, body)
		}
		cb := base + "/" + c.ID
		pdfPath := cb + "/letters.pdf?reason=" + "to+the+print+shop"
		posted := notifyapi.LettersPosted{Reason: "handed to the post office"}
		for _, tc := range []struct {
			token, method, path string
			body                any
			code                int
			want                string
		}{
			{"resp", "GET", pdfPath, nil, 403, "privacy"},
			{"view", "GET", pdfPath, nil, 403, "privacy"},
			{"resp", "POST", cb + "/letters/posted", posted, 403, "privacy"},
			{"view", "POST", cb + "/letters/posted", posted, 403, "privacy"},
			{"priv", "GET", pdfPath, nil, 409, "draft"},
			{"priv", "POST", cb + "/letters/posted", posted, 409, "draft"},
			{"priv", "GET", "/incidents/i-2/campaigns/" + c.ID + "/letters.pdf?reason=x", nil, 404, "incident i-2"},
		} {
			if code, body := call(t, ts, tc.token, tc.method, tc.path, tc.body, nil); code != tc.code || !strings.Contains(body, tc.want) {
				t.Errorf("%s %s as %s: %d %s, want %d with %q", tc.method, tc.path, tc.token, code, body, tc.code, tc.want)
			}
		}
		if code, body := call(t, ts, "resp", "POST", cb+"/test", notifyapi.CampaignTestSend{To: "officer@example.jp", Reason: "check"}, nil); code != 200 {
			t.Fatalf("test: %d %s", code, body)
		}
		if code, body := call(t, ts, "priv", "POST", cb+"/approve", notifyapi.CampaignReason{Reason: "reviewed"}, &c); code != 200 {
			t.Fatalf("approve: %d %s", code, body)
		}
		if code, body := call(t, ts, "priv", "GET", cb+"/letters.pdf", nil, nil); code != 400 || !strings.Contains(body, "reason") {
			t.Errorf("no reason: %d %s", code, body)
		}
		if _, err := letter.FindFonts(); err != nil {
			// The server says so rather than printing nothing.
			if code, body := call(t, ts, "priv", "GET", pdfPath, nil, nil); code != 409 || !strings.Contains(body, "IPAex") {
				t.Errorf("without fonts: %d %s", code, body)
			}
			t.Skip(err)
		}
		resp, pdf := get(t, ts.URL, "priv", pdfPath)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf, "%PDF-") {
			t.Fatalf("letters.pdf: %d %s %.200q", resp.StatusCode, resp.Header.Get("Content-Type"), pdf)
		}
		call(t, ts, "view", "GET", cb, nil, &c)
		if c.Counts["letter"]["sending"] != 2 || c.Counts["letter"]["queued"] != 0 {
			t.Errorf("after printing: %v", c.Counts)
		}
		if _, err := exec.LookPath("pdftotext"); err == nil {
			file := filepath.Join(t.TempDir(), "letters.pdf")
			os.WriteFile(file, []byte(pdf), 0o600)
			out, err := exec.Command("pdftotext", "-enc", "UTF-8", file, "-").Output()
			if err != nil {
				t.Fatalf("pdftotext: %v", err)
			}
			text := strings.NewReplacer(" ", "", "\n", "").Replace(string(out))
			for _, want := range []string{"〒530-0001", "大阪府大阪市北区梅田1-1-1", "佐藤花子様", "〒060-0001", "鈴木一郎様", "株式会社サンプル"} {
				if !strings.Contains(text, want) {
					t.Errorf("pdftotext lacks %q", want)
				}
			}
			if strings.Contains(text, "山田") {
				t.Error("the person with e-mail has a letter")
			}
		} else {
			t.Log("pdftotext not installed (poppler-utils): PDF text not checked")
		}
		// A second download before posting prints the same letters again.
		if resp, again := get(t, ts.URL, "priv", pdfPath); resp.StatusCode != 200 || len(again) < len(pdf)/2 {
			t.Errorf("second download: %d, %d bytes", resp.StatusCode, len(again))
		}
		tomorrow := time.Now().Add(48 * time.Hour).Format("2006-01-02")
		for _, bad := range []notifyapi.LettersPosted{{Reason: "x", Date: "30.11.2026"}, {Reason: "x", Date: tomorrow}, {Date: "2026-11-30"}} {
			if code, body := call(t, ts, "priv", "POST", cb+"/letters/posted", bad, nil); code != 400 {
				t.Errorf("posted %+v: %d %s", bad, code, body)
			}
		}
		var res notifyapi.LettersPostedResult
		if code, body := call(t, ts, "priv", "POST", cb+"/letters/posted", posted, &res); code != 200 || res.Posted != 2 || res.Date == "" {
			t.Errorf("posted: %d %s", code, body)
		}
		call(t, ts, "view", "GET", cb, nil, &c)
		if c.Counts["letter"]["sent"] != 2 {
			t.Errorf("after posting: %v", c.Counts)
		}
		if code, body := call(t, ts, "priv", "POST", cb+"/letters/posted", posted, nil); code != 409 || !strings.Contains(body, "no printed letters") {
			t.Errorf("posted twice: %d %s", code, body)
		}
		if code, body := call(t, ts, "priv", "GET", pdfPath, nil, nil); code != 409 || !strings.Contains(body, "no letters to print") {
			t.Errorf("nothing left to print: %d %s", code, body)
		}
		log, err := st.AuditEntries(ctx, c.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range log {
			if strings.HasPrefix(e.Action, "notify_letters") {
				actions = append(actions, e.Action+"/"+e.Actor+"/"+e.Reason)
			}
		}
		want := "notify_letters_print/pia/to the print shop notify_letters_print/pia/to the print shop notify_letters_posted/pia/handed to the post office"
		if strings.Join(actions, " ") != want {
			t.Errorf("audit: %v\nwant %s", actions, want)
		}
	})
}
