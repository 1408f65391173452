package incident

import (
	"fmt"
	"slices"
)

// StateMove is one allowed change of state.
type StateMove struct {
	To State `json:"to"`
	// Exceptional moves (closing early, going back, reopening) are not
	// part of the normal course; without a reason they are refused as a
	// conflict rather than as missing input.
	Exceptional bool `json:"exceptional,omitempty"`
}

func (m StateMove) String() string {
	if m.Exceptional {
		return string(m.To) + " (with a reason)"
	}
	return string(m.To)
}

// Next lists the moves allowed from a state, normal course first.
func Next(from State) []StateMove {
	i := slices.Index(States, from)
	if i < 0 {
		return nil
	}
	var out []StateMove
	if from == Closed {
		return []StateMove{{To: Investigating, Exceptional: true}}
	}
	out = append(out, StateMove{To: States[i+1]})
	if from == Open {
		out = append(out, StateMove{To: Investigating})
	}
	if i > 0 {
		out = append(out, StateMove{To: States[i-1], Exceptional: true})
	}
	if States[i+1] != Closed {
		out = append(out, StateMove{To: Closed, Exceptional: true})
	}
	return out
}

// TransitionError is a change of state that is not allowed: the server
// answers 409 with the allowed next states.
type TransitionError struct {
	From, To State
	Allowed  []StateMove
	Msg      string
}

func (e *TransitionError) Error() string { return e.Msg }

// AllowedNames lists the allowed next states for a message.
func (e *TransitionError) AllowedNames() []string {
	out := make([]string, len(e.Allowed))
	for i, m := range e.Allowed {
		out[i] = m.String()
	}
	return out
}

// Check decides whether an incident in state from may move to state to
// with reason. It returns a *TransitionError for a move that is not
// allowed, or an exceptional move without a reason, and a *FieldError for
// an unknown state or a missing or oversized reason on an allowed move.
func Check(from, to State, reason string) error {
	if !slices.Contains(States, to) {
		return fieldErr("state", "unknown state %q (states: %s)", to, join(States))
	}
	next := Next(from)
	i := slices.IndexFunc(next, func(m StateMove) bool { return m.To == to })
	switch {
	case from == to:
		return &TransitionError{From: from, To: to, Allowed: next, Msg: fmt.Sprintf("the incident is already %s", from)}
	case i < 0:
		return &TransitionError{From: from, To: to, Allowed: next, Msg: fmt.Sprintf("%s → %s is not allowed", from, to)}
	case next[i].Exceptional && CheckReason(reason) != nil:
		return &TransitionError{From: from, To: to, Allowed: next,
			Msg: fmt.Sprintf("%s → %s is not the normal course and needs a reason", from, to)}
	}
	return CheckReason(reason)
}
