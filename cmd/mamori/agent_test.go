package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnrollToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("  from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	tests := []struct {
		flag, env, want, err string
	}{
		{"literal", "from-env", "literal", ""},
		{"", "from-env", "from-env", ""},
		{"", "", "", ""},
		{"@" + file, "from-env", "from-file", ""},
		{"@" + filepath.Join(dir, "missing"), "", "", "--enroll-token @" + filepath.Join(dir, "missing") + ": open"},
		{"@" + empty, "", "", "the file is empty"},
	}
	for _, tt := range tests {
		got, err := enrollToken(tt.flag, tt.env)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("enrollToken(%q, %q) = %q, %v; want %q, %q", tt.flag, tt.env, got, err, tt.want, tt.err)
		}
	}
}
