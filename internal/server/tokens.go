package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

const (
	enrollTokenFile = "enroll.token"
	adminTokenFile  = "admin.token"
)

// loadOrCreateToken reads a token file, creating it with a random token on
// first start.
func loadOrCreateToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		tok := newToken()
		return tok, writeFileAtomic(path, []byte(tok+"\n"), 0o600)
	}
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < 16 {
		return "", fmt.Errorf("%s: token shorter than 16 characters", path)
	}
	return tok, nil
}

func newToken() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
