package notify

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// MessageID derives the Message-ID of a campaign's notice to a person. It
// is the same on every attempt, so a retry, a bounce or a mailbox search
// can be matched to the outbox row.
func MessageID(campaign, person, domain string) string {
	h := sha256.Sum256([]byte(campaign + "\x00" + person))
	return "<notice." + hex.EncodeToString(h[:16]) + "@" + domain + ">"
}

// Message is one e-mail notice before encoding.
type Message struct {
	From      mail.Address
	To        mail.Address
	ReplyTo   string
	Subject   string
	Text      string
	HTML      string
	MessageID string
	Date      time.Time
}

// Compose encodes m as a MIME message: multipart/alternative with a UTF-8
// text part and an HTML part, the subject RFC 2047-encoded. It has no
// List-Unsubscribe: a breach notice is transactional and a person cannot opt
// out of it.
func Compose(m Message) []byte {
	var b bytes.Buffer
	b.Grow(len(m.Text)*2 + len(m.HTML)*2 + 1024)
	sum := sha256.Sum256([]byte(m.MessageID))
	boundary := "=_mamori_" + hex.EncodeToString(sum[:12])
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", addressHeader(m.From))
	header("To", addressHeader(m.To))
	if m.ReplyTo != "" {
		header("Reply-To", m.ReplyTo)
	}
	header("Subject", encodeHeader(m.Subject))
	header("Date", m.Date.Format(time.RFC1123Z))
	header("Message-ID", m.MessageID)
	header("MIME-Version", "1.0")
	header("Auto-Submitted", "auto-generated")
	header("Content-Type", "multipart/alternative;\r\n boundary=\""+boundary+"\"")
	b.WriteString("\r\n")
	part := func(ctype, body string) {
		b.WriteString("--" + boundary + "\r\n")
		header("Content-Type", ctype+"; charset=UTF-8")
		header("Content-Transfer-Encoding", "base64")
		b.WriteString("\r\n")
		writeBase64Lines(&b, []byte(crlf(body)))
	}
	part("text/plain", m.Text)
	part("text/html", m.HTML)
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes()
}

// addressHeader writes a mailbox with a display name that is RFC 2047
// encoded (and folded) where it is not ASCII.
func addressHeader(a mail.Address) string {
	if a.Name == "" || encodeHeader(a.Name) == a.Name {
		return a.String()
	}
	return encodeHeader(a.Name) + "\r\n <" + a.Address + ">"
}

// encodeHeader encodes a header value as RFC 2047 words where it is not
// plain ASCII, folding between words so no line grows past 78 characters.
func encodeHeader(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] < 0x20 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	// Encode rune runs of bounded size so each encoded word stays under 75
	// characters and never splits a character.
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, mime.BEncoding.Encode("UTF-8", string(cur)))
			cur = cur[:0]
		}
	}
	n := 0
	for _, r := range s {
		l := len(string(r))
		if n+l > 42 { // 42 bytes → 56 base64 characters + 12 of framing
			flush()
			n = 0
		}
		cur = append(cur, r)
		n += l
	}
	flush()
	return strings.Join(words, "\r\n ")
}

func crlf(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

func writeBase64Lines(b *bytes.Buffer, p []byte) {
	enc := base64.StdEncoding
	line := make([]byte, 76)
	for len(p) > 0 {
		n := 57
		if len(p) < n {
			n = len(p)
		}
		enc.Encode(line, p[:n])
		b.Write(line[:enc.EncodedLen(n)])
		b.WriteString("\r\n")
		p = p[n:]
	}
}

// DKIM signs messages with one key, relaxed/relaxed canonicalisation.
type DKIM struct {
	Domain   string
	Selector string
	signer   crypto.Signer
}

// dkimHeaders are the headers signed; each is signed once more than it
// appears so a header added in transit breaks the signature.
var dkimHeaders = []string{"From", "To", "Subject", "Date", "Message-ID", "Reply-To", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"}

// NewDKIM reads a PEM private key (PKCS#1 or PKCS#8 RSA, or PKCS#8
// Ed25519).
func NewDKIM(domain, selector string, keyPEM []byte) (*DKIM, error) {
	blk, _ := pem.Decode(keyPEM)
	if blk == nil {
		return nil, fmt.Errorf("dkim: no PEM block in key")
	}
	var key any
	var err error
	switch blk.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("dkim: key: %w", err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 1024 {
			return nil, fmt.Errorf("dkim: RSA key of %d bits is too short", k.N.BitLen())
		}
		return &DKIM{Domain: domain, Selector: selector, signer: k}, nil
	case ed25519.PrivateKey:
		return &DKIM{Domain: domain, Selector: selector, signer: k}, nil
	}
	return nil, fmt.Errorf("dkim: unsupported key type %T", key)
}

// Sign returns msg with a DKIM-Signature header prepended.
func (d *DKIM) Sign(msg []byte) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(len(msg) + 600)
	opts := &dkim.SignOptions{
		Domain:                 d.Domain,
		Selector:               d.Selector,
		Signer:                 d.signer,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             dkimHeaders,
	}
	if err := dkim.Sign(&out, bytes.NewReader(msg), opts); err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	return out.Bytes(), nil
}
