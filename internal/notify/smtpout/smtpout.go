// Package smtpout sends prepared messages to one SMTP relay (a smarthost or
// submission server): reused connections with STARTTLS and AUTH, pipelined
// transactions where the server offers PIPELINING, and per-recipient-domain
// concurrency and rate limits so that one provider's throttling does not
// turn into a wave of soft bounces.
//
// Its one promise to the caller is an honest Result: it says whether the
// server answered the final dot, and with what, so that the caller never
// records a message as sent before the server's 250 reply, and knows when
// the outcome is ambiguous (the dot was written and no reply was read).
package smtpout

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"time"
)

// Config describes the relay and the limits.
type Config struct {
	Addr string // host:port
	// TLS is "starttls" (use it when offered), "require-starttls",
	// "implicit" (TLS from the first byte, port 465) or "none".
	TLS       string
	TLSConfig *tls.Config
	// Username and Password enable AUTH (PLAIN, else LOGIN). AUTH is refused
	// on a connection without TLS unless AllowPlainAuth is set (a relay on
	// loopback).
	Username, Password string
	AllowPlainAuth     bool
	HelloName          string
	MaxConns           int           // connections to the relay (default 8)
	DomainConns        int           // concurrent transactions per recipient domain (0: MaxConns)
	DomainRate         float64       // messages per second per recipient domain (0: unlimited)
	MaxPerConn         int           // messages before a connection is renewed (default 1000)
	Timeout            time.Duration // per command (default 2 minutes)
}

// Stage names the step of a transaction a Result comes from.
type Stage string

const (
	StageConnect Stage = "connect" // dial, greeting, EHLO, STARTTLS, AUTH
	StageMail    Stage = "mail"
	StageRcpt    Stage = "rcpt"
	StageData    Stage = "data"
	StageDot     Stage = "dot" // the reply to the end of the message
)

// Result is the outcome of one Send.
type Result struct {
	Stage Stage
	Code  int    // the server's reply code; 0 when no reply was read
	Reply string // the server's reply text, e.g. "250 2.0.0 Ok: queued as 4F2"
	Err   error  // nil exactly when the server replied 250 to the final dot
	// Ambiguous means the end of the message was written and no reply was
	// read: the server may or may not have accepted the message.
	Ambiguous bool
}

// Pool sends messages over a bounded set of reused connections.
type Pool struct {
	cfg   Config
	idle  chan *conn
	slots chan struct{}

	mu      sync.Mutex
	domains map[string]*domainLimit
}

// New returns a Pool; connections are made on demand.
func New(cfg Config) *Pool {
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 8
	}
	if cfg.DomainConns <= 0 {
		cfg.DomainConns = cfg.MaxConns
	}
	if cfg.MaxPerConn <= 0 {
		cfg.MaxPerConn = 1000
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.HelloName == "" {
		cfg.HelloName = "localhost"
	}
	if cfg.TLS == "" {
		cfg.TLS = "starttls"
	}
	return &Pool{cfg: cfg, idle: make(chan *conn, cfg.MaxConns), slots: make(chan struct{}, cfg.MaxConns), domains: map[string]*domainLimit{}}
}

// Close closes idle connections with QUIT.
func (p *Pool) Close() error {
	for {
		select {
		case c := <-p.idle:
			c.quit()
			<-p.slots
		default:
			return nil
		}
	}
}

type domainLimit struct {
	sem      chan struct{}
	mu       sync.Mutex
	next     time.Time
	interval time.Duration
}

func (p *Pool) domain(rcpt string) *domainLimit {
	d := strings.ToLower(rcpt[strings.LastIndexByte(rcpt, '@')+1:])
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.domains[d]
	if !ok {
		l = &domainLimit{sem: make(chan struct{}, p.cfg.DomainConns)}
		if p.cfg.DomainRate > 0 {
			l.interval = time.Duration(float64(time.Second) / p.cfg.DomainRate)
		}
		p.domains[d] = l
	}
	return l
}

