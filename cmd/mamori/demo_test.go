package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/csv"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/demo"
	"github.com/mamori-dev/mamori/internal/notify/letter"
)

// TestDemo runs the whole chain with small sizes and checks each step's
// result: it is the project's end-to-end test of the incident chain.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole chain")
	}
	var tee io.Writer = io.Discard
	if testing.Verbose() {
		tee = os.Stdout
	}
	// With --keep the console must still answer once the scenario is
	// done; the demo then stops when its context ends.
	out := &keepWatch{tee: tee, kept: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	type ran struct {
		res *demo.Result
		err error
	}
	done := make(chan ran, 1)
	go func() {
		res, err := demo.Run(ctx, demo.Config{Dir: dir, Keep: true, Agents: 3, People: 60, Seed: 7,
			Capabilities: capabilities, Run: run, Out: out})
		done <- ran{res, err}
	}()
	select {
	case <-out.kept:
		resp, err := keptConsole(dir, out.consoleURL())
		if err != nil {
			t.Errorf("console after the scenario, with --keep: %v", err)
		} else if resp != http.StatusOK {
			t.Errorf("console login page after the scenario, with --keep: %d", resp)
		}
		cancel()
	case r := <-done:
		t.Fatalf("the demo returned before ctx ended, with --keep: %v", r.err)
	}
	r := <-done
	res, err := r.res, r.err
	if err != nil {
		t.Fatal(err)
	}
	if res.IncidentID == "" || res.Incidents != 1 {
		t.Errorf("%d incidents opened (%q), want one for the outbreak", res.Incidents, res.IncidentID)
	}
	if !slices.Equal(res.Isolated, []string{"pc-01", "pc-02"}) {
		t.Errorf("isolated %v, want pc-01 and pc-02", res.Isolated)
	}
	for _, k := range []string{"entry_vector", "lateral_movement", "exfiltration"} {
		if res.Findings[k] == 0 {
			t.Errorf("no %s finding: %v", k, res.Findings)
		}
	}
	if res.People != res.Generated {
		t.Errorf("register counts %d people, %d were generated", res.People, res.Generated)
	}
	if res.PlantedInArchive == 0 || res.PeopleInArchive != res.PlantedInArchive || res.ExfiltratedPeople != res.PlantedInArchive || res.ExposureMismatch != 0 {
		t.Errorf("exposure: %d people planted in the files taken, %d in the register with a source there, %d exfiltrated, %d at a level their sources do not give",
			res.PlantedInArchive, res.PeopleInArchive, res.ExfiltratedPeople, res.ExposureMismatch)
	}
	if rows, err := csvRows(res.RegisterCSV); err != nil || rows != res.People+1 {
		t.Errorf("register export %s: %d rows (%v), want a header and %d people", res.RegisterCSV, rows, err, res.People)
	}
	if res.FactsSource != "derived" || res.FactsPeople != res.People {
		t.Errorf("obligations' facts %s, counting %d people; want derived from the register's %d", res.FactsSource, res.FactsPeople, res.People)
	}
	// 60 people: one lives in Germany, one in Korea. The facts count each
	// where they live, and each country's law adds its duties to APPI's.
	if diff := cmp.Diff(res.FactsResidence, map[string]int{"JP": 58, "DE": 1, "KR": 1}); diff != "" {
		t.Errorf("obligations' facts by residence (-got +want):\n%s", diff)
	}
	for _, d := range []string{"JP-APPI/report_regulator/preliminary", "JP-APPI/report_regulator/final", "JP-APPI/notify_individuals",
		"EU-GDPR/report_regulator", "KR-PIPA/notify_individuals", "KR-PIPA/report_regulator"} {
		if !slices.Contains(res.Duties, d) {
			t.Errorf("duties %v lack %s", res.Duties, d)
		}
	}
	if res.Abroad != 2 || res.AbroadEnglish != res.Abroad || res.AbroadNotified != res.Abroad {
		t.Errorf("%d people living abroad: %d in the register with language en, %d with one message at the sink; want 2, each in English, each notified once",
			res.Abroad, res.AbroadEnglish, res.AbroadNotified)
	}
	// The notice at the sink for a customer living abroad is in English
	// throughout: the English incident texts, none of the Japanese ones.
	en, ja := demo.NoticeTexts["en"], demo.NoticeTexts["ja"]
	for _, want := range []string{en.Organization, en.Summary, en.Cause, en.SecondaryHarm, en.Contact} {
		if !strings.Contains(res.AbroadText, want) {
			t.Errorf("the English notice lacks %q:\n%s", want, res.AbroadText)
		}
	}
	for _, not := range []string{ja.Organization, ja.Summary, ja.Cause, ja.SecondaryHarm, ja.Contact} {
		if strings.Contains(res.AbroadText, not) || strings.Contains(res.AbroadSubject, not) {
			t.Errorf("the English notice carries the Japanese %q:\n%s\n%s", not, res.AbroadSubject, res.AbroadText)
		}
	}
	if !strings.Contains(res.AbroadSubject, en.Organization) {
		t.Errorf("the English notice's subject %q does not name %q", res.AbroadSubject, en.Organization)
	}
	if res.Messages != res.WithEmail || res.Recipients != res.WithEmail {
		t.Errorf("SMTP sink got %d messages for %d addresses, want one each for %d people with e-mail", res.Messages, res.Recipients, res.WithEmail)
	}
	if res.CampaignState != "done" || !res.ConsoleCampaign {
		t.Errorf("campaign %s is %q (console shows it: %v), want done and shown", res.CampaignID, res.CampaignState, res.ConsoleCampaign)
	}
	if res.Letters != res.People-res.WithEmail {
		t.Errorf("%d letters queued, want one for each of the %d people without e-mail", res.Letters, res.People-res.WithEmail)
	}
	if _, err := letter.FindFonts(); err == nil {
		if res.LettersPDF == "" || res.LettersPosted != res.Letters {
			t.Errorf("letters PDF %q, %d of %d letters posted, though a Japanese font is installed", res.LettersPDF, res.LettersPosted, res.Letters)
		} else if _, err := exec.LookPath("pdftotext"); err == nil {
			text, err := exec.Command("pdftotext", "-enc", "UTF-8", res.LettersPDF, "-").Output()
			if err != nil {
				t.Fatalf("pdftotext: %v", err)
			}
			if got := strings.Count(string(text), "〒"); got != res.Letters {
				t.Errorf("the letters PDF addresses %d people, want %d", got, res.Letters)
			}
		}
	}
	if !res.AuditOK {
		t.Error("audit log did not verify")
	}
	for _, a := range []string{"privacy/scope.master", "privacy/scope.export_revealed"} {
		if !slices.Contains(res.ScopeAudit, a) {
			t.Errorf("audit log's scoping entries %v lack %s", res.ScopeAudit, a)
		}
	}
}

// csvRows counts the records of a CSV file.
func csvRows(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	return len(recs), err
}

// keepWatch copies the demo's output to tee and closes kept when the demo
// says it keeps running.
type keepWatch struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	tee  io.Writer
	kept chan struct{}
	once sync.Once
}

func (k *keepWatch) Write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.buf.Write(p)
	if bytes.Contains(k.buf.Bytes(), []byte("\n--keep:")) {
		k.once.Do(func() { close(k.kept) })
	}
	return k.tee.Write(p)
}

var consoleLine = regexp.MustCompile(`(?m)^  console +(https://\S+)/ `)

func (k *keepWatch) consoleURL() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if m := consoleLine.FindSubmatch(k.buf.Bytes()); m != nil {
		return string(m[1])
	}
	return ""
}

// keptConsole asks the kept server's console for its login page.
func keptConsole(dir, url string) (int, error) {
	pem, err := os.ReadFile(filepath.Join(dir, "server", "ca.pem"))
	if err != nil {
		return 0, err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get(url + "/login")
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
