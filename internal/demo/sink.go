package demo

import (
	"io"
	"net"
	"strings"
	"sync"

	"github.com/emersion/go-smtp"
)

// sink is an SMTP server on loopback that keeps a count of the messages
// each recipient received, standing in for the company's mail relay. It
// keeps the messages themselves only for the addresses it is told to
// (retain): a demo of a million people would not fit otherwise.
type sink struct {
	mu   sync.Mutex
	rcpt map[string]int
	keep map[string][]byte
	srv  *smtp.Server
	addr string
}

func startSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{rcpt: map[string]int{}, keep: map[string][]byte{}, addr: ln.Addr().String()}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "sink.mamori.test"
	s.srv.AllowInsecureAuth = true
	s.srv.MaxMessageBytes = 10 << 20
	go s.srv.Serve(ln)
	return s, nil
}

func (s *sink) close() { s.srv.Close() }

// messages is the number of messages delivered and of distinct recipients.
func (s *sink) counts() (messages, recipients int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.rcpt {
		messages += n
	}
	return messages, len(s.rcpt)
}

// received is the number of messages delivered to addr.
func (s *sink) received(addr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcpt[strings.ToLower(addr)]
}

// retain keeps the last message delivered to each of addrs.
func (s *sink) retain(addrs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range addrs {
		s.keep[strings.ToLower(a)] = nil
	}
}

// message is the last message delivered to a retained address.
func (s *sink) message(addr string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keep[strings.ToLower(addr)]
}

func (s *sink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }

type sinkSession struct {
	s  *sink
	to []string
}

func (ss *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, strings.ToLower(to))
	return nil
}
func (ss *sinkSession) Data(r io.Reader) error {
	msg, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	for _, t := range ss.to {
		ss.s.rcpt[t]++
		if _, ok := ss.s.keep[t]; ok {
			ss.s.keep[t] = msg
		}
	}
	ss.s.mu.Unlock()
	return nil
}
func (ss *sinkSession) Reset()        { ss.to = nil }
func (ss *sinkSession) Logout() error { return nil }
