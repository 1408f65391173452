package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
	// By default about 1500 files: every k-th rule, one variant each,
	// cycling through the variants.
	step, variants := max(1, len(info)/1500), 1
	if fullRun() {
		step, variants = 1, 3
	}
	origin := map[string]string{}
	n := 0
	for i := 0; i < len(info); i += step {
		for v := 0; v < variants; v++ {
			variant := v
			if variants == 1 {
				variant = n % 3
			}
			name := fmt.Sprintf("r%05d_v%d", i, variant)
			if err := os.WriteFile(filepath.Join(dir, name), g.ruleFile(info[i], variant), 0o644); err != nil {
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
}
