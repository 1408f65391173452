package obligation

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteText renders a result for a person at a terminal: one block per
// duty, then what was not triggered and what was not assessed.
func WriteText(w io.Writer, r Result) error {
	var b strings.Builder
	if len(r.Duties) == 0 {
		b.WriteString("No duties.\n")
	}
	for _, d := range r.Duties {
		head := d.Law + "  " + d.Duty
		if d.Stage != "" {
			head += " (" + d.Stage + ")"
		}
		if d.Authority != "" {
			head += " → " + d.Authority
		}
		fmt.Fprintf(&b, "%s\n  due:    %s\n  basis:  %s\n  reason: %s\n\n", head, DueString(d), d.Basis, d.Reason)
	}
	if len(r.NotTriggered) > 0 {
		b.WriteString("Not triggered:\n")
		for _, n := range r.NotTriggered {
			fmt.Fprintf(&b, "  %s: %s\n", n.Law, n.Reason)
		}
	}
	if len(r.NotAssessed) > 0 {
		b.WriteString("Not assessed (no rules in mamori):\n")
		for _, n := range r.NotAssessed {
			if n.People > 0 {
				fmt.Fprintf(&b, "  %s (%d people): %s\n", n.Scope, n.People, n.Reason)
			} else {
				fmt.Fprintf(&b, "  %s: %s\n", n.Scope, n.Reason)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DueString is a duty's deadline as one line: the time, or the law's words.
func DueString(d Duty) string {
	if d.Due == nil {
		return d.DueText
	}
	return d.Due.Format(time.RFC3339)
}
