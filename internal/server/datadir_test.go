package server

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDataDirTightened: a data directory others can read is changed to
// 0700 with a warning; the database files are 0600.
func TestDataDirTightened(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	s, err := New(t.Context(), Config{DataDir: dir, Listen: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory mode %04o, want 0700", fi.Mode().Perm())
	}
	if !strings.Contains(log.String(), "data directory was readable by others; changed to 0700") {
		t.Errorf("no warning in the log: %s", log.String())
	}
	for _, name := range []string{"mamori.db", caKeyFile, adminTokenFile, enrollTokenFile} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want mode 0600", name, err)
		}
	}
}

// TestUnreachableDatabaseWritesNothing: a server that cannot reach its
// database fails before creating the CA or tokens.
func TestUnreachableDatabaseWritesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := New(t.Context(), Config{DataDir: dir, Listen: "127.0.0.1:0", DB: "postgres://nobody@127.0.0.1:1/none?connect_timeout=5"})
	if err == nil || !strings.HasPrefix(err.Error(), "database: cannot connect: ") {
		t.Fatalf("New with an unreachable database: %v, want database: cannot connect: ...", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Errorf("files written before the database was reached: %v", ents)
	}
}
