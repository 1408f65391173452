package notifyapi_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/notify/notifyapi"
	"github.com/mamori-dev/mamori/internal/notify/notifytest"
	"github.com/mamori-dev/mamori/internal/notify/smtpout"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
)

// TestStateChanges walks a campaign through every move people make, and
// the ones refused, with what each refusal names and what the audit log
// records. Nothing is sent: the background work is not started.
func TestStateChanges(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir()+"/m.db")
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
	env := httpapi.Env{Store: st, Log: slog.New(slog.DiscardHandler), Now: time.Now}
	ts := serve(t, notifyapi.New(env, &smtpout.Config{Addr: srv.Addr, TLS: "none"}))
	noRelay := serve(t, notifyapi.New(env, nil))
	req := notifyapi.CampaignRequest{Facts: &notifyapi.NoticeFacts{Organization: "株式会社サンプル", Summary: "s", Cause: "c", SecondaryHarm: "h", Contact: "x"},
		From: "notice@example.jp", Reason: "r", Recipients: []notifyapi.NoticeRecipient{{ID: "p-1", Name: "山田 太郎", Email: "taro@example.com"}}}
	var c notifyapi.CampaignView
	if code, body := call(t, ts, "resp", "POST", "/incidents/i-1/campaigns", req, &c); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	cb := "/incidents/i-1/campaigns/" + c.ID
	state := func(s, reason string) notifyapi.CampaignStateChange {
		return notifyapi.CampaignStateChange{State: s, Reason: reason}
	}
	for i, step := range []struct {
		srv   string
		path  string
		body  any
		code  int
		want  string // in the body
		state string // of the campaign after the step
	}{
		{"relay", "/state", state("approved", "x"), 409, `is draft; cannot move to \"approved\" (allowed: approved)`, "draft"},
		{"relay", "/state", state("sending", "x"), 409, `is draft; cannot move to \"sending\" (allowed: approved)`, "draft"},
		{"relay", "/approve", notifyapi.CampaignReason{}, 400, "reason", "draft"},
		{"relay", "/approve", notifyapi.CampaignReason{Reason: "ok"}, 409, "send a test notice first", "draft"},
		{"relay", "/test", notifyapi.CampaignTestSend{To: "officer@example.jp", Reason: "check"}, 200, "", "draft"},
		{"relay", "/approve", notifyapi.CampaignReason{Reason: "ok"}, 200, `"approved_by": "pia"`, "approved"},
		{"relay", "/approve", notifyapi.CampaignReason{Reason: "ok"}, 409, "is approved; only a draft is approved (allowed: sending)", "approved"},
		{"relay", "/state", state("paused", "x"), 409, `is approved; cannot move to \"paused\" (allowed: sending)`, "approved"},
		{"relay", "/state", state("sending", ""), 400, "reason", "approved"},
		{"none", "/state", state("sending", "go"), 409, "no SMTP relay configured", "approved"},
		{"relay", "/state", state("sending", "go"), 200, `"state": "sending"`, "sending"},
		{"relay", "/state", state("sending", "again"), 409, `is sending; cannot move to \"sending\" (allowed: paused)`, "sending"},
		{"relay", "/state", state("paused", "hold"), 200, `"state": "paused"`, "paused"},
		{"relay", "/state", state("done", "x"), 409, `is paused; cannot move to \"done\" (allowed: sending)`, "paused"},
		{"relay", "/state", state("sending", "resume"), 200, `"state": "sending"`, "sending"},
	} {
		s := ts
		if step.srv == "none" {
			s = noRelay
		}
		code, body := call(t, s, "priv", "POST", cb+step.path, step.body, nil)
		if code != step.code || !strings.Contains(body, step.want) {
			t.Errorf("step %d: POST %s %+v: %d %s, want %d with %s", i, step.path, step.body, code, body, step.code, step.want)
		}
		call(t, ts, "view", "GET", cb, nil, &c)
		if c.State != step.state {
			t.Errorf("step %d: campaign %s, want %s", i, c.State, step.state)
		}
	}
	log, err := st.AuditEntries(ctx, c.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		if e.Action == "notify_campaign_approve" || e.Action == "notify_campaign_state" {
			got = append(got, e.Action+": "+e.Detail)
		}
	}
	want := []string{"notify_campaign_approve: draft -> approved; 1 notices frozen, sha256 " + c.Hash,
		"notify_campaign_state: approved -> sending", "notify_campaign_state: sending -> paused", "notify_campaign_state: paused -> sending"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
