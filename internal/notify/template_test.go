package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/notify"
)

func TestParseTemplatesRefusesMissingFields(t *testing.T) {
	ok := notify.TemplateSource{Subject: "{{.Incident.Organization}}", Text: "{{.Person.Name}}", HTML: "<p>{{.Person.Name}}</p>"}
	for _, tc := range []struct {
		name    string
		mutate  func(*notify.TemplateSource)
		wantErr string
	}{
		{"valid", func(*notify.TemplateSource) {}, ""},
		{"unknown top field", func(s *notify.TemplateSource) { s.Text = "{{.Customer}}" }, `no field "Customer"`},
		{"unknown nested field", func(s *notify.TemplateSource) { s.Subject = "{{.Incident.Title}}" }, `no field "Title" in Facts`},
		{"only in an untaken branch", func(s *notify.TemplateSource) { s.Text = "{{if false}}{{.Person.Phone}}{{end}}" }, `no field "Phone" in PersonData`},
		{"inside range", func(s *notify.TemplateSource) { s.HTML = "{{range .Person.Items}}{{.Value}}{{end}}" }, `no field "Value" in ItemData`},
		{"inside with", func(s *notify.TemplateSource) { s.Text = "{{with .Incident}}{{.Reason}}{{end}}" }, `no field "Reason" in Facts`},
		{"root variable", func(s *notify.TemplateSource) { s.Text = "{{range .Person.Items}}{{$.Person.Email}}{{end}}" }, `no field "Email"`},
		{"range fields ok", func(s *notify.TemplateSource) {
			s.Text = "{{range $i, $e := .Person.Items}}{{.Label}}{{$e.Masked}}{{$.Date}}{{end}}"
		}, ""},
		{"two-line subject", func(s *notify.TemplateSource) { s.Subject = "a\nb" }, "one line"},
		{"syntax", func(s *notify.TemplateSource) { s.Text = "{{.Person.Name" }, "unclosed action"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := ok
			tc.mutate(&src)
			_, err := notify.ParseTemplates(map[string]notify.TemplateSource{"ja": src}, "ja")
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestDefaultTemplatesCarryTheRequiredItems(t *testing.T) {
	tm, err := notify.ParseTemplates(notify.DefaultTemplates(), "ja")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range notify.Languages {
		d := notify.SampleData(lang)
		r, err := tm.Render(lang, d)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{d.Person.Name, d.Incident.Summary, d.Incident.Cause, d.Incident.SecondaryHarm, d.Incident.Contact, d.Incident.Other,
			d.Person.Items[0].Label, d.Person.Items[0].Masked, d.Person.Items[1].Masked, d.Date} {
			if !strings.Contains(r.Text, want) || !strings.Contains(r.HTML, want) {
				t.Errorf("%s: the text or HTML lacks %q", lang, want)
			}
		}
	}
}

func TestReadRecipientsFromTheRegister(t *testing.T) {
	csv := "person_id,name,email,phone,address,postal_code,country,language,categories,exposure,special_care,financial_risk,matched_master,hosts,sources,key\n" +
		"p-1a2b,山田 太郎,taro@example.com,,東京都千代田区千代田1-1,100-0001,JP,ja,credit_card:exfiltrated;email:accessed,exfiltrated,,true,true,h-1,/srv/a.csv,k\n"
	var got []notify.Person
	if err := notify.ReadRecipients(strings.NewReader(csv), func(p notify.Person) error { got = append(got, p); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []notify.Person{{ID: "p-1a2b", Name: "山田 太郎", Email: "taro@example.com", PostalCode: "100-0001", Address: "東京都千代田区千代田1-1", Language: "ja",
		Items: []notify.Item{{Category: "credit_card"}, {Category: "email"}}}}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("(-got +want):\n%s", d)
	}
	tm, _ := notify.ParseTemplates(notify.DefaultTemplates(), "ja")
	r, err := tm.Render("ja", notify.NewData(got[0], notify.Facts{}, "ja", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text, "・クレジットカード番号\n・メールアドレス\n") {
		t.Errorf("items without values:\n%s", r.Text)
	}
}
