package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/notify"
	"github.com/mamori-dev/mamori/internal/notify/letter"
	"github.com/mamori-dev/mamori/internal/notify/notifyapi"
	"github.com/mamori-dev/mamori/internal/notify/smtpout"
	"github.com/mamori-dev/mamori/internal/notify/sqlitebox"
	"golang.org/x/term"
)

func init() {
	register("notify", "individual breach notices by e-mail or letter, exactly once", runNotify)
	capabilities = append(capabilities, notifyapi.Capability)
}

const notifyUsage = `usage: mamori notify ACTION --db FILE --campaign ID [flags]

actions:
  create    make a draft campaign from a register export CSV (--recipients)
  preview   print one person's notice (--person ID; the first by default)
  test      send one notice to a test address (--to); required before approve
  approve   validate the templates and freeze the campaign (--by, --reason)
  send      send the approved campaign's e-mail (resumable; exactly once)
  status    counts by channel and state; --export csv|jsonl for proof of notice
  bounces   apply DSNs from a Maildir (--maildir) or files (args)
  letters   print a batch of queued letters (--batch, --out DIR)
  posted    mark a printed batch posted on --date YYYY-MM-DD

exit status: 0 done, 1 notices need a person (failed, unknown, or bounced
with no postal address), 2 usage or configuration error`

type notifyFlags struct {
	fs                                                  *flag.FlagSet
	db, campaign                                        string
	recipients, facts, templates, from, fromName, reply string
	zone, lang, fallback, person, to, by, reason        string
	export                                              string
	smtpAddr, tlsMode, user, passEnv, dkimKey, dkimSel  string
	checkMaildir, maildir, batch, out, date, tlsCA      string
	workers, maxConns, domainConns, limit, maxAttempts  int
	domainRate                                          float64
	wait, html, allowPlainAuth                          bool
	settleAfter                                         time.Duration
}

func newNotifyFlags(stderr io.Writer) *notifyFlags {
	f := &notifyFlags{fs: flag.NewFlagSet("notify", flag.ContinueOnError)}
	fs := f.fs
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, notifyUsage); fmt.Fprintln(stderr, "\nflags:"); fs.PrintDefaults() }
	fs.StringVar(&f.db, "db", "notify.db", "campaign and outbox `file` (SQLite)")
	fs.StringVar(&f.campaign, "campaign", "", "campaign `id` (create makes one when empty)")
	fs.StringVar(&f.recipients, "recipients", "", "register export `CSV`: "+strings.Join(notify.RecipientsHeader, ","))
	fs.StringVar(&f.facts, "facts", "", "incident facts `JSON`: organization, summary, cause, secondary_harm, contact, other (in --lang); or those by language, {\"ja\": {...}, \"en\": {...}}")
	fs.StringVar(&f.templates, "templates", "", "template `dir` with LANG/{subject,text,html}.tmpl (default: built-in ja and en)")
	fs.StringVar(&f.from, "from", "", "sender `address`")
	fs.StringVar(&f.fromName, "from-name", "", "sender display name")
	fs.StringVar(&f.reply, "reply-to", "", "Reply-To address")
	fs.StringVar(&f.zone, "zone", "Asia/Tokyo", "time zone of dates in notices")
	fs.StringVar(&f.lang, "lang", "ja", "language for people without one")
	fs.StringVar(&f.fallback, "fallback", "", "language of the notice for people whose language has no facts or template (default: refuse them)")
	fs.StringVar(&f.person, "person", "", "person `id` to preview")
	fs.BoolVar(&f.html, "html", false, "preview the HTML part")
	fs.StringVar(&f.to, "to", "", "test send `address`")
	fs.StringVar(&f.by, "by", "", "who approves (with the privacy role)")
	fs.StringVar(&f.reason, "reason", "", "why (audited)")
	fs.StringVar(&f.export, "export", "", "write proof of notice: csv or jsonl")
	fs.StringVar(&f.smtpAddr, "smtp", "127.0.0.1:25", "SMTP relay `host:port`")
	fs.StringVar(&f.tlsMode, "tls", "starttls", "starttls, require-starttls, implicit or none")
	fs.StringVar(&f.tlsCA, "tls-ca", "", "PEM `file` of the CA that signed the relay's certificate")
	fs.StringVar(&f.user, "user", "", "SMTP AUTH user")
	fs.StringVar(&f.passEnv, "password-env", "MAMORI_SMTP_PASSWORD", "environment `variable` holding the SMTP password")
	fs.BoolVar(&f.allowPlainAuth, "allow-plain-auth", false, "allow AUTH without TLS (a relay on loopback)")
	fs.StringVar(&f.dkimKey, "dkim-key", "", "PEM private key `file` (RSA or Ed25519) to DKIM-sign with")
	fs.StringVar(&f.dkimSel, "dkim-selector", "mamori", "DKIM selector")
	fs.IntVar(&f.workers, "workers", 16, "concurrent SMTP transactions")
	fs.IntVar(&f.maxConns, "conns", 16, "connections to the relay")
	fs.IntVar(&f.domainConns, "domain-conns", 0, "concurrent transactions per recipient domain (0: --conns)")
	fs.Float64Var(&f.domainRate, "domain-rate", 0, "messages per second per recipient domain (0: unlimited)")
	fs.IntVar(&f.maxAttempts, "max-attempts", 8, "tries before a soft failure is final")
	fs.BoolVar(&f.wait, "wait", false, "wait for soft retries that are not due yet")
	fs.DurationVar(&f.settleAfter, "settle-after", 30*time.Second, "wait this long after a notice was left sending before checking --check-maildir")
	fs.StringVar(&f.checkMaildir, "check-maildir", "", "Maildir receiving what the relay accepted, to settle rows a crash left sending")
	fs.StringVar(&f.maildir, "maildir", "", "Maildir of bounces")
	fs.StringVar(&f.batch, "batch", "", "letter batch `name`")
	fs.IntVar(&f.limit, "limit", 500, "letters per batch")
	fs.StringVar(&f.out, "out", ".", "output `dir` for letters")
	fs.StringVar(&f.date, "date", "", "posting date YYYY-MM-DD")
	return f
}

