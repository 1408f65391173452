package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
)

// TimelineType is the finding type agents use for timeline events they
// collect for an incident: such findings go to the incident's timeline, not
// to the detections.
const TimelineType = "timeline"

// TimelineEvent is one stored timeline event.
type TimelineEvent struct {
	ID        int64
	HostID    string
	Key       string // unique per incident and host: the agent's finding id
	At        time.Time
	Source    string
	Kind      string
	Level     string
	LevelRank int
	Technique string
	Rule      string
	Summary   string
	Ref       string
	Fields    map[string]string
}

// Collection is a sweep that gathers evidence for an incident.
type Collection struct {
	SweepID    string
	IncidentID string
	Spec       json.RawMessage
	CreatedAt  time.Time
}

// CreateCollection records that sweep sweepID collects for an incident.
func (t *Tx) CreateCollection(ctx context.Context, c Collection) error {
	_, err := t.Exec(ctx, "timeline-insert-collection", c.SweepID, c.IncidentID, string(c.Spec), toMS(c.CreatedAt))
	return err
}

// Collections lists an incident's collections, oldest first.
func (s *Store) Collections(ctx context.Context, incidentID string) ([]Collection, error) {
	rows, err := s.Query(ctx, "timeline-collections", incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Collection
	for rows.Next() {
		c := Collection{IncidentID: incidentID}
		var spec string
		var at int64
		if err := rows.Scan(&c.SweepID, &spec, &at); err != nil {
			return nil, fmt.Errorf("collections: %w", err)
		}
		c.Spec, c.CreatedAt = json.RawMessage(spec), fromMS(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// collectionSpecs fills in the collection spec of sweeps that collect.
func (s *Store) collectionSpecs(ctx context.Context, sws []*Sweep) error {
	for _, sw := range sws {
		var inc, spec string
		err := s.r.QueryRowContext(ctx, s.query("timeline-collection"), sw.ID).Scan(&inc, &spec)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("collection of sweep %s: %w", sw.ID, err)
		}
		sw.Collect = json.RawMessage(spec)
	}
	return nil
}

// InsertTimeline adds events to an incident's timeline; an event already
// there (same host and key) is skipped. It returns how many were new.
func (t *Tx) InsertTimeline(ctx context.Context, incidentID string, evs []TimelineEvent) (int, error) {
	n := 0
	args := make([]any, 0, timelineRows*timelineCols)
	for len(evs) > 0 {
		chunk := evs[:min(len(evs), timelineRows)]
		evs = evs[len(chunk):]
		args = args[:0]
		for i := range chunk {
			e := &chunk[i]
			fields, err := json.Marshal(e.Fields)
			if err != nil {
				return n, fmt.Errorf("timeline event %s/%s: %w", e.HostID, e.Key, err)
			}
			args = append(args, incidentID, e.HostID, e.Key, toMS(e.At), e.Source, e.Kind, e.Level, e.LevelRank,
				e.Technique, e.Rule, e.Summary, e.Ref, string(fields))
		}
		res, err := t.tx.ExecContext(ctx, t.s.timelineInsert(len(chunk)), args...)
		if err != nil {
			return n, fmt.Errorf("timeline events of %s: %w", incidentID, err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return n, fmt.Errorf("timeline events of %s: %w", incidentID, err)
		}
		n += int(k)
	}
	return n, nil
}

// One INSERT carries up to timelineRows events: a statement per event
// made ingest several times slower, and 200 × 13 parameters stay far under
// the limits of SQLite (32,766) and PostgreSQL (65,535).
const (
	timelineRows = 200
	timelineCols = 13
)

// timelineInserts caches timelineInsert's statements by row count: the
// named queries are the same for every store.
var timelineInserts sync.Map

// timelineInsert is timeline-insert-event with its one row of values
// repeated for rows events, numbered on.
func (s *Store) timelineInsert(rows int) string {
	if q, ok := timelineInserts.Load(rows); ok {
		return q.(string)
	}
	head, rest, _ := strings.Cut(s.query("timeline-insert-event"), "VALUES")
	_, tail, _ := strings.Cut(rest, ")")
	var b strings.Builder
	b.WriteString(head)
	b.WriteString("VALUES ")
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range timelineCols {
			if c > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", r*timelineCols+c+1)
		}
		b.WriteByte(')')
	}
	b.WriteString(tail)
	timelineInserts.Store(rows, b.String())
	return b.String()
}

// insertTimelineDetections stores findings of TimelineType on the timeline
// of the incident their sweep collects for. Findings of a sweep that
// collects for no incident are dropped: there is no timeline to put them on.
func (s *Store) insertTimelineDetections(ctx context.Context, tx *sql.Tx, ds []*Detection) (int, error) {
	incidents := map[string]string{}
	byIncident := map[string][]TimelineEvent{}
	for _, d := range ds {
		inc, ok := incidents[d.SweepID]
		if !ok {
			var spec string
			err := tx.QueryRowContext(ctx, s.query("timeline-collection"), d.SweepID).Scan(&inc, &spec)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return 0, fmt.Errorf("collection of sweep %s: %w", d.SweepID, err)
			}
			incidents[d.SweepID] = inc
		}
		if inc == "" {
			continue
		}
		e, err := timelineOf(d)
		if err != nil {
			continue // a malformed event from an agent is not worth failing its batch
		}
		byIncident[inc] = append(byIncident[inc], e)
	}
	n := 0
	t := &Tx{s: s, tx: tx}
	for inc, evs := range byIncident {
		k, err := t.InsertTimeline(ctx, inc, evs)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// timelineOf reads a timeline event from the detail of an agent's finding.
func timelineOf(d *Detection) (TimelineEvent, error) {
	var v struct {
		Time      time.Time         `json:"time"`
		Source    string            `json:"source"`
		Kind      string            `json:"kind"`
		Summary   string            `json:"summary"`
		Level     string            `json:"level"`
		Technique string            `json:"technique"`
		Rule      string            `json:"rule"`
		Ref       string            `json:"ref"`
		Fields    map[string]string `json:"fields"`
	}
	if err := json.Unmarshal(d.Detail, &v); err != nil {
		return TimelineEvent{}, err
	}
	if v.Time.IsZero() {
		v.Time = d.SeenAt
	}
	return TimelineEvent{HostID: d.HostID, Key: d.FindingID, At: v.Time, Source: v.Source, Kind: v.Kind, Level: v.Level,
		LevelRank: LevelRank(v.Level), Technique: v.Technique, Rule: v.Rule, Summary: v.Summary, Ref: v.Ref, Fields: v.Fields}, nil
}

// LevelRank orders Sigma levels: "" and informational 0 up to critical 4.
func LevelRank(level string) int {
	switch level {
	case "low":
		return 1
	case "medium":
		return 2
	case "high":
		return 3
	case "critical":
		return 4
	}
	return 0
}

// TimelineFilter selects timeline events. Zero values select everything.
type TimelineFilter struct {
	HostID, Kind string
	MinLevel     string
	From, To     time.Time
	// After is the (time, id) of the last event of the previous page.
	AfterAt time.Time
	AfterID int64
	Limit   int // 0 means 1000
}

// Timeline lists an incident's events in time order (then id order).
func (s *Store) Timeline(ctx context.Context, incidentID string, f TimelineFilter) ([]TimelineEvent, error) {
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	to := int64(math.MaxInt64)
	if !f.To.IsZero() {
		to = toMS(f.To)
	}
	afterAt := int64(math.MinInt64)
	if !f.AfterAt.IsZero() || f.AfterID > 0 {
		afterAt = toMS(f.AfterAt)
	}
	from := int64(math.MinInt64)
	if !f.From.IsZero() {
		from = toMS(f.From)
	}
	// Levels belong to Sigma hits: a level filter alone walks their index.
	kind := f.Kind
	if kind == "" && LevelRank(f.MinLevel) > 0 {
		kind = "sigma"
	}
	q, key, rest := "timeline-page", "", ""
	switch {
	case f.HostID != "":
		q, key, rest = "timeline-page-host", f.HostID, kind
	case kind != "":
		q, key = "timeline-page-kind", kind
	}
	rows, err := s.Query(ctx, q, incidentID, key, rest, LevelRank(f.MinLevel), from, to, afterAt, f.AfterID, f.Limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []TimelineEvent{}
	for rows.Next() {
		var e TimelineEvent
		var at int64
		var fields string
		if err := rows.Scan(&e.ID, &e.HostID, &e.Key, &at, &e.Source, &e.Kind, &e.Level, &e.Technique, &e.Rule, &e.Summary, &e.Ref, &fields); err != nil {
			return nil, fmt.Errorf("timeline: %w", err)
		}
		e.At, e.LevelRank = fromMS(at), LevelRank(e.Level)
		if err := json.Unmarshal([]byte(fields), &e.Fields); err != nil {
			return nil, fmt.Errorf("timeline event %d: fields: %w", e.ID, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// InvestigationFinding is a stored analysis finding with its decision.
type InvestigationFinding struct {
	ID        string
	Kind      string
	Rule      string
	Body      json.RawMessage
	State     string // proposed, confirmed, rejected
	DecidedBy string
	DecidedAt time.Time
	Reason    string
}

// SaveFinding stores or refreshes a proposed finding; a decision already
// taken on it is kept.
func (t *Tx) SaveFinding(ctx context.Context, incidentID string, f InvestigationFinding, now time.Time) error {
	_, err := t.Exec(ctx, "timeline-upsert-finding", f.ID, incidentID, f.Kind, f.Rule, string(f.Body), toMS(now))
	return err
}

// DecideFinding records a person's decision on a finding.
func (t *Tx) DecideFinding(ctx context.Context, incidentID, id, state, by, reason string, at time.Time) error {
	res, err := t.Exec(ctx, "timeline-decide-finding", incidentID, id, state, by, toMS(at), reason)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("finding %s: %w", id, ErrNotFound)
	}
	return nil
}

// InvestigationFindings lists an incident's findings by id.
func (s *Store) InvestigationFindings(ctx context.Context, incidentID string) ([]InvestigationFinding, error) {
	rows, err := s.Query(ctx, "timeline-findings", incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []InvestigationFinding{}
	for rows.Next() {
		var f InvestigationFinding
		var body string
		var at int64
		if err := rows.Scan(&f.ID, &f.Kind, &f.Rule, &body, &f.State, &f.DecidedBy, &at, &f.Reason); err != nil {
			return nil, fmt.Errorf("findings: %w", err)
		}
		f.Body, f.DecidedAt = json.RawMessage(body), fromMS(at)
		out = append(out, f)
	}
	return out, rows.Err()
}
