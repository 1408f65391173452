package store

import (
	"context"
	"database/sql"
	"encoding/json"
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
	// Parts is the file's part count, 0 until the part that says it (an
	// agent's last) arrived; PartsSeen the parts stored.
	Parts, PartsSeen int
	Subjects, Masked int
	// Categories counts occurrences per category: the whole file's once a
	// part carrying them arrived, until then the values stored.
	Categories, Flags string // JSON
	ReceivedAt        time.Time
	Rev               int64
}

// Complete says whether every part of the file arrived.
func (f *PIIFile) Complete() bool { return f.Parts > 0 && f.PartsSeen == f.Parts }

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

// ErrPIIPart says a part disagrees with the parts of its file stored
// before: a number past the file's part count, a part count below a part
// already stored, or more values of a category than the file counts. No
// agent sends such a part; nothing of it is stored.
var ErrPIIPart = errors.New("part disagrees with its file's other parts")

// PutPIIPart stores one part of a file's result. f.Parts is the file's
// part count, with f.Categories and f.Masked its whole counts, or 0 for a
// part of an agent that streams parts, more following, whose Categories
// are ignored. A part of another version of the file (another sweep,
// content, or part count) replaces every part stored before; the same part
// again replaces itself, so a re-sent part adds nothing. Flags, when a
// part has some, replace the file's. A part that disagrees with the
// others is refused with ErrPIIPart before anything is written, so that
// the transaction goes on.
func (t *Tx) PutPIIPart(ctx context.Context, f PIIFile, part, subjects int, vals []PIIValue) error {
	var totals map[string]int
	if f.Parts > 0 {
		if err := json.Unmarshal([]byte(f.Categories), &totals); err != nil {
			return fmt.Errorf("pii file %s:%s: categories: %w", f.HostID, f.Path, err)
		}
	} else {
		f.Categories, f.Masked = "{}", 0
	}
	var id, mtime int64
	var sweep, sha, cats string
	var parts int
	err := t.QueryRow(ctx, "pii-file-get", f.HostID, f.Path).Scan(&id, &sweep, &sha, &mtime, &parts, &cats)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		err = t.QueryRow(ctx, "pii-file-insert", f.HostID, f.Path, f.PathRaw, f.SweepID, f.SHA256, f.Size, toMS(f.ModTime), f.Parts,
			f.Masked, f.Categories, f.Flags, toMS(f.ReceivedAt)).Scan(&id)
		if err != nil {
			return fmt.Errorf("pii file %s:%s: %w", f.HostID, f.Path, err)
		}
	case err != nil:
		return fmt.Errorf("pii file %s:%s: %w", f.HostID, f.Path, err)
	case sweep != f.SweepID || sha != f.SHA256 || mtime != toMS(f.ModTime) || parts > 0 && f.Parts > 0 && parts != f.Parts:
		for _, q := range []string{"pii-file-values-delete", "pii-file-parts-delete"} {
			if _, err := t.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		if _, err := t.Exec(ctx, "pii-file-reset", id, f.PathRaw, f.SweepID, f.SHA256, f.Size, toMS(f.ModTime), f.Parts,
			f.Masked, f.Categories, f.Flags, toMS(f.ReceivedAt)); err != nil {
			return err
		}
	default:
		if err := t.checkPIIPart(ctx, id, part, parts, cats, f.Parts, totals, vals); err != nil {
			return fmt.Errorf("pii file %s:%s part %d: %w", f.HostID, f.Path, part, err)
		}
		if f.Parts > 0 {
			if _, err := t.Exec(ctx, "pii-file-totals", id, f.Parts, f.Masked, f.Categories); err != nil {
				return err
			}
		}
		if f.Flags != "" && f.Flags != "[]" {
			if _, err := t.Exec(ctx, "pii-file-flags", id, f.Flags); err != nil {
				return err
			}
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

// checkPIIPart checks a part of a file stored before with the same
// version: storedParts and storedCats are the file's part count and
// counts, parts and totals the part's.
func (t *Tx) checkPIIPart(ctx context.Context, id int64, part, storedParts int, storedCats string, parts int, totals map[string]int, vals []PIIValue) error {
	if storedParts > 0 && part >= storedParts {
		return fmt.Errorf("%w: the file has %d parts", ErrPIIPart, storedParts)
	}
	if parts > 0 {
		var last int
		if err := t.QueryRow(ctx, "pii-file-last-part", id).Scan(&last); err != nil {
			return err
		}
		if last >= parts {
			return fmt.Errorf("%w: %d parts, part %d stored", ErrPIIPart, parts, last)
		}
	} else if storedParts > 0 {
		if err := json.Unmarshal([]byte(storedCats), &totals); err != nil {
			return fmt.Errorf("categories: %w", err)
		}
	}
	if totals == nil {
		return nil
	}
	counts, err := t.piiCounts(ctx, id, part)
	if err != nil {
		return err
	}
	for _, v := range vals {
		counts[v.Category]++
	}
	for c, n := range counts {
		if n > totals[c] {
			return fmt.Errorf("%w: %d %s values in the parts, the file counts %d", ErrPIIPart, n, c, totals[c])
		}
	}
	return nil
}

// piiCounts counts a file's stored values per category, leaving out part
// except (-1 leaves out none).
func (t *Tx) piiCounts(ctx context.Context, id int64, except int) (map[string]int, error) {
	rows, err := t.Query(ctx, "pii-file-counts", id, except)
	if err != nil {
		return nil, err
	}
	return scanPIICounts(rows)
}

func scanPIICounts(rows *sql.Rows) (map[string]int, error) {
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var c string
		var n int
		if err := rows.Scan(&c, &n); err != nil {
			return nil, fmt.Errorf("pii counts: %w", err)
		}
		counts[c] = n
	}
	return counts, rows.Err()
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
// incident, by id; see PIIFile.Categories for those whose part count has not
// arrived.
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
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	// A file whose part count has not arrived counts the values received:
	// counted here, once per read, rather than at each part.
	for i := range out {
		if out[i].Parts > 0 {
			continue
		}
		rows, err := s.Query(ctx, "pii-file-counts", out[i].ID, -1)
		if err != nil {
			return nil, err
		}
		counts, err := scanPIICounts(rows)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(counts)
		if err != nil {
			return nil, err
		}
		out[i].Categories = string(b)
	}
	return out, nil
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

// PIIFilesValues calls fn with each value of the files in turn, i the
// file's index in fileIDs, each file's values in the order of PIIValues.
// v is reused from one call to the next (Sealed too, so fn copies what it
// keeps); its Part and MAC are not read. One query per file: a query for
// all an incident's values had PostgreSQL sort them all before the first.
func (s *Store) PIIFilesValues(ctx context.Context, fileIDs []int64, fn func(i int, v *PIIValue) error) error {
	var v PIIValue
	var record int64
	var sealed sql.RawBytes
	for i, id := range fileIDs {
		rows, err := s.Query(ctx, "pii-values-file-open", id)
		if err != nil {
			return err
		}
		for rows.Next() {
			// int64 and RawBytes: database/sql converts an int64 into an
			// int through its decimal text, and copies a []byte for a
			// *[]byte.
			if err := rows.Scan(&v.Member, &record, &v.Category, &v.Country, &sealed); err != nil {
				rows.Close()
				return fmt.Errorf("pii values: %w", err)
			}
			v.Record, v.Sealed = int(record), sealed
			if err := fn(i, &v); err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return err
		}
		rows.Close()
	}
	return nil
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