func runNotify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, notifyUsage)
		return 2
	}
	action := args[0]
	f := newNotifyFlags(stderr)
	pos, err := parseInterspersed(f.fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if f.campaign == "" && action != "create" {
		fmt.Fprintln(stderr, "mamori notify: --campaign is required")
		return 2
	}
	box, err := sqlitebox.Open(ctx, f.db)
	if err != nil {
		fmt.Fprintln(stderr, "mamori notify:", err)
		return 2
	}
	defer box.Close()
	n := &notifyCmd{f: f, box: box, stdout: stdout, stderr: stderr}
	var code int
	switch action {
	case "create":
		code, err = n.create(ctx)
	case "preview":
		code, err = n.preview(ctx)
	case "test":
		code, err = n.test(ctx)
	case "approve":
		code, err = n.approve(ctx)
	case "send":
		code, err = n.send(ctx)
	case "status":
		code, err = n.status(ctx)
	case "bounces":
		code, err = n.bounces(ctx, pos)
	case "letters":
		code, err = n.letters(ctx)
	case "posted":
		code, err = n.posted(ctx)
	default:
		fmt.Fprintf(stderr, "mamori notify: unknown action %q\n%s\n", action, notifyUsage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "mamori notify:", err)
		if code == 0 {
			code = 2
		}
	}
	return code
}

type notifyCmd struct {
	f              *notifyFlags
	box            *sqlitebox.Box
	stdout, stderr io.Writer
}

