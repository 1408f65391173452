package demo

import (
	"testing"

	"github.com/google/go-cmp/cmp"
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
