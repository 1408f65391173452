package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Two files whose names differ only in bytes that are not UTF-8 must stay
// two findings with usable names.
func TestScanInvalidUTF8Names(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	content := "mamori-hostile-name-test\n"
	a := filepath.Join(dir, "caf\xe9.bin")
	b := filepath.Join(dir, "caf\xe8.bin")
	writeFile(t, a, content)
	writeFile(t, b, content)
	ioc := filepath.Join(t.TempDir(), "iocs.txt")
	writeFile(t, ioc, sha256hex(content)+";hostile name test\n")

	out, errOut, code := mamori(t, "scan", "--ioc", ioc, "--format", "ndjson", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr: %s", code, errOut)
	}
	type rec struct {
		Type    string `json:"type"`
		Path    string `json:"path"`
		PathRaw string `json:"path_raw"`
	}
	raws := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r rec
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		if r.Type != "ioc" {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(r.PathRaw)
		if err != nil {
			t.Fatalf("path_raw %q: %v", r.PathRaw, err)
		}
		raws[r.Path] = string(raw)
	}
	want := map[string]string{
		filepath.Join(dir, `caf\xe9.bin`): a,
		filepath.Join(dir, `caf\xe8.bin`): b,
	}
	if diff := cmp.Diff(raws, want); diff != "" {
		t.Errorf("findings (display path -> raw path) (-got +want):\n%s", diff)
	}
}

func TestScanTextEscapesControlCharacters(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	content := "mamori-control-char-test\n"
	writeFile(t, filepath.Join(dir, "a\nIOC forged\x1b[2J.bin"), content)
	ioc := filepath.Join(t.TempDir(), "iocs.txt")
	writeFile(t, ioc, sha256hex(content)+"\n")
	out, _, code := mamori(t, "scan", "--ioc", ioc, dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `a\x0aIOC forged\x1b[2J.bin`) {
		t.Errorf("text output not escaped:\n%s", out)
	}
}

func TestScanErrorsWithoutFindingsExit2(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nonexistent")
	out, errOut, code := mamori(t, "scan", "--format", "ndjson", missing)
	if code != 2 {
		t.Fatalf("exit %d, want 2; stdout: %s", code, out)
	}
	if !strings.Contains(out, `"type":"error"`) || !strings.Contains(errOut, "1 errors and no findings") {
		t.Errorf("stdout %q, stderr %q: want an error record and a closing message", out, errOut)
	}
}

func TestScanConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--exclude", "[", dir}, `exclude glob "["`},
		{[]string{"--max-file-size", "9999999999T", dir}, "larger than"},
		{[]string{"--max-file-size", "99999999999999999999", dir}, `size "99999999999999999999": larger than 9223372036854775807 bytes`},
	}
	for _, tt := range tests {
		_, errOut, code := mamori(t, append([]string{"scan"}, tt.args...)...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("scan %q: exit %d, stderr %q; want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}

func TestScanYARATimeout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.txt"), "x")
	rules := filepath.Join(t.TempDir(), "endless.yar")
	writeFile(t, rules, "rule endless { condition: for all i in (0..9223372036854775807) : (i >= 0) }\n")
	out, errOut, code := mamori(t, "scan", "--rules", rules, "--timeout", "1", "--format", "ndjson", dir)
	if code != 2 {
		t.Fatalf("exit %d, want 2 (an error, no findings); stderr %s", code, errOut)
	}
	if !strings.Contains(out, `"error":"yara: timed out after 1s; no rule results for this file"`) {
		t.Errorf("no timeout error record in:\n%s", out)
	}
}

// A signal (the cancelled context main passes in) must end a scan stuck in
// rule evaluation at once, not when the rule is done.
func TestScanStopsOnSignal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.txt"), "x")
	rules := filepath.Join(t.TempDir(), "endless.yar")
	writeFile(t, rules, "rule endless { condition: for all i in (0..9223372036854775807) : (i >= 0) }\n")
	// The "signal" arrives 300 ms in, while the rule is being evaluated.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var o, e bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"scan", "--rules", rules, "--timeout", "0", dir}, &o, &e) }()
	select {
	case code := <-done:
		if code != 2 {
			t.Errorf("exit %d after cancel, want 2; stderr %s", code, e.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("scan still running 30 s after it was cancelled")
	}
}

// A rule's warning carries one "warning:", after the command's name.
func TestScanSlowStringWarning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.txt"), "aaa!")
	rules := filepath.Join(t.TempDir(), "redos.yar")
	writeFile(t, rules, "rule redos { strings: $r = /(a+)+$/ condition: $r }\n")
	_, errOut, code := mamori(t, "scan", "--rules", rules, "--no-progress", dir)
	want := "mamori scan: warning: " + rules + `:1:23: rule "redos": string $r may slow down scanning` + "\n"
	if code != 0 || errOut != want {
		t.Errorf("exit %d, stderr %q; want 0 and %q", code, errOut, want)
	}
}
