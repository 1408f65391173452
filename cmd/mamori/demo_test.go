package main

import (
	"context"
	"io"
	"os"
	"slices"
	"testing"

	"github.com/mamori-dev/mamori/internal/demo"
	"github.com/mamori-dev/mamori/internal/notify/letter"
)

// TestDemo runs the whole chain with small sizes and checks each step's
// result: it is the project's end-to-end test of the incident chain.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole chain")
	}
	var out io.Writer = io.Discard
	if testing.Verbose() {
		out = os.Stdout
	}
	res, err := demo.Run(context.Background(), demo.Config{Dir: t.TempDir(), Agents: 3, People: 60, Seed: 7,
		Capabilities: capabilities, Run: run, Out: out})
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
	for _, d := range []string{"JP-APPI/report_regulator/preliminary", "JP-APPI/report_regulator/final", "JP-APPI/notify_individuals"} {
		if !slices.Contains(res.Duties, d) {
			t.Errorf("duties %v lack %s", res.Duties, d)
		}
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
	if _, err := letter.FindFonts(); err == nil && res.LettersPDF == "" {
		t.Error("no letters PDF, though a Japanese font is installed")
	}
	if !res.AuditOK {
		t.Error("audit log did not verify")
	}
}
