package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// mamori runs the command in-process, as the binary would.
func mamori(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return o.String(), e.String(), code
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// normalise makes ndjson output comparable: the temp root becomes $ROOT,
// timings vanish, and lines are sorted because workers finish in any order.
func normalise(t *testing.T, out, root string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	seconds := regexp.MustCompile(`"seconds":[0-9.e-]+`)
	for i, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("line %d is not JSON: %s", i+1, l)
		}
		l = strings.ReplaceAll(l, root, "$ROOT")
		lines[i] = seconds.ReplaceAllString(l, `"seconds":0`)
	}
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, `{"type":"summary"`) {
		t.Errorf("last line is not the summary: %s", last)
	}
	body := lines[:len(lines)-1]
	sort.Strings(body)
	return strings.Join(append(body, last), "\n") + "\n"
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if diff := cmp.Diff(got, string(want)); diff != "" {
		t.Errorf("%s (-got +want):\n%s", name, diff)
	}
}

// plantedTree builds a host tree where each IOC format names one planted
// file, plus clean files, a FIFO, a symlink loop and an empty file.
func plantedTree(t *testing.T) (root, iocs string) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "host")
	iocs = filepath.Join(base, "iocs")
	// sha256("plain-sha256"), md5("semicolon-md5"), sha1("csv-sha1"),
	// sha256("csv-sha256") and md5("mixed-md5") are listed below.
	writeFile(t, filepath.Join(root, "tmp", "a.bin"), "plain-sha256")
	writeFile(t, filepath.Join(root, "home", "u", "b.dll"), "semicolon-md5")
	writeFile(t, filepath.Join(root, "opt", "c.exe"), "csv-sha1")
	writeFile(t, filepath.Join(root, "opt", "d.exe"), "csv-sha256")
	writeFile(t, filepath.Join(root, "var", "e.js"), "mixed-md5")
	writeFile(t, filepath.Join(root, "var", "clean.txt"), "nothing to see")
	writeFile(t, filepath.Join(root, "var", "empty"), "")
	if err := syscall.Mkfifo(filepath.Join(root, "var", "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(root, filepath.Join(root, "var", "loop")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(iocs, "plain.txt"), "# plain list\n"+
		"e4c5ef1dba0f2cd1c25b0e6b7f1ac0f16b3a0e2d5a3d0a1d8b4e34d6f2a62d9d\n"+ // unrelated
		sha256hex("plain-sha256")+"\n")
	writeFile(t, filepath.Join(iocs, "sigbase.txt"), md5hex("semicolon-md5")+";APT sample - b.dll\n")
	writeFile(t, filepath.Join(iocs, "export.csv"), "name,sha1,sha256,description\n"+
		"c.exe,"+sha1hex("csv-sha1")+",,Loader\n"+
		"d.exe,,"+sha256hex("csv-sha256")+",Stealer\n")
	writeFile(t, filepath.Join(iocs, "mixed.txt"), sha1hex("not-planted")+"\n"+md5hex("mixed-md5")+";55;webshell\n"+sha256hex("also-not-planted")+"\n")
	return root, iocs
}

func TestScanPlantedIndicators(t *testing.T) {
	root, iocs := plantedTree(t)
	args := []string{"scan", "--format", "ndjson"}
	for _, f := range []string{"plain.txt", "sigbase.txt", "export.csv", "mixed.txt"} {
		args = append(args, "--ioc", filepath.Join(iocs, f))
	}
	out, errOut, code := mamori(t, append(args, root)...)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (findings); stderr: %s", code, errOut)
	}
	golden(t, "scan-planted.ndjson", normalise(t, out, root))

	// Flags after the path work too, and follow-symlinks reports the loop.
	out, _, code = mamori(t, "scan", root, "--ioc", filepath.Join(iocs, "plain.txt"), "--format=ndjson", "--follow-symlinks")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	golden(t, "scan-follow.ndjson", normalise(t, out, root))
}

func TestScanCleanTreeExitsZero(t *testing.T) {
	root, iocs := plantedTree(t)
	clean := filepath.Join(root, "var")
	for _, format := range []string{"text", "json", "ndjson"} {
		out, errOut, code := mamori(t, "scan", "--format", format, "--ioc", filepath.Join(iocs, "plain.txt"), clean)
		if code != 0 {
			t.Errorf("%s: exit %d, want 0; stderr %s", format, code, errOut)
		}
		if format == "json" {
			var recs []map[string]any
			if err := json.Unmarshal([]byte(out), &recs); err != nil {
				t.Errorf("json output does not parse: %v", err)
			} else if recs[len(recs)-1]["type"] != "summary" {
				t.Errorf("json: last record %v, want summary", recs[len(recs)-1])
			}
		}
	}
}

