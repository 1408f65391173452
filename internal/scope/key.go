package scope

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DefaultKeyFile is where the keyed-hash key lives unless one is given:
// $MAMORI_KEY_FILE, else mamori/scope.key under the user's configuration
// directory.
func DefaultKeyFile() (string, error) {
	if p := os.Getenv("MAMORI_KEY_FILE"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no key file given and no configuration directory: %w", err)
	}
	return filepath.Join(dir, "mamori", "scope.key"), nil
}

// LoadKey reads the hex key in path, creating it (32 random bytes, mode
// 0600) when it does not exist. Person ids, subject keys and card hashes
// are keyed with it, so that they are stable across runs yet cannot be
// recomputed from a guessed e-mail address by someone without the key.
func LoadKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, 32)
		rand.Read(key)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("key file: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadKey(path) // another process made it first
		}
		if err != nil {
			return nil, fmt.Errorf("key file: %w", err)
		}
		_, err = f.WriteString(hex.EncodeToString(key) + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("key file %s: %w", path, err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("key file %s: want at least 16 bytes in hex", path)
	}
	return key, nil
}
