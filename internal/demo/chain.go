package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/account"
	"github.com/mamori-dev/mamori/internal/notify/letter"
	"github.com/mamori-dev/mamori/internal/notify/notifyapi"
	"github.com/mamori-dev/mamori/internal/store"
)

func (d *demo) obligations(ctx context.Context) error {
	d.title("Obligations: which laws apply, what is due when; the PPC report drafted")
	id := d.res.IncidentID
	// The facts are the server's, derived from the register's last build:
	// its people by country of residence, its categories and flags.
	var derived struct {
		Facts       json.RawMessage `json:"facts"`
		FactsSource string          `json:"facts_source"`
	}
	if err := d.api.do(ctx, "GET", "/incidents/"+id+"/obligations", nil, &derived); err != nil {
		return err
	}
	var facts struct {
		Cause      string         `json:"cause"`
		People     map[string]int `json:"people"`
		Categories []string       `json:"categories"`
	}
	if err := json.Unmarshal(derived.Facts, &facts); err != nil {
		return fmt.Errorf("obligations: facts: %w", err)
	}
	d.res.FactsSource = derived.FactsSource
	for _, n := range facts.People {
		d.res.FactsPeople += n
	}
	pb, _ := json.Marshal(facts.People)
	d.say("GET /api/v1/incidents/%s/obligations: facts %s from the register: cause %s, people %s, categories %s",
		id, derived.FactsSource, facts.Cause, pb, strings.Join(facts.Categories, ", "))
	if d.res.FactsPeople != d.res.People {
		return fmt.Errorf("obligations: the facts count %d people, the register %d", d.res.FactsPeople, d.res.People)
	}
	// Every generated person is affected, so the facts count each where
	// they were generated to live: the register read their country from
	// the address (or the phone number) the files and the master give.
	d.res.FactsResidence = facts.People
	if !maps.Equal(facts.People, d.res.Residence) {
		return fmt.Errorf("obligations: the facts count people by residence as %s; they were generated as %s",
			residence(facts.People, true), residence(d.res.Residence, true))
	}
	if d.res.Abroad > 0 {
		d.say("residents abroad, by the country of their address: %s; each country's law is assessed besides APPI", residence(facts.People, false))
	}
	ctxDraft := map[string]any{"organization": "株式会社デモ商事", "contact": "お客様相談窓口 0120-000-000（平日9時〜18時）",
		"summary": "社内PC 2台がマルウェアに感染し、顧客情報を含むファイルが外部に送信されたおそれがあります。"}
	if err := d.api.do(ctx, "PUT", "/incidents/"+id+"/obligations/facts", map[string]any{"facts": derived.Facts, "context": ctxDraft,
		"reason": "the drafts' narrative; the facts as derived from the register"}, nil); err != nil {
		return err
	}
	d.say("PUT .../obligations/facts: the same facts, with the drafts' narrative (organisation, contact, summary)")
	var doc struct {
		Duties []struct {
			Law, Duty, Stage, Authority, Basis, Reason string
			Due                                        *time.Time `json:"due"`
			DueText                                    string     `json:"due_text"`
			Remaining                                  *float64   `json:"remaining_seconds"`
		} `json:"duties"`
		NotTriggered []struct{ Law, Reason string } `json:"not_triggered"`
		NotAssessed  []struct {
			Scope, Reason string
			People        int
		} `json:"not_assessed"`
	}
	if err := d.api.do(ctx, "GET", "/incidents/"+id+"/obligations", nil, &doc); err != nil {
		return err
	}
	for _, du := range doc.Duties {
		due := du.DueText
		if du.Due != nil {
			due = du.Due.Format(time.RFC3339)
			if du.Remaining != nil {
				due += fmt.Sprintf(" (%.0f h left)", *du.Remaining/3600)
			}
		}
		to := ""
		if du.Authority != "" {
			to = "  to " + du.Authority
		}
		d.say("  %-7s %-18s %-11s due %-40s [%s]%s", du.Law, du.Duty, du.Stage, due, du.Basis, to)
		if !strings.HasPrefix(du.Law, "JP-") {
			// What a law other than the home one asks, in the engine's
			// words: the GDPR's says why Art. 34 does not reach the
			// people on these categories.
			d.say("          %s", du.Reason)
		}
		d.res.Duties = append(d.res.Duties, strings.TrimSuffix(du.Law+"/"+du.Duty+"/"+du.Stage, "/"))
	}
	for _, n := range doc.NotTriggered {
		d.say("  %-7s no duty here: %s", n.Law, n.Reason)
	}
	for _, n := range doc.NotAssessed {
		d.say("  %-7s not assessed (%d people): %s", n.Scope, n.People, n.Reason)
	}
	md, err := d.api.send(ctx, "GET", "/incidents/"+id+"/obligations/drafts/ppc-report?format=markdown", nil)
	if err != nil {
		return err
	}
	d.res.PPCDraft = filepath.Join(d.res.Dir, "out", "ppc-report.md")
	if err := os.WriteFile(d.res.PPCDraft, md, 0o600); err != nil {
		return err
	}
	d.say("PPC report draft (nine items of Rules art. 8(1)): $DIR/out/ppc-report.md, %d bytes", len(md))
	return d.move(ctx, "reporting", "preliminary report drafted")
}

