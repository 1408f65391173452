package yara

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// sigbaseDir is signature-base's rules, shared between developers outside
// the repository (DRL 1.1, not vendored).
const sigbaseDir = "../../../shared/corpus/signature-base/yara"

// sigbaseDefines are the external variables signature-base's own scanners
// define.
var sigbaseDefines = map[string]string{"filename": "", "filepath": "", "extension": "", "filetype": "", "owner": ""}

func TestSignatureBaseCompiles(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sigbaseDir, "*.yar"))
	if len(files) == 0 {
		t.Skip("signature-base not present at", sigbaseDir)
	}
	start := time.Now()
	rules := 0
	for _, f := range files {
		r, err := CompileFiles(context.Background(), []string{f}, CompileOptions{Defines: sigbaseDefines})
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		rules += r.NumRules()
	}
	t.Logf("%d files, %d rules compiled one by one in %v", len(files), rules, time.Since(start))
}

func TestSignatureBaseCompilesAtOnce(t *testing.T) {
	if _, err := os.Stat(sigbaseDir); err != nil {
		t.Skip("signature-base not present at", sigbaseDir)
	}
	start := time.Now()
	r, err := CompileFiles(context.Background(), []string{sigbaseDir}, CompileOptions{Defines: sigbaseDefines})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d rules (%d evaluated on every file), %d strings compiled in %v", r.NumRules(), len(r.alwaysEval), len(r.patterns), time.Since(start))
}
