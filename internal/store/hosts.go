package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Host is one enrolled agent. Monitoring is the level the server wants;
// MonitoringReported is what the agent last said it runs.
type Host struct {
	ID                 string
	Name               string
	Hostname           string
	OS                 string
	Arch               string
	OSVersion          string
	IPs                []string
	AgentVersion       string
	Labels             map[string]string
	CertSerial         string
	EnrolledAt         time.Time
	LastSeen           time.Time
	Monitoring         string
	MonitoringReported string
	Isolation          string
	IsolationReason    string
	IsolationError     string
	BundleVersion      int64
	BundleError        string
	RevokedAt          time.Time
	// KeySHA256 is the SHA-256 of the agent key's SubjectPublicKeyInfo,
	// hex, and CertPEM the certificate issued for it: what a repeated
	// enrolment with the same key gets back. Written at enrolment; Host
	// and Hosts do not read them back.
	KeySHA256 string
	CertPEM   string
}

// Inventory is what an agent reports about its host.
type Inventory struct {
	Hostname, OS, Arch, OSVersion string
	IPs                           []string
	AgentVersion                  string
	Monitoring                    string
	BundleVersion                 int64
}

// CreateHost records a newly enrolled host.
func (t *Tx) CreateHost(ctx context.Context, h *Host) error {
	labels, err := json.Marshal(nonNilMap(h.Labels))
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(ctx, t.s.query("insert-host"), h.ID, h.Name, h.Hostname, string(labels),
		h.CertSerial, toMS(h.EnrolledAt), h.Monitoring, h.KeySHA256, h.CertPEM)
	if err != nil {
		return fmt.Errorf("create host %s: %w", h.ID, err)
	}
	return nil
}

// Host returns one host or ErrNotFound.
func (s *Store) Host(ctx context.Context, id string) (*Host, error) {
	return host(ctx, s.r, s.query("host-columns"), id)
}

// Host returns one host or ErrNotFound, as the transaction sees it.
func (t *Tx) Host(ctx context.Context, id string) (*Host, error) {
	return host(ctx, t.tx, t.s.query("host-columns"), id)
}

func host(ctx context.Context, q querier, cols, id string) (*Host, error) {
	hs, err := hosts(ctx, q, cols+" WHERE id = $1", id)
	if err != nil {
		return nil, err
	}
	if len(hs) == 0 {
		return nil, fmt.Errorf("host %s: %w", id, ErrNotFound)
	}
	return hs[0], nil
}

// Hosts lists every host, revoked ones included, ordered by id.
func (s *Store) Hosts(ctx context.Context) ([]*Host, error) {
	return hosts(ctx, s.r, s.query("host-columns")+" ORDER BY id")
}

// Hosts lists every host as the transaction sees it.
func (t *Tx) Hosts(ctx context.Context) ([]*Host, error) {
	return hosts(ctx, t.tx, t.s.query("host-columns")+" ORDER BY id")
}

// HostsPage lists at most limit hosts with ids after after, in id order.
func (s *Store) HostsPage(ctx context.Context, after string, limit int) ([]*Host, error) {
	return hosts(ctx, s.r, s.query("list-hosts"), after, limit)
}

func hosts(ctx context.Context, q querier, query string, args ...any) ([]*Host, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("hosts: %w", err)
	}
	defer rows.Close()
	var out []*Host
	for rows.Next() {
		var h Host
		var ips, labels string
		var enrolled, seen, revoked int64
		if err := rows.Scan(&h.ID, &h.Name, &h.Hostname, &h.OS, &h.Arch, &h.OSVersion, &ips, &h.AgentVersion,
			&labels, &h.CertSerial, &enrolled, &seen, &h.Monitoring, &h.MonitoringReported, &h.Isolation,
			&h.IsolationReason, &h.IsolationError, &h.BundleVersion, &h.BundleError, &revoked); err != nil {
			return nil, fmt.Errorf("hosts: %w", err)
		}
		if err := json.Unmarshal([]byte(ips), &h.IPs); err != nil {
			return nil, fmt.Errorf("host %s: ips: %w", h.ID, err)
		}
		if err := json.Unmarshal([]byte(labels), &h.Labels); err != nil {
			return nil, fmt.Errorf("host %s: labels: %w", h.ID, err)
		}
		h.EnrolledAt, h.LastSeen, h.RevokedAt = fromMS(enrolled), fromMS(seen), fromMS(revoked)
		out = append(out, &h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hosts: %w", err)
	}
	return out, nil
}

