package yara

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testdata/conditions.txt holds one condition per line, each made a rule
// (c1, c2, ...) over fixed strings and scanned against
// testdata/conditions.data; testdata/conditions.golden lists the rules
// yara 4.2.3 matches.
const conditionStrings = `$a = "abc" $b = "hello" $w = "abc" wide $h = { 4D 5A ?? 00 } $r = /ab[cd]/ $n = "abc" nocase $z1 = "zzz1" $z2 = "zzz2"`

func conditionRules(t *testing.T) string {
	t.Helper()
	conds, err := os.ReadFile("testdata/conditions.txt")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i, c := range strings.Split(strings.TrimSpace(string(conds)), "\n") {
		fmt.Fprintf(&b, "rule c%d { strings: %s condition: (%s) and (any of them or not any of them) }\n", i+1, conditionStrings, c)
	}
	return b.String()
}

func TestConditions(t *testing.T) {
	r, err := Compile(conditionRules(t), "conditions.yar", CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/conditions.data")
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Scan(context.Background(), data, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range res {
		got = append(got, m.Rule)
	}
	sort.Strings(got)
	want, err := os.ReadFile("testdata/conditions.golden")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, strings.Fields(string(want))); diff != "" {
		t.Errorf("matching rules (-mamori +golden):\n%s", diff)
	}
}

func TestConditionsGoldenAgainstYara(t *testing.T) {
	bin, err := exec.LookPath("yara")
	if err != nil {
		t.Skip("yara not on PATH")
	}
	rf := filepath.Join(t.TempDir(), "conditions.yar")
	if err := os.WriteFile(rf, []byte(conditionRules(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-w", rf, "testdata/conditions.data").CombinedOutput()
	if err != nil {
		t.Fatalf("yara: %v: %s", err, out)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		got = append(got, strings.Fields(line)[0])
	}
	sort.Strings(got)
	want, err := os.ReadFile("testdata/conditions.golden")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, strings.Fields(string(want))); diff != "" {
		t.Errorf("matching rules (-yara +golden):\n%s", diff)
	}
}
