package strmatch

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/hand.golden from the yara CLI")

// handCase is one pattern of handPatterns with the matches yara 4.2.3
// reported for it on handData (lengths as `yara -L` prints them).
type handCase struct {
	Pattern string  `json:"pattern"`
	Matches []Match `json:"matches"`
}

// TestHandGolden checks every feature pattern against matches recorded
// from the yara CLI, so it runs where yara is not installed.
func TestHandGolden(t *testing.T) {
	path := filepath.Join("testdata", "hand.golden")
	data := handData()
	if *update {
		needYara(t)
		var cases []handCase
		for _, p := range handPatterns {
			ms := runYara(t, []Pattern{p}, data)
			if ms == nil {
				ms = []Match{}
			}
			cases = append(cases, handCase{yaraSource(p), ms})
		}
		b, err := json.MarshalIndent(cases, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []handCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) != len(handPatterns) {
		t.Fatalf("%s has %d cases for %d patterns; run with -update", path, len(cases), len(handPatterns))
	}
	for i, p := range handPatterns {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if cases[i].Pattern != yaraSource(p) {
				t.Fatalf("case %d is %s, pattern is %s; run with -update", i, cases[i].Pattern, yaraSource(p))
			}
			got := asPrinted(scanAll(t, []Pattern{p}, data))
			if got == nil {
				got = []Match{}
			}
			if diff := cmp.Diff(got, cases[i].Matches); diff != "" {
				t.Errorf("%s (-got +yara):\n%s", yaraSource(p), diff)
			}
		})
	}
}