// wait blocks until the domain's rate allows one more message.
func (l *domainLimit) wait(ctx context.Context) error {
	if l.interval == 0 {
		return nil
	}
	l.mu.Lock()
	now := time.Now()
	at := l.next
	if at.Before(now) {
		at = now
	}
	l.next = at.Add(l.interval)
	l.mu.Unlock()
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Send delivers msg from the envelope sender to one recipient. It does not
// abandon a transaction when ctx ends mid-way (that would make the outcome
// ambiguous); ctx only bounds the waits before it starts.
func (p *Pool) Send(ctx context.Context, from, to string, msg []byte) Result {
	lim := p.domain(to)
	select {
	case lim.sem <- struct{}{}:
	case <-ctx.Done():
		return Result{Stage: StageConnect, Err: ctx.Err()}
	}
	defer func() { <-lim.sem }()
	if err := lim.wait(ctx); err != nil {
		return Result{Stage: StageConnect, Err: err}
	}
	c, res := p.get(ctx)
	if c == nil {
		return res
	}
	res = c.send(from, to, msg)
	if c.broken || c.sent >= p.cfg.MaxPerConn {
		if !c.broken {
			c.quit()
		} else {
			c.nc.Close()
		}
		<-p.slots
	} else {
		p.idle <- c
	}
	return res
}

func (p *Pool) get(ctx context.Context) (*conn, Result) {
	select {
	case c := <-p.idle:
		return c, Result{}
	default:
	}
	select {
	case c := <-p.idle:
		return c, Result{}
	case p.slots <- struct{}{}:
		c, res := p.dial(ctx)
		if c == nil {
			<-p.slots
		}
		return c, res
	case <-ctx.Done():
		return nil, Result{Stage: StageConnect, Err: ctx.Err()}
	}
}

type conn struct {
	nc         net.Conn
	tp         *textproto.Conn
	bw         *bufio.Writer
	ext        map[string]string
	timeout    time.Duration
	broken     bool
	sent       int
	pipelining bool
}

func fail(code int, msg string, err error) Result {
	return Result{Stage: StageConnect, Code: code, Reply: replyText(code, msg), Err: err}
}

func (p *Pool) dial(ctx context.Context) (*conn, Result) {
	d := net.Dialer{Timeout: p.cfg.Timeout}
	var nc net.Conn
	var err error
	if p.cfg.TLS == "implicit" {
		td := tls.Dialer{NetDialer: &d, Config: p.tlsConfig()}
		nc, err = td.DialContext(ctx, "tcp", p.cfg.Addr)
	} else {
		nc, err = d.DialContext(ctx, "tcp", p.cfg.Addr)
	}
	if err != nil {
		return nil, fail(0, "", fmt.Errorf("smtp: dial %s: %w", p.cfg.Addr, err))
	}
	c := &conn{nc: nc, timeout: p.cfg.Timeout}
	c.wrap(nc)
	c.deadline()
	if code, msg, err := c.tp.ReadResponse(220); err != nil {
		nc.Close()
		return nil, fail(code, msg, fmt.Errorf("smtp: greeting: %w", err))
	}
	if res := c.hello(p.cfg.HelloName); res.Err != nil {
		nc.Close()
		return nil, res
	}
	_, isTLS := nc.(*tls.Conn)
	if !isTLS && p.cfg.TLS != "none" {
		if _, ok := c.ext["STARTTLS"]; ok {
			if code, msg, err := c.cmd(220, "STARTTLS"); err != nil {
				nc.Close()
				return nil, fail(code, msg, fmt.Errorf("smtp: STARTTLS: %w", err))
			}
			tc := tls.Client(nc, p.tlsConfig())
			if err := tc.HandshakeContext(ctx); err != nil {
				nc.Close()
				return nil, fail(0, "", fmt.Errorf("smtp: STARTTLS handshake: %w", err))
			}
			c.nc = tc
			c.wrap(tc)
			isTLS = true
			if res := c.hello(p.cfg.HelloName); res.Err != nil {
				tc.Close()
				return nil, res
			}
		} else if p.cfg.TLS == "require-starttls" {
			nc.Close()
			return nil, fail(0, "", errors.New("smtp: the server does not offer STARTTLS"))
		}
	}
	if p.cfg.Username != "" {
		if !isTLS && !p.cfg.AllowPlainAuth {
			c.nc.Close()
			return nil, fail(0, "", errors.New("smtp: refusing AUTH without TLS"))
		}
		if res := c.auth(p.cfg.Username, p.cfg.Password); res.Err != nil {
			c.nc.Close()
			return nil, res
		}
	}
	return c, Result{}
}

func (p *Pool) tlsConfig() *tls.Config {
	if p.cfg.TLSConfig != nil {
		return p.cfg.TLSConfig.Clone()
	}
	host, _, _ := net.SplitHostPort(p.cfg.Addr)
	return &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
}

func (c *conn) wrap(nc net.Conn) {
	c.tp = textproto.NewConn(nc)
	c.bw = c.tp.Writer.W // pipelined commands are written here and flushed together
}

func (c *conn) deadline() { c.nc.SetDeadline(time.Now().Add(c.timeout)) }

func (c *conn) cmd(expect int, format string, args ...any) (int, string, error) {
	c.deadline()
	if err := c.tp.PrintfLine(format, args...); err != nil {
		c.broken = true
		return 0, "", err
	}
	code, msg, err := c.tp.ReadResponse(expect)
	if err != nil && code == 0 {
		c.broken = true
	}
	if code == 421 {
		c.broken = true
	}
	return code, msg, err
}

func (c *conn) hello(name string) Result {
	code, msg, err := c.cmd(250, "EHLO %s", name)
	if err != nil {
		return fail(code, msg, fmt.Errorf("smtp: EHLO: %w", err))
	}
	c.ext = map[string]string{}
	for _, line := range strings.Split(msg, "\n")[1:] {
		k, v, _ := strings.Cut(line, " ")
		c.ext[strings.ToUpper(k)] = v
	}
	_, c.pipelining = c.ext["PIPELINING"]
	return Result{}
}

func (c *conn) auth(user, pass string) Result {
	mechs := " " + strings.ToUpper(c.ext["AUTH"]) + " "
	var code int
	var msg string
	var err error
	switch {
	case strings.Contains(mechs, " PLAIN "):
		code, msg, err = c.cmd(235, "AUTH PLAIN %s", base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+pass)))
	case strings.Contains(mechs, " LOGIN "):
		if code, msg, err = c.cmd(334, "AUTH LOGIN"); err == nil {
			if code, msg, err = c.cmd(334, "%s", base64.StdEncoding.EncodeToString([]byte(user))); err == nil {
				code, msg, err = c.cmd(235, "%s", base64.StdEncoding.EncodeToString([]byte(pass)))
			}
		}
	default:
		return fail(0, "", fmt.Errorf("smtp: no supported AUTH mechanism in %q", strings.TrimSpace(mechs)))
	}
	if err != nil {
		return fail(code, msg, fmt.Errorf("smtp: AUTH: %w", err))
	}
	return Result{}
}

