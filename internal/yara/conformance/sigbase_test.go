package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/mamori-dev/mamori/internal/yara"
)

// signatureBaseDir is the shared corpus, relative to this package.
const signatureBaseDir = "../../../../shared/corpus/signature-base/yara"

// fullRun reports whether MAMORI_CONFORMANCE_FULL=1 asks for every rule
// and every file variant instead of a bounded sample.
func fullRun() bool { return os.Getenv("MAMORI_CONFORMANCE_FULL") == "1" }

func signatureBaseFiles(t *testing.T) []string {
	t.Helper()
	if _, err := os.Stat(signatureBaseDir); err != nil {
		t.Skipf("signature-base absent: %v", err)
	}
	var files []string
	for _, pat := range []string{"*.yar", "*.yara"} {
		m, err := filepath.Glob(filepath.Join(signatureBaseDir, pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) == 0 {
		t.Skip("signature-base has no rule files")
	}
	return files
}

// TestSignatureBase compiles all of signature-base with mamori and yara,
// generates files that contain each (sampled) rule's strings and requires
// both engines to report the same (file, namespace, rule) set.
func TestSignatureBase(t *testing.T) {
	files := signatureBaseFiles(t)
	needYara(t)
	rules, err := yara.CompileFiles(context.Background(), files, yara.CompileOptions{Defines: defineMap(signatureBaseDefines)})
	if err != nil {
		t.Fatalf("mamori cannot compile signature-base: %v", err)
	}
	compiled := yaracCompile(t, files, signatureBaseDefines)

	dir := t.TempDir()
	g := newGenerator(1)
	info := rules.Info()
	// By default about 1000 files: every k-th rule, one variant each,
	// cycling through the variants.
	step, variants := max(1, len(info)/1000), 1
	if fullRun() {
		step, variants = 1, 3
	}
	sources := ruleSources(t, files)
	origin := map[string]string{}
	n := 0
	for i := 0; i < len(info); i += step {
		src := sources[info[i].Namespace][info[i].Name]
		for v := 0; v < variants; v++ {
			variant := v
			if variants == 1 {
				variant = n % 3
				if strings.Contains(src, "pe.") {
					variant = 1
				}
			}
			name := fmt.Sprintf("r%05d_v%d", i, variant)
			if err := os.WriteFile(filepath.Join(dir, name), g.ruleFile(info[i], src, variant), 0o644); err != nil {
				t.Fatal(err)
			}
			origin[name] = info[i].Namespace + ":" + info[i].Name
			n++
		}
	}
	t.Logf("%d rules, %d generated files", len(info), n)

	yaraRes := yaraScan(t, compiled, dir, signatureBaseDefines, false, func(ns string) string {
		var i int
		if _, err := fmt.Sscanf(ns, "n%d", &i); err != nil || i >= len(files) {
			t.Fatalf("unexpected yara namespace %q", ns)
		}
		return files[i]
	})
	mamoriRes := mamoriScan(t, rules, dir, false)
	if len(yaraRes.rules) == 0 {
		t.Fatal("yara matched nothing: the generated files do not exercise the rules")
	}
	t.Logf("yara reports %d (file, rule) matches, mamori %d", len(yaraRes.rules), len(mamoriRes.rules))
	for _, d := range diff(mamoriRes, yaraRes, false) {
		file, _, _ := strings.Cut(d, ":")
		t.Errorf("%s [file built for %s]", d, origin[file])
	}
	if testing.Short() {
		return
	}
	// The same files through the mamori binary, as a user runs it: the
	// ndjson records must name the same (file, rule file, rule) set.
	cliRes := mamoriCLI(t, files, dir)
	byBase := newResult()
	for h := range yaraRes.rules {
		byBase.rules[hit{file: h.file, namespace: filepath.Base(h.namespace), rule: h.rule}] = true
	}
	for _, d := range diff(cliRes, byBase, false) {
		file, _, _ := strings.Cut(d, ":")
		t.Errorf("mamori scan: %s [file built for %s]", d, origin[file])
	}
}

// mamoriCLI builds cmd/mamori and runs "mamori scan --rules" with
// signature-base's defines over dir, returning its ndjson yara records
// with namespaces cut to the rule file's base name.
func mamoriCLI(t *testing.T, ruleFiles []string, dir string) *result {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mamori")
	if msg, err := exec.Command("go", "build", "-o", bin, "github.com/mamori-dev/mamori/cmd/mamori").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	args := []string{"scan", "--format", "ndjson", "--no-progress"}
	for _, f := range ruleFiles {
		args = append(args, "--rules", f)
	}
	args = append(append(args, defineArgs(signatureBaseDefines)...), dir)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) { // 1: findings
		t.Fatalf("mamori scan: %v\n%s", err, stderr.String())
	}
	res := newResult()
	for _, line := range bytes.Split(out, []byte("\n")) {
		var rec struct {
			Type, Path, Namespace, Rule string
		}
		if len(line) == 0 {
			continue
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("mamori scan output %q: %v", line, err)
		}
		if rec.Type == "yara" {
			res.rules[hit{file: filepath.Base(rec.Path), namespace: filepath.Base(rec.Namespace), rule: rec.Rule}] = true
		}
	}
	return res
}

var ruleStart = regexp.MustCompile(`(?m)^[ \t]*(?:(?:private|global)[ \t]+)*rule[ \t]+([A-Za-z0-9_]+)`)

// ruleSources returns each rule's text by file and rule name, for
// shaping PEs after the rule's pe conditions.
func ruleSources(t *testing.T, files []string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		locs := ruleStart.FindAllStringSubmatchIndex(text, -1)
		out[f] = map[string]string{}
		for i, l := range locs {
			end := len(text)
			if i+1 < len(locs) {
				end = locs[i+1][0]
			}
			out[f][text[l[2]:l[3]]] = text[l[0]:end]
		}
	}
	return out
}
