package notify

import (
	"time"
)

// Channel is how one notice reaches one person.
type Channel string

const (
	Email  Channel = "email"
	Letter Channel = "letter"
)

// State is where one notice (one outbox row) stands. The allowed moves are
// queued → sending → sent | failed | bounced | unknown, plus the retries
// described in doc.go (sending → queued after a soft failure, sent →
// bounced or queued when a DSN arrives, unknown → queued or sent when a
// person decides).
type State string

const (
	Queued  State = "queued"
	Sending State = "sending"
	Sent    State = "sent"
	Failed  State = "failed"
	Bounced State = "bounced"
	Unknown State = "unknown"
)

// States lists every state in flow order, for reports.
var States = []State{Queued, Sending, Sent, Failed, Bounced, Unknown}

// Item is one category of personal data exposed for a person, with the value
// masked: the notice tells people which of their data is concerned without
// repeating the data itself.
type Item struct {
	Category string `json:"category"`
	Masked   string `json:"masked"`
}

// Person is one recipient as the affected-people register exports them.
type Person struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Email      string `json:"email,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Address    string `json:"address,omitempty"`
	Language   string `json:"language,omitempty"`
	Items      []Item `json:"items,omitempty"`
}

// Channel picks the channel for a first notice: e-mail where there is an
// address, a letter where there is only a postal address, none otherwise.
func (p Person) Channel() (Channel, bool) {
	switch {
	case p.Email != "":
		return Email, true
	case p.CanLetter():
		return Letter, true
	}
	return "", false
}

// CanLetter reports whether a letter can be addressed to p.
func (p Person) CanLetter() bool { return p.Address != "" && p.Name != "" }

// Facts are the incident facts a notice carries: the items APPI's
// Enforcement Rules (art. 10, by reference to art. 8(1)) require in an
// individual notice (overview, the data concerned, cause, secondary harm),
// plus where to ask.
type Facts struct {
	Organization  string `json:"organization"`
	Summary       string `json:"summary"`
	Cause         string `json:"cause"`
	SecondaryHarm string `json:"secondary_harm"`
	Contact       string `json:"contact"`
	Other         string `json:"other,omitempty"`
}

// Row is one notice in the outbox: one (campaign, person, channel).
type Row struct {
	ID        int64     `json:"-"`
	Campaign  string    `json:"campaign"`
	Person    Person    `json:"person"`
	Channel   Channel   `json:"channel"`
	State     State     `json:"state"`
	Attempts  int       `json:"attempts"`
	NextAt    time.Time `json:"next_at,omitzero"`
	MessageID string    `json:"message_id,omitempty"`
	Response  string    `json:"response,omitempty"`
	Bounce    string    `json:"bounce,omitempty"`
	Batch     string    `json:"batch,omitempty"`
	QueuedAt  time.Time `json:"queued_at,omitzero"`
	SendingAt time.Time `json:"sending_at,omitzero"`
	DoneAt    time.Time `json:"done_at,omitzero"`
}
