package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/store"
)

// The SQL lives in internal/store/queries/account.sql; these functions are
// the only users of it.

// ErrExists is returned when adding a user whose name is taken.
var ErrExists = errors.New("already exists")

// Add stores a new user and mints its first token, which it returns.
func Add(ctx context.Context, tx *store.Tx, u User) (string, error) {
	if err := ValidName(u.Name); err != nil {
		return "", err
	}
	if _, err := ParseRole(string(u.Role)); err != nil {
		return "", err
	}
	var n string
	err := tx.QueryRow(ctx, "user-get", u.Name).Scan(&n, new(string), new(int64), new(int64), new(string))
	if err == nil {
		return "", fmt.Errorf("user %s: %w", u.Name, ErrExists)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("user %s: %w", u.Name, err)
	}
	if _, err := tx.Exec(ctx, "user-insert", u.Name, string(u.Role), store.ToMS(u.CreatedAt), u.CreatedBy); err != nil {
		return "", err
	}
	return MintToken(ctx, tx, u.Name, u.CreatedAt)
}

// MintToken makes a new token for the user and revokes its older ones: a
// new token is asked for when the old one is lost or leaked.
func MintToken(ctx context.Context, tx *store.Tx, name string, now time.Time) (string, error) {
	if err := exists(ctx, tx, name); err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, "user-token-revoke-all", name, store.ToMS(now)); err != nil {
		return "", err
	}
	tok, hash := NewToken()
	if _, err := tx.Exec(ctx, "user-token-insert", hash, name, store.ToMS(now)); err != nil {
		return "", err
	}
	return tok, nil
}

// SetDisabled disables or re-enables a user; a disabled user's tokens and
// password stop working.
func SetDisabled(ctx context.Context, tx *store.Tx, name string, disabled bool) error {
	v := 0
	if disabled {
		v = 1
	}
	res, err := tx.Exec(ctx, "user-set-disabled", name, v)
	if err != nil {
		return err
	}
	return oneRow(res, name)
}

// SetPassword stores a password hash from HashPassword.
func SetPassword(ctx context.Context, tx *store.Tx, name, hash string) error {
	res, err := tx.Exec(ctx, "user-set-password", name, hash)
	if err != nil {
		return err
	}
	return oneRow(res, name)
}

func oneRow(res sql.Result, name string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%w", err)
	}
	if n == 0 {
		return fmt.Errorf("user %s: %w", name, store.ErrNotFound)
	}
	return nil
}

func exists(ctx context.Context, tx *store.Tx, name string) error {
	var n string
	err := tx.QueryRow(ctx, "user-get", name).Scan(&n, new(string), new(int64), new(int64), new(string))
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("user %s: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("user %s: %w", name, err)
	}
	return nil
}

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var role string
	var disabled, created int64
	if err := row.Scan(&u.Name, &role, &disabled, &created, &u.CreatedBy); err != nil {
		return u, err
	}
	u.Role, u.Disabled, u.CreatedAt = Role(role), disabled != 0, store.FromMS(created).UTC()
	return u, nil
}

// List returns users with a name after after, at most limit, by name.
func List(ctx context.Context, st *store.Store, after string, limit int) ([]User, error) {
	rows, err := st.Query(ctx, "user-list", after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return out, nil
}

// Get returns one user.
func Get(ctx context.Context, st *store.Store, name string) (User, error) {
	rows, err := st.Query(ctx, "user-get", name)
	if err != nil {
		return User{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return User{}, fmt.Errorf("user %s: %w", name, err)
		}
		return User{}, fmt.Errorf("user %s: %w", name, store.ErrNotFound)
	}
	u, err := scanUser(rows)
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", name, err)
	}
	return u, nil
}

// ByToken returns the enabled user holding an unrevoked token, or
// store.ErrNotFound.
func ByToken(ctx context.Context, st *store.Store, token string) (User, error) {
	rows, err := st.Query(ctx, "user-by-token", HashToken(token))
	if err != nil {
		return User{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return User{}, fmt.Errorf("token: %w", err)
		}
		return User{}, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	u, err := scanUser(rows)
	if err != nil {
		return User{}, fmt.Errorf("token: %w", err)
	}
	return u, nil
}

// CheckLogin checks a user's password: the console login. A disabled or
// unknown user and a wrong password are all ErrPasswordMismatch.
func CheckLogin(ctx context.Context, st *store.Store, name, password string) (User, error) {
	rows, err := st.Query(ctx, "user-password", name)
	if err != nil {
		return User{}, err
	}
	var hash string
	found := rows.Next()
	if found {
		err = rows.Scan(&hash)
	}
	rows.Close()
	if err != nil {
		return User{}, fmt.Errorf("%w", err)
	}
	if !found || strings.TrimSpace(hash) == "" {
		return User{}, ErrPasswordMismatch
	}
	if err := CheckPassword(hash, password); err != nil {
		return User{}, err
	}
	return Get(ctx, st, name)
}
