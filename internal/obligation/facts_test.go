package obligation

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const validFacts = `{"aware_at":"2026-03-02T10:00:00+09:00","cause":"malware","wrongful_purpose":null,"status":"suspected",
"encrypted":false,"in_acquisition":false,"categories":["person_name","email","credit_card"],
"people":{"JP":1200,"DE":3,"US-CA":40},"special_care":null,"financial_damage_risk":null,"assessment_concluded_at":null}`

func TestDecodeFactsErrors(t *testing.T) {
	cases := []struct {
		name, doc, field string
	}{
		{"unknown field", `{"aware_at":"2026-03-02T10:00:00+09:00","cause":"malware","categories":[],"people":{},"extra":1}`, "extra"},
		{"missing aware_at", `{"cause":"malware","categories":[],"people":{}}`, "aware_at"},
		{"aware_at without offset", `{"aware_at":"2026-03-02T10:00:00","cause":"malware","categories":[],"people":{}}`, "aware_at"},
		{"aware_at a number", `{"aware_at":1,"cause":"malware","categories":[],"people":{}}`, "aware_at"},
		{"bad cause", `{"aware_at":"2026-03-02T10:00:00Z","cause":"virus","categories":[],"people":{}}`, "cause"},
		{"bad status", `{"aware_at":"2026-03-02T10:00:00Z","cause":"malware","status":"maybe","categories":[],"people":{}}`, "status"},
		{"encrypted a string", `{"aware_at":"2026-03-02T10:00:00Z","cause":"malware","encrypted":"no","categories":[],"people":{}}`, "encrypted"},
		{"special_care a number", `{"aware_at":"2026-03-02T10:00:00Z","cause":"malware","special_care":1,"categories":[],"people":{}}`, "special_care"},
		{"unknown category", `{"aware_at":"2026-03-02T10:00:00Z","cause":"malware","categories":["email","shoe_size"],"people":{}}`, "categories[1]"},
		{"categories not an array", `{"aware_at":"2026-03-02T10:00:00Z","cause":"malware","categories":"email","people":{}}`, "categories"},
		{"lower-case country", `{"aware_at":"2026-03-02T10:00:00Z","cause":"malware","categories":[],"people":{"jp":1}}`, "people.jp"},
		{"unassigned country", `{"aware_at":"2026-03-02T10:00:00Z","cause":"malware","categories":[],"people":{"XX":1}}`, "people.XX"},
		{"bad US state", `{"aware_at":"2026-03-02T10:00:00Z","cause":"malware","categories":[],"people":{"US-ZZ":1}}`, "people.US-ZZ"},
		{"non-US subdivision", `{"aware_at":"2026-03-02T10:00:00Z","cause":"malware","categories":[],"people":{"JP-13":1}}`, "people.JP-13"},
		{"negative count", `{"aware_at":"2026-03-02T10:00:00Z","cause":"malware","categories":[],"people":{"JP":-1}}`, "people.JP"},
		{"fractional count", `{"aware_at":"2026-03-02T10:00:00Z","cause":"malware","categories":[],"people":{"JP":1.5}}`, "people.JP"},
		{"assessment before awareness", `{"aware_at":"2026-03-02T10:00:00Z","cause":"malware","categories":[],"people":{},"assessment_concluded_at":"2026-03-01T10:00:00Z"}`, "assessment_concluded_at"},
		{"not an object", `[1,2]`, "(document)"},
		{"two documents", `{"aware_at":"2026-03-02T10:00:00Z","cause":"malware","categories":[],"people":{}} {}`, "(document)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeFacts(strings.NewReader(c.doc))
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a FieldError", err)
			}
			if fe.Field != c.field {
				t.Errorf("field = %q (%v), want %q", fe.Field, err, c.field)
			}
		})
	}
}

func TestDecodeFactsDefaultsAndRoundTrip(t *testing.T) {
	f, err := DecodeFacts(strings.NewReader(`{"aware_at":"2026-03-02T10:00:00+09:00","cause":"other","categories":["medical","email","email"],"people":{"JP":2}}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Status != "suspected" || f.Encrypted || f.WrongfulPurpose != nil {
		t.Errorf("defaults: %+v", f)
	}
	if diff := cmp.Diff(f.Categories, []string{"health", "email"}); diff != "" {
		t.Errorf("categories (aliases resolved, duplicates dropped) (-got +want):\n%s", diff)
	}
	g, err := DecodeFacts(strings.NewReader(validFacts))
	if err != nil {
		t.Fatal(err)
	}
	b, err := g.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	h, err := DecodeFacts(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("re-decode %s: %v", b, err)
	}
	if diff := cmp.Diff(Assess(h), Assess(g)); diff != "" {
		t.Errorf("round trip changed the result (-got +want):\n%s", diff)
	}
}

func FuzzDecodeFacts(f *testing.F) {
	f.Add(validFacts)
	f.Add(`{"aware_at":"2026-03-02T10:00:00Z","cause":"malware","categories":[],"people":{"US-CA":1}}`)
	f.Add(`{"people":{"JP":1e99}}`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, doc string) {
		facts, err := DecodeFacts(strings.NewReader(doc))
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error is not a FieldError: %v", err)
			}
			return
		}
		Assess(facts)
	})
}

func TestJapaneseCalendar(t *testing.T) {
	closed := []string{
		"2026-01-01", "2026-01-02", "2026-01-03", "2026-01-12", "2026-02-11", "2026-02-23", "2026-03-20",
		"2026-04-29", "2026-05-03", "2026-05-04", "2026-05-05", "2026-05-06", "2026-07-20", "2026-08-11",
		"2026-09-21", "2026-09-22", "2026-09-23", "2026-10-12", "2026-11-03", "2026-11-23", "2026-12-29",
		"2024-02-12", "2024-03-20", "2024-08-12", "2024-09-23", "2024-11-04", "2025-03-20", "2025-09-23",
		"2022-03-21", "2023-03-21", "2022-09-23", "2023-09-23", "2024-09-22",
	}
	for _, s := range closed {
		if !jpClosed(parseDate(s)) {
			t.Errorf("%s: open, want closed (holiday, weekend or year-end)", s)
		}
	}
	open := []string{"2026-03-02", "2026-05-07", "2026-09-24", "2026-12-28", "2027-01-04", "2024-03-21", "2026-03-19"}
	for _, s := range open {
		if jpClosed(parseDate(s)) {
			t.Errorf("%s: closed, want open", s)
		}
	}
}
