package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/mamori-dev/mamori/internal/notify/smtpout"
)

// Transport delivers one encoded message; smtpout.Pool is the real one.
type Transport interface {
	Send(ctx context.Context, from, to string, msg []byte) smtpout.Result
}

// Checker tells whether a message reached the server or the mailbox, by
// Message-ID: the SMTP server's log, or the recipient's Maildir. It answers
// found or not found; an error means it cannot tell.
type Checker interface {
	Delivered(ctx context.Context, messageID string) (bool, error)
}

// Composer turns an outbox row into an envelope and an encoded message.
type Composer struct {
	Campaign  Campaign
	Templates *Templates
	DKIM      *DKIM // optional
	Zone      *time.Location
	Domain    string // of Message-IDs; the sender's domain by default
	Now       func() time.Time
}

// NewComposer parses the campaign's templates and zone.
func NewComposer(c Campaign, dk *DKIM) (*Composer, error) {
	t, err := ParseTemplates(c.Templates, c.Language)
	if err != nil {
		return nil, err
	}
	zone := time.UTC
	if c.Zone != "" {
		if zone, err = time.LoadLocation(c.Zone); err != nil {
			return nil, fmt.Errorf("campaign %s: zone: %w", c.ID, err)
		}
	}
	if c.Fallback != "" && !c.speaks(c.Fallback) {
		return nil, fmt.Errorf("campaign %s: fallback %q: the campaign needs both texts.%[2]s and templates.%[2]s", c.ID, c.Fallback)
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return nil, fmt.Errorf("campaign %s: from %q: %w", c.ID, c.From, err)
	}
	return &Composer{Campaign: c, Templates: t, DKIM: dk, Zone: zone, Domain: c.From[strings.LastIndexByte(c.From, '@')+1:], Now: time.Now}, nil
}

// Render renders the notice content for p, in p's notice language with
// the incident texts of that language.
func (c *Composer) Render(p Person) (Rendered, error) {
	lang, err := c.Campaign.NoticeLanguage(p)
	if err != nil {
		return Rendered{}, err
	}
	return c.Templates.Render(lang, NewData(p, c.Campaign.Texts[lang], lang, c.Now().In(c.Zone)))
}

// Compose renders and encodes r's e-mail.
func (c *Composer) Compose(r Row) (from, to string, msg []byte, err error) {
	rd, err := c.Render(r.Person)
	if err != nil {
		return "", "", nil, err
	}
	mid := r.MessageID
	if mid == "" {
		mid = MessageID(c.Campaign.ID, r.Person.ID, c.Domain)
	}
	msg = Compose(Message{
		From: mail.Address{Name: c.Campaign.FromName, Address: c.Campaign.From}, To: mail.Address{Name: r.Person.Name, Address: r.Person.Email},
		ReplyTo: c.Campaign.ReplyTo, Subject: rd.Subject, Text: rd.Text, HTML: rd.HTML, MessageID: mid, Date: c.Now().In(c.Zone),
	})
	if c.DKIM != nil {
		if msg, err = c.DKIM.Sign(msg); err != nil {
			return "", "", nil, err
		}
	}
	return c.Campaign.From, r.Person.Email, msg, nil
}

// Sender sends a campaign's queued e-mail notices, exactly once each (see
// doc.go for the rules).
type Sender struct {
	Outbox      Outbox
	Transport   Transport
	Compose     func(Row) (from, to string, msg []byte, err error)
	Checker     Checker // optional
	Workers     int     // concurrent transactions (default 8)
	MaxAttempts int     // tries before a soft failure becomes failed (default 8)
	// Backoff is the wait before try n+1 after n soft failures (default
	// 1m·4ⁿ⁻¹, at most 6h).
	Backoff func(n int) time.Duration
	// Wait makes Run wait for soft retries that are not yet due; without
	// it Run returns when only those remain.
	Wait bool
	// SettleAfter is how long after a row became sending Resolve waits
	// before it checks the row's delivery (default 30s): a relay may still
	// be finishing the DATA of a sender that has just died, and checking
	// too early would find nothing and send the notice again.
	SettleAfter time.Duration
	Now         func() time.Time
	Progress    func(Counts) // called about once a second
	// Settled, if set, hears how the rows left sending were settled
	// (their new states, counted), each time Resolve settles some.
	Settled func(map[State]int)
	Log     *slog.Logger
}

// DefaultBackoff waits 1, 4, 16, 64 minutes... capped at six hours.
func DefaultBackoff(n int) time.Duration {
	d := time.Minute
	for i := 1; i < n && d < 6*time.Hour; i++ {
		d *= 4
	}
	return min(d, 6*time.Hour)
}

