package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain pins the key of subject keys and person ids, so that outputs are
// golden and tests never create one in the user's configuration.
func TestMain(m *testing.M) {
	key, err := filepath.Abs(filepath.Join("testdata", "scope.key"))
	if err != nil {
		panic(err)
	}
	os.Setenv("MAMORI_KEY_FILE", key)
	os.Exit(m.Run())
}