func (n *notifyCmd) create(ctx context.Context) (int, error) {
	f := n.f
	if f.recipients == "" || f.facts == "" || f.from == "" {
		return 2, errors.New("create needs --recipients, --facts and --from")
	}
	texts, err := readTexts(f.facts, f.lang)
	if err != nil {
		return 2, err
	}
	tmpl := notify.DefaultTemplates()
	if f.templates != "" {
		if tmpl, err = notify.LoadTemplates(f.templates); err != nil {
			return 2, err
		}
	}
	if _, err := notify.ParseTemplates(tmpl, f.lang); err != nil {
		return 2, err
	}
	if f.campaign == "" {
		var r [6]byte
		rand.Read(r[:])
		f.campaign = "c-" + hex.EncodeToString(r[:])
	}
	c := notify.Campaign{ID: f.campaign, State: notify.Draft, Templates: tmpl, Language: f.lang, Texts: texts, Fallback: f.fallback,
		From: f.from, FromName: f.fromName, ReplyTo: f.reply, Zone: f.zone, CreatedAt: time.Now().UTC()}
	if _, err := notify.NewComposer(c, nil); err != nil {
		return 2, err
	}
	if err := n.box.CreateCampaign(ctx, c); err != nil {
		return 2, err
	}
	in, err := os.Open(f.recipients)
	if err != nil {
		return 2, err
	}
	defer in.Close()
	var batch []notify.Row
	unreachable := 0
	now := time.Now()
	err = notify.ReadRecipients(in, func(p notify.Person) error {
		if _, err := c.NoticeLanguage(p); err != nil {
			return fmt.Errorf("%w: add its facts to %s or give --fallback", err, f.facts)
		}
		r, ok := notify.NewRow(c, p, now)
		if !ok {
			unreachable++
			fmt.Fprintf(n.stderr, "mamori notify: %s has neither e-mail nor postal address; not in the campaign\n", p.ID)
			return nil
		}
		if batch = append(batch, r); len(batch) == 1000 {
			err := n.box.Add(ctx, batch)
			batch = batch[:0]
			return err
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = n.box.Add(ctx, batch)
	}
	if err != nil {
		return 2, fmt.Errorf("%s: %w", f.recipients, err)
	}
	counts, err := n.box.Counts(ctx, c.ID)
	if err != nil {
		return 2, err
	}
	fmt.Fprintf(n.stdout, "campaign %s: draft, %d by e-mail, %d by letter, %d unreachable\n", c.ID, counts[notify.Email][notify.Queued], counts[notify.Letter][notify.Queued], unreachable)
	return 0, nil
}

// readTexts reads the incident facts file: one set of facts, in lang, or
// sets by language.
func readTexts(name, lang string) (map[string]notify.Facts, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	decode := func(v any) error {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		return dec.Decode(v)
	}
	var one notify.Facts
	if err := decode(&one); err == nil {
		return map[string]notify.Facts{lang: one}, nil
	}
	var byLang map[string]notify.Facts
	if err := decode(&byLang); err != nil {
		return nil, fmt.Errorf("%s: neither the facts nor the facts by language: %w", name, err)
	}
	return byLang, nil
}

func (n *notifyCmd) composer(ctx context.Context) (notify.Campaign, *notify.Composer, error) {
	c, err := n.box.Campaign(ctx, n.f.campaign)
	if err != nil {
		return c, nil, err
	}
	var dk *notify.DKIM
	if n.f.dkimKey != "" {
		key, err := os.ReadFile(n.f.dkimKey)
		if err != nil {
			return c, nil, err
		}
		if dk, err = notify.NewDKIM(c.From[strings.LastIndexByte(c.From, '@')+1:], n.f.dkimSel, key); err != nil {
			return c, nil, err
		}
	}
	comp, err := notify.NewComposer(c, dk)
	return c, comp, err
}

func (n *notifyCmd) firstPerson(ctx context.Context, id string) (notify.Row, error) {
	var after int64
	for {
		rows, err := n.box.List(ctx, notify.Query{Campaign: n.f.campaign, After: after, Limit: 500})
		if err != nil {
			return notify.Row{}, err
		}
		if len(rows) == 0 {
			return notify.Row{}, fmt.Errorf("campaign %s: person %q: %w", n.f.campaign, id, notify.ErrNotFound)
		}
		for _, r := range rows {
			if id == "" || r.Person.ID == id {
				return r, nil
			}
			after = r.ID
		}
	}
}

func (n *notifyCmd) preview(ctx context.Context) (int, error) {
	_, comp, err := n.composer(ctx)
	if err != nil {
		return 2, err
	}
	r, err := n.firstPerson(ctx, n.f.person)
	if err != nil {
		return 2, err
	}
	rd, err := comp.Render(r.Person)
	if err != nil {
		return 2, err
	}
	fmt.Fprintf(n.stdout, "To: %s (%s, %s)\nSubject: %s\n\n", r.Person.ID, r.Channel, rd.Lang, rd.Subject)
	if n.f.html {
		fmt.Fprint(n.stdout, rd.HTML)
	} else {
		fmt.Fprint(n.stdout, rd.Text)
	}
	return 0, nil
}

func (n *notifyCmd) pool() (*smtpout.Pool, error) {
	f := n.f
	cfg := smtpout.Config{Addr: f.smtpAddr, TLS: f.tlsMode, Username: f.user, Password: os.Getenv(f.passEnv), AllowPlainAuth: f.allowPlainAuth,
		MaxConns: f.maxConns, DomainConns: f.domainConns, DomainRate: f.domainRate}
	if f.tlsCA != "" {
		tc, err := tlsWithCA(f.tlsCA, f.smtpAddr)
		if err != nil {
			return nil, err
		}
		cfg.TLSConfig = tc
	}
	return smtpout.New(cfg), nil
}

func (n *notifyCmd) test(ctx context.Context) (int, error) {
	if n.f.to == "" {
		return 2, errors.New("test needs --to")
	}
	c, comp, err := n.composer(ctx)
	if err != nil {
		return 2, err
	}
	r, err := n.firstPerson(ctx, n.f.person)
	if err != nil {
		return 2, err
	}
	r.Person.Email = n.f.to
	r.MessageID = notify.MessageID(c.ID, "test/"+time.Now().UTC().Format(time.RFC3339Nano), comp.Domain)
	from, to, msg, err := comp.Compose(r)
	if err != nil {
		return 2, err
	}
	pool, err := n.pool()
	if err != nil {
		return 2, err
	}
	defer pool.Close()
	res := pool.Send(ctx, from, to, msg)
	if res.Err != nil {
		return 1, fmt.Errorf("test send to %s: %w", to, res.Err)
	}
	if c.State == notify.Draft {
		c.TestSentTo, c.TestSentAt = to, time.Now().UTC()
		if err := n.box.UpdateCampaign(ctx, c, notify.Draft); err != nil {
			return 2, err
		}
	}
	fmt.Fprintf(n.stdout, "test notice for %s sent to %s: %s\n", r.Person.ID, to, res.Reply)
	return 0, nil
}

func (n *notifyCmd) approve(ctx context.Context) (int, error) {
	if n.f.by == "" || n.f.reason == "" {
		return 2, errors.New("approve needs --by and --reason")
	}
	c, err := notify.Approve(ctx, n.box, n.box, n.f.campaign, n.f.by, n.f.reason, time.Now())
	if err != nil {
		return 2, err
	}
	fmt.Fprintf(n.stdout, "campaign %s approved by %s: %d notices frozen, sha256 %s\n", c.ID, c.ApprovedBy, c.Recipients, c.Hash)
	return 0, nil
}

func (n *notifyCmd) send(ctx context.Context) (int, error) {
	c, comp, err := n.composer(ctx)
	if err != nil {
		return 2, err
	}
	switch c.State {
	case notify.Approved, notify.Paused, notify.Running:
	default:
		return 2, fmt.Errorf("campaign %s is %s; it must be approved first", c.ID, c.State)
	}
	if hash, _, _, err := notify.Freeze(ctx, n.box, c, c.LastRow); err != nil {
		return 2, err
	} else if hash != c.Hash {
		return 2, fmt.Errorf("campaign %s changed since approval (hash %s, approved %s)", c.ID, hash, c.Hash)
	}
	owner := notify.NewOwner()
	const ttl = 30 * time.Second
	if holder, ok, err := n.box.Lease(ctx, c.ID, owner, time.Now().Add(ttl), time.Now()); err != nil {
		return 2, err
	} else if !ok {
		return 2, fmt.Errorf("campaign %s is being sent by %s", c.ID, holder)
	}
	renew, stopRenew := context.WithCancel(context.Background())
	go func() {
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-renew.Done():
				return
			case <-t.C:
				n.box.Lease(renew, c.ID, owner, time.Now().Add(ttl), time.Now())
			}
		}
	}()
	defer func() {
		stopRenew()
		n.box.Lease(context.Background(), c.ID, owner, time.Now(), time.Now())
	}()
	if c.State != notify.Running {
		prev := c.State
		c.State = notify.Running
		if err := n.box.UpdateCampaign(ctx, c, prev); err != nil {
			return 2, err
		}
	}
	pool, err := n.pool()
	if err != nil {
		return 2, err
	}
	defer pool.Close()
	s := &notify.Sender{Outbox: n.box, Transport: pool, Compose: comp.Compose, Workers: n.f.workers, MaxAttempts: n.f.maxAttempts, Wait: n.f.wait,
		SettleAfter: n.f.settleAfter}
	if n.f.checkMaildir != "" {
		s.Checker = &notify.MaildirChecker{Dir: n.f.checkMaildir}
	}
	s.Settled = func(m map[notify.State]int) {
		fmt.Fprintf(n.stderr, "mamori notify: notices left sending: %d found delivered (sent), %d not delivered (queued again), %d unknown\n",
			m[notify.Sent], m[notify.Queued], m[notify.Unknown])
	}
	if fl, ok := n.stderr.(*os.File); ok && term.IsTerminal(int(fl.Fd())) {
		start := time.Now()
		s.Progress = func(cn notify.Counts) {
			e := cn[notify.Email]
			fmt.Fprintf(n.stderr, "\r%s: %d sent, %d queued, %d bounced, %d failed, %d unknown (%.0f/s)   ", c.ID,
				e[notify.Sent], e[notify.Queued], e[notify.Bounced], e[notify.Failed], e[notify.Unknown], float64(e[notify.Sent])/time.Since(start).Seconds())
		}
	}
	runErr := s.Run(ctx, c.ID)
	if s.Progress != nil {
		fmt.Fprintln(n.stderr)
	}
	counts, err := n.box.Counts(context.Background(), c.ID)
	if err != nil {
		return 2, err
	}
	e := counts[notify.Email]
	next := notify.Running
	switch {
	case runErr != nil && ctx.Err() != nil:
		next = notify.Paused
	case runErr == nil && e[notify.Queued] == 0 && e[notify.Sending] == 0:
		next = notify.Done
	}
	if next != notify.Running {
		c.State = next
		if err := n.box.UpdateCampaign(context.Background(), c, notify.Running); err != nil {
			return 2, err
		}
	}
	n.printCounts(c.ID, next, counts)
	if runErr != nil && ctx.Err() == nil {
		return 2, runErr
	}
	if e[notify.Failed]+e[notify.Unknown] > 0 {
		return 1, nil
	}
	return 0, nil
}

