package account

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Role is what a user may do. The powers of each are listed in the
// server's route table; see the README's role table.
type Role string

// The roles.
const (
	Admin     Role = "admin"
	Responder Role = "responder"
	Privacy   Role = "privacy"
	Auditor   Role = "auditor"
	Viewer    Role = "viewer"
)

// Roles lists every role, most powerful first.
var Roles = []Role{Admin, Responder, Privacy, Auditor, Viewer}

// ParseRole accepts a role's name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown role %q (roles: %s)", s, RoleNames())
}

// RoleNames lists the roles for messages: "admin, responder, ...".
func RoleNames() string {
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// User is a person with an account.
type User struct {
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	// CreatedBy names who added the user ("mamori user add" on the
	// server's data directory is recorded as "local").
	CreatedBy string `json:"created_by"`
}

// Reserved names cannot be users: "admin" is the bootstrap admin of
// admin.token, "local" is the data-directory CLI, and names with a colon
// are agents and automatic rules in the audit log.
var reserved = map[string]bool{"admin": true, "local": true, "system": true}

// ValidName checks a user name: 1 to 64 of a-z, 0-9, '.', '_' and '-',
// starting with a letter or digit, and not reserved.
func ValidName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("user name must be 1 to 64 characters, got %d", len(name))
	}
	for i, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '.' || c == '_' || c == '-')
		if !ok {
			return fmt.Errorf("user name %q: only a-z, 0-9 and (after the first) '.', '_', '-' are allowed", name)
		}
	}
	if reserved[name] {
		return fmt.Errorf("user name %q is reserved", name)
	}
	return nil
}

// tokenPrefix marks mamori user tokens, so that a secret scanner (or a
// person) recognises one that leaked.
const tokenPrefix = "mamori_"

// NewToken mints an API token: tokenPrefix and 256 random bits in base64url.
// It returns the token, to show once, and its hash, to store.
func NewToken() (token, hash string) {
	var b [32]byte
	rand.Read(b[:])
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token)
}

// HashToken is the stored form of a token: hex SHA-256.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// LooksLikeToken reports whether s has the shape of a user token, so
// authentication can tell a user token from another kind of bearer token
// without a database read.
func LooksLikeToken(s string) bool {
	rest, ok := strings.CutPrefix(s, tokenPrefix)
	if !ok || len(rest) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil
}
