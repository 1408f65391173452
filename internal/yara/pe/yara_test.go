package pe

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// saferwallTestFiles returns the real Windows PE files shipped in the
// saferwall/pe module's test directory, when the module cache has them.
func saferwallTestFiles(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/saferwall/pe").Output()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		t.Skipf("cannot locate the saferwall/pe module: %v", err)
	}
	dir := filepath.Join(string(bytes.TrimSpace(out)), "test")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Skipf("saferwall/pe test files absent: %v", err)
	}
	var files []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".7z") && e.Type().IsRegular() {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	return files
}

// yaraFalse runs yara with one rule per condition and returns the
// conditions yara did not find true.
func yaraFalse(t *testing.T, conds []string, file string) []string {
	t.Helper()
	var src strings.Builder
	src.WriteString("import \"pe\"\n")
	for i, c := range conds {
		fmt.Fprintf(&src, "rule f%d { condition: %s }\n", i, c)
	}
	rules := filepath.Join(t.TempDir(), "facts.yar")
	if err := os.WriteFile(rules, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("yara", "-w", rules, file)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("yara: %v: %s", err, stderr.String())
	}
	matched := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if name, _, ok := strings.Cut(line, " "); ok {
			matched[name] = true
		}
	}
	var missing []string
	for i, c := range conds {
		if !matched[fmt.Sprintf("f%d", i)] {
			missing = append(missing, c)
		}
	}
	return missing
}

// TestAgainstYara checks every value Parse reports against yara's pe
// module on real and generated PE files.
func TestAgainstYara(t *testing.T) {
	if _, err := exec.LookPath("yara"); err != nil {
		t.Skip("yara not on PATH")
	}
	files := saferwallTestFiles(t)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, ok := Parse(data)
			if !ok {
				if missing := yaraFalse(t, []string{"pe.is_pe == 0", "not defined pe.machine"}, path); len(missing) > 0 {
					t.Errorf("Parse says not a PE, yara disagrees: %q", missing)
				}
				return
			}
			for _, c := range yaraFalse(t, facts(f), path) {
				t.Errorf("yara disagrees: %s", c)
			}
		})
	}
}