func (n *notifyCmd) printCounts(id string, state notify.CampaignState, counts notify.Counts) {
	fmt.Fprintf(n.stdout, "campaign %s: %s\n", id, state)
	chans := []notify.Channel{notify.Email, notify.Letter}
	fmt.Fprintf(n.stdout, "%-8s", "")
	for _, s := range notify.States {
		fmt.Fprintf(n.stdout, " %8s", s)
	}
	fmt.Fprintln(n.stdout)
	for _, ch := range chans {
		fmt.Fprintf(n.stdout, "%-8s", ch)
		for _, s := range notify.States {
			fmt.Fprintf(n.stdout, " %8d", counts[ch][s])
		}
		fmt.Fprintln(n.stdout)
	}
}

func (n *notifyCmd) status(ctx context.Context) (int, error) {
	c, err := n.box.Campaign(ctx, n.f.campaign)
	if err != nil {
		return 2, err
	}
	if n.f.export != "" {
		return 0, notify.Export(ctx, n.box, c.ID, n.f.export, n.stdout)
	}
	counts, err := n.box.Counts(ctx, c.ID)
	if err != nil {
		return 2, err
	}
	n.printCounts(c.ID, c.State, counts)
	unreached, err := n.unreached(ctx, c.ID)
	if err != nil {
		return 2, err
	}
	if unreached > 0 {
		fmt.Fprintf(n.stdout, "%d people bounced and have no postal address: not notified\n", unreached)
	}
	if c.Hash != "" {
		fmt.Fprintf(n.stdout, "approved by %s at %s (%s), sha256 %s\n", c.ApprovedBy, c.ApprovedAt.Format(time.RFC3339), c.Reason, c.Hash)
	}
	if counts.Total(notify.Failed)+counts.Total(notify.Unknown)+unreached > 0 {
		return 1, nil
	}
	return 0, nil
}

