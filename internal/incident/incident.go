package incident

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// State is where an incident stands in the response.
type State string

// The states, in order.
const (
	Open          State = "open"
	Contained     State = "contained"
	Investigating State = "investigating"
	Scoped        State = "scoped"
	Reporting     State = "reporting"
	Notifying     State = "notifying"
	Closed        State = "closed"
)

// States lists every state in order.
var States = []State{Open, Contained, Investigating, Scoped, Reporting, Notifying, Closed}

// ParseState accepts a state's name.
func ParseState(s string) (State, error) {
	if slices.Contains(States, State(s)) {
		return State(s), nil
	}
	return "", fmt.Errorf("unknown state %q (states: %s)", s, join(States))
}

// Severity grades an incident.
type Severity string

// The severities, least first.
const (
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// Severities lists every severity, least first.
var Severities = []Severity{Low, Medium, High, Critical}

// ParseSeverity accepts a severity's name; "" is medium.
func ParseSeverity(s string) (Severity, error) {
	if s == "" {
		return Medium, nil
	}
	if slices.Contains(Severities, Severity(s)) {
		return Severity(s), nil
	}
	return "", fmt.Errorf("unknown severity %q (severities: %s)", s, join(Severities))
}

// Incident is one breach response. IncidentCounts, links and history are kept
// beside it; see IncidentView.
type Incident struct {
	ID       string   `json:"id" doc:"i- and 16 hex digits"`
	Title    string   `json:"title"`
	Summary  string   `json:"summary"`
	Severity Severity `json:"severity" doc:"low, medium, high or critical"`
	State    State    `json:"state" doc:"open, contained, investigating, scoped, reporting, notifying or closed"`
	// AwareAt is when the organisation became aware of the breach: every
	// legal deadline counts from it.
	AwareAt   time.Time `json:"aware_at" doc:"when the organisation became aware; legal deadlines count from it"`
	OpenedBy  string    `json:"opened_by" doc:"the user, or policy:auto-incident"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// NewID returns a fresh incident id: "i-" and 16 hex digits.
func NewID() string { return newID("i-") }

func newID(prefix string) string {
	var b [8]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// Limits on free text, so one request cannot bloat every later read.
const (
	MaxTitle  = 200
	MaxText   = 64 << 10 // summary, reason, note
	MaxReason = 4 << 10
)

// FieldError is a field of a request that is not acceptable.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// New checks the fields of an incident opened by hand and fills in the
// rest: a fresh id, state open, and aware_at now when not given.
func New(title, summary string, sev Severity, awareAt time.Time, openedBy string, now time.Time) (Incident, error) {
	title = strings.TrimSpace(title)
	if title == "" {
		return Incident{}, fieldErr("title", "required")
	}
	if err := checkText("title", title, MaxTitle); err != nil {
		return Incident{}, err
	}
	if err := checkText("summary", summary, MaxText); err != nil {
		return Incident{}, err
	}
	if sev == "" {
		sev = Medium
	}
	if !slices.Contains(Severities, sev) {
		return Incident{}, fieldErr("severity", "unknown severity %q (severities: %s)", sev, join(Severities))
	}
	now = now.UTC().Truncate(time.Millisecond)
	if awareAt.IsZero() {
		awareAt = now
	}
	awareAt = awareAt.UTC().Truncate(time.Millisecond)
	if awareAt.After(now.Add(time.Minute)) {
		return Incident{}, fieldErr("aware_at", "%s is in the future", awareAt.Format(time.RFC3339))
	}
	return Incident{
		ID: NewID(), Title: title, Summary: summary, Severity: sev, State: Open,
		AwareAt: awareAt, OpenedBy: openedBy, CreatedAt: now, UpdatedAt: now,
	}, nil
}

func checkText(field, s string, max int) error {
	if len(s) > max {
		return fieldErr(field, "longer than %d bytes", max)
	}
	if !utf8.ValidString(s) {
		return fieldErr(field, "not valid UTF-8")
	}
	return nil
}

// CheckReason checks the reason of a change: required, bounded.
func CheckReason(reason string) error {
	if strings.TrimSpace(reason) == "" {
		return fieldErr("reason", "required: every change to an incident says why")
	}
	return checkText("reason", reason, MaxReason)
}

func join[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