// NoticeTexts are what the notices tell each person (Rules art. 10, GDPR
// Art. 34), in the languages of the register: the customers living abroad
// read English.
var NoticeTexts = map[string]notifyapi.NoticeFacts{
	"ja": {Organization: "株式会社デモ商事",
		Summary:       "当社の社内PC 2台がマルウェアに感染し、お客様の情報を含むファイルが外部に送信されたおそれがあることが判明しました。",
		Cause:         "外部からの不正アクセスによるマルウェア感染",
		SecondaryHarm: "なりすましメール等の二次被害のおそれがあります。不審な連絡にご注意ください。",
		Contact:       "お客様相談窓口 0120-000-000（平日9時〜18時） privacy@demo.example.jp"},
	"en": {Organization: "Demo Shoji Co., Ltd.",
		Summary:       "Two of our office PCs were infected with malware, and files holding our customers' data may have been sent outside the company.",
		Cause:         "Malware planted through unauthorised access from outside.",
		SecondaryHarm: "You may receive phishing e-mails or other messages pretending to come from us. Please be wary of unexpected contacts.",
		Contact:       "Customer desk, +81 3-0000-0000 (weekdays 9:00-18:00 JST), privacy@demo.example.jp"},
}

func (d *demo) notices(ctx context.Context) error {
	d.title("Notices: a campaign on the server, approved by the privacy officer, sent to every person with an e-mail address; letters for the rest")
	people, err := d.recipients(ctx)
	if err != nil {
		return err
	}
	req := notifyapi.CampaignRequest{Texts: NoticeTexts, From: "privacy@demo.example.jp", FromName: NoticeTexts["ja"].Organization,
		Reason: "notify every person in the register (APPI art. 26(2))"}
	for _, p := range people {
		r := notifyapi.NoticeRecipient{ID: p.ID, Name: p.Name, Email: p.Email, PostalCode: p.PostalCode, Address: p.Address, Language: p.Language}
		for _, it := range p.Items {
			r.Items = append(r.Items, notifyapi.NoticeItem(it))
		}
		req.Recipients = append(req.Recipients, r)
	}
	base := "/incidents/" + d.res.IncidentID + "/campaigns"
	var c notifyapi.CampaignView
	if err := d.api.do(ctx, "POST", base, req, &c); err != nil {
		return err
	}
	d.say("POST /api/v1%s (as admin): campaign %s, %s, incident texts in %s: %s", base, c.ID, c.State, strings.Join(c.Languages, " and "), counts(c))
	if err := d.api.do(ctx, "POST", base+"/"+c.ID+"/test", map[string]string{"to": "privacy-officer@demo.example.jp",
		"reason": "the privacy officer reads the notice before approving it"}, &c); err != nil {
		return err
	}
	d.say("POST .../%s/test: one notice sent to privacy-officer@demo.example.jp at %s", c.ID, c.TestSentAt)
	if err := d.privacy.do(ctx, "POST", base+"/"+c.ID+"/approve", map[string]string{"reason": "text checked against Rules art. 10"}, &c); err != nil {
		return err
	}
	d.say("POST .../%s/approve (as privacy): %s by %s, %d notices frozen, sha256 %s", c.ID, c.State, c.ApprovedBy, c.Recipients, c.Hash)
	if err := d.api.do(ctx, "POST", base+"/"+c.ID+"/state", map[string]string{"state": "sending", "reason": "approved: send"}, &c); err != nil {
		return err
	}
	var abroad []string
	for _, p := range d.people {
		if p.Country != "JP" && p.Email != "" {
			abroad = append(abroad, p.Email)
		}
	}
	d.sink.retain(abroad...)
	d.say("POST .../%s/state: %s; the server sends each notice once, through its relay", c.ID, c.State)
	if err := waitFor(ctx, 3*time.Minute, "the campaign to finish sending", func() (bool, error) {
		err := d.api.do(ctx, "GET", base+"/"+c.ID, nil, &c)
		return c.State == "done", err
	}); err != nil {
		return err
	}
	d.say("GET .../%s: %s: %s", c.ID, c.State, counts(c))
	d.res.CampaignID, d.res.CampaignState = c.ID, c.State
	msgs, rcpts := d.sink.counts()
	// The test send went to the privacy officer, not to a customer.
	d.res.Messages, d.res.Recipients = msgs-1, rcpts-1
	for _, p := range d.people {
		if p.Country != "JP" && d.sink.received(p.Email) == 1 {
			d.res.AbroadNotified++
		}
	}
	d.res.Letters = c.Counts["letter"]["queued"]
	d.say("SMTP sink: %d messages to %d customers (plus the test send); exactly one each for %d of the %d living abroad",
		d.res.Messages, d.res.Recipients, d.res.AbroadNotified, d.res.Abroad)
	if len(abroad) > 0 {
		subject, text, err := noticeText(d.sink.message(abroad[0]))
		if err != nil {
			return fmt.Errorf("the notice to %s: %w", abroad[0], err)
		}
		d.res.AbroadSubject, d.res.AbroadText = subject, text
		d.say("the notice to a customer living abroad: %q, with the incident texts in English (%d characters of text)", subject, len(text))
	}
	if err := d.letters(ctx, base+"/"+c.ID); err != nil {
		return err
	}
	return d.move(ctx, "notifying", "notices sent")
}

