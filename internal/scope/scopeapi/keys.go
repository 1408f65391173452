package scopeapi

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KeyFile is the name of the key in the server's data directory.
const KeyFile = "pii.key"

// keys are the subkeys of pii.key.
type keys struct {
	aead cipher.AEAD
	mac  []byte
	// person keys the resolver's person ids and card hashes, so that ids
	// stay the same from one build to the next.
	person []byte
}

// loadKeys reads dir/pii.key, making it (32 random bytes, 0600) when it
// does not exist yet.
func loadKeys(dir string) (*keys, error) {
	p := filepath.Join(dir, KeyFile)
	master, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		master = make([]byte, 32)
		rand.Read(master)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return loadKeys(dir) // another process made it first
		}
		if err != nil {
			return nil, fmt.Errorf("scope: create %s: %w", p, err)
		}
		if _, err := f.Write(master); err != nil {
			f.Close()
			return nil, fmt.Errorf("scope: write %s: %w", p, err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("scope: write %s: %w", p, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("scope: %w", err)
	}
	if len(master) != 32 {
		return nil, fmt.Errorf("scope: %s holds %d bytes, want 32", p, len(master))
	}
	return newKeys(master)
}

func newKeys(master []byte) (*keys, error) {
	sub := func(label string) []byte {
		m := hmac.New(sha256.New, master)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	block, err := aes.NewCipher(sub("mamori pii seal v1"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &keys{aead: aead, mac: sub("mamori pii mac v1"), person: sub("mamori pii person v1")}, nil
}

// seal encrypts v under a fresh random nonce, bound to what (the category,
// or the master data), nonce first.
func (k *keys) seal(what, v string) []byte {
	out := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(v)+k.aead.Overhead())
	rand.Read(out)
	return k.aead.Seal(out, out, []byte(v), []byte(what))
}

func (k *keys) open(what string, b []byte) (string, error) {
	v, err := k.openTo(nil, what, b)
	return string(v), err
}

// openTo is open appending the value to dst, for a caller that reuses a
// buffer.
func (k *keys) openTo(dst []byte, what string, b []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(b) < n {
		return dst, errors.New("scope: sealed value too short")
	}
	v, err := k.aead.Open(dst, b[:n], b[n:], []byte(what))
	if err != nil {
		return dst, fmt.Errorf("scope: open sealed value: %w", err)
	}
	return v, nil
}

// sum is the equality column: HMAC-SHA256 of category and value.
func (k *keys) sum(category, v string) []byte {
	m := hmac.New(sha256.New, k.mac)
	m.Write([]byte(category))
	m.Write([]byte{0})
	m.Write([]byte(v))
	return m.Sum(nil)
}
