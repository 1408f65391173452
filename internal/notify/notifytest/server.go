// Package notifytest runs a real SMTP server (github.com/emersion/go-smtp)
// on loopback for the notice tests: it counts what it accepts by
// Message-ID and recipient, can deliver into a Maildir as an MTA would, and
// replies with injected 4xx/5xx errors chosen by the recipient's address.
package notifytest

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/mamori-dev/mamori/internal/notify"
)

// Options configure a Server.
type Options struct {
	Maildir            string // deliver accepted messages here as well
	TLS                bool   // offer STARTTLS with a self-signed certificate
	Username, Password string // require AUTH PLAIN
	Discard            bool   // count only; do not keep message bodies
	// TotalOnly keeps only the total: the server's own bookkeeping then
	// stays constant, so a benchmark measures the sender's memory.
	TotalOnly bool
}

// Server is a running SMTP server.
type Server struct {
	Addr    string
	TLSCert *x509.Certificate // set with Options.TLS; trust it in the client

	opts     Options
	srv      *smtp.Server
	mu       sync.Mutex
	byID     map[string]int
	byRcpt   map[string]int
	tries    map[string]int
	messages [][]byte
	total    int
}

// Injected replies, chosen by the recipient's local part:
//
//	rcpt451…  451 4.2.0 at RCPT          rcpt550…  550 5.1.1 at RCPT
//	data451…  451 4.3.0 after the data   data554…  554 5.6.0 after the data
//	flaky…    451 4.2.0 at RCPT on the first try, then accepted
func inject(stage, rcpt string, try int) error {
	local := strings.ToLower(rcpt[:max(strings.IndexByte(rcpt, '@'), 0)])
	e := func(code int, enh smtp.EnhancedCode, msg string) error {
		return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg}
	}
	switch {
	case stage == "rcpt" && strings.HasPrefix(local, "rcpt451"):
		return e(451, smtp.EnhancedCode{4, 2, 0}, "mailbox busy, try later")
	case stage == "rcpt" && strings.HasPrefix(local, "rcpt550"):
		return e(550, smtp.EnhancedCode{5, 1, 1}, "no such user")
	case stage == "rcpt" && strings.HasPrefix(local, "flaky") && try == 1:
		return e(451, smtp.EnhancedCode{4, 2, 0}, "greylisted, try later")
	case stage == "data" && strings.HasPrefix(local, "data451"):
		return e(451, smtp.EnhancedCode{4, 3, 0}, "temporary failure")
	case stage == "data" && strings.HasPrefix(local, "data554"):
		return e(554, smtp.EnhancedCode{5, 6, 0}, "content rejected")
	}
	return nil
}

// Start starts a server on 127.0.0.1 and stops it when the test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s := &Server{opts: opts, byID: map[string]int{}, byRcpt: map[string]int{}, tries: map[string]int{}}
	srv := smtp.NewServer(backend{s})
	srv.Domain = "mx.test"
	srv.ErrorLog = log.New(io.Discard, "", 0) // clients killed mid-transaction are the point of some tests
	if os.Getenv("NOTIFYTEST_DEBUG") != "" {
		srv.Debug = os.Stderr
	}
	srv.AllowInsecureAuth = !opts.TLS
	srv.MaxMessageBytes = 10 << 20
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	if opts.TLS {
		cert, leaf := selfSigned(tb)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		s.TLSCert = leaf
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.Addr = l.Addr().String()
	s.srv = srv
	go srv.Serve(l)
	tb.Cleanup(func() { srv.Close() })
	return s
}

// Counts returns how many times each Message-ID was accepted.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.byID))
	for k, v := range s.byID {
		out[k] = v
	}
	return out
}

// Recipients returns how many messages each recipient was sent.
func (s *Server) Recipients() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.byRcpt))
	for k, v := range s.byRcpt {
		out[k] = v
	}
	return out
}

// Total is the number of accepted messages.
func (s *Server) Total() int { s.mu.Lock(); defer s.mu.Unlock(); return s.total }

// Messages returns the accepted messages (not kept with Discard).
func (s *Server) Messages() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.messages...)
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s      *Server
	authed bool
	rcpts  []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != ss.s.opts.Username || pass != ss.s.opts.Password {
			return errors.New("invalid credentials")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	try := 1
	if !ss.s.opts.TotalOnly {
		ss.s.mu.Lock()
		ss.s.tries[to]++
		try = ss.s.tries[to]
		ss.s.mu.Unlock()
	}
	if err := inject("rcpt", to, try); err != nil {
		return err
	}
	ss.rcpts = append(ss.rcpts, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	msg, err := io.ReadAll(r)
	if err != nil {
		return err // the client never finished the message: not accepted
	}
	for _, to := range ss.rcpts {
		if err := inject("data", to, 0); err != nil {
			return err
		}
	}
	h, _ := textproto.NewReader(bufio.NewReader(bytes.NewReader(msg))).ReadMIMEHeader()
	id := h.Get("Message-Id")
	if ss.s.opts.Maildir != "" {
		if err := notify.WriteMaildir(ss.s.opts.Maildir, msg); err != nil {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: err.Error()}
		}
	}
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	ss.s.total++
	if ss.s.opts.TotalOnly {
		return nil
	}
	ss.s.byID[id]++
	for _, to := range ss.rcpts {
		ss.s.byRcpt[to]++
	}
	if !ss.s.opts.Discard {
		ss.s.messages = append(ss.s.messages, msg)
	}
	return nil
}

func (ss *session) Reset()        { ss.rcpts = nil }
func (ss *session) Logout() error { return nil }

func selfSigned(tb testing.TB) (tls.Certificate, *x509.Certificate) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf
}
