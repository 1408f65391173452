package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// PIIFileType is the finding type of an agent's per-file personal-data
// result (scope.FileResultType). Such findings carry raw values: they are
// never stored as detections, only handed to the sink registered with
// OnPIIFiles, and dropped when there is none.
const PIIFileType = "pii_file"

// PIISink stores findings of PIIFileType inside the transaction that
// stores their batch and returns how many it took.
type PIISink func(ctx context.Context, tx *Tx, ds []*Detection) (int, error)

// OnPIIFiles registers the sink of personal-data findings (one; a second
// call replaces the first).
func (s *Store) OnPIIFiles(f PIISink) {
	s.hookMu.Lock()
	defer s.hookMu.Unlock()
	s.onPII = f
}

func (s *Store) piiSink() PIISink {
	s.hookMu.RLock()
	defer s.hookMu.RUnlock()
	return s.onPII
}

// PIIFile is one file with personal data on one host, as the latest sweep
// that reported it found it.
type PIIFile struct {
	ID                    int64
	HostID, Path, PathRaw string
	SweepID, SHA256       string
	Size                  int64
	ModTime               time.Time
	Parts, PartsSeen      int
	Subjects, Masked      int
	Categories, Flags     string // JSON
	ReceivedAt            time.Time
	Rev                   int64
}

// PIIValue is one sealed value of a file's subject.
type PIIValue struct {
	Part              int
	Member            string
	Record            int
	Category, Country string
	// MAC is the keyed hash of category and value; Sealed the value under
	// AES-GCM, nonce first.
	MAC, Sealed []byte
}

// PutPIIPart stores one part of a file's result. A part of another
// version of the file (another sweep, content or part count) replaces
// every part stored before; the same part again replaces itself, so a
// re-sent part adds nothing.
func (t *Tx) PutPIIPart(ctx context.Context, f PIIFile, part, subjects int, vals []PIIValue) error {
	var id, mtime int64
	var sweep, sha string
	var parts int
	err := t.QueryRow(ctx, "pii-file-get", f.HostID, f.Path).Scan(&id, &sweep, &sha, &mtime, &parts)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		err = t.QueryRow(ctx, "pii-file-insert", f.HostID, f.Path, f.PathRaw, f.SweepID, f.SHA256, f.Size, toMS(f.ModTime), f.Parts,
			f.Masked, f.Categories, f.Flags, toMS(f.ReceivedAt)).Scan(&id)
		if err != nil {
			return fmt.Errorf("pii file %s:%s: %w", f.HostID, f.Path, err)
		}
	case err != nil:
		return fmt.Errorf("pii file %s:%s: %w", f.HostID, f.Path, err)
	case sweep != f.SweepID || sha != f.SHA256 || mtime != toMS(f.ModTime) || parts != f.Parts:
		for _, q := range []string{"pii-file-values-delete", "pii-file-parts-delete"} {
			if _, err := t.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		if _, err := t.Exec(ctx, "pii-file-reset", id, f.PathRaw, f.SweepID, f.SHA256, f.Size, toMS(f.ModTime), f.Parts,
			f.Masked, f.Categories, f.Flags, toMS(f.ReceivedAt)); err != nil {
			return err
		}
	case part == 0:
		// Flags travel with part 0 only.
		if _, err := t.Exec(ctx, "pii-file-flags", id, f.Flags); err != nil {
			return err
		}
	}
	if _, err := t.Exec(ctx, "pii-part-values-delete", id, part); err != nil {
		return err
	}
	if err := t.insertPIIValues(ctx, id, part, vals); err != nil {
		return err
	}
	if _, err := t.Exec(ctx, "pii-part-upsert", id, part, subjects, toMS(f.ReceivedAt)); err != nil {
		return err
	}
	_, err = t.Exec(ctx, "pii-file-tally", id, toMS(f.ReceivedAt))
	return err
}

const piiValueCols = 8

// piiInserts caches the multi-row insert statement per row count.
var piiInserts sync.Map

