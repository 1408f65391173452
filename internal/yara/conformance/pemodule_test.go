package conformance

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mamori-dev/mamori/internal/yara"
	"github.com/mamori-dev/mamori/internal/yara/pe"
	"github.com/mamori-dev/mamori/internal/yara/pe/pefacts"
	"github.com/mamori-dev/mamori/internal/yara/pe/petest"
)

// peSamples returns built PEs and, when the module cache has them, the real
// Windows PE files shipped with saferwall/pe's tests.
func peSamples(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for i, s := range petest.Samples() {
		out[fmt.Sprintf("built%d.exe", i)] = s
	}
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/saferwall/pe").Output()
	if err != nil {
		t.Logf("saferwall/pe module not found (%v): built PEs only", err)
		return out
	}
	paths, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(dir)), "test", "*"))
	real := 0
	for _, p := range paths { // Glob sorts, so the choice is stable
		if strings.HasSuffix(p, ".7z") || real == 10 {
			continue
		}
		data, err := os.ReadFile(p)
		if err == nil && len(data) < 1<<20 {
			out[filepath.Base(p)] = data
			real++
		}
	}
	return out
}

// TestPEModule evaluates, for each sample PE, one rule per value of the pe
// module (pe.Parse's values, which package pe checks against yara) with
// mamori and yara, plus each condition negated, and requires the same
// matches: this checks the evaluator's mapping of the module.
func TestPEModule(t *testing.T) {
	needYara(t)
	samples := peSamples(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	if err := os.Mkdir(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	src.WriteString("import \"pe\"\n")
	n := 0
	names := make([]string, 0, len(samples))
	for name := range samples {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		data := samples[name]
		if err := os.WriteFile(filepath.Join(dataDir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, ok := pe.Parse(data)
		if !ok {
			continue
		}
		for _, c := range pefacts.Facts(f) {
			fmt.Fprintf(&src, "rule f%d { condition: %s }\nrule n%d { condition: not (%s) }\n", n, c, n, c)
			n++
		}
	}
	ruleFile := filepath.Join(dir, "pe.yar")
	if err := os.WriteFile(ruleFile, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	rules, err := yara.Compile(src.String(), ruleFile, yara.CompileOptions{})
	if err != nil {
		t.Fatalf("mamori cannot compile the pe rules: %v", err)
	}
	compiled := yaracCompile(t, []string{ruleFile}, nil)
	yaraRes := yaraScan(t, compiled, dataDir, nil, false, func(string) string { return "default" })
	mamoriRes := mamoriScan(t, rules, dataDir, false)
	cond := map[string]string{}
	for _, line := range strings.Split(src.String(), "\n") {
		if name, rest, ok := strings.Cut(strings.TrimPrefix(line, "rule "), " { condition: "); ok {
			cond[name] = strings.TrimSuffix(rest, " }")
		}
	}
	for _, d := range diff(mamoriRes, yaraRes, false) {
		_, rest, _ := strings.Cut(d, ": rule ")
		name, _, _ := strings.Cut(rest, " ")
		t.Errorf("%s: %s", d, cond[name])
	}
}
