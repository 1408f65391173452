package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Bundle is one published version of the fleet's rules and indicators.
type Bundle struct {
	Version   int64
	Name      string
	YARA      string
	Hashes    []string
	SHA256    string
	CreatedAt time.Time
	CreatedBy string
}

// CreateBundle stores b and returns its version, one more than the last.
func (t *Tx) CreateBundle(ctx context.Context, b *Bundle) (int64, error) {
	hashes, err := json.Marshal(nonNilSlice(b.Hashes))
	if err != nil {
		return 0, err
	}
	var v int64
	err = t.QueryRow(ctx, "insert-bundle", b.Name, b.YARA, string(hashes), b.SHA256,
		toMS(b.CreatedAt), b.CreatedBy).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("create bundle: %w", err)
	}
	return v, nil
}

// LatestBundle returns the newest bundle or ErrNotFound when none was
// published.
func (s *Store) LatestBundle(ctx context.Context) (*Bundle, error) {
	var b Bundle
	var hashes string
	var created int64
	err := s.r.QueryRowContext(ctx, s.query("latest-bundle")).Scan(&b.Version, &b.Name, &b.YARA, &hashes,
		&b.SHA256, &created, &b.CreatedBy)
	if isNoRows(err) {
		return nil, fmt.Errorf("rule bundle: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("latest bundle: %w", err)
	}
	if err := json.Unmarshal([]byte(hashes), &b.Hashes); err != nil {
		return nil, fmt.Errorf("bundle %d: hashes: %w", b.Version, err)
	}
	b.CreatedAt = fromMS(created)
	return &b, nil
}
