package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/account"
	"github.com/mamori-dev/mamori/internal/notify/letter"
	"github.com/mamori-dev/mamori/internal/store"
)

func (d *demo) obligations(ctx context.Context) error {
	d.title("Obligations: which laws apply, what is due when; the PPC report drafted")
	id := d.res.IncidentID
	var cats []string
	for c := range d.scopeSum {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	facts := map[string]any{"cause": "malware", "wrongful_purpose": nil, "status": "suspected", "encrypted": false, "in_acquisition": false,
		"categories": cats, "people": d.scopeCountry, "special_care": nil, "financial_damage_risk": nil, "assessment_concluded_at": nil}
	ctxDraft := map[string]any{"organization": "株式会社デモ商事", "contact": "お客様相談窓口 0120-000-000（平日9時〜18時）",
		"summary": "社内PC 2台がマルウェアに感染し、顧客情報を含むファイルが外部に送信されたおそれがあります。"}
	if err := d.api.do(ctx, "PUT", "/incidents/"+id+"/obligations/facts", map[string]any{"facts": facts, "context": ctxDraft,
		"reason": "facts from the register"}, nil); err != nil {
		return err
	}
	var doc struct {
		Duties []struct {
			Law, Duty, Stage, Authority, Basis string
			Due                                *time.Time `json:"due"`
			DueText                            string     `json:"due_text"`
			Remaining                          *float64   `json:"remaining_seconds"`
		} `json:"duties"`
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
		d.say("  %-7s %-18s %-11s %-4s due %s  [%s]", du.Law, du.Duty, du.Stage, du.Authority, due, du.Basis)
		d.res.Duties = append(d.res.Duties, strings.TrimSuffix(du.Law+"/"+du.Duty+"/"+du.Stage, "/"))
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

func (d *demo) notices(ctx context.Context) error {
	d.title("Notices: one to every affected person, by e-mail or by letter, exactly once")
	out := filepath.Join(d.res.Dir, "out")
	sk, err := startSink()
	if err != nil {
		return err
	}
	defer sk.close()
	facts := map[string]string{"organization": "株式会社デモ商事",
		"summary":        "当社の社内PC 2台がマルウェアに感染し、お客様の情報を含むファイルが外部に送信されたおそれがあることが判明しました。",
		"cause":          "外部からの不正アクセスによるマルウェア感染",
		"secondary_harm": "なりすましメール等の二次被害のおそれがあります。不審な連絡にご注意ください。",
		"contact":        "お客様相談窓口 0120-000-000（平日9時〜18時） privacy@demo.example.jp"}
	fb, _ := json.Marshal(facts)
	factsFile := filepath.Join(out, "notice-facts.json")
	if err := os.WriteFile(factsFile, fb, 0o600); err != nil {
		return err
	}
	db := filepath.Join(out, "notify.db")
	campaign := "c-" + strings.TrimPrefix(d.res.IncidentID, "i-")
	common := []string{"--db", db, "--campaign", campaign}
	steps := [][]string{
		append([]string{"notify", "create"}, append(common, "--recipients", d.res.RegisterCSV, "--facts", factsFile, "--from", "privacy@demo.example.jp", "--from-name", "株式会社デモ商事")...),
		append([]string{"notify", "test"}, append(common, "--to", "privacy-officer@demo.example.jp", "--smtp", sk.addr, "--tls", "none")...),
		append([]string{"notify", "approve"}, append(common, "--by", "privacy", "--reason", "text checked against Rules art. 10")...),
		append([]string{"notify", "send"}, append(common, "--smtp", sk.addr, "--tls", "none")...),
		append([]string{"notify", "letters"}, append(common, "--batch", "b1", "--out", filepath.Join(out, "letters"))...),
		append([]string{"notify", "posted"}, append(common, "--batch", "b1", "--date", time.Now().In(tokyo()).Format("2006-01-02"))...),
		append([]string{"notify", "status"}, common...),
	}
	// Letters need a Japanese TrueType font; a machine with nothing but Go
	// has none, and the demo says so rather than failing.
	_, fontErr := letter.FindFonts()
	for _, s := range steps {
		if fontErr != nil && (s[1] == "letters" || s[1] == "posted") {
			if s[1] == "letters" {
				d.say("letters not printed: %v", fontErr)
			}
			continue
		}
		if code, _ := d.command(ctx, nil, s...); code == 2 {
			return fmt.Errorf("mamori %s: exit 2", strings.Join(s[:2], " "))
		}
	}
	msgs, rcpts := sk.counts()
	// The test send went to the privacy officer, not to a customer.
	d.res.Messages, d.res.Recipients = msgs-1, rcpts-1
	pdfs, _ := filepath.Glob(filepath.Join(out, "letters", "*.pdf"))
	if len(pdfs) > 0 {
		d.res.LettersPDF = pdfs[0]
	}
	d.res.Letters = d.res.People - d.res.Recipients
	letters := "not printed"
	if d.res.LettersPDF != "" {
		letters = strings.ReplaceAll(d.res.LettersPDF, d.res.Dir, "$DIR")
	}
	d.say("SMTP sink: %d messages to %d customers (plus the test send); letters: %s", d.res.Messages, d.res.Recipients, letters)
	return d.move(ctx, "notifying", "notices sent")
}

func (d *demo) verify(ctx context.Context) error {
	d.title("Console logins, and the audit log of every change, verified")
	srvDir := filepath.Join(d.res.Dir, "server")
	for _, u := range []struct{ name, role string }{{"viewer", "viewer"}, {"privacy", "privacy"}} {
		if code, _ := d.command(ctx, nil, "user", "add", "--data", srvDir, "--name", u.name, "--role", u.role, "--reason", "demo console login"); code != 0 {
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
		}
	}
	code, _ := d.command(ctx, nil, "audit", "verify", "--data", srvDir)
	d.res.AuditOK = code == 0
	if !d.res.AuditOK {
		return fmt.Errorf("mamori audit verify: exit %d", code)
	}
	return nil
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
	d.say("  incident        %s", r.IncidentID)
	d.say("  isolated        %s (simulated)", strings.Join(r.Isolated, ", "))
	d.say("  findings        entry %d, lateral movement %d, exfiltration %d", r.Findings["entry_vector"], r.Findings["lateral_movement"], r.Findings["exfiltration"])
	d.say("  people          %d affected (of %d generated)", r.People, r.Generated)
	d.say("  duties          %s", strings.Join(r.Duties, ", "))
	d.say("  notices         %d e-mails, letters for the rest", r.Messages)
	d.say("  audit log       verified")
	d.say("  console         %s/  viewer / %s   privacy / %s", d.url, r.ViewerPass, r.PrivacyPass)
	d.say("  API             %s/api/v1 with the token in $DIR/server/admin.token", d.url)
	d.say("  drafts          %s", strings.ReplaceAll(r.PPCDraft, r.Dir, "$DIR"))
	d.say("  register        %s", strings.ReplaceAll(r.RegisterCSV, r.Dir, "$DIR"))
	if r.LettersPDF == "" {
		d.say("  letters         not printed: no Japanese font installed (fonts-ipaexfont-mincho, fonts-ipaexfont-gothic)")
	} else {
		d.say("  letters         %s", strings.ReplaceAll(r.LettersPDF, r.Dir, "$DIR"))
	}
	d.say("  everything in   %s", r.Dir)
	r.ConsoleURL = d.url
}

// tokyo is the zone of the letters' dates; UTC where the zone database is
// missing.
func tokyo() *time.Location {
	if l, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return l
	}
	return time.UTC
}
