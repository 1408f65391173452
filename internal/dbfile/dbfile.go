package dbfile

import (
	"errors"
	"os"
)

// OwnerOnly creates the database file readable by its owner only, or
// tightens an existing one (and its WAL and shared-memory files), before
// SQLite opens it: SQLite gives the WAL and shared-memory files the
// database file's permissions.
func OwnerOnly(file string) error {
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	for _, name := range []string{file, file + "-wal", file + "-shm"} {
		fi, err := os.Stat(name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(name, 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}