// unreached counts people whose e-mail bounced and who have no postal
// address for a letter: nobody has told them yet.
func (n *notifyCmd) unreached(ctx context.Context, campaign string) (int, error) {
	k := 0
	var after int64
	for {
		rows, err := n.box.List(ctx, notify.Query{Campaign: campaign, Channel: notify.Email, State: notify.Bounced, After: after, Limit: 1000})
		if err != nil || len(rows) == 0 {
			return k, err
		}
		for _, r := range rows {
			after = r.ID
			if !r.Person.CanLetter() {
				k++
			}
		}
	}
}

func (n *notifyCmd) bounces(ctx context.Context, files []string) (int, error) {
	s := &notify.Sender{Outbox: n.box, MaxAttempts: n.f.maxAttempts}
	var lines []string
	if n.f.maildir != "" {
		l, err := s.ReadBounces(ctx, n.f.maildir)
		if err != nil {
			return 2, err
		}
		lines = append(lines, l...)
	}
	for _, file := range files {
		fh, err := os.Open(file)
		if err != nil {
			return 2, err
		}
		d, err := notify.ParseDSN(fh)
		fh.Close()
		if err != nil {
			return 2, fmt.Errorf("%s: %w", file, err)
		}
		l, err := s.ApplyDSN(ctx, d)
		if err != nil {
			return 2, fmt.Errorf("%s: %w", file, err)
		}
		lines = append(lines, l...)
	}
	if n.f.maildir == "" && len(files) == 0 {
		return 2, errors.New("bounces needs --maildir or DSN files")
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Fprintln(n.stdout, l)
	}
	return 0, nil
}

