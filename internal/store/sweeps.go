package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Sweep is a one-off hunt: a bundle run over Paths on a set of hosts.
type Sweep struct {
	ID        string
	Name      string
	YARA      string
	Hashes    []string
	SHA256    string
	Paths     []string
	CreatedAt time.Time
	ExpiresAt time.Time
	CreatedBy string
	// CancelledAt is when it was cancelled, by CancelledBy; zero if not.
	CancelledAt time.Time
	CancelledBy string
	// Collect is the collection spec (wire.Collect as JSON) of a sweep that
	// gathers evidence for an incident; nil for a plain sweep.
	Collect json.RawMessage
	// PII asks the agents for personal-data discovery as well.
	PII bool
}

// SweepCancelled is the state of a sweep's hosts that had not finished when
// it was cancelled.
const SweepCancelled = "cancelled"

// SweepHost is one host's part of a sweep. Findings counts the stored
// detections the host reported for the sweep, so it never counts a re-sent
// finding twice.
type SweepHost struct {
	HostID    string
	State     string
	Files     int64
	Findings  int64
	Error     string
	UpdatedAt time.Time
}

// CreateSweep stores a sweep and its hosts' initial states.
func (t *Tx) CreateSweep(ctx context.Context, sw *Sweep, hosts map[string]string) error {
	hashes, err := json.Marshal(nonNilSlice(sw.Hashes))
	if err != nil {
		return err
	}
	paths, err := json.Marshal(nonNilSlice(sw.Paths))
	if err != nil {
		return err
	}
	err = func() error {
		if _, err := t.tx.ExecContext(ctx, t.s.query("insert-sweep"), sw.ID, sw.Name, sw.YARA, string(hashes), sw.SHA256,
			string(paths), toMS(sw.CreatedAt), toMS(sw.ExpiresAt), sw.CreatedBy, boolInt(sw.PII)); err != nil {
			return err
		}
		st, err := t.tx.PrepareContext(ctx, t.s.query("insert-sweep-host"))
		if err != nil {
			return err
		}
		defer st.Close()
		for id, state := range hosts {
			if _, err := st.ExecContext(ctx, sw.ID, id, state, toMS(sw.CreatedAt)); err != nil {
				return fmt.Errorf("host %s: %w", id, err)
			}
		}
		return nil
	}()
	if err != nil {
		return fmt.Errorf("create sweep %s: %w", sw.ID, err)
	}
	return nil
}

// Sweep returns one sweep or ErrNotFound.
func (s *Store) Sweep(ctx context.Context, id string) (*Sweep, error) {
	sws, err := s.sweeps(ctx, s.query("sweep-columns")+" WHERE id = $1", id)
	if err != nil {
		return nil, err
	}
	if len(sws) == 0 {
		return nil, fmt.Errorf("sweep %s: %w", id, ErrNotFound)
	}
	return sws[0], nil
}

// Sweeps lists at most limit sweeps with ids after after, in id order.
func (s *Store) Sweeps(ctx context.Context, after string, limit int) ([]*Sweep, error) {
	return s.sweeps(ctx, s.query("list-sweeps"), after, limit)
}

// PendingSweeps lists the unexpired sweeps host has not finished, oldest
// first: what to send it when it connects.
func (s *Store) PendingSweeps(ctx context.Context, hostID string, now time.Time) ([]*Sweep, error) {
	return s.sweeps(ctx, s.query("pending-sweeps"), hostID, toMS(now))
}

func (s *Store) sweeps(ctx context.Context, q string, args ...any) ([]*Sweep, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sweeps: %w", err)
	}
	defer rows.Close()
	var out []*Sweep
	for rows.Next() {
		var sw Sweep
		var hashes, paths string
		var created, expires, cancelled, pii int64
		if err := rows.Scan(&sw.ID, &sw.Name, &sw.YARA, &hashes, &sw.SHA256, &paths, &created, &expires, &sw.CreatedBy, &cancelled, &sw.CancelledBy, &pii); err != nil {
			return nil, fmt.Errorf("sweeps: %w", err)
		}
		if err := json.Unmarshal([]byte(hashes), &sw.Hashes); err != nil {
			return nil, fmt.Errorf("sweep %s: hashes: %w", sw.ID, err)
		}
		if err := json.Unmarshal([]byte(paths), &sw.Paths); err != nil {
			return nil, fmt.Errorf("sweep %s: paths: %w", sw.ID, err)
		}
		sw.CreatedAt, sw.ExpiresAt, sw.CancelledAt, sw.PII = fromMS(created), fromMS(expires), fromMS(cancelled), pii != 0
		out = append(out, &sw)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sweeps: %w", err)
	}
	rows.Close()
	if err := s.collectionSpecs(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// SweepHosts lists a sweep's hosts by host id.
func (s *Store) SweepHosts(ctx context.Context, sweepID string) ([]SweepHost, error) {
	rows, err := s.r.QueryContext(ctx, s.query("sweep-hosts"), sweepID)
	if err != nil {
		return nil, fmt.Errorf("sweep %s hosts: %w", sweepID, err)
	}
	defer rows.Close()
	out := []SweepHost{}
	for rows.Next() {
		var h SweepHost
		var updated int64
		if err := rows.Scan(&h.HostID, &h.State, &h.Files, &h.Error, &updated, &h.Findings); err != nil {
			return nil, fmt.Errorf("sweep %s hosts: %w", sweepID, err)
		}
		h.UpdatedAt = fromMS(updated)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sweep %s hosts: %w", sweepID, err)
	}
	return out, nil
}

// SetSweepHost updates a host's state in a sweep. A host that is done or
// failed stays so: a late or repeated report cannot reopen it. It reports
// whether a row changed.
func (s *Store) SetSweepHost(ctx context.Context, sweepID, hostID, state string, files int64, errText string, at time.Time) (bool, error) {
	res, err := s.w.ExecContext(ctx, s.query("set-sweep-host"), sweepID, hostID, state, files, errText, toMS(at))
	if err != nil {
		return false, fmt.Errorf("sweep %s host %s: %w", sweepID, hostID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sweep %s host %s: %w", sweepID, hostID, err)
	}
	return n > 0, nil
}

// CancelSweep marks a sweep cancelled and its unfinished hosts cancelled,
// reporting whether it changed anything (false when it was cancelled
// already).
func (t *Tx) CancelSweep(ctx context.Context, id, by string, at time.Time) (bool, error) {
	res, err := t.Exec(ctx, "cancel-sweep", id, toMS(at), by)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return false, err
	}
	_, err = t.Exec(ctx, "cancel-sweep-hosts", id, toMS(at))
	return err == nil, err
}

// SweepHostState is host's state in sweep, or ErrNotFound when the sweep
// does not target the host.
func (s *Store) SweepHostState(ctx context.Context, sweepID, hostID string) (string, error) {
	var st string
	err := s.r.QueryRowContext(ctx, s.query("sweep-host"), sweepID, hostID).Scan(&st)
	if isNoRows(err) {
		return "", fmt.Errorf("sweep %s on host %s: %w", sweepID, hostID, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("sweep %s on host %s: %w", sweepID, hostID, err)
	}
	return st, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
