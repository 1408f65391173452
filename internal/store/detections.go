package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Detection is one finding as stored. (HostID, FindingID) is unique: an agent
// re-sending a batch it did not see acknowledged adds nothing.
type Detection struct {
	ID            int64
	HostID        string
	FindingID     string
	Type          string
	Source        string
	Rule          string
	Indicator     string
	Path          string
	SHA256        string
	Size          int64
	SeenAt        time.Time
	ReceivedAt    time.Time
	SweepID       string
	BundleVersion int64
	Tags          []string
	Meta          map[string]string
	// Detail is the agent's scan record, JSON.
	Detail json.RawMessage
}

// InsertDetections stores a batch in one transaction and returns how many
// were new. Findings already stored are skipped, so a retried batch is
// idempotent.
func (s *Store) InsertDetections(ctx context.Context, ds []Detection) (int, error) {
	n, err := s.InsertDetectionBatches(ctx, [][]Detection{ds})
	if err != nil {
		return 0, err
	}
	return n[0], nil
}

// InsertDetectionBatches stores several batches (from different agents) in
// one transaction, a group commit, and returns how many findings of each
// were new. Either all batches are stored or none.
func (s *Store) InsertDetectionBatches(ctx context.Context, batches [][]Detection) ([]int, error) {
	added := make([]int, len(batches))
	hooks := s.detectionHooks()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		clear(added)
		var fresh []Detection
		st, err := tx.PrepareContext(ctx, s.query("insert-detection"))
		if err != nil {
			return err
		}
		defer st.Close()
		for b, ds := range batches {
			var events, piiFiles []*Detection
			for i := range ds {
				switch ds[i].Type {
				case TimelineType:
					events = append(events, &ds[i])
					continue
				case PIIFileType:
					piiFiles = append(piiFiles, &ds[i])
					continue
				}
				n, err := insertDetection(ctx, st, &ds[i])
				if err != nil {
					return err
				}
				added[b] += n
				if n == 1 && len(hooks) > 0 {
					fresh = append(fresh, ds[i])
				}
			}
			if sink := s.piiSink(); sink != nil && len(piiFiles) > 0 {
				n, err := sink(ctx, &Tx{s: s, tx: tx}, piiFiles)
				if err != nil {
					return err
				}
				added[b] += n
			}
			if len(events) > 0 {
				n, err := s.insertTimelineDetections(ctx, tx, events)
				if err != nil {
					return err
				}
				added[b] += n
			}
		}
		if len(fresh) == 0 {
			return nil
		}
		for _, h := range hooks {
			if err := h(ctx, &Tx{s: s, tx: tx}, fresh); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("insert detections: %w", err)
	}
	return added, nil
}

// DetectionHook runs inside the transaction that stores new detections,
// with those that were new (ID set), so that what a capability does about
// them (the auto-incident policy) commits with them.
type DetectionHook func(ctx context.Context, tx *Tx, ds []Detection) error

// OnDetections registers a hook; capabilities register theirs when they
// are built, before the server serves.
func (s *Store) OnDetections(h DetectionHook) {
	s.hookMu.Lock()
	defer s.hookMu.Unlock()
	s.onDetections = append(s.onDetections, h)
}

func (s *Store) detectionHooks() []DetectionHook {
	s.hookMu.RLock()
	defer s.hookMu.RUnlock()
	return s.onDetections
}

// insertDetection stores d and sets its ID; it returns 0 for a finding
// already stored.
func insertDetection(ctx context.Context, st *sql.Stmt, d *Detection) (int, error) {
	tags, err := json.Marshal(nonNilSlice(d.Tags))
	if err != nil {
		return 0, err
	}
	meta, err := json.Marshal(nonNilMap(d.Meta))
	if err != nil {
		return 0, err
	}
	detail := string(d.Detail)
	if detail == "" {
		detail = "{}"
	}
	err = st.QueryRowContext(ctx, d.HostID, d.FindingID, d.Type, d.Source, d.Rule, d.Indicator, d.Path,
		d.SHA256, d.Size, toMS(d.SeenAt), toMS(d.ReceivedAt), d.SweepID, d.BundleVersion,
		string(tags), string(meta), detail).Scan(&d.ID)
	if isNoRows(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("finding %s of host %s: %w", d.FindingID, d.HostID, err)
	}
	return 1, nil
}

// DetectionFilter selects detections; zero fields select everything.
type DetectionFilter struct {
	HostID  string
	SweepID string
	// AfterID pages: only detections with a greater id. When it is 0 the
	// newest Limit detections are returned (still in id order), so that a
	// first look shows what just happened.
	AfterID int64
	// Limit caps the result; 0 means 1000.
	Limit int
}

// Detections lists detections in id order.
func (s *Store) Detections(ctx context.Context, f DetectionFilter) ([]Detection, error) {
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	var rows *sql.Rows
	var err error
	if f.AfterID > 0 {
		rows, err = s.r.QueryContext(ctx, s.query("list-detections"), f.AfterID, f.HostID, f.SweepID, f.Limit)
	} else {
		rows, err = s.r.QueryContext(ctx, s.query("latest-detections"), f.HostID, f.SweepID, f.Limit)
	}
	if err != nil {
		return nil, fmt.Errorf("detections: %w", err)
	}
	defer rows.Close()
	out := []Detection{}
	for rows.Next() {
		var d Detection
		var seen, recv int64
		var tags, meta, detail string
		if err := rows.Scan(&d.ID, &d.HostID, &d.FindingID, &d.Type, &d.Source, &d.Rule, &d.Indicator, &d.Path,
			&d.SHA256, &d.Size, &seen, &recv, &d.SweepID, &d.BundleVersion, &tags, &meta, &detail); err != nil {
			return nil, fmt.Errorf("detections: %w", err)
		}
		d.SeenAt, d.ReceivedAt = fromMS(seen), fromMS(recv)
		if err := json.Unmarshal([]byte(tags), &d.Tags); err != nil {
			return nil, fmt.Errorf("detection %d: tags: %w", d.ID, err)
		}
		if err := json.Unmarshal([]byte(meta), &d.Meta); err != nil {
			return nil, fmt.Errorf("detection %d: meta: %w", d.ID, err)
		}
		d.Detail = json.RawMessage(detail)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("detections: %w", err)
	}
	if f.AfterID == 0 {
		slices.Reverse(out)
	}
	return out, nil
}

// CountDetections is the number of stored detections.
func (s *Store) CountDetections(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, s.query("count-detections")).Scan(&n); err != nil {
		return 0, fmt.Errorf("count detections: %w", err)
	}
	return n, nil
}
