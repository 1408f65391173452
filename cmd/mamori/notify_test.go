package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/notify/notifytest"
)

const factsJSON = `{"organization":"株式会社サンプル","summary":"2026年11月20日、顧客管理サーバーが不正アクセスを受けました。","cause":"VPN装置の脆弱性の悪用です。","secondary_harm":"現時点で二次被害は確認されておりません。","contact":"お問い合わせ窓口 0120-000-000"}`

// factsByLangJSON has the facts in Japanese and English, for a register
// with readers of both.
const factsByLangJSON = `{"ja":` + factsJSON + `,"en":{"organization":"Sample K.K.","summary":"On 20 November 2026 our customer server was accessed without authorisation.","cause":"A flaw in our VPN device was exploited.","secondary_harm":"No secondary harm has been found so far.","contact":"Customer desk +81 3-0000-0000"}}`

// writeCampaign writes n recipients and the facts, and creates and
// approves a campaign, the way an operator would.
func writeCampaign(t *testing.T, dir string, n int, srv *notifytest.Server, extra func(i int) string) (db string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("person_id,name,email,postal_code,address,language,items\n")
	for i := 0; i < n; i++ {
		email := fmt.Sprintf("person%d@d%d.example", i, i%7)
		if extra != nil {
			if e := extra(i); e != "" {
				email = e
			}
		}
		lang := "ja"
		if i%5 == 0 {
			lang = "en"
		}
		fmt.Fprintf(&b, "p-%06d,利用者 %d,%s,100-0001,東京都千代田区千代田1-%d,%s,email=p***@example.jp;credit_card=****-%04d\n", i, i, email, i, lang, i%10000)
	}
	writeFile(t, filepath.Join(dir, "people.csv"), b.String())
	writeFile(t, filepath.Join(dir, "facts.json"), factsByLangJSON)
	db = filepath.Join(dir, "notify.db")
	for _, args := range [][]string{
		{"notify", "create", "--db", db, "--campaign", "c-test", "--recipients", filepath.Join(dir, "people.csv"), "--facts", filepath.Join(dir, "facts.json"), "--from", "notice@example.jp"},
		{"notify", "test", "--db", db, "--campaign", "c-test", "--to", "privacy-officer@example.jp", "--smtp", srv.Addr, "--tls", "none"},
		{"notify", "approve", "--db", db, "--campaign", "c-test", "--by", "privacy@example.jp", "--reason", "notice approved by the incident lead"},
	} {
		if out, errOut, code := mamori(t, args...); code != 0 {
			t.Fatalf("mamori %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
	}
	return db
}

// TestNotifyKillResume sends a campaign with the sender killed with -9 at
// random moments and resumed; every address must receive exactly one
// notice, counted at the SMTP server. MAMORI_NOTIFY_KILL_N sets the size
// (default 1000; the review runs 100000).
func TestNotifyKillResume(t *testing.T) {
	n := 1000
	if v := os.Getenv("MAMORI_NOTIFY_KILL_N"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	dir := t.TempDir()
	maildir := filepath.Join(dir, "Maildir")
	srv := notifytest.Start(t, killServerOptions(maildir))
	db := writeCampaign(t, dir, n, srv, nil)
	testSends := srv.Total()
	sendArgs := []string{"notify", "send", "--db", db, "--campaign", "c-test", "--smtp", srv.Addr, "--tls", "none", "--check-maildir", maildir, "--settle-after", "1s", "--workers", "8", "--conns", "8"}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	kills := 5
	for k := 0; k < kills; k++ {
		cmd := child(t, sendArgs)
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill at a random point of progress, not a random time: the
		// machine's speed must not decide whether the kill lands mid-run.
		target := srv.Total() + 1 + rng.IntN(max(n/(kills+2), 1))
		deadline := time.Now().Add(2 * time.Minute)
		for srv.Total() < target && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond) // land anywhere within a transaction
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		t.Logf("kill %d at %d accepted; %s", k+1, srv.Total()-testSends, strings.TrimSpace(errOut.String()))
	}
	cmd := child(t, sendArgs)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("final send: %v\n%s", err, out.String())
	}
	t.Logf("final run:\n%s", out.String())
	got := srv.Recipients()
	delete(got, "privacy-officer@example.jp")
	dups, missing := 0, 0
	for i := 0; i < n; i++ {
		switch c := got[fmt.Sprintf("person%d@d%d.example", i, i%7)]; {
		case c == 0:
			missing++
		case c > 1:
			dups++
		}
	}
	if dups != 0 || missing != 0 || len(got) != n {
		t.Errorf("%d addresses got more than one notice, %d none, %d distinct of %d", dups, missing, len(got), n)
	}
	stdout, _, code := mamori(t, "notify", "status", "--db", db, "--campaign", "c-test")
	want := fmt.Sprintf("%-8s %8d %8d %8d %8d %8d %8d", "email", 0, 0, n, 0, 0, 0)
	if code != 0 || !strings.Contains(stdout, want) || !strings.Contains(stdout, "c-test: done") {
		t.Errorf("status: exit %d\n%s\nwant a line %q", code, stdout, want)
	}
}

func killServerOptions(maildir string) notifytest.Options {
	return notifytest.Options{Maildir: maildir, Discard: true}
}

// child runs the test binary as mamori (see mainChild), so that the kill
// test can kill -9 a real sender.
func child(t *testing.T, args []string) *exec.Cmd {
	t.Helper()
	a, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^TestMamoriProcess$")
	cmd.Env = append(os.Environ(), "MAMORI_TEST_ARGS="+string(a))
	return cmd
}

// TestNotifyFlow walks a campaign through every action: create, preview,
// approval refused before a test send, test, approve, send (with a hard
// bounce), a DSN for a sent notice, letters, posted, status and the proof
// export.
func TestNotifyFlow(t *testing.T) {
	dir := t.TempDir()
	srv := notifytest.Start(t, notifytest.Options{})
	writeFile(t, filepath.Join(dir, "people.csv"), "person_id,name,email,postal_code,address,language,items\n"+
		"p-1,山田 太郎,taro@example.com,100-0001,東京都千代田区千代田1-1,ja,email=t***@example.com;credit_card=****-****-****-1234\n"+
		"p-2,Jane Smith,jane@example.org,,,en,email=j***@example.org\n"+
		"p-3,佐藤 花子,rcpt550@example.net,530-0001,大阪府大阪市北区梅田1-1-1,ja,phone=090-****-5678\n"+
		"p-4,鈴木 一郎,,060-0001,北海道札幌市中央区北一条西1-1,ja,address=北海道札幌市***\n"+
		"p-5,高橋 次郎,,,,ja,phone=080-****-0000\n"+
		"p-6,田中 三郎,rcpt550b@example.net,,,ja,phone=070-****-1111\n")
	// Japanese facts alone leave Jane, who reads English, without a notice
	// in her language: refused, naming what is missing.
	writeFile(t, filepath.Join(dir, "facts-ja.json"), factsJSON)
	if _, errOut, code := mamori(t, "notify", "create", "--db", filepath.Join(dir, "refused.db"), "--recipients", filepath.Join(dir, "people.csv"),
		"--facts", filepath.Join(dir, "facts-ja.json"), "--from", "notice@example.jp"); code != 2 || !strings.Contains(errOut, "person p-2 reads en: the campaign has no texts.en and no fallback language") {
		t.Errorf("create with Japanese facts only: exit %d\n%s", code, errOut)
	}
	writeFile(t, filepath.Join(dir, "facts.json"), factsByLangJSON)
	db := filepath.Join(dir, "notify.db")
	base := []string{"--db", db, "--campaign", "c-flow"}
	step := func(wantCode int, args ...string) string {
		t.Helper()
		args = append(append([]string{"notify", args[0]}, base...), args[1:]...)
		out, errOut, code := mamori(t, args...)
		if code != wantCode {
			t.Fatalf("mamori %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, wantCode, out, errOut)
		}
		return out + errOut
	}
	smtp := []string{"--smtp", srv.Addr, "--tls", "none"}
	out := step(0, "create", "--recipients", filepath.Join(dir, "people.csv"), "--facts", filepath.Join(dir, "facts.json"), "--from", "notice@example.jp", "--from-name", "株式会社サンプル")
	if !strings.Contains(out, "draft, 4 by e-mail, 1 by letter, 1 unreachable") {
		t.Errorf("create:\n%s", out)
	}
	out = step(0, "preview", "--person", "p-2")
	if !strings.Contains(out, "Dear Jane Smith,") || !strings.Contains(out, "E-mail address: j***@example.org") || !strings.Contains(out, "A flaw in our VPN device was exploited.") || strings.Contains(out, "VPN装置") {
		t.Errorf("preview:\n%s", out)
	}
	if out = step(2, "approve", "--by", "privacy@example.jp", "--reason", "ok"); !strings.Contains(out, "send a test notice first") {
		t.Errorf("approve before test:\n%s", out)
	}
	step(0, append([]string{"test", "--to", "officer@example.jp"}, smtp...)...)
	if out = step(0, "approve", "--by", "privacy@example.jp", "--reason", "reviewed with counsel"); !strings.Contains(out, "5 notices frozen, sha256 ") {
		t.Errorf("approve:\n%s", out)
	}
	step(2, "approve", "--by", "privacy@example.jp", "--reason", "again")
	out = step(0, append([]string{"send"}, smtp...)...)
	if !strings.Contains(out, "c-flow: done") {
		t.Errorf("send:\n%s", out)
	}
	// A DSN for p-1's notice, received after the 250: a hard bounce.
	mid := ""
	for id := range srv.Counts() {
		if strings.Contains(string(findMessage(srv, id)), "taro@example.com") {
			mid = id
		}
	}
	writeFile(t, filepath.Join(dir, "bounce.eml"), "Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; taro@example.com\r\nAction: failed\r\nStatus: 5.2.1\r\nDiagnostic-Code: smtp; 550 5.2.1 mailbox disabled\r\n\r\n--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: "+mid+"\r\n\r\n--B--\r\n")
	if out = step(0, "bounces", filepath.Join(dir, "bounce.eml")); !strings.Contains(out, "p-1 sent → bounced (5.2.1 550 5.2.1 mailbox disabled); letter queued") {
		t.Errorf("bounces:\n%s", out)
	}
	if _, err := os.Stat("/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf"); err == nil {
		out = step(0, "letters", "--batch", "b-1", "--out", dir)
		if !strings.Contains(out, "batch b-1: 3 letters") {
			t.Errorf("letters:\n%s", out)
		}
		csv, _ := os.ReadFile(filepath.Join(dir, "b-1.csv"))
		for _, want := range []string{"p-1,100-0001", "p-3,530-0001", "p-4,060-0001"} {
			if !strings.Contains(string(csv), want) {
				t.Errorf("contractor CSV lacks %s:\n%s", want, csv)
			}
		}
		step(0, "posted", "--batch", "b-1", "--date", "2026-12-01")
	}
	if out = step(1, "status"); !strings.Contains(out, "1 people bounced and have no postal address: not notified") {
		t.Errorf("status:\n%s", out)
	}
	out = step(0, "status", "--export", "csv")
	for _, want := range []string{"c-flow,p-3,佐藤 花子,email,bounced,1,", "550 5.1.1 no such user", "c-flow,p-2,Jane Smith,email,sent,1,"} {
		if !strings.Contains(out, want) {
			t.Errorf("export lacks %q:\n%s", want, out)
		}
	}
}

func findMessage(srv *notifytest.Server, id string) []byte {
	for _, m := range srv.Messages() {
		if strings.Contains(string(m), "Message-ID: "+id) {
			return m
		}
	}
	return nil
}
