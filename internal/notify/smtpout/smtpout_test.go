package smtpout_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/notify/notifytest"
	"github.com/mamori-dev/mamori/internal/notify/smtpout"
)

func msg(id string) []byte {
	return []byte("Message-ID: <" + id + "@test>\r\nSubject: t\r\n\r\nbody\r\n.leading dot\r\n")
}

func TestSTARTTLSAndAUTH(t *testing.T) {
	srv := notifytest.Start(t, notifytest.Options{TLS: true, Username: "mamori", Password: "s3cret"})
	roots := x509.NewCertPool()
	roots.AddCert(srv.TLSCert)
	tc := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}
	for _, tc := range []struct {
		name     string
		cfg      smtpout.Config
		wantCode int
		wantErr  string
	}{
		{"ok", smtpout.Config{TLS: "require-starttls", TLSConfig: tc, Username: "mamori", Password: "s3cret"}, 250, ""},
		{"wrong password", smtpout.Config{TLS: "starttls", TLSConfig: tc, Username: "mamori", Password: "nope"}, 454, "AUTH"},
		{"no TLS, no AUTH in clear", smtpout.Config{TLS: "none", Username: "mamori", Password: "s3cret"}, 0, "refusing AUTH without TLS"},
		{"untrusted certificate", smtpout.Config{TLS: "starttls", Username: "mamori", Password: "s3cret"}, 0, "certificate"},
		{"no AUTH", smtpout.Config{TLS: "starttls", TLSConfig: tc}, 502, "mail"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Addr = srv.Addr
			p := smtpout.New(tc.cfg)
			defer p.Close()
			res := p.Send(context.Background(), "notice@example.jp", "a@example.com", msg(tc.name))
			if res.Code != tc.wantCode || (tc.wantErr == "") != (res.Err == nil) || (res.Err != nil && !strings.Contains(res.Err.Error(), tc.wantErr)) {
				t.Errorf("got code %d err %v; want code %d err containing %q", res.Code, res.Err, tc.wantCode, tc.wantErr)
			}
		})
	}
	if got := srv.Counts()["<ok@test>"]; got != 1 {
		t.Errorf("server accepted the ok message %d times", got)
	}
	if m := srv.Messages(); len(m) != 1 || !strings.Contains(string(m[0]), "\r\n.leading dot\r\n") {
		t.Errorf("dot-stuffing: %q", m)
	}
}

// TestConnectionReuseAndDomainRate: many messages over few connections,
// and a domain's rate holds them back.
func TestConnectionReuseAndDomainRate(t *testing.T) {
	srv := notifytest.Start(t, notifytest.Options{})
	p := smtpout.New(smtpout.Config{Addr: srv.Addr, TLS: "none", MaxConns: 2, DomainRate: 100})
	defer p.Close()
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res := p.Send(context.Background(), "n@example.jp", "x@slow.example", msg(fmt.Sprint(i))); res.Err != nil {
				t.Error(res.Err)
			}
		}()
	}
	wg.Wait()
	if el := time.Since(start); el < 190*time.Millisecond {
		t.Errorf("20 messages at 100/s took %v", el)
	}
	if srv.Total() != 20 {
		t.Errorf("accepted %d", srv.Total())
	}
	// Rejections leave the connection usable.
	for _, to := range []string{"rcpt550@a.example", "data554@a.example", "ok@a.example"} {
		res := p.Send(context.Background(), "n@example.jp", to, msg(to))
		t.Logf("%s: %d %s", to, res.Code, res.Stage)
	}
	if srv.Total() != 21 {
		t.Errorf("accepted %d after rejections, want 21", srv.Total())
	}
}
