package notify_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/mamori-dev/mamori/internal/notify"
)

func sampleMessage() notify.Message {
	return notify.Message{
		From: mail.Address{Name: "株式会社サンプル", Address: "notice@example.jp"}, To: mail.Address{Name: "山田 太郎", Address: "taro@example.com"},
		Subject: "【重要】株式会社サンプルより個人情報の漏えい等に関するお知らせとお詫び（長い件名が二つ以上の encoded-word に分かれることを確かめる）",
		Text:    "山田 太郎 様\n本文です。\n", HTML: "<p>山田 太郎 様</p>",
		MessageID: notify.MessageID("c-1", "p-1", "example.jp"), Date: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC),
	}
}

func TestComposeIsWellFormed(t *testing.T) {
	m := sampleMessage()
	raw := notify.Compose(m)
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var dec mime.WordDecoder
	subj, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subj != m.Subject {
		t.Errorf("subject decodes to %q, %v; want %q", subj, err, m.Subject)
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 78 {
			t.Errorf("line longer than 78: %q", line)
		}
	}
	if msg.Header.Get("List-Unsubscribe") != "" {
		t.Error("a transactional notice has a List-Unsubscribe header")
	}
	if got := msg.Header.Get("Message-Id"); got != m.MessageID || got != notify.MessageID("c-1", "p-1", "example.jp") || got == notify.MessageID("c-1", "p-2", "example.jp") {
		t.Errorf("Message-ID %q is not the campaign/person one", got)
	}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var parts []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		body, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(b), "\r\n", ""))
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p.Header.Get("Content-Type")+"|"+string(body))
	}
	want := []string{"text/plain; charset=UTF-8|山田 太郎 様\r\n本文です。\r\n", "text/html; charset=UTF-8|<p>山田 太郎 様</p>"}
	if strings.Join(parts, "\n") != strings.Join(want, "\n") {
		t.Errorf("parts %q, want %q", parts, want)
	}
}

func TestDKIMSignaturesVerify(t *testing.T) {
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ed8, _ := x509.MarshalPKCS8PrivateKey(edKey)
	rsaPub, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	for _, tc := range []struct {
		name, record string
		pem          []byte
	}{
		{"ed25519", "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(edKey.Public().(ed25519.PublicKey)), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ed8})},
		{"rsa", "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(rsaPub), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := notify.NewDKIM("example.jp", "s1", tc.pem)
			if err != nil {
				t.Fatal(err)
			}
			signed, err := d.Sign(notify.Compose(sampleMessage()))
			if err != nil {
				t.Fatal(err)
			}
			lookup := func(domain string) ([]string, error) {
				if domain != "s1._domainkey.example.jp" {
					t.Errorf("looked up %s", domain)
				}
				return []string{tc.record}, nil
			}
			verify := func(msg []byte) error {
				v, err := dkim.VerifyWithOptions(bytes.NewReader(msg), &dkim.VerifyOptions{LookupTXT: lookup})
				if err != nil {
					return err
				}
				if len(v) != 1 {
					t.Fatalf("%d signatures", len(v))
				}
				return v[0].Err
			}
			if err := verify(signed); err != nil {
				t.Errorf("own signature does not verify: %v", err)
			}
			if !strings.Contains(string(signed), "c=relaxed/relaxed") {
				t.Error("not relaxed/relaxed")
			}
			// Relaxed canonicalisation forgives re-wrapped whitespace, not a
			// changed word.
			tampered := bytes.Replace(signed, []byte("Subject: "), []byte("Subject:  "), 1)
			if err := verify(tampered); err != nil {
				t.Errorf("relaxed header canonicalisation: %v", err)
			}
			tampered = bytes.Replace(signed, []byte("taro@example.com"), []byte("jiro@example.com"), 1)
			if err := verify(tampered); err == nil {
				t.Error("a changed To still verifies")
			}
		})
	}
}
