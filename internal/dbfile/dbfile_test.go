package dbfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestOwnerOnly(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, "new.db")
	wide := filepath.Join(dir, "old.db")
	for _, name := range []string{wide, wide + "-wal"} {
		if err := os.WriteFile(name, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chmod(name, 0o644)
	}
	for _, f := range []string{fresh, wide} {
		if err := OwnerOnly(f); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{fresh, wide, wide + "-wal"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s: mode %o, want 600", filepath.Base(name), got)
		}
	}
	if _, err := os.Stat(wide + "-shm"); !os.IsNotExist(err) {
		t.Errorf("a missing -shm file was made: %v", err)
	}
}
