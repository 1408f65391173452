package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mamori-dev/mamori/internal/store"
)

// The SQL lives in internal/store/queries/incident.sql; these functions are
// the only users of it. Changes take the transaction they commit in, with
// their audit entry.

func ms(t time.Time) int64 { return store.ToMS(t) }

func scanIncident(row interface{ Scan(...any) error }) (Incident, error) {
	var in Incident
	var aware, created, updated int64
	var sev, state string
	err := row.Scan(&in.ID, &in.Title, &in.Summary, &sev, &state, &aware, &in.OpenedBy, &created, &updated)
	in.Severity, in.State = Severity(sev), State(state)
	in.AwareAt, in.CreatedAt, in.UpdatedAt = store.FromMS(aware).UTC(), store.FromMS(created).UTC(), store.FromMS(updated).UTC()
	return in, err
}

func insertIncident(ctx context.Context, tx *store.Tx, in Incident) error {
	_, err := tx.Exec(ctx, "incident-insert", in.ID, in.Title, in.Summary, string(in.Severity), string(in.State),
		ms(in.AwareAt), in.OpenedBy, ms(in.CreatedAt), ms(in.UpdatedAt))
	return err
}

func getTx(ctx context.Context, tx *store.Tx, id string) (Incident, error) {
	in, err := scanIncident(tx.QueryRow(ctx, "incident-get", id))
	if errors.Is(err, sql.ErrNoRows) {
		return in, fmt.Errorf("incident %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return in, fmt.Errorf("incident %s: %w", id, err)
	}
	return in, nil
}

// Get returns one incident.
func Get(ctx context.Context, st *store.Store, id string) (Incident, error) {
	rows, err := st.Query(ctx, "incident-get", id)
	if err != nil {
		return Incident{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return Incident{}, fmt.Errorf("incident %s: %w", id, err)
		}
		return Incident{}, fmt.Errorf("incident %s: %w", id, store.ErrNotFound)
	}
	in, err := scanIncident(rows)
	if err != nil {
		return in, fmt.Errorf("incident %s: %w", id, err)
	}
	return in, nil
}

// List returns incidents with an id after after, optionally in one state.
func List(ctx context.Context, st *store.Store, state State, after string, limit int) ([]Incident, error) {
	rows, err := st.Query(ctx, "incident-list", after, string(state), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Incident{}
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("incidents: list: %w", err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// CountsOf counts an incident's links.
func CountsOf(ctx context.Context, st *store.Store, id string) (IncidentCounts, error) {
	rows, err := st.Query(ctx, "incident-counts", id)
	if err != nil {
		return IncidentCounts{}, err
	}
	defer rows.Close()
	var c IncidentCounts
	if rows.Next() {
		if err := rows.Scan(&c.Hosts, &c.IsolatedHosts, &c.Detections, &c.Notes); err != nil {
			return c, fmt.Errorf("incidents: counts: %w", err)
		}
	}
	return c, rows.Err()
}

// History returns an incident's history entries after id after, oldest
// first.
func History(ctx context.Context, st *store.Store, id string, after int64, limit int) ([]IncidentEvent, error) {
	rows, err := st.Query(ctx, "incident-history", id, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []IncidentEvent{}
	for rows.Next() {
		var e IncidentEvent
		var at int64
		var kind string
		if err := rows.Scan(&e.ID, &e.IncidentID, &at, &e.Actor, &kind, &e.From, &e.To, &e.Target, &e.Reason); err != nil {
			return nil, fmt.Errorf("incidents: history: %w", err)
		}
		e.At, e.Kind = store.FromMS(at).UTC(), EventKind(kind)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Hosts returns the hosts linked to an incident.
func Hosts(ctx context.Context, st *store.Store, id string) ([]IncidentHost, error) {
	rows, err := st.Query(ctx, "incident-hosts", id)
	if err != nil {
		return nil, err
	}
	return scanHosts(rows)
}

// HostsPage returns at most limit of an incident's linked hosts whose id
// sorts after after, by host id.
func HostsPage(ctx context.Context, st *store.Store, id, after string, limit int) ([]IncidentHost, error) {
	rows, err := st.Query(ctx, "incident-hosts-page", id, after, limit)
	if err != nil {
		return nil, err
	}
	return scanHosts(rows)
}

func scanHosts(rows *sql.Rows) ([]IncidentHost, error) {
	defer rows.Close()
	out := []IncidentHost{}
	for rows.Next() {
		var l IncidentHost
		var at int64
		if err := rows.Scan(&l.HostID, &at, &l.LinkedBy, &l.Reason); err != nil {
			return nil, fmt.Errorf("incidents: hosts: %w", err)
		}
		l.LinkedAt = store.FromMS(at).UTC()
		out = append(out, l)
	}
	return out, rows.Err()
}

// Detections returns the detections linked to an incident, by id.
func Detections(ctx context.Context, st *store.Store, id string, after int64, limit int) ([]IncidentDetection, error) {
	rows, err := st.Query(ctx, "incident-detections", id, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []IncidentDetection{}
	for rows.Next() {
		var l IncidentDetection
		var at int64
		if err := rows.Scan(&l.DetectionID, &l.HostID, &at, &l.LinkedBy, &l.Reason); err != nil {
			return nil, fmt.Errorf("incidents: detections: %w", err)
		}
		l.LinkedAt = store.FromMS(at).UTC()
		out = append(out, l)
	}
	return out, rows.Err()
}

// Notes returns an incident's notes and decisions, by id.
func Notes(ctx context.Context, st *store.Store, id, after string, limit int) ([]IncidentNote, error) {
	rows, err := st.Query(ctx, "incident-notes", id, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []IncidentNote{}
	for rows.Next() {
		var n IncidentNote
		var at int64
		var kind string
		if err := rows.Scan(&n.ID, &n.IncidentID, &kind, &n.Author, &n.Text, &at); err != nil {
			return nil, fmt.Errorf("incidents: notes: %w", err)
		}
		n.At, n.Kind = store.FromMS(at).UTC(), NoteKind(kind)
		out = append(out, n)
	}
	return out, rows.Err()
}

func addEvent(ctx context.Context, tx *store.Tx, e IncidentEvent) error {
	_, err := tx.Exec(ctx, "incident-event-insert", e.IncidentID, ms(e.At), e.Actor, string(e.Kind), e.From, e.To, e.Target, e.Reason)
	return err
}

func touch(ctx context.Context, tx *store.Tx, id string, now time.Time) error {
	_, err := tx.Exec(ctx, "incident-touch", id, ms(now))
	return err
}

// hostName returns a host's display name, or store.ErrNotFound.
func hostName(ctx context.Context, tx *store.Tx, id string) (string, error) {
	var name, hostname string
	err := tx.QueryRow(ctx, "incident-host-name", id).Scan(&name, &hostname)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("host %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("incidents: host %s: %w", id, err)
	}
	if name != "" {
		return name, nil
	}
	return hostname, nil
}

// linkHost links a host; added is false when it was linked already.
func linkHost(ctx context.Context, tx *store.Tx, id string, l IncidentHost) (added bool, err error) {
	res, err := tx.Exec(ctx, "incident-link-host", id, l.HostID, ms(l.LinkedAt), l.LinkedBy, l.Reason)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func linkDetection(ctx context.Context, tx *store.Tx, id string, l IncidentDetection) (added bool, err error) {
	res, err := tx.Exec(ctx, "incident-link-detection", id, l.DetectionID, l.HostID, ms(l.LinkedAt), l.LinkedBy, l.Reason)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// latestAuto returns the last incident the auto-incident policy opened
// that is not closed, or nil.
func latestAuto(ctx context.Context, tx *store.Tx) (*Incident, error) {
	in, err := scanIncident(tx.QueryRow(ctx, "incident-latest-auto", AutoActor))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("incidents: latest automatic incident: %w", err)
	}
	return &in, nil
}

func openForHost(ctx context.Context, tx *store.Tx, hostID string) ([]string, error) {
	rows, err := tx.Query(ctx, "incident-open-for-host", hostID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("incidents: open for host: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