func (s *Sender) defaults() {
	if s.Workers <= 0 {
		s.Workers = 8
	}
	if s.MaxAttempts <= 0 {
		s.MaxAttempts = 8
	}
	if s.Backoff == nil {
		s.Backoff = DefaultBackoff
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.SettleAfter <= 0 {
		s.SettleAfter = 30 * time.Second
	}
}

// Resolve settles e-mail rows left in `sending` (by a crash, or by a reply
// that never came): found by the Checker → sent; not found → queued again;
// no Checker, or it cannot tell → unknown, for a person to decide. It must
// only run when no other sender works on the campaign (hold the lease).
func (s *Sender) Resolve(ctx context.Context, campaign string) (int, error) {
	s.defaults()
	n := 0
	settled := map[State]int{}
	defer func() {
		if n > 0 && s.Settled != nil {
			s.Settled(settled)
		}
	}()
	var after int64
	for {
		rows, err := s.Outbox.List(ctx, Query{Campaign: campaign, Channel: Email, State: Sending, After: after, Limit: 200})
		if err != nil || len(rows) == 0 {
			return n, err
		}
		if s.Checker != nil {
			// Wait until the youngest row of the page has settled.
			var youngest time.Time
			for _, r := range rows {
				if r.SendingAt.After(youngest) {
					youngest = r.SendingAt
				}
			}
			if wait := youngest.Add(s.SettleAfter).Sub(s.Now()); wait > 0 {
				s.Log.Info("notify: waiting before checking notices left sending", "wait", wait)
				t := time.NewTimer(wait)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return n, ctx.Err()
				}
			}
		}
		var changes []Change
		for _, r := range rows {
			after = r.ID
			c := Change{ID: r.ID, From: Sending, To: Unknown, At: s.Now(), Attempts: r.Attempts, Response: "left sending; no way to check delivery"}
			if s.Checker != nil {
				found, err := s.Checker.Delivered(ctx, r.MessageID)
				switch {
				case err != nil:
					c.Response = "left sending; check failed: " + err.Error()
				case found:
					c.To, c.Response = Sent, "left sending; found delivered by Message-ID"
				default:
					c.To, c.Response, c.At = Queued, "left sending; not delivered by Message-ID, retrying", time.Time{}
					c.NextAt = s.Now()
				}
			}
			changes = append(changes, c)
		}
		ok, err := s.Outbox.Apply(ctx, changes)
		if err != nil {
			return n, err
		}
		for i, c := range changes {
			if ok[i] {
				settled[c.To]++
				n++
			}
		}
	}
}

