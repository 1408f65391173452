package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestAssessCommand(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			out, errOut, code := mamori(t, "assess", "--facts", "testdata/assess-facts.json", "--format", format)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, "assess-out."+format, out)
		})
	}
}

func TestAssessCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	writeFile(t, bad, `{"aware_at":"2026-03-02T10:00:00+09:00","cause":"malware","categories":["email"],"people":{"JP":1,"ZZ":2}}`)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"invalid facts name the field", []string{"--facts", bad}, "people.ZZ: not an ISO 3166-1 alpha-2 country code"},
		{"missing file", []string{"--facts", filepath.Join(dir, "none.json")}, "no such file"},
		{"no --facts", nil, "--facts FILE is required"},
		{"bad format", []string{"--facts", bad, "--format", "yaml"}, `--format "yaml"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := mamori(t, append([]string{"assess"}, c.args...)...)
			if code != 2 || out != "" || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and stderr containing %q", code, out, errOut, c.want)
			}
		})
	}
}