// counts writes a campaign's notice counts by channel and state.
func counts(c notifyapi.CampaignView) string {
	var parts []string
	for _, ch := range []string{"email", "letter"} {
		var st []string
		for s, n := range c.Counts[ch] {
			st = append(st, fmt.Sprintf("%s %d", s, n))
		}
		sort.Strings(st)
		if len(st) > 0 {
			parts = append(parts, ch+" "+strings.Join(st, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// letters downloads the campaign's letters from the server as the
// privacy officer, one PDF to print, and marks them posted: the server
// tracks the letter channel as it tracks the e-mails.
func (d *demo) letters(ctx context.Context, cb string) error {
	if d.res.Letters == 0 {
		d.say("letters: none, every person has an e-mail address")
		return nil
	}
	d.say("letters: the campaign keeps %d queued for the people without e-mail", d.res.Letters)
	// The server runs on this machine and needs a Japanese TrueType font to
	// print; a machine with nothing but Go has none, and the demo says so
	// rather than failing.
	if _, err := letter.FindFonts(); err != nil {
		d.say("letters not printed: %v", err)
		return nil
	}
	pdf, err := d.privacy.send(ctx, "GET", cb+"/letters.pdf?"+url.Values{"reason": {"print the letters for the people without e-mail"}}.Encode(), nil)
	if err != nil {
		return err
	}
	dir := filepath.Join(d.res.Dir, "out", "letters")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	d.res.LettersPDF = filepath.Join(dir, filepath.Base(cb)+"-letters.pdf")
	if err := os.WriteFile(d.res.LettersPDF, pdf, 0o600); err != nil {
		return err
	}
	d.say("GET .../%s/letters.pdf (as privacy): %d bytes, $DIR/out/letters/%s", filepath.Base(cb), len(pdf), filepath.Base(d.res.LettersPDF))
	var posted notifyapi.LettersPostedResult
	if err := d.privacy.do(ctx, "POST", cb+"/letters/posted", notifyapi.LettersPosted{Reason: "handed to the post office"}, &posted); err != nil {
		return err
	}
	var c notifyapi.CampaignView
	if err := d.api.do(ctx, "GET", cb, nil, &c); err != nil {
		return err
	}
	d.res.LettersPosted = c.Counts["letter"]["sent"]
	d.say("POST .../%s/letters/posted (as privacy): %d letters posted on %s; %s", c.ID, posted.Posted, posted.Date, counts(c))
	return nil
}

// logins adds the console's viewer and privacy users with passwords, and
// keeps the privacy officer's API token: uploading the master list,
// revealing the register and approving a campaign are theirs.
func (d *demo) logins(ctx context.Context) error {
	srvDir := filepath.Join(d.res.Dir, "server")
	for _, u := range []struct{ name, role string }{{"viewer", "viewer"}, {"privacy", "privacy"}} {
		var tok bytes.Buffer
		if code, _ := d.command(ctx, &tok, "user", "add", "--data", srvDir, "--name", u.name, "--role", u.role, "--reason", "demo console login"); code != 0 {
			return fmt.Errorf("mamori user add %s: exit %d", u.name, code)
		}
		pass, err := d.setPassword(ctx, srvDir, u.name)
		if err != nil {
			return err
		}
		if u.role == "viewer" {
			d.res.ViewerPass = pass
		} else {
			d.res.PrivacyPass = pass
			d.privacy = newClient(d.url, strings.TrimSpace(tok.String()), d.srv.CAPEM())
			if err := os.WriteFile(filepath.Join(d.res.Dir, "out", "privacy.token"), tok.Bytes(), 0o600); err != nil {
				return err
			}
			d.say("  (the privacy officer's API token it printed is kept in $DIR/out/privacy.token: the master list, the register revealed and the campaign's approval are theirs)")
		}
	}
	return nil
}

func (d *demo) verify(ctx context.Context) error {
	d.title("The privacy officer's console, and the audit log of every change, verified")
	if err := d.console(ctx); err != nil {
		return err
	}
	srvDir := filepath.Join(d.res.Dir, "server")
	code, _ := d.command(ctx, nil, "audit", "verify", "--data", srvDir)
	d.res.AuditOK = code == 0
	if !d.res.AuditOK {
		return fmt.Errorf("mamori audit verify: exit %d", code)
	}
	return d.personalDataAudit(ctx)
}

// setPassword gives a console user a random password, as `mamori user
// passwd` does, audited in the server's log.
func (d *demo) setPassword(ctx context.Context, srvDir, name string) (string, error) {
	var b [9]byte
	rand.Read(b[:])
	pass := base64.RawURLEncoding.EncodeToString(b[:])
	hash, err := account.HashPassword(pass)
	if err != nil {
		return "", err
	}
	st, err := store.Open(ctx, filepath.Join(srvDir, "mamori.db"))
	if err != nil {
		return "", err
	}
	defer st.Close()
	err = st.InTx(ctx, func(tx *store.Tx) error {
		if err := account.SetPassword(ctx, tx, name, hash); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, account.LocalAudit(time.Now(), "user.passwd", name, "demo console login", ""))
	})
	return pass, err
}

func (d *demo) summary(took time.Duration) {
	r := &d.res
	d.title(fmt.Sprintf("Summary (%.0f s)", took.Seconds()))
	d.say("  incident        %s (one for the outbreak on both PCs)", r.IncidentID)
	d.say("  isolated        %s (simulated)", strings.Join(r.Isolated, ", "))
	d.say("  findings        entry %d, lateral movement %d, exfiltration %d", r.Findings["entry_vector"], r.Findings["lateral_movement"], r.Findings["exfiltration"])
	d.say("  people          %d affected (of %d generated), %d exfiltrated", r.People, r.Generated, r.ExfiltratedPeople)
	d.say("  duties          %s", strings.Join(r.Duties, ", "))
	d.say("  notices         campaign %s %s: %d e-mails at the SMTP sink, %d letters", r.CampaignID, r.CampaignState, r.Messages, r.Letters)
	d.say("  audit log       verified")
	d.say("  console         %s/  viewer / %s   privacy / %s", d.url, r.ViewerPass, r.PrivacyPass)
	d.say("  API             %s/api/v1 with the token in $DIR/server/admin.token", d.url)
	d.say("  drafts          %s", strings.ReplaceAll(r.PPCDraft, r.Dir, "$DIR"))
	d.say("  register        %s (the server's register, masked)", strings.ReplaceAll(r.RegisterCSV, r.Dir, "$DIR"))
	switch {
	case r.Letters == 0:
		d.say("  letters         none needed")
	case r.LettersPDF == "":
		d.say("  letters         not printed: no Japanese font installed (fonts-ipaexfont-mincho, fonts-ipaexfont-gothic)")
	default:
		d.say("  letters         %s", strings.ReplaceAll(r.LettersPDF, r.Dir, "$DIR"))
	}
	d.say("  everything in   %s", r.Dir)
	r.ConsoleURL = d.url
}

// console logs in to the web console as the privacy officer, as a reviewer
// would, and checks that the incident's campaign page shows the campaign
// and its progress.
func (d *demo) console(ctx context.Context) error {
	jar, _ := cookiejar.New(nil)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(d.srv.CAPEM())
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	defer hc.CloseIdleConnections()
	page := "/incidents/" + d.res.IncidentID + "/campaigns"
	form := url.Values{"name": {"privacy"}, "password": {d.res.PrivacyPass}, "next": {page}}
	req, err := http.NewRequestWithContext(ctx, "POST", d.url+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("console login: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("console %s: %w", page, err)
	}
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != page {
		return fmt.Errorf("console login as privacy, then %s: %s at %s", page, resp.Status, resp.Request.URL.Path)
	}
	html := string(body)
	d.res.ConsoleCampaign = strings.Contains(html, "<td>"+d.res.CampaignID+"</td>") && strings.Contains(html, "<td>"+d.res.CampaignState+"</td>")
	if !d.res.ConsoleCampaign {
		return fmt.Errorf("console %s as privacy: campaign %s (%s) not shown", page, d.res.CampaignID, d.res.CampaignState)
	}
	d.say("console: privacy logged in; %s shows campaign %s, %s, with its counts by channel and state", page, d.res.CampaignID, d.res.CampaignState)
	return nil
}
