package incident

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// EventKind says what an entry of an incident's history records.
type EventKind string

// The kinds of history entries.
const (
	EventOpened            EventKind = "opened"
	EventState             EventKind = "state"
	EventHostLinked        EventKind = "host_linked"
	EventHostUnlinked      EventKind = "host_unlinked"
	EventDetectionLinked   EventKind = "detection_linked"
	EventDetectionUnlinked EventKind = "detection_unlinked"
	// EventIsolation and EventMonitoring record changes to a linked host
	// made anywhere in the server (by hand, by policy or reported by the
	// agent).
	EventIsolation  EventKind = "isolation"
	EventMonitoring EventKind = "monitoring"
)

// IncidentEvent is one entry of an incident's history.
type IncidentEvent struct {
	ID         int64     `json:"id"`
	IncidentID string    `json:"incident_id"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	Kind       EventKind `json:"kind" doc:"opened, state, host_linked, host_unlinked, detection_linked, detection_unlinked, isolation, monitoring"`
	// From and To are the states of a state change, or the old and new
	// isolation or monitoring level of a host.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Target is the host or detection the entry is about.
	Target string `json:"target,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// NoteKind tells a note from a decision.
type NoteKind string

// The kinds of notes.
const (
	KindNote     NoteKind = "note"
	KindDecision NoteKind = "decision"
)

// IncidentNote is a note or a decision in an incident. Notes are never edited or
// deleted; a correction is a new note.
type IncidentNote struct {
	ID         string    `json:"id" doc:"n- and 16 hex digits"`
	IncidentID string    `json:"incident_id"`
	Kind       NoteKind  `json:"kind" doc:"note or decision"`
	Author     string    `json:"author"`
	Text       string    `json:"text"`
	At         time.Time `json:"at"`
}

// NewNote checks a note and gives it an id and time.
func NewNote(incidentID string, kind NoteKind, author, text string, now time.Time) (IncidentNote, error) {
	if kind == "" {
		kind = KindNote
	}
	if kind != KindNote && kind != KindDecision {
		return IncidentNote{}, fieldErr("kind", "unknown kind %q (kinds: note, decision)", kind)
	}
	if strings.TrimSpace(text) == "" {
		return IncidentNote{}, fieldErr("text", "required")
	}
	if err := checkText("text", text, MaxText); err != nil {
		return IncidentNote{}, err
	}
	return IncidentNote{ID: newID("n-"), IncidentID: incidentID, Kind: kind, Author: author, Text: text, At: now.UTC().Truncate(time.Millisecond)}, nil
}

// IncidentHost is a host linked to an incident.
type IncidentHost struct {
	HostID   string    `json:"host_id"`
	LinkedAt time.Time `json:"linked_at"`
	LinkedBy string    `json:"linked_by"`
	Reason   string    `json:"reason"`
}

// IncidentDetection is a detection linked to an incident.
type IncidentDetection struct {
	DetectionID int64     `json:"detection_id"`
	HostID      string    `json:"host_id"`
	LinkedAt    time.Time `json:"linked_at"`
	LinkedBy    string    `json:"linked_by"`
	Reason      string    `json:"reason"`
}

// IncidentCounts summarise an incident's links.
type IncidentCounts struct {
	Hosts         int `json:"hosts"`
	IsolatedHosts int `json:"isolated_hosts"`
	Detections    int `json:"detections"`
	Notes         int `json:"notes"`
}

// AutoActor is the actor the auto-incident policy acts as.
const AutoActor = "policy:auto-incident"

// AutoPolicy opens incidents for high-score detections.
type AutoPolicy struct {
	Enabled  bool    `json:"enabled"`
	MinScore float64 `json:"min_score" doc:"a detection whose rule score is at least this opens an incident (default 70)"`
	// JoinWindowSeconds keeps one outbreak in one incident: a high-score
	// detection on a host outside any open incident joins the policy's
	// latest incident when that one is still open and was opened at most
	// this long ago, instead of opening another.
	JoinWindowSeconds int64 `json:"join_window_seconds" doc:"a high-score detection on another host joins the latest incident the policy opened, if not closed and opened at most this long ago, instead of opening a new one (default 86400, 24 h; 0: every host opens its own; at most 30 days)"`
}

// DefaultAutoPolicy is the policy until an admin sets one.
var DefaultAutoPolicy = AutoPolicy{Enabled: true, MinScore: 70, JoinWindowSeconds: 24 * 3600}

// MaxJoinWindow bounds AutoPolicy.JoinWindowSeconds: an incident a month
// old is not the same outbreak without a person saying so.
const MaxJoinWindow = 30 * 24 * time.Hour

// Check validates a policy set through the API.
func (p AutoPolicy) Check() error {
	if math.IsNaN(p.MinScore) || p.MinScore < 0 || p.MinScore > 100 {
		return fieldErr("min_score", "must be between 0 and 100")
	}
	if p.JoinWindowSeconds < 0 || p.JoinWindowSeconds > int64(MaxJoinWindow/time.Second) {
		return fieldErr("join_window_seconds", "must be between 0 and %d (30 days)", int64(MaxJoinWindow/time.Second))
	}
	return nil
}

// short writes a whole number of hours or minutes without the zero
// units time.Duration.String adds ("24h", not "24h0m0s").
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// JoinWindow is JoinWindowSeconds as a duration.
func (p AutoPolicy) JoinWindow() time.Duration {
	return time.Duration(p.JoinWindowSeconds) * time.Second
}

// Detection is what the policy needs to know of a new detection.
type Detection struct {
	ID       int64
	HostID   string
	Hostname string
	Rule     string
	Meta     map[string]string
	SeenAt   time.Time
}

var severityScores = map[string]float64{"low": 25, "medium": 50, "high": 75, "critical": 100}

// Score is a detection's score from its rule's meta: "score" as a number,
// else "severity" by name (low 25, medium 50, high 75, critical 100) or
// number. ok is false when the rule gives neither.
func Score(meta map[string]string) (score float64, ok bool) {
	for _, k := range []string{"score", "severity"} {
		v := strings.TrimSpace(meta[k])
		if v == "" {
			continue
		}
		if n, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(n) {
			return n, true
		}
		if n, ok := severityScores[strings.ToLower(v)]; ok {
			return n, true
		}
	}
	return 0, false
}

// SeverityOf grades a score: critical from 90, high from 70, medium from
// 40, low below.
func SeverityOf(score float64) Severity {
	switch {
	case score >= 90:
		return Critical
	case score >= 70:
		return High
	case score >= 40:
		return Medium
	}
	return Low
}

// Plan is what the policy does with one detection: link it to the open
// incidents of its host, or join its host and itself to the outbreak's
// incident, or open a new incident for it, or nothing.
type Plan struct {
	Link []string
	// Join is the incident the detection's host and the detection are
	// linked to for Reason: the outbreak's incident, opened by the policy
	// for another host within the join window.
	Join string
	// Open is the incident to open, with the host and detection linked
	// for Reason.
	Open   *Incident
	Reason string
}

// Plan decides for detection d, given the open (not closed) incidents its
// host is linked to, and latest, the last incident the policy opened that
// is not closed (nil when there is none).
func (p AutoPolicy) Plan(d Detection, open []string, latest *Incident, now time.Time) Plan {
	if len(open) > 0 {
		return Plan{Link: open, Reason: fmt.Sprintf("detection on host %s, linked to its open incident", d.HostID)}
	}
	score, ok := Score(d.Meta)
	if !p.Enabled || !ok || score < p.MinScore {
		return Plan{}
	}
	host := d.Hostname
	if host == "" {
		host = d.HostID
	}
	if latest != nil && latest.State != Closed && latest.OpenedBy == AutoActor && p.JoinWindowSeconds > 0 {
		if age := now.Sub(latest.CreatedAt); age >= 0 && age <= p.JoinWindow() {
			return Plan{Join: latest.ID, Reason: fmt.Sprintf("rule %s score %g >= %g on host %s, %s after incident %s opened: same outbreak (join window %s)",
				d.Rule, score, p.MinScore, host, short(age.Round(time.Second)), latest.ID, short(p.JoinWindow()))}
		}
	}
	aware := d.SeenAt
	if aware.IsZero() || aware.After(now) {
		aware = now
	}
	aware = aware.UTC().Truncate(time.Millisecond)
	now = now.UTC().Truncate(time.Millisecond)
	title := fmt.Sprintf("%s on %s", d.Rule, host)
	for len(title) > MaxTitle {
		_, size := utf8.DecodeLastRuneInString(title)
		title = title[:len(title)-size]
	}
	in := &Incident{
		ID: NewID(), Title: title, Severity: SeverityOf(score), State: Open,
		Summary: fmt.Sprintf("Opened automatically: rule %s scored %g (at least %g) on host %s (%s).", d.Rule, score, p.MinScore, host, d.HostID),
		AwareAt: aware, OpenedBy: AutoActor, CreatedAt: now, UpdatedAt: now,
	}
	return Plan{Open: in, Reason: fmt.Sprintf("rule %s score %g >= %g", d.Rule, score, p.MinScore)}
}
