package audit

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Checkpoint is the tree head the server signs: the log's origin (the
// signing key's name), its size and root hash, and when it was signed.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   Hash
	Time   time.Time
}

// Body returns the checkpoint text that gets signed, in the C2SP
// tlog-checkpoint layout with one extension line:
//
//	<origin>
//	<size>
//	<base64 root>
//	time <RFC 3339 UTC, milliseconds>
func (c Checkpoint) Body() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n%d\n%s\ntime %s\n", c.Origin, c.Size,
		base64.StdEncoding.EncodeToString(c.Root[:]),
		stamp(c.Time))
	return b.Bytes()
}

// ParseCheckpoint parses a checkpoint body as written by [Checkpoint.Body].
func ParseCheckpoint(body []byte) (Checkpoint, error) {
	text := string(body)
	if !strings.HasSuffix(text, "\n") {
		return Checkpoint{}, errors.New("checkpoint: missing final newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 4 {
		return Checkpoint{}, fmt.Errorf("checkpoint: %d lines, want 4", len(lines))
	}
	var c Checkpoint
	c.Origin = lines[0]
	if c.Origin == "" {
		return Checkpoint{}, errors.New("checkpoint: line 1: empty origin")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return Checkpoint{}, fmt.Errorf("checkpoint: line 2: bad tree size %q", lines[1])
	}
	c.Size = size
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != len(c.Root) {
		return Checkpoint{}, fmt.Errorf("checkpoint: line 3: bad root hash %q", lines[2])
	}
	copy(c.Root[:], root)
	ts, ok := strings.CutPrefix(lines[3], "time ")
	if !ok {
		return Checkpoint{}, fmt.Errorf("checkpoint: line 4: want \"time ...\", got %q", lines[3])
	}
	c.Time, err = time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: line 4: %w", err)
	}
	c.Time = c.Time.UTC()
	return c, nil
}

// Sign signs the checkpoint as a signed note. The origin must be the
// signer's name, so that a note names the log it vouches for.
func Sign(c Checkpoint, signer note.Signer) ([]byte, error) {
	if c.Origin != signer.Name() {
		return nil, fmt.Errorf("audit: checkpoint origin %q is not the signing key's name %q", c.Origin, signer.Name())
	}
	msg, err := note.Sign(&note.Note{Text: string(c.Body())}, signer)
	if err != nil {
		return nil, fmt.Errorf("audit: sign checkpoint: %w", err)
	}
	return msg, nil
}

// Open checks a signed checkpoint against the log's public key and parses
// it. The checkpoint's origin must be the key's name.
func Open(signed []byte, key note.Verifier) (Checkpoint, error) {
	n, err := note.Open(signed, note.VerifierList(key))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint signature: %w", err)
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != key.Name() {
		return Checkpoint{}, fmt.Errorf("checkpoint: origin %q is not the key's name %q", c.Origin, key.Name())
	}
	return c, nil
}

// Key files in the server's data directory.
const (
	// KeyFile holds the signing key (note signer key format), mode 0600.
	KeyFile = "audit.key"
	// PublicKeyFile holds the verifier key (note verifier key format,
	// "name+hash+base64"): what an auditor needs to verify the log.
	PublicKeyFile = "audit.pub"
)

// Key is the server's checkpoint signing key.
type Key struct {
	Signer   note.Signer
	Verifier note.Verifier
	// Public is the verifier key text, as in audit.pub.
	Public string
}

// LoadOrCreateKey reads the signing key from dir, generating a new Ed25519
// key named name (and its public half) on first use. name is ignored when
// the key exists.
func LoadOrCreateKey(dir, name string) (*Key, error) {
	skPath, pkPath := filepath.Join(dir, KeyFile), filepath.Join(dir, PublicKeyFile)
	sk, err := os.ReadFile(skPath)
	if errors.Is(err, os.ErrNotExist) {
		skey, vkey, err := note.GenerateKey(rand.Reader, name)
		if err != nil {
			return nil, fmt.Errorf("audit: generate key: %w", err)
		}
		// The public half is written first: a crash between the two
		// writes leaves no private key without its public key.
		if err := writeFile(pkPath, []byte(vkey+"\n"), 0o644); err != nil {
			return nil, err
		}
		if err := writeFile(skPath, []byte(skey+"\n"), 0o600); err != nil {
			return nil, err
		}
		sk = []byte(skey)
	} else if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(sk)))
	if err != nil {
		return nil, fmt.Errorf("audit: %s: invalid signing key", skPath)
	}
	pub, err := os.ReadFile(pkPath)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	verifier, err := ParsePublicKey(string(pub))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkPath, err)
	}
	if verifier.Name() != signer.Name() || verifier.KeyHash() != signer.KeyHash() {
		return nil, fmt.Errorf("audit: %s does not match %s", pkPath, skPath)
	}
	return &Key{Signer: signer, Verifier: verifier, Public: strings.TrimSpace(string(pub))}, nil
}

// ReadPublicKey reads a verifier key file.
func ReadPublicKey(path string) (note.Verifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return ParsePublicKey(string(b))
}

// ParsePublicKey parses a verifier key ("name+hash+base64").
func ParsePublicKey(s string) (note.Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("audit: public key: %w", err)
	}
	return v, nil
}

func writeFile(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}