func TestScanConfigurationErrors(t *testing.T) {
	root, iocs := plantedTree(t)
	bad := filepath.Join(iocs, "bad.txt")
	writeFile(t, bad, md5hex("x")+"\nnot-a-hash\n")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"missing IOC file", []string{"--ioc", filepath.Join(iocs, "nope.txt")}, "nope.txt: no such file"},
		{"bad IOC line", []string{"--ioc", bad}, "bad.txt:2:"},
		{"missing filename IOC file", []string{"--filename-ioc", filepath.Join(iocs, "nope")}, "nope: no such file"},
		{"bad format", []string{"--format", "xml"}, `--format "xml"`},
		{"bad size", []string{"--max-file-size", "lots"}, `size "lots"`},
		{"unknown flag", []string{"--frobnicate"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := mamori(t, append(append([]string{"scan"}, tt.args...), root)...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.wantErr)
			}
		})
	}
	if _, _, code := mamori(t, "scan"); code != 2 {
		t.Errorf("scan without PATH: exit %d, want 2", code)
	}
}

func TestScanEmbeddedDefaults(t *testing.T) {
	out, errOut, code := mamori(t, "scan", filepath.Join("..", "..", "examples", "infected-host"))
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %s", code, errOut)
	}
	for _, want := range []string{"mamori sample indicator", "stage.ps1", "2 findings, 0 errors"} {
		if !strings.Contains(out, want) {
			t.Errorf("quick-start output lacks %q:\n%s", want, out)
		}
	}
}

func TestScanYARAAndPII(t *testing.T) {
	root, _ := plantedTree(t)
	rules := filepath.Join(t.TempDir(), "r.yar")
	writeFile(t, rules, `rule planted_csv : loader {
	meta:
		severity = 80
	strings:
		$a = "csv-sha" ascii
	condition:
		$a and filesize < 100
}
rule uses_external { condition: owner == "root" }
`)
	writeFile(t, filepath.Join(root, "share", "customers.csv"), "氏名,電話番号,メール\n山田太郎,090-1234-5678,taro@example.jp\n")

	out, errOut, code := mamori(t, "scan", "--format", "ndjson", "--rules", rules, "-d", "owner=nobody", "--pii", root)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %s", code, errOut)
	}
	got := normalise(t, strings.ReplaceAll(out, rules, "$RULES"), root)
	golden(t, "scan-yara-pii.ndjson", got)
	if strings.Contains(got, "taro@example.jp") {
		t.Error("raw personal data in output without --reveal")
	}
	out, _, _ = mamori(t, "scan", "--format", "ndjson", "--pii", "--reveal", filepath.Join(root, "share"))
	if !strings.Contains(out, `"value":"taro@example.jp"`) {
		t.Errorf("--reveal output lacks the raw e-mail:\n%s", out)
	}
	out, _, _ = mamori(t, "scan", "--pii", filepath.Join(root, "share"))
	if strings.Contains(out, "taro") || !strings.Contains(out, "subjects=1") {
		t.Errorf("text output must show the per-file summary and no values:\n%s", out)
	}
}

func TestScanRuleErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yar")
	writeFile(t, bad, "rule ok { condition: true }\n\nrule broken {\n  condition: $missing\n}\n")
	_, errOut, code := mamori(t, "scan", "--rules", bad, dir)
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(errOut, bad+":4:") {
		t.Errorf("stderr %q lacks file:line:col of the error", errOut)
	}
	if _, errOut, code := mamori(t, "scan", "--reveal", dir); code != 2 || !strings.Contains(errOut, "--reveal given without --pii") {
		t.Errorf("--reveal alone: exit %d, stderr %q", code, errOut)
	}
}

func TestScanPIIFilters(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "customers.csv"), "氏名,電話番号,メール\n山田太郎,090-1234-5678,taro@example.jp\n")
	cats := func(out string) []string {
		var got []string
		for _, l := range strings.Split(out, "\n") {
			if i := strings.Index(l, `"category":"`); i >= 0 && strings.Contains(l, `"type":"pii"`) {
				got = append(got, strings.SplitN(l[i+12:], `"`, 2)[0])
			}
		}
		return got
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--pii-categories", "email,phone"}, []string{"phone", "email"}},
		{[]string{"--pii-categories", "-email"}, []string{"person_name", "phone"}},
		{[]string{"--min-confidence", "0.92"}, []string{"phone"}},
	} {
		args := append([]string{"scan", "--format", "ndjson", "--pii"}, tc.args...)
		out, errOut, code := mamori(t, append(args, dir)...)
		if code != 1 {
			t.Fatalf("%v: exit %d, stderr %s", tc.args, code, errOut)
		}
		if diff := cmp.Diff(cats(out), tc.want); diff != "" {
			t.Errorf("%v: categories (-got +want):\n%s", tc.args, diff)
		}
	}
	for _, args := range [][]string{{"--pii", "--pii-categories", "emial"}, {"--pii", "--pii-categories", "email,-phone"},
		{"--pii", "--min-confidence", "2"}, {"--min-confidence", "0.5"}} {
		if _, errOut, code := mamori(t, append(append([]string{"scan"}, args...), dir)...); code != 2 || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message", args, code, errOut)
		}
	}
}
