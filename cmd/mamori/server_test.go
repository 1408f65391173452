package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// serverTestOutput is a bytes.Buffer safe to read while the command writes.
type serverTestOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *serverTestOutput) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *serverTestOutput) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServerCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(context.Background())
	var out serverTestOutput
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"server", "--data", dir, "--listen", "127.0.0.1:0", "--san", "mamori.test"}, &out, io.Discard)
	}()
	url := regexp.MustCompile(`^mamori server listening on https://127\.0\.0\.1:\d+\n$`)
	deadline := time.Now().Add(20 * time.Second)
	for !url.MatchString(out.String()) {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no URL line; output %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for name, perm := range map[string]os.FileMode{"ca.pem": 0o644, "ca-key.pem": 0o600, "enroll.token": 0o600, "admin.token": 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if fi.Mode().Perm() != perm {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), perm)
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit status %d after shutdown, want 0", code)
	}
}

func TestServerCommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"server"},
		{"server", "--data", t.TempDir(), "extra"},
		{"server", "--data", t.TempDir(), "--isolate-resolver", "not-an-ip"},
		{"server", "--bogus"},
	} {
		var stderr strings.Builder
		if code := run(context.Background(), args, io.Discard, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, stderr.String())
		}
	}
}

func TestFileLimitWarning(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		limit  uint64
		agents uint
		warn   bool
	}{
		{0, 20000, false}, {1 << 20, 20000, false}, {4096, 1000, false}, {1024, 1000, true}, {4096, 20000, true},
	} {
		if got := fileLimitWarning(tt.limit, tt.agents); (got != "") != tt.warn {
			t.Errorf("limit %d, %d agents: %q, want a warning %v", tt.limit, tt.agents, got, tt.warn)
		}
	}
}