func (n *notifyCmd) letters(ctx context.Context) (int, error) {
	if n.f.batch == "" {
		return 2, errors.New("letters needs --batch")
	}
	_, comp, err := n.composer(ctx)
	if err != nil {
		return 2, err
	}
	fonts, err := letter.FindFonts()
	if err != nil {
		return 2, err
	}
	if err := os.MkdirAll(n.f.out, 0o755); err != nil {
		return 2, err
	}
	pdfPath, csvPath := filepath.Join(n.f.out, n.f.batch+".pdf"), filepath.Join(n.f.out, n.f.batch+".csv")
	pdf, err := os.Create(pdfPath)
	if err != nil {
		return 2, err
	}
	defer pdf.Close()
	csv, err := os.Create(csvPath)
	if err != nil {
		return 2, err
	}
	defer csv.Close()
	k, err := notify.PrintBatch(ctx, n.box, comp, n.f.batch, n.f.limit, fonts, pdf, csv)
	if err != nil {
		return 2, err
	}
	if err := errors.Join(pdf.Close(), csv.Close()); err != nil {
		return 2, err
	}
	if k == 0 {
		os.Remove(pdfPath)
		os.Remove(csvPath)
		fmt.Fprintln(n.stdout, "no letters queued")
		return 0, nil
	}
	fmt.Fprintf(n.stdout, "batch %s: %d letters in %s, addresses in %s\n", n.f.batch, k, pdfPath, csvPath)
	return 0, nil
}

func (n *notifyCmd) posted(ctx context.Context) (int, error) {
	if n.f.batch == "" || n.f.date == "" {
		return 2, errors.New("posted needs --batch and --date")
	}
	zone, err := time.LoadLocation(n.f.zone)
	if err != nil {
		return 2, err
	}
	d, err := time.ParseInLocation("2006-01-02", n.f.date, zone)
	if err != nil {
		return 2, fmt.Errorf("--date: %w", err)
	}
	k, err := notify.MarkPosted(ctx, n.box, n.f.campaign, n.f.batch, d)
	if err != nil {
		return 2, err
	}
	fmt.Fprintf(n.stdout, "batch %s: %d letters marked posted on %s\n", n.f.batch, k, n.f.date)
	return 0, nil
}

// tlsWithCA trusts the CA in file for the relay at addr.
func tlsWithCA(file, addr string) (*tls.Config, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate", file)
	}
	host, _, _ := net.SplitHostPort(addr)
	return &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12}, nil
}
