package notifyapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

var principals = map[string]httpapi.Principal{
	"resp": {Kind: httpapi.KindUser, Name: "rita", Roles: []httpapi.Role{httpapi.RoleResponder}},
	"priv": {Kind: httpapi.KindUser, Name: "pia", Roles: []httpapi.Role{httpapi.RolePrivacy}},
	"view": {Kind: httpapi.KindUser, Name: "vera", Roles: []httpapi.Role{httpapi.RoleViewer}},
}

// serve mounts the capability's routes the way the server does: the route
// table through httpapi.Authorize.
func serve(t *testing.T, svc *notifyapi.Service) *httptest.Server {
	auth := httpapi.AuthenticatorFunc(func(r *http.Request) (httpapi.Principal, error) {
		if p, ok := principals[httpapi.BearerToken(r)]; ok {
			return p, nil
		}
		return httpapi.Principal{}, httpapi.ErrNoCredentials
	})
	mux := http.NewServeMux()
	for _, rt := range svc.Routes() {
		mux.Handle(rt.Method+" "+httpapi.Prefix+rt.Pattern, httpapi.Authorize(auth, &rt))
	}
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func call(t *testing.T, ts *httptest.Server, token, method, path string, body, out any) (int, string) {
	t.Helper()
	var rd bytes.Buffer
	if body != nil {
		json.NewEncoder(&rd).Encode(body)
	}
	req, _ := http.NewRequest(method, ts.URL+httpapi.Prefix+path, &rd)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw bytes.Buffer
	raw.ReadFrom(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, raw.String())
		}
	}
	return resp.StatusCode, raw.String()
}

