package demo

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/japanese"

	"github.com/mamori-dev/mamori/internal/scope"
)

// TestPeopleDistinct: the generated customers are distinct by every key
// the register joins on (e-mail, phone, name with address, name with
// birth date), and the same for the same seed.
func TestPeopleDistinct(t *testing.T) {
	for _, tc := range []struct {
		n    int
		seed uint64
	}{{60, 7}, {1200, 1}, {10000, 3}, {30000, 11}} {
		ps := people(tc.n, tc.seed)
		if len(ps) != tc.n {
			t.Fatalf("people(%d, %d): %d", tc.n, tc.seed, len(ps))
		}
		seen := map[string]string{}
		for _, p := range ps {
			keys := map[string]string{"phone": p.Phone, "name+address": p.Name() + "|" + p.Address, "name+birth": p.Name() + "|" + p.Birth}
			if p.Email != "" {
				keys["email"] = p.Email
			}
			for kind, k := range keys {
				if other, ok := seen[kind+":"+k]; ok {
					t.Errorf("people(%d, %d): %s and %s share %s %s", tc.n, tc.seed, other, p.ID, kind, k)
				}
				seen[kind+":"+k] = p.ID
			}
		}
		if diff := cmp.Diff(ps, people(tc.n, tc.seed)); diff != "" {
			t.Errorf("people(%d, %d) twice differ:\n%s", tc.n, tc.seed, diff)
		}
	}
}

// TestPeopleAbroad: about 2 % of the customers live abroad, at least one
// from 50 customers on, each country in turn; their addresses and phone
// numbers say where, as the register reads them, and the Shift_JIS
// export can hold them.
func TestPeopleAbroad(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want map[string]int
	}{
		{49, map[string]int{"JP": 49}},
		{50, map[string]int{"JP": 49, "DE": 1}},
		{60, map[string]int{"JP": 58, "DE": 1, "KR": 1}},
		{1200, map[string]int{"JP": 1176, "DE": 6, "KR": 6, "FR": 6, "GB": 6}},
	} {
		got := map[string]int{}
		for _, p := range people(tc.n, 1) {
			got[p.Country]++
			if p.Country == "JP" {
				continue
			}
			if c := scope.AddressCountry(p.Address); c != p.Country {
				t.Errorf("%s %s: address %q reads as %q", p.ID, p.Country, p.Address, c)
			}
			if c := scope.PhoneCountry(scope.NormalizePhone(p.Phone, "JP")); c != p.Country {
				t.Errorf("%s %s: phone %q reads as %q", p.ID, p.Country, p.Phone, c)
			}
			if p.Email == "" || p.Language != "en" || p.Kana() != "" {
				t.Errorf("%s %s: e-mail %q, language %q, reading %q; want an address, en and none", p.ID, p.Country, p.Email, p.Language, p.Kana())
			}
		}
		if diff := cmp.Diff(got, tc.want); diff != "" {
			t.Errorf("people(%d) by country (-got +want):\n%s", tc.n, diff)
		}
	}
	if _, err := japanese.ShiftJIS.NewEncoder().String(string(csvOf(people(1200, 1), false))); err != nil {
		t.Errorf("the customers do not fit Shift_JIS: %v", err)
	}
}