// Run resolves rows left sending, then sends every due queued e-mail row.
// When ctx ends it stops taking new rows, finishes the transactions under
// way and records them.
func (s *Sender) Run(ctx context.Context, campaign string) error {
	s.defaults()
	if _, err := s.Resolve(ctx, campaign); err != nil {
		return err
	}
	cm := newCommitter(s.Outbox)
	defer cm.close()
	jobs := make(chan Row)
	var wg sync.WaitGroup
	var pass sync.WaitGroup
	var errMu sync.Mutex
	var firstErr error
	fatal := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
	}
	for i := 0; i < s.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range jobs {
				if err := s.one(ctx, cm, r, pass.Done); err != nil {
					fatal(err)
				}
			}
		}()
	}
	stopProgress := s.progress(campaign)
	err := s.feed(ctx, campaign, jobs, &pass, func() error { errMu.Lock(); defer errMu.Unlock(); return firstErr })
	close(jobs)
	wg.Wait()
	if cerr := cm.close(); err == nil {
		err = cerr
	}
	stopProgress()
	if err == nil {
		err = firstErr
	}
	if err == nil && ctx.Err() == nil {
		// Rows this run left ambiguous are settled now, while the lease is
		// still held.
		_, err = s.Resolve(ctx, campaign)
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

func (s *Sender) progress(campaign string) func() {
	if s.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if c, err := s.Outbox.Counts(context.Background(), campaign); err == nil {
					s.Progress(c)
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// feed pages through due rows in id order and hands them to the workers;
// the memory held is one page, whatever the campaign's size.
func (s *Sender) feed(ctx context.Context, campaign string, jobs chan<- Row, pass *sync.WaitGroup, failed func() error) error {
	for {
		var after int64
		for {
			if ctx.Err() != nil || failed() != nil {
				return nil
			}
			rows, err := s.Outbox.List(ctx, Query{Campaign: campaign, Channel: Email, State: Queued, After: after, DueBy: s.Now(), Limit: 512})
			if err != nil {
				return err
			}
			if len(rows) == 0 {
				break
			}
			for _, r := range rows {
				pass.Add(1)
				select {
				case jobs <- r:
				case <-ctx.Done():
					pass.Done()
					return nil
				}
				after = r.ID
			}
		}
		pass.Wait() // every row of this pass is settled before looking again
		at, ok, err := s.Outbox.NextDue(ctx, campaign, Email)
		if err != nil || !ok {
			return err
		}
		if wait := at.Sub(s.Now()); wait > 0 {
			if !s.Wait {
				return nil
			}
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil
			}
		}
	}
}

// one sends one row: claim it durably, send, record the outcome. done is
// called once the outcome is durable, so the feeder's next look at the
// outbox sees it.
func (s *Sender) one(ctx context.Context, cm *committer, r Row, done func()) error {
	claim := Change{ID: r.ID, From: Queued, To: Sending, At: s.Now(), Attempts: r.Attempts + 1, NextAt: r.NextAt}
	ok, err := cm.apply(claim)
	if err != nil || !ok {
		done()
		return err // !ok: another sender took it, or its state moved on
	}
	r.Attempts++
	from, to, msg, err := s.Compose(r)
	if err != nil {
		_, err = cm.apply(Change{ID: r.ID, From: Sending, To: Failed, At: s.Now(), Attempts: r.Attempts, Response: "compose: " + err.Error()})
		done()
		return err
	}
	res := s.Transport.Send(ctx, from, to, msg)
	c, leave := s.outcome(r, res)
	if leave {
		s.Log.Warn("notify: outcome unknown, left sending", "row", r.ID, "message_id", r.MessageID, "err", res.Err)
		done()
		return nil
	}
	cm.submit(c, done)
	return nil
}

// outcome maps a transport result to the row's next state (see doc.go).
// leave reports an ambiguous result: the row stays sending for Resolve.
func (s *Sender) outcome(r Row, res smtpout.Result) (c Change, leave bool) {
	now := s.Now()
	c = Change{ID: r.ID, From: Sending, At: now, Attempts: r.Attempts, Response: res.Reply}
	if c.Response == "" && res.Err != nil {
		c.Response = res.Err.Error()
	}
	switch {
	case res.Err == nil:
		c.To = Sent
	case res.Ambiguous:
		return c, true
	case errors.Is(res.Err, context.Canceled) || errors.Is(res.Err, context.DeadlineExceeded):
		// Nothing was sent: hand the row back untouched.
		c.To, c.Attempts, c.At, c.NextAt, c.Response = Queued, r.Attempts-1, time.Time{}, r.NextAt, ""
	case res.Code >= 500 && (res.Stage == smtpout.StageRcpt || res.Stage == smtpout.StageData || res.Stage == smtpout.StageDot):
		c.To, c.Bounce = Bounced, res.Reply
		if r.Person.CanLetter() {
			c.Add = &Row{Campaign: r.Campaign, Person: r.Person, Channel: Letter, State: Queued, QueuedAt: now}
		}
	case res.Code >= 500:
		c.To = Failed
	case r.Attempts >= s.MaxAttempts:
		c.To = Failed
	default:
		c.To, c.At, c.NextAt = Queued, time.Time{}, now.Add(s.Backoff(r.Attempts))
	}
	return c, false
}

// committer groups the changes of all workers into few transactions:
// each worker still waits for its own claim to be durable before it sends.
type committer struct {
	box  Outbox
	in   chan op
	done chan struct{}
	err  error
	once sync.Once
}

type op struct {
	c     Change
	reply chan result
	done  func()
}

type result struct {
	ok  bool
	err error
}

func newCommitter(box Outbox) *committer {
	cm := &committer{box: box, in: make(chan op, 1024), done: make(chan struct{})}
	go cm.loop()
	return cm
}

func (cm *committer) loop() {
	defer close(cm.done)
	batch := make([]op, 0, 256)
	for first := range cm.in {
		batch = append(batch[:0], first)
	more:
		for len(batch) < cap(batch) {
			select {
			case o, ok := <-cm.in:
				if !ok {
					break more
				}
				batch = append(batch, o)
			default:
				break more
			}
		}
		changes := make([]Change, len(batch))
		for i, o := range batch {
			changes[i] = o.c
		}
		var oks []bool
		var err error
		if cm.err == nil {
			// The store's context is not the run's: a change decided must
			// be recorded even while the run is being cancelled.
			oks, err = cm.box.Apply(context.Background(), changes)
			if err != nil {
				cm.err = err
			}
		} else {
			err = cm.err
		}
		for i, o := range batch {
			if o.reply != nil {
				o.reply <- result{ok: err == nil && oks[i], err: err}
			}
			if o.done != nil {
				o.done()
			}
		}
	}
}

func (cm *committer) apply(c Change) (bool, error) {
	reply := make(chan result, 1)
	cm.in <- op{c: c, reply: reply}
	r := <-reply
	return r.ok, r.err
}

func (cm *committer) submit(c Change, done func()) { cm.in <- op{c: c, done: done} }

func (cm *committer) close() error {
	cm.once.Do(func() { close(cm.in) })
	<-cm.done
	return cm.err
}
