package obligation

import (
	"fmt"
	"time"
)

// WarnWithin is how close a deadline must be to raise a warning.
const WarnWithin = 24 * time.Hour

// TimedDuty is a duty with its countdown at one instant.
type TimedDuty struct {
	Duty
	// RemainingSeconds is the time left to Due (negative once overdue);
	// absent for duties with no fixed time.
	RemainingSeconds *int64 `json:"remaining_seconds,omitempty"`
	// DueSoon flags a duty due within WarnWithin and not yet overdue.
	DueSoon bool `json:"due_soon,omitempty" doc:"due within 24 hours, not yet overdue"`
	Overdue bool `json:"overdue,omitempty"`
}

// Countdown is a Result as seen at one instant: each duty with the time
// left and the warnings for deadlines within WarnWithin or past.
type Countdown struct {
	At           time.Time      `json:"at"`
	Duties       []TimedDuty    `json:"duties"`
	NotTriggered []NotTriggered `json:"not_triggered"`
	NotAssessed  []NotAssessed  `json:"not_assessed,omitempty"`
	Warnings     []string       `json:"warnings"`
}

// CountdownAt times every duty of r against now.
func CountdownAt(r Result, now time.Time) Countdown {
	c := Countdown{At: now.UTC(), Duties: make([]TimedDuty, 0, len(r.Duties)), NotTriggered: r.NotTriggered, NotAssessed: r.NotAssessed, Warnings: []string{}}
	for _, d := range r.Duties {
		td := TimedDuty{Duty: d}
		if d.Due != nil {
			left := d.Due.Sub(now)
			secs := int64(left / time.Second)
			td.RemainingSeconds = &secs
			td.Overdue = left < 0
			td.DueSoon = !td.Overdue && left <= WarnWithin
			name := d.Law + " " + d.Duty
			if d.Stage != "" {
				name += " (" + d.Stage + ")"
			}
			switch {
			case left < 0:
				c.Warnings = append(c.Warnings, fmt.Sprintf("%s was due %s: overdue by %s", name, d.Due.Format(time.RFC3339), roundDuration(-left)))
			case left <= WarnWithin:
				c.Warnings = append(c.Warnings, fmt.Sprintf("%s is due %s: %s left", name, d.Due.Format(time.RFC3339), roundDuration(left)))
			}
		}
		c.Duties = append(c.Duties, td)
	}
	return c
}

func roundDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	h := int(d / time.Hour)
	m := int((d % time.Hour) / time.Minute)
	if h >= 48 {
		return fmt.Sprintf("%dd %dh", h/24, h%24)
	}
	return fmt.Sprintf("%dh %02dm", h, m)
}
