package obligation

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCountdown(t *testing.T) {
	// Issue example: preliminary due 2026-03-05T23:59:59+09:00, GDPR 2026-03-05T10:00+09:00.
	r := Assess(facts(t, `{"cause":"malware","categories":["person_name","credit_card"],"people":{"JP":10,"DE":1}}`))
	cases := []struct {
		name          string
		now           string
		warnings      []string
		soon, overdue []string // law/duty/stage flagged due_soon, overdue
	}{
		{"three days out", "2026-03-02T10:00:00+09:00", []string{}, nil, nil},
		{"GDPR within 24 h", "2026-03-04T11:00:00+09:00", []string{
			"EU-GDPR report_regulator is due 2026-03-05T10:00:00+09:00: 23h 00m left"}, []string{"EU-GDPR/report_regulator/"}, nil},
		{"GDPR overdue, preliminary close", "2026-03-05T12:00:00+09:00", []string{
			"JP-APPI report_regulator (preliminary) is due 2026-03-05T23:59:59+09:00: 12h 00m left",
			"EU-GDPR report_regulator was due 2026-03-05T10:00:00+09:00: overdue by 2h 00m"},
			[]string{"JP-APPI/report_regulator/preliminary"}, []string{"EU-GDPR/report_regulator/"}},
		{"due this very second", "2026-03-05T10:00:00+09:00", []string{
			"JP-APPI report_regulator (preliminary) is due 2026-03-05T23:59:59+09:00: 14h 00m left",
			"EU-GDPR report_regulator is due 2026-03-05T10:00:00+09:00: 0h 00m left"},
			[]string{"JP-APPI/report_regulator/preliminary", "EU-GDPR/report_regulator/"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now, _ := time.Parse(time.RFC3339, c.now)
			cd := CountdownAt(r, now)
			if diff := cmp.Diff(cd.Warnings, c.warnings); diff != "" {
				t.Errorf("warnings (-got +want):\n%s", diff)
			}
			var soon, overdue []string
			for _, d := range cd.Duties {
				if (d.Due == nil) != (d.RemainingSeconds == nil) {
					t.Errorf("%s %s: due %v, remaining %v", d.Law, d.Duty, d.Due, d.RemainingSeconds)
				}
				name := d.Law + "/" + d.Duty.Duty + "/" + d.Stage
				if d.DueSoon {
					soon = append(soon, name)
				}
				if d.Overdue {
					overdue = append(overdue, name)
				}
			}
			if diff := cmp.Diff(soon, c.soon); diff != "" {
				t.Errorf("due soon (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(overdue, c.overdue); diff != "" {
				t.Errorf("overdue (-got +want):\n%s", diff)
			}
		})
	}
}

// The examples the README runs are valid facts.
func TestReadmeExamples(t *testing.T) {
	for _, name := range []string{"malware", "misconfiguration", "misdelivery"} {
		f, err := openExample(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := DecodeFacts(f); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		f.Close()
	}
}

func openExample(name string) (*os.File, error) {
	return os.Open(filepath.Join("testdata", "examples", name+".json"))
}