// insertPIIValues inserts values many rows per statement: a file holds
// thousands, and one statement per value would dominate ingest.
func (t *Tx) insertPIIValues(ctx context.Context, fileID int64, part int, vals []PIIValue) error {
	const chunk = 200
	args := make([]any, 0, chunk*piiValueCols)
	for len(vals) > 0 {
		n := min(chunk, len(vals))
		args = args[:0]
		for _, v := range vals[:n] {
			args = append(args, fileID, part, v.Member, v.Record, v.Category, v.Country, v.MAC, v.Sealed)
		}
		if _, err := t.tx.ExecContext(ctx, piiInsert(t.s.dialect, n), args...); err != nil {
			return fmt.Errorf("insert pii values: %w", err)
		}
		vals = vals[n:]
	}
	return nil
}

// piiInsert is the insert of rows values. SQLite gets anonymous "?"
// parameters: it looks each "$N" up in a list, which made preparing a
// statement of 1,600 of them quadratic.
func piiInsert(d Dialect, rows int) string {
	key := [2]any{d, rows}
	if q, ok := piiInserts.Load(key); ok {
		return q.(string)
	}
	var b strings.Builder
	b.WriteString("INSERT INTO pii_values (file_id, part, member, record, category, country, mac, sealed) VALUES ")
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		if d == SQLite {
			b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
			continue
		}
		p := r*piiValueCols + 1
		fmt.Fprintf(&b, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", p, p+1, p+2, p+3, p+4, p+5, p+6, p+7)
	}
	q := b.String()
	piiInserts.Store(key, q)
	return q
}

// IncidentPIIFiles lists the personal-data files of the hosts linked to an
// incident, by id.
func (s *Store) IncidentPIIFiles(ctx context.Context, incidentID string) ([]PIIFile, error) {
	rows, err := s.Query(ctx, "pii-files-incident", incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PIIFile
	for rows.Next() {
		var f PIIFile
		var mtime, at int64
		if err := rows.Scan(&f.ID, &f.HostID, &f.Path, &f.PathRaw, &f.SweepID, &f.SHA256, &f.Size, &mtime, &f.Parts, &f.PartsSeen,
			&f.Subjects, &f.Masked, &f.Categories, &f.Flags, &at, &f.Rev); err != nil {
			return nil, fmt.Errorf("pii files: %w", err)
		}
		f.ModTime, f.ReceivedAt = fromMS(mtime), fromMS(at)
		out = append(out, f)
	}
	return out, rows.Err()
}

// PIIValues calls fn with each value of a file, by part.
func (s *Store) PIIValues(ctx context.Context, fileID int64, fn func(PIIValue) error) error {
	rows, err := s.Query(ctx, "pii-values-file", fileID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v PIIValue
		if err := rows.Scan(&v.Part, &v.Member, &v.Record, &v.Category, &v.Country, &v.MAC, &v.Sealed); err != nil {
			return fmt.Errorf("pii values: %w", err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return rows.Err()
}

// PIIFingerprint says whether what an incident's register is built from
// changed: Inputs covers the files, exposure settings, decisions and
// master data; Evidence the investigation, whose findings and events may
// change exposure. Equal fingerprints mean an equal register.
type PIIFingerprint struct {
	Inputs   [6]int64
	Evidence [3]int64
}

// PIIFingerprint reads an incident's fingerprint.
func (s *Store) PIIFingerprint(ctx context.Context, incidentID string) (PIIFingerprint, error) {
	var fp PIIFingerprint
	rows, err := s.Query(ctx, "pii-fingerprint", incidentID)
	if err != nil {
		return fp, err
	}
	defer rows.Close()
	if rows.Next() {
		in, ev := &fp.Inputs, &fp.Evidence
		if err := rows.Scan(&in[0], &in[1], &in[2], &in[3], &in[4], &in[5], &ev[0], &ev[1], &ev[2]); err != nil {
			return fp, fmt.Errorf("pii fingerprint: %w", err)
		}
	}
	return fp, rows.Err()
}

// PutPIISummary records the counts of an incident's latest register.
func (s *Store) PutPIISummary(ctx context.Context, incidentID string, summary []byte, at time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, "pii-summary-upsert", incidentID, string(summary), toMS(at))
		return err
	})
}

// PIISummary returns the counts of an incident's latest register, JSON;
// ErrNotFound before the first build.
func (s *Store) PIISummary(ctx context.Context, incidentID string) ([]byte, error) {
	rows, err := s.Query(ctx, "pii-summary", incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("register summary of %s: %w", incidentID, ErrNotFound)
	}
	var b string
	if err := rows.Scan(&b); err != nil {
		return nil, fmt.Errorf("pii summary: %w", err)
	}
	return []byte(b), rows.Err()
}
