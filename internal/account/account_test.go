package account

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"alice", true},
		{"a", true},
		{"bob.smith-2_x", true},
		{"9lives", true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{"Alice", false},
		{".alice", false},
		{"-x", false},
		{"al ice", false},
		{"agent:h-1", false},
		{"ユーザー", false},
		{"admin", false},
		{"local", false},
		{"system", false},
	} {
		if err := ValidName(tc.name); (err == nil) != tc.ok {
			t.Errorf("ValidName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range Roles {
		got, err := ParseRole(string(r))
		if err != nil || got != r {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, err)
		}
	}
	_, err := ParseRole("root")
	if err == nil || !strings.Contains(err.Error(), "admin, responder, privacy, auditor, viewer") {
		t.Errorf("ParseRole(root) = %v, want the list of roles", err)
	}
}

func TestTokens(t *testing.T) {
	tok, hash := NewToken()
	tok2, hash2 := NewToken()
	if tok == tok2 || hash == hash2 {
		t.Fatal("two tokens alike")
	}
	if !LooksLikeToken(tok) {
		t.Errorf("LooksLikeToken(%q) = false", tok)
	}
	if HashToken(tok) != hash || len(hash) != 64 || strings.Contains(hash, tok) {
		t.Errorf("hash %q of %q", hash, tok)
	}
	for _, s := range []string{"", "mamori_", tok[:len(tok)-1], tok + "A", strings.Replace(tok, "mamori_", "mamoro_", 1), "mamori_" + strings.Repeat("!", 43),
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"} {
		if LooksLikeToken(s) {
			t.Errorf("LooksLikeToken(%q) = true", s)
		}
	}
}

func TestPassword(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=2,p=2$") {
		t.Errorf("hash %q", h)
	}
	if err := CheckPassword(h, "correct horse battery"); err != nil {
		t.Errorf("right password: %v", err)
	}
	if err := CheckPassword(h, "correct horse batterz"); !errors.Is(err, ErrPasswordMismatch) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := HashPassword("short"); err == nil {
		t.Error("short password accepted")
	}
	// Hashes made with other parameters still check.
	salt := []byte("saltsalt")
	cheap := "$argon2id$v=19$m=64,t=1,p=1$" + base64.RawStdEncoding.EncodeToString(salt) + "$" +
		base64.RawStdEncoding.EncodeToString(argon2.IDKey([]byte("an older password"), salt, 1, 64, 1, 32))
	if err := CheckPassword(cheap, "an older password"); err != nil {
		t.Errorf("hash with other parameters: %v", err)
	}
	if err := CheckPassword(cheap, "another password"); !errors.Is(err, ErrPasswordMismatch) {
		t.Errorf("hash with other parameters, wrong password: %v", err)
	}
	for _, bad := range []string{"", "$2a$10$abc", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA", "$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA",
		"$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$c2FsdHNhbHRzYWx0c2FsdA", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$c2Fs", cheap + "$"} {
		if err := CheckPassword(bad, "x"); err == nil || errors.Is(err, ErrPasswordMismatch) {
			t.Errorf("CheckPassword(%q) = %v, want a malformed-hash error", bad, err)
		}
	}
}

func FuzzCheckPassword(f *testing.F) {
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA")
	f.Add("$argon2id$v=19$m=65536,t=2,p=2$AAAA$BBBB")
	f.Fuzz(func(t *testing.T, hash string) {
		CheckPassword(hash, "password")
	})
}