func TestCampaignLifecycle(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
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
		svc.Poll = 20 * time.Millisecond
		done := make(chan error, 1)
		go func() { done <- svc.Start(ctx) }()
		defer func() { cancel(); <-done }()
		ts := serve(t, svc)

		req := notifyapi.CampaignRequest{Facts: &notifyapi.NoticeFacts{Organization: "株式会社サンプル", Summary: "s", Cause: "c", SecondaryHarm: "h", Contact: "x"},
			From: "notice@example.jp", Reason: "notify the people in the register",
			Recipients: []notifyapi.NoticeRecipient{
				{ID: "p-1", Name: "山田 太郎", Email: "taro@example.com", Items: []notifyapi.NoticeItem{{Category: "email", Masked: "t***@example.com"}}},
				{ID: "p-2", Name: "佐藤 花子", Email: "rcpt550@example.net", PostalCode: "530-0001", Address: "大阪府大阪市北区梅田1-1-1"},
				{ID: "p-3", Name: "鈴木 一郎", PostalCode: "060-0001", Address: "北海道札幌市中央区北一条西1-1"},
			}}
		base := "/incidents/i-1/campaigns"
		if code, body := call(t, ts, "view", "POST", base, req, nil); code != 403 || !strings.Contains(body, "responder") {
			t.Errorf("viewer creates: %d %s", code, body)
		}
		if code, body := call(t, ts, "resp", "POST", "/incidents/i-9/campaigns", req, nil); code != 404 || !strings.Contains(body, "incident i-9") {
			t.Errorf("campaign for a missing incident: %d %s", code, body)
		}
		var c notifyapi.CampaignView
		if code, body := call(t, ts, "resp", "POST", base, req, &c); code != 201 {
			t.Fatalf("create: %d %s", code, body)
		}
		if c.State != "draft" || c.Counts["email"]["queued"] != 2 || c.Counts["letter"]["queued"] != 1 {
			t.Errorf("created: %+v", c)
		}
		cb := base + "/" + c.ID
		if code, body := call(t, ts, "priv", "POST", cb+"/approve", notifyapi.CampaignReason{Reason: "ok"}, nil); code != 409 || !strings.Contains(body, "test notice first") {
			t.Errorf("approve before test: %d %s", code, body)
		}
		if code, body := call(t, ts, "resp", "POST", cb+"/test", notifyapi.CampaignTestSend{To: "officer@example.jp", Reason: "check"}, nil); code != 200 {
			t.Fatalf("test: %d %s", code, body)
		}
		if code, body := call(t, ts, "resp", "POST", cb+"/approve", notifyapi.CampaignReason{Reason: "ok"}, nil); code != 403 || !strings.Contains(body, "privacy") {
			t.Errorf("responder approves: %d %s", code, body)
		}
		if code, body := call(t, ts, "priv", "POST", cb+"/approve", notifyapi.CampaignReason{Reason: "reviewed"}, &c); code != 200 || len(c.Hash) != 64 || c.ApprovedBy == "" {
			t.Fatalf("approve: %d %s", code, body)
		}
		if code, body := call(t, ts, "priv", "POST", cb+"/state", notifyapi.CampaignStateChange{State: "done", Reason: "x"}, nil); code != 409 || !strings.Contains(body, "allowed: sending") {
			t.Errorf("bad state: %d %s", code, body)
		}
		if code, body := call(t, ts, "resp", "POST", cb+"/state", notifyapi.CampaignStateChange{State: "sending", Reason: "go"}, nil); code != 200 {
			t.Fatalf("send: %d %s", code, body)
		}
		deadline := time.Now().Add(30 * time.Second)
		for c.State != "done" && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			call(t, ts, "view", "GET", cb, nil, &c)
		}
		if c.State != "done" || c.Counts["email"]["sent"] != 1 || c.Counts["email"]["bounced"] != 1 || c.Counts["letter"]["queued"] != 2 {
			t.Errorf("after sending: %+v", c)
		}
		var notices []notifyapi.CampaignNotice
		call(t, ts, "view", "GET", cb+"/notices?limit=2", nil, &notices)
		if len(notices) != 2 || notices[0].Name != "山****" || notices[1].Bounce != "550 5.1.1 no such user" {
			t.Errorf("notices: %+v", notices)
		}
		var more []notifyapi.CampaignNotice
		call(t, ts, "view", "GET", cb+"/notices?after="+notices[1].Cursor, nil, &more)
		if len(more) != 2 {
			t.Errorf("second page: %+v", more)
		}
		if got := srv.Recipients(); got["taro@example.com"] != 1 || got["officer@example.jp"] != 1 || len(got) != 2 {
			t.Errorf("accepted at the server: %v", got)
		}
		// A DSN for the notice the relay accepted: it bounced after all.
		report := "Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\n" +
			"Reporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; taro@example.com\r\nAction: failed\r\nStatus: 5.2.1\r\n\r\n" +
			"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: " + notices[0].MessageID + "\r\n\r\n--B--\r\n"
		var applied notifyapi.CampaignBounceResult
		if code, body := call(t, ts, "resp", "POST", cb+"/bounces", notifyapi.CampaignBounce{Message: report}, &applied); code != 200 || len(applied.Applied) != 1 || !strings.Contains(applied.Applied[0], "sent → bounced") {
			t.Errorf("bounce: %d %s", code, body)
		}
		if code, _ := call(t, ts, "resp", "POST", cb+"/bounces", notifyapi.CampaignBounce{Message: "Subject: hi\r\n\r\nno\r\n"}, nil); code != 400 {
			t.Errorf("not a DSN: %d", code)
		}
		call(t, ts, "view", "GET", cb, nil, &c)
		if c.Counts["email"]["bounced"] != 2 || c.Counts["letter"]["queued"] != 2 {
			t.Errorf("after the DSN: %+v (p-1 has no postal address: no letter)", c.Counts)
		}
		log, err := st.AuditEntries(ctx, c.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range log {
			actions = append(actions, e.Action+"/"+e.Actor)
		}
		want := "notify_campaign_create/rita notify_campaign_test/rita notify_campaign_approve/pia notify_campaign_state/rita notify_campaign_done/mamori notify_bounce/rita"
		if strings.Join(actions, " ") != want {
			t.Errorf("audit: %v\nwant %s", actions, want)
		}
		if code, _ := call(t, ts, "view", "GET", "/incidents/i-2/campaigns/"+c.ID, nil, nil); code != 404 {
			t.Errorf("campaign under another incident: %d", code)
		}
	})
}

func TestRoutesDocument(t *testing.T) {
	svc := notifyapi.New(httpapi.Env{Now: time.Now}, nil)
	doc, err := httpapi.Document(httpapi.Info{}, svc.Routes())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(doc)
	for _, want := range []string{"/api/v1/incidents/{id}/campaigns/{cid}/approve", "NoticeRecipient", "CampaignNotice"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("OpenAPI document lacks %s", want)
		}
	}
}
