package scope

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// PeopleHeader is the header of people.csv. The register keeps in clear
// only what a notice needs (name and contact channels); every other item
// is named by its category, never by its value.
var PeopleHeader = []string{"person_id", "name", "email", "phone", "address", "postal_code", "country", "language",
	"categories", "exposure", "special_care", "financial_risk", "matched_master", "hosts", "sources", "key"}

// WritePeopleCSV writes the register, one row per person, header first.
func WritePeopleCSV(w io.Writer, people []*Person) error {
	cw := csv.NewWriter(w)
	cw.Write(PeopleHeader)
	for _, p := range people {
		cats := make([]string, len(p.Categories))
		for i, c := range p.Categories {
			cats[i] = c.Category + ":" + c.Exposure.String()
		}
		cw.Write([]string{p.ID, p.Name, p.Email, p.Phone, p.Address, p.PostalCode, p.Country, p.Language,
			strings.Join(cats, ";"), p.Exposure.String(), strings.Join(p.SpecialCare, ";"),
			strconv.FormatBool(p.FinancialRisk), strconv.FormatBool(p.MatchedMaster),
			strings.Join(p.Hosts, ";"), strings.Join(p.Sources, ";"), p.Key})
	}
	cw.Flush()
	return cw.Error()
}

// WriteMergesCSV writes why each person's sources were joined.
func WriteMergesCSV(w io.Writer, people []*Person, notes map[string][]MergeNote) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"person_id", "key", "a", "b"})
	for _, p := range people {
		for _, m := range notes[p.ID] {
			cw.Write([]string{p.ID, m.Key, m.A, m.B})
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteProposalsCSV writes the merges a person must confirm or reject,
// with an empty decision column to fill in (confirm or reject).
func WriteProposalsCSV(w io.Writer, ps []Proposal) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"proposal_id", "a", "b", "key", "reason", "decision"})
	for _, p := range ps {
		cw.Write([]string{p.ID, p.A, p.B, p.Key, p.Reason, ""})
	}
	cw.Flush()
	return cw.Error()
}

// Decision is a person's answer to a proposal.
type Decision struct {
	ID      string
	Confirm bool
	Line    int
}

// ReadDecisions reads a filled-in proposals.csv: rows whose decision is
// confirm (or yes, merge) or reject (or no); blank decisions are skipped.
func ReadDecisions(in io.Reader, name string) ([]Decision, error) {
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	idCol, decCol := 0, -1
	var out []Decision
	for i, row := range rows {
		if i == 0 {
			for j, h := range row {
				switch strings.TrimSpace(h) {
				case "proposal_id":
					idCol = j
				case "decision":
					decCol = j
				}
			}
			if decCol < 0 {
				return nil, fmt.Errorf("%s:1: no decision column", name)
			}
			continue
		}
		if decCol >= len(row) || idCol >= len(row) {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(row[decCol])) {
		case "":
		case "confirm", "confirmed", "yes", "merge":
			out = append(out, Decision{strings.TrimSpace(row[idCol]), true, i + 1})
		case "reject", "rejected", "no":
			out = append(out, Decision{strings.TrimSpace(row[idCol]), false, i + 1})
		default:
			return nil, fmt.Errorf("%s:%d: decision %q: want confirm or reject", name, i+1, row[decCol])
		}
	}
	return out, nil
}

// Summary holds the counts for the report.
type Summary struct {
	People        int                       `json:"people"`
	ByCategory    map[string]int            `json:"by_category"`
	ByExposure    map[string]int            `json:"by_exposure"`
	CategoryLevel map[string]map[string]int `json:"by_category_exposure"`
	ByCountry     map[string]int            `json:"by_country"`
	// ByChannel is how each person's notice can go: email, letter (a postal
	// address and no e-mail) or none (a phone number at most).
	ByChannel     map[string]int `json:"by_channel"`
	NoContact     int            `json:"no_contact"`
	SpecialCare   int            `json:"special_care"`
	FinancialRisk int            `json:"financial_risk"`
	MatchedMaster int            `json:"matched_master"`
	Proposals     int            `json:"proposals"`
	// Mentions are records holding only a name that a counted person also
	// has: not counted, proposed for review.
	Mentions int      `json:"mentions"`
	Hosts    []string `json:"hosts"`
	Sources  int      `json:"sources"`
}

// Summarize counts the register: people per category, per highest
// exposure, per country of residence ("unknown" when neither address nor
// phone tells), and people without a contact channel.
func Summarize(reg *Register) *Summary {
	s := &Summary{People: len(reg.People), ByCategory: map[string]int{}, ByExposure: map[string]int{},
		CategoryLevel: map[string]map[string]int{}, ByCountry: map[string]int{}, ByChannel: map[string]int{}, Proposals: len(reg.Proposals), Mentions: reg.Mentions, Hosts: []string{}}
	srcs := map[string]bool{}
	for _, p := range reg.People {
		for _, ce := range p.Categories {
			c, e := ce.Category, ce.Exposure
			s.ByCategory[c]++
			if s.CategoryLevel[c] == nil {
				s.CategoryLevel[c] = map[string]int{}
			}
			s.CategoryLevel[c][e.String()]++
		}
		s.ByExposure[p.Exposure.String()]++
		s.ByCountry[cmp.Or(p.Country, "unknown")]++
		switch {
		case p.Email != "":
			s.ByChannel["email"]++
		case p.Address != "":
			s.ByChannel["letter"]++
		default:
			s.ByChannel["none"]++
		}
		if !p.HasContact() {
			s.NoContact++
		}
		if len(p.SpecialCare) > 0 {
			s.SpecialCare++
		}
		if p.FinancialRisk {
			s.FinancialRisk++
		}
		if p.MatchedMaster {
			s.MatchedMaster++
		}
		for _, h := range p.Hosts {
			if !slices.Contains(s.Hosts, h) {
				s.Hosts = append(s.Hosts, h)
			}
		}
		for _, src := range p.Sources {
			srcs[src] = true
		}
	}
	slices.Sort(s.Hosts)
	s.Sources = len(srcs)
	return s
}
