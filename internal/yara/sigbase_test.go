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

// BenchmarkScanSignatureBase scans the first files of /usr/bin (up to
// 64 MB) with all of signature-base, one buffer at a time; b.SetBytes makes
// the result a throughput. bench/yara.sh compares the whole CLI with yara.
func BenchmarkScanSignatureBase(b *testing.B) {
	if _, err := os.Stat(sigbaseDir); err != nil {
		b.Skip("signature-base not present at", sigbaseDir)
	}
	r, err := CompileFiles(context.Background(), []string{sigbaseDir}, CompileOptions{Defines: sigbaseDefines})
	if err != nil {
		b.Fatal(err)
	}
	paths, _ := filepath.Glob("/usr/bin/*")
	var bufs [][]byte
	var total int64
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() || st.Size() > 16<<20 {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		bufs = append(bufs, data)
		total += int64(len(data))
		if total > 64<<20 {
			break
		}
	}
	b.SetBytes(total)
	b.ResetTimer()
	for range b.N {
		for _, d := range bufs {
			if _, err := r.Scan(context.Background(), d, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkScanNoMatch measures the per-file cost of the engine itself
// (pooled state, rule loop) on data where no string matches.
func BenchmarkScanNoMatch(b *testing.B) {
	r, err := Compile(fuzzRules, "bench.yar", CompileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := r.Scan(context.Background(), data, nil); err != nil {
			b.Fatal(err)
		}
	}
}