func replyText(code int, msg string) string {
	if code == 0 {
		return ""
	}
	return fmt.Sprintf("%d %s", code, strings.ReplaceAll(msg, "\n", " "))
}

func (c *conn) quit() {
	c.cmd(221, "QUIT")
	c.nc.Close()
}

// send runs one transaction on an established connection.
func (c *conn) send(from, to string, msg []byte) Result {
	bad := func(stage Stage, code int, m string, err error) Result {
		return Result{Stage: stage, Code: code, Reply: replyText(code, m), Err: fmt.Errorf("smtp: %s: %w", stage, err)}
	}
	c.deadline()
	if c.pipelining {
		// RFC 2920: MAIL, RCPT and DATA go in one write; the replies are
		// read in order.
		c.bw.WriteString("MAIL FROM:<" + from + ">\r\nRCPT TO:<" + to + ">\r\nDATA\r\n")
		if err := c.bw.Flush(); err != nil {
			c.broken = true
			return bad(StageMail, 0, "", err)
		}
		code, m, err := c.tp.ReadResponse(250)
		rcode, rm, rerr := c.tp.ReadResponse(250)
		dcode, dm, derr := c.tp.ReadResponse(354)
		for _, cd := range []int{code, rcode, dcode} {
			if cd == 0 || cd == 421 {
				c.broken = true
			}
		}
		switch {
		case err != nil:
			c.reset(dcode)
			return bad(StageMail, code, m, err)
		case rerr != nil:
			c.reset(dcode)
			return bad(StageRcpt, rcode, rm, rerr)
		case derr != nil:
			return bad(StageData, dcode, dm, derr)
		}
	} else {
		if code, m, err := c.cmd(250, "MAIL FROM:<%s>", from); err != nil {
			c.reset(0)
			return bad(StageMail, code, m, err)
		}
		if code, m, err := c.cmd(250, "RCPT TO:<%s>", to); err != nil {
			c.reset(0)
			return bad(StageRcpt, code, m, err)
		}
		if code, m, err := c.cmd(354, "DATA"); err != nil {
			c.reset(0)
			return bad(StageData, code, m, err)
		}
	}
	dw := c.tp.DotWriter()
	if _, err := dw.Write(msg); err != nil {
		c.broken = true
		return bad(StageData, 0, "", err)
	}
	// From here on the end of the message may reach the server.
	if err := dw.Close(); err != nil {
		c.broken = true
		r := bad(StageDot, 0, "", err)
		r.Ambiguous = true
		return r
	}
	code, m, err := c.tp.ReadResponse(250)
	if err != nil {
		if code == 0 {
			c.broken = true
			r := bad(StageDot, 0, "", err)
			r.Ambiguous = true
			return r
		}
		if code == 421 {
			c.broken = true
		}
		return bad(StageDot, code, m, err)
	}
	c.sent++
	return Result{Stage: StageDot, Code: code, Reply: replyText(code, m)}
}

// reset ends a failed transaction so the connection can be reused. If a
// pipelined DATA was accepted despite an earlier failure, the connection is
// dropped instead: finishing the data phase could deliver a message.
func (c *conn) reset(dataCode int) {
	if c.broken {
		return
	}
	if dataCode == 354 {
		c.broken = true // a message would be sent; drop the connection instead
		return
	}
	if _, _, err := c.cmd(250, "RSET"); err != nil {
		c.broken = true
	}
}
