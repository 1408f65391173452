package scopeapi

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestKeys(t *testing.T) {
	dir := t.TempDir()
	k, err := loadKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, b := k.seal("email", "a@example.jp"), k.seal("email", "a@example.jp")
	if bytes.Equal(a, b) || bytes.Contains(a, []byte("a@example.jp")) {
		t.Fatalf("sealing twice gave %x and %x", a, b)
	}
	if v, err := k.open("email", a); err != nil || v != "a@example.jp" {
		t.Fatalf("open: %q %v", v, err)
	}
	if _, err := k.open("phone", a); err == nil {
		t.Error("a value sealed as email opened as phone")
	}
	a[len(a)-1] ^= 1
	if _, err := k.open("email", a); err == nil {
		t.Error("a tampered value opened")
	}
	if !bytes.Equal(k.sum("email", "a@example.jp"), k.sum("email", "a@example.jp")) || bytes.Equal(k.sum("email", "a"), k.sum("phone", "a")) {
		t.Error("the MAC is not a keyed equality of category and value")
	}
	if bytes.Equal(k.mac, k.person) {
		t.Error("subkeys are not separate")
	}
	// The same file gives the same keys; another file other keys.
	again, err := loadKeys(dir)
	if err != nil || !bytes.Equal(again.sum("email", "x"), k.sum("email", "x")) {
		t.Fatalf("reloaded keys differ: %v", err)
	}
	other, _ := loadKeys(t.TempDir())
	if bytes.Equal(other.sum("email", "x"), k.sum("email", "x")) {
		t.Error("two data directories share a key")
	}
	os.WriteFile(filepath.Join(dir, KeyFile), []byte("short"), 0o600)
	if _, err := loadKeys(dir); err == nil {
		t.Error("a 5-byte key was accepted")
	}
}
