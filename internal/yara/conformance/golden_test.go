package conformance

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mamori-dev/mamori/internal/yara"
	"github.com/mamori-dev/mamori/internal/yara/pe/petest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt's want sections from the yara CLI")

const goldenFile = "testdata/golden.txt"

// goldenCase is one feature case: rules, data, and what yara 4.2.3
// reports ("rule $id@offset:length ...", one line per matching rule).
type goldenCase struct {
	name, rules, data string
	want              []string
}

// readGolden parses blocks of "=== name", "--- rules", "--- data" (a Go
// quoted string, or "petest:N" for petest.Samples()[N]) and "--- want".
func readGolden(t *testing.T) []goldenCase {
	t.Helper()
	f, err := os.Open(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []goldenCase
	var section string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "=== "):
			cases = append(cases, goldenCase{name: strings.TrimPrefix(line, "=== ")})
			section = ""
		case strings.HasPrefix(line, "--- "):
			section = strings.TrimPrefix(line, "--- ")
		case len(cases) == 0:
		default:
			c := &cases[len(cases)-1]
			switch section {
			case "rules":
				c.rules += line + "\n"
			case "data":
				c.data += line
			case "want":
				if line != "" {
					c.want = append(c.want, line)
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

func (c goldenCase) bytes(t *testing.T) []byte {
	t.Helper()
	if n, ok := strings.CutPrefix(c.data, "petest:"); ok {
		i, err := strconv.Atoi(n)
		if err != nil || i >= len(petest.Samples()) {
			t.Fatalf("%s: bad data %q", c.name, c.data)
		}
		return petest.Samples()[i]
	}
	s, err := strconv.Unquote(c.data)
	if err != nil {
		t.Fatalf("%s: data: %v", c.name, err)
	}
	return []byte(s)
}

// render formats matches as the want section does.
func render(r *result) []string {
	var out []string
	for h := range r.rules {
		line := h.rule
		if s := r.strings[h]; len(s) > 0 {
			line += " " + strings.Join(s, " ")
		}
		out = append(out, line)
	}
	sort.Strings(out)
	return out
}

// TestGolden runs the feature cases through mamori; their expectations
// were recorded from yara 4.2.3, so this runs without yara installed.
func TestGolden(t *testing.T) {
	for _, c := range readGolden(t) {
		t.Run(c.name, func(t *testing.T) {
			rules, err := yara.Compile(c.rules, c.name+".yar", yara.CompileOptions{Defines: defineMap(randomDefines)})
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			matches, err := rules.Scan(context.Background(), c.bytes(t), nil)
			if err != nil {
				t.Fatalf("scan: %v", err)
			}
			res := newResult()
			for _, m := range matches {
				h := hit{rule: m.Rule}
				res.rules[h] = true
				for _, s := range m.Strings {
					res.strings[h] = append(res.strings[h], fmt.Sprintf("%s@%d:%d", s.ID, s.Offset, s.Length))
				}
				sort.Strings(res.strings[h])
			}
			if diff := cmp.Diff(render(res), c.want); diff != "" {
				t.Errorf("mamori differs from yara 4.2.3 (-mamori +yara):\n%s\nrules:\n%sdata: %s", diff, c.rules, c.data)
			}
		})
	}
}

// TestGoldenAgainstYara keeps the recorded expectations honest: they must
// be what the installed yara reports. With -update it rewrites them.
func TestGoldenAgainstYara(t *testing.T) {
	needYara(t)
	cases := readGolden(t)
	// One yarac and one yara run: case i's rules are namespace "n<i>" and
	// its data file "c<i>"; only matches pairing the two count.
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	if err := os.Mkdir(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var ruleFiles []string
	for i, c := range cases {
		ruleFile := filepath.Join(dir, fmt.Sprintf("case%d.yar", i))
		if err := os.WriteFile(ruleFile, []byte(c.rules), 0o644); err != nil {
			t.Fatal(err)
		}
		ruleFiles = append(ruleFiles, ruleFile)
		if err := os.WriteFile(filepath.Join(dataDir, fmt.Sprintf("c%d", i)), c.bytes(t), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	compiled := yaracCompile(t, ruleFiles, randomDefines)
	all := yaraScan(t, compiled, dataDir, randomDefines, true, func(ns string) string { return "c" + strings.TrimPrefix(ns, "n") })
	var out strings.Builder
	for i, c := range cases {
		res := newResult()
		for h := range all.rules {
			if h.namespace == h.file && h.file == fmt.Sprintf("c%d", i) {
				res.rules[h] = true
				res.strings[h] = all.strings[h]
			}
		}
		got := render(res)
		if *update {
			fmt.Fprintf(&out, "=== %s\n--- rules\n%s--- data\n%s\n--- want\n", c.name, c.rules, c.data)
			for _, w := range got {
				out.WriteString(w + "\n")
			}
			out.WriteString("\n")
			continue
		}
		if diff := cmp.Diff(got, c.want); diff != "" {
			t.Errorf("%s: recorded expectation is not what yara reports (-yara +recorded):\n%s", c.name, diff)
		}
	}
	if *update {
		if err := os.WriteFile(goldenFile, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
