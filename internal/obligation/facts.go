package obligation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Causes a breach can have; wrongful ones imply a wrongful purpose when the
// facts leave wrongful_purpose null.
var causes = map[string]bool{
	"malware": true, "unauthorized_access": true, "insider": true,
	"misdelivery": false, "loss_or_theft": false, "misconfiguration": false, "other": false,
}

// Statuses: whether the leak is confirmed or only suspected. APPI treats a
// suspected leak (発生したおそれ) like a confirmed one; AU-NDB asks for an
// assessment first.
var statuses = []string{"suspected", "confirmed"}

// Facts is what the obligations engine judges: one JSON document, derived
// from an incident and its register or written by hand. Pointers are the
// fields where null means "derive it".
type Facts struct {
	AwareAt               time.Time      `json:"aware_at"`
	Cause                 string         `json:"cause"`
	WrongfulPurpose       *bool          `json:"wrongful_purpose"`
	Status                string         `json:"status"`
	Encrypted             bool           `json:"encrypted"`
	InAcquisition         bool           `json:"in_acquisition"`
	Categories            []string       `json:"categories"`
	People                map[string]int `json:"people"`
	SpecialCare           *bool          `json:"special_care"`
	FinancialDamageRisk   *bool          `json:"financial_damage_risk"`
	AssessmentConcludedAt *time.Time     `json:"assessment_concluded_at"`
}

// FieldError is invalid facts, naming the field at fault.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

var factFields = []string{"aware_at", "cause", "wrongful_purpose", "status", "encrypted", "in_acquisition",
	"categories", "people", "special_care", "financial_damage_risk", "assessment_concluded_at"}

// DecodeFacts reads one facts document strictly: unknown fields, wrong
// types, unknown enum values and bad country codes are errors naming the
// field (a *FieldError). Optional fields: wrongful_purpose, special_care,
// financial_damage_risk and assessment_concluded_at (null or absent:
// derive), encrypted and in_acquisition (false), status ("suspected").
func DecodeFacts(r io.Reader) (Facts, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Facts{}, fmt.Errorf("read facts: %w", err)
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return Facts{}, &FieldError{Field: "(document)", Msg: "not a JSON object: " + err.Error()}
	}
	if raw == nil {
		return Facts{}, &FieldError{Field: "(document)", Msg: "not a JSON object"}
	}
	if dec.More() {
		return Facts{}, &FieldError{Field: "(document)", Msg: "more than one JSON value"}
	}
	known := map[string]bool{}
	for _, f := range factFields {
		known[f] = true
	}
	var unknown []string
	for k := range raw {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return Facts{}, &FieldError{Field: unknown[0], Msg: "unknown field (known: " + strings.Join(factFields, ", ") + ")"}
	}
	present := func(k string) bool { v, ok := raw[k]; return ok && string(v) != "null" }
	for _, k := range []string{"aware_at", "cause", "categories", "people"} {
		if !present(k) {
			return Facts{}, &FieldError{Field: k, Msg: "required"}
		}
	}
	var f Facts
	var s string
	if err := field(raw, "aware_at", &s, "an RFC 3339 time with its offset, such as 2026-03-02T10:00:00+09:00"); err != nil {
		return Facts{}, err
	}
	if f.AwareAt, err = time.Parse(time.RFC3339, s); err != nil {
		return Facts{}, &FieldError{Field: "aware_at", Msg: fmt.Sprintf("%q is not an RFC 3339 time with its offset, such as 2026-03-02T10:00:00+09:00", s)}
	}
	if err := field(raw, "cause", &f.Cause, "a string"); err != nil {
		return Facts{}, err
	}
	if _, ok := causes[f.Cause]; !ok {
		return Facts{}, &FieldError{Field: "cause", Msg: fmt.Sprintf("%q is not one of %s", f.Cause, strings.Join(sortedKeys(causes), ", "))}
	}
	f.Status = "suspected"
	if present("status") {
		if err := field(raw, "status", &f.Status, "a string"); err != nil {
			return Facts{}, err
		}
		if f.Status != statuses[0] && f.Status != statuses[1] {
			return Facts{}, &FieldError{Field: "status", Msg: fmt.Sprintf("%q is not one of %s", f.Status, strings.Join(statuses, ", "))}
		}
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"encrypted", &f.Encrypted}, {"in_acquisition", &f.InAcquisition}} {
		if present(b.name) {
			if err := field(raw, b.name, b.dst, "true or false"); err != nil {
				return Facts{}, err
			}
		}
	}
	for _, b := range []struct {
		name string
		dst  **bool
	}{{"wrongful_purpose", &f.WrongfulPurpose}, {"special_care", &f.SpecialCare}, {"financial_damage_risk", &f.FinancialDamageRisk}} {
		if present(b.name) {
			var v bool
			if err := field(raw, b.name, &v, "true, false or null (derive)"); err != nil {
				return Facts{}, err
			}
			*b.dst = &v
		}
	}
	var cats []string
	if err := field(raw, "categories", &cats, "an array of category names"); err != nil {
		return Facts{}, err
	}
	seen := map[string]bool{}
	for i, c := range cats {
		name := c
		if a, ok := categoryAliases[c]; ok {
			name = a
		}
		if _, ok := categoryByName[name]; !ok {
			return Facts{}, &FieldError{Field: fmt.Sprintf("categories[%d]", i), Msg: fmt.Sprintf("%q is not a known category (known: %s)", c, strings.Join(CategoryNames(), ", "))}
		}
		if !seen[name] {
			seen[name] = true
			f.Categories = append(f.Categories, name)
		}
	}
	var people map[string]json.RawMessage
	if err := field(raw, "people", &people, "an object of country code to number of people"); err != nil {
		return Facts{}, err
	}
	f.People = make(map[string]int, len(people))
	for _, code := range sortedKeys(people) {
		if msg := checkResidence(code); msg != "" {
			return Facts{}, &FieldError{Field: "people." + code, Msg: msg}
		}
		var n int
		if err := field(people, code, &n, "a whole number of people"); err != nil {
			err.Field = "people." + code
			return Facts{}, err
		}
		if n < 0 {
			return Facts{}, &FieldError{Field: "people." + code, Msg: "negative count"}
		}
		f.People[code] = n
	}
	if present("assessment_concluded_at") {
		if err := field(raw, "assessment_concluded_at", &s, "an RFC 3339 time or null"); err != nil {
			return Facts{}, err
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return Facts{}, &FieldError{Field: "assessment_concluded_at", Msg: fmt.Sprintf("%q is not an RFC 3339 time with its offset", s)}
		}
		if t.Before(f.AwareAt) {
			return Facts{}, &FieldError{Field: "assessment_concluded_at", Msg: "before aware_at"}
		}
		f.AssessmentConcludedAt = &t
	}
	return f, nil
}