// UpdateInventory stores what the agent reported at time at.
func (s *Store) UpdateInventory(ctx context.Context, id string, inv Inventory, at time.Time) error {
	ips, err := json.Marshal(nonNilSlice(inv.IPs))
	if err != nil {
		return err
	}
	return s.exec(ctx, "update-inventory", id, inv.Hostname, inv.OS, inv.Arch, inv.OSVersion, string(ips),
		inv.AgentVersion, inv.Monitoring, inv.BundleVersion, toMS(at))
}

// TouchHosts records last-seen times for many hosts in one transaction, so
// heartbeats from a large fleet cost one commit per flush, not one each.
func (s *Store) TouchHosts(ctx context.Context, seen map[string]time.Time) error {
	if len(seen) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, s.query("touch-host"))
		if err != nil {
			return err
		}
		defer st.Close()
		for id, at := range seen {
			if _, err := st.ExecContext(ctx, id, toMS(at)); err != nil {
				return fmt.Errorf("touch host %s: %w", id, err)
			}
		}
		return nil
	})
}

// SetMonitoring sets the level the server wants for a host.
func (t *Tx) SetMonitoring(ctx context.Context, id, level string) error {
	return t.execOne(ctx, "set-monitoring", id, level)
}

// SetMonitoringAll sets the level of every host not revoked, in one
// statement, and returns how many hosts it set.
func (t *Tx) SetMonitoringAll(ctx context.Context, level string) (int64, error) {
	res, err := t.Exec(ctx, "set-monitoring-all", level)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// SetLabels replaces a host's labels.
func (t *Tx) SetLabels(ctx context.Context, id string, labels map[string]string) error {
	b, err := json.Marshal(nonNilMap(labels))
	if err != nil {
		return err
	}
	return t.execOne(ctx, "set-labels", id, string(b))
}

// SetIsolation sets a host's isolation state with the reason of the request
// and, for the failed state, the agent's error.
func (t *Tx) SetIsolation(ctx context.Context, id, state, reason, errText string) error {
	return t.execOne(ctx, "set-isolation", id, state, reason, errText)
}

// SetBundleStatus records which bundle the agent loaded, or its load error.
func (s *Store) SetBundleStatus(ctx context.Context, id string, version int64, errText string) error {
	return execOne(ctx, s.w, s.query("set-bundle-status"), "set-bundle-status", id, version, errText)
}

// RevokeHost marks a host revoked; its certificate is refused from then on.
// Revoking twice keeps the first time.
func (t *Tx) RevokeHost(ctx context.Context, id string, at time.Time) error {
	if _, err := t.Host(ctx, id); err != nil {
		return err
	}
	_, err := t.Exec(ctx, "revoke-host", id, toMS(at))
	return err
}

func (t *Tx) execOne(ctx context.Context, name, id string, args ...any) error {
	return execOne(ctx, t.tx, t.s.query(name), name, id, args...)
}

func (s *Store) exec(ctx context.Context, name string, args ...any) error {
	if _, err := s.w.ExecContext(ctx, s.query(name), args...); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// execOne runs an update of one host and reports ErrNotFound when there is
// no such host.
func execOne(ctx context.Context, q querier, query, name, id string, args ...any) error {
	res, err := q.ExecContext(ctx, query, append([]any{id}, args...)...)
	if err != nil {
		return fmt.Errorf("%s %s: %w", name, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s %s: %w", name, id, err)
	}
	if n == 0 {
		return fmt.Errorf("host %s: %w", id, ErrNotFound)
	}
	return nil
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// isNoRows reports a QueryRow that found nothing.
func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// DeleteHost removes a host with its detections and sweep states. The
// audit trail keeps what was done to it.
func (t *Tx) DeleteHost(ctx context.Context, id string) error {
	for _, q := range []string{"delete-host-detections", "delete-host-sweeps"} {
		if _, err := t.Exec(ctx, q, id); err != nil {
			return err
		}
	}
	return t.execOne(ctx, "delete-host", id)
}

// HostByKey returns the id, certificate and revocation time of the host
// enrolled with the key whose SHA-256 is keySHA256, or ErrNotFound.
func (t *Tx) HostByKey(ctx context.Context, keySHA256 string) (id, certPEM string, revokedAt time.Time, err error) {
	var revoked int64
	err = t.QueryRow(ctx, "host-by-key", keySHA256).Scan(&id, &certPEM, &revoked)
	if isNoRows(err) {
		return "", "", time.Time{}, fmt.Errorf("host with key %s: %w", keySHA256, ErrNotFound)
	}
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("host by key: %w", err)
	}
	return id, certPEM, fromMS(revoked), nil
}
