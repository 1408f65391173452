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

// TestAgentServerURLWithPath: a --server URL with a path is refused before
// anything is written, naming the flag.
func TestAgentServerURLWithPath(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "agent")
	code, out, errs := runCmd("agent", "--server", "https://127.0.0.1:1/mamori", "--ca", "ca.pem", "--data", data, "--enroll-token", "x")
	want := `mamori agent: --server "https://127.0.0.1:1/mamori" has a path (/mamori): want https://HOST:PORT; the server serves its agent gateway at the root` + "\n"
	if code != 2 || out != "" || !strings.HasPrefix(errs, want) {
		t.Errorf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out, errs, want)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("data directory created: %v", err)
	}
}
