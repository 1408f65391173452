package obligation

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDeriveFacts(t *testing.T) {
	aware := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	// A scoping summary as internal/scope writes it, with fields obligation does not use.
	reg, err := DecodeRegisterSummary(strings.NewReader(`{"people":1206,"by_category":{"email":1206,"credit_card":12,"person_name":1100},
		"by_exposure":{"exfiltrated":12,"present":1194},"by_country":{"JP":1190,"DE":3,"unknown":13},
		"no_contact":4,"special_care":0,"financial_risk":12,"matched_master":900,"proposals":2,"hosts":["h-1"],"sources":3}`))
	if err != nil {
		t.Fatal(err)
	}
	f := DeriveFacts(aware, "malware", &reg)
	if diff := cmp.Diff(f.People, map[string]int{"JP": 1203, "DE": 3}); diff != "" {
		t.Errorf("people (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(f.Categories, []string{"credit_card", "email", "person_name"}); diff != "" {
		t.Errorf("categories (-got +want):\n%s", diff)
	}
	if f.SpecialCare != nil || f.FinancialDamageRisk == nil || !*f.FinancialDamageRisk {
		t.Errorf("flags: special %v financial %v", f.SpecialCare, f.FinancialDamageRisk)
	}
	// Derived facts round-trip through the strict decoder, as the API stores them.
	b, err := f.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeFacts(strings.NewReader(string(b))); err != nil {
		t.Errorf("derived facts do not decode: %v\n%s", err, b)
	}
	// Before scoping: no people, no duties, cause kept.
	bare := DeriveFacts(aware, "bogus", nil)
	if bare.Cause != "other" || len(Assess(bare).Duties) != 0 {
		t.Errorf("bare facts: %+v", bare)
	}
}