// field decodes one raw value strictly, turning a type mismatch into a
// FieldError that says what was wanted.
func field(raw map[string]json.RawMessage, name string, dst any, want string) *FieldError {
	dec := json.NewDecoder(bytes.NewReader(raw[name]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return &FieldError{Field: name + "." + te.Field, Msg: "want " + want + ", got " + te.Value}
		}
		return &FieldError{Field: name, Msg: "want " + want + ", got " + strings.TrimSpace(string(raw[name]))}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// MarshalJSON writes facts in the same shape DecodeFacts reads, nulls
// included, so a stored or derived document round-trips.
func (f Facts) MarshalJSON() ([]byte, error) {
	type out struct {
		AwareAt               string         `json:"aware_at"`
		Cause                 string         `json:"cause"`
		WrongfulPurpose       *bool          `json:"wrongful_purpose"`
		Status                string         `json:"status"`
		Encrypted             bool           `json:"encrypted"`
		InAcquisition         bool           `json:"in_acquisition"`
		Categories            []string       `json:"categories"`
		People                map[string]int `json:"people"`
		SpecialCare           *bool          `json:"special_care"`
		FinancialDamageRisk   *bool          `json:"financial_damage_risk"`
		AssessmentConcludedAt *string        `json:"assessment_concluded_at"`
	}
	o := out{AwareAt: f.AwareAt.Format(time.RFC3339), Cause: f.Cause, WrongfulPurpose: f.WrongfulPurpose,
		Status: f.Status, Encrypted: f.Encrypted, InAcquisition: f.InAcquisition, Categories: f.Categories,
		People: f.People, SpecialCare: f.SpecialCare, FinancialDamageRisk: f.FinancialDamageRisk}
	if o.Categories == nil {
		o.Categories = []string{}
	}
	if o.People == nil {
		o.People = map[string]int{}
	}
	if f.AssessmentConcludedAt != nil {
		s := f.AssessmentConcludedAt.Format(time.RFC3339)
		o.AssessmentConcludedAt = &s
	}
	return json.Marshal(o)
}
