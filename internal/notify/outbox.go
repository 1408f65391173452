package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound is returned (wrapped) when a row or campaign does not exist.
var ErrNotFound = errors.New("not found")

// Query selects outbox rows of one campaign in id order.
type Query struct {
	Campaign string
	Channel  Channel   // "" for any
	State    State     // "" for any
	Batch    string    // "" for any
	After    int64     // rows with a larger id
	DueBy    time.Time // if set, only rows whose NextAt is not after it
	Limit    int
}

// Change moves one row from one state to another. It applies only if the
// row is still in From: that compare-and-set is what lets several senders
// share an outbox without sending a notice twice.
type Change struct {
	ID       int64
	From, To State
	At       time.Time // becomes SendingAt when To is Sending, DoneAt when To ends the row
	Attempts int
	NextAt   time.Time
	Response string // kept when empty
	Bounce   string // kept when empty
	Batch    string // kept when empty
	// Add is inserted in the same transaction when the change applies: the
	// letter that replaces a hard-bounced e-mail is never lost between two
	// writes.
	Add *Row
}

// Outbox is the durable list of notices. Implementations must make Apply
// atomic and durable before it returns: the sender marks a row Sending and
// only then starts the SMTP DATA, and marks it Sent only after the server's
// 250 reply.
type Outbox interface {
	// Add inserts rows; a row whose (campaign, person, channel) exists is
	// left as it is.
	Add(ctx context.Context, rows []Row) error
	List(ctx context.Context, q Query) ([]Row, error)
	// Apply applies the changes in one transaction and reports which ones
	// applied (their row was in From).
	Apply(ctx context.Context, changes []Change) ([]bool, error)
	ByMessageID(ctx context.Context, messageID string) (Row, error)
	// Counts counts a campaign's rows by channel and state.
	Counts(ctx context.Context, campaign string) (Counts, error)
	// NextDue returns the earliest NextAt among the queued rows of a
	// campaign's channel; ok is false when none is queued.
	NextDue(ctx context.Context, campaign string, ch Channel) (at time.Time, ok bool, err error)
}

// Counts are rows by channel and state.
type Counts map[Channel]map[State]int

// Total sums one state over the channels, or every state when s is "".
func (c Counts) Total(s State) int {
	n := 0
	for _, m := range c {
		for st, k := range m {
			if s == "" || st == s {
				n += k
			}
		}
	}
	return n
}

// CampaignState is where a campaign stands: draft → approved → sending ⇄
// paused → done.
type CampaignState string

const (
	Draft    CampaignState = "draft"
	Approved CampaignState = "approved"
	Running  CampaignState = "sending"
	Paused   CampaignState = "paused"
	Done     CampaignState = "done"
)

// Campaign is one notice campaign: the templates, the incident texts, the
// sender and the approval that froze them together with the recipient list.
type Campaign struct {
	ID        string                    `json:"id"`
	Incident  string                    `json:"incident,omitempty"`
	State     CampaignState             `json:"state"`
	Templates map[string]TemplateSource `json:"templates"`
	Language  string                    `json:"default_language"`
	// Texts are the incident facts by language. A notice takes the texts
	// of the language its template is in, so that an English notice never
	// carries the Japanese account of the incident.
	Texts map[string]Facts `json:"texts"`
	// Fallback is the language of the notice for people whose own
	// language has no texts or template; without it such people are
	// refused when the campaign is made (see NoticeLanguage).
	Fallback   string    `json:"fallback,omitempty"`
	From       string    `json:"from"`
	FromName   string    `json:"from_name,omitempty"`
	ReplyTo    string    `json:"reply_to,omitempty"`
	Zone       string    `json:"zone"`
	Recipients int       `json:"recipients"`
	Hash       string    `json:"hash,omitempty"`
	LastRow    int64     `json:"last_row,omitempty"` // the last outbox row the hash covers
	CreatedAt  time.Time `json:"created_at"`
	TestSentTo string    `json:"test_sent_to,omitempty"`
	TestSentAt time.Time `json:"test_sent_at,omitzero"`
	ApprovedBy string    `json:"approved_by,omitempty"`
	ApprovedAt time.Time `json:"approved_at,omitzero"`
	Reason     string    `json:"reason,omitempty"`
}

// UnmarshalJSON reads a stored campaign; one stored before the texts were
// kept by language has its single "facts" as its default language's.
func (c *Campaign) UnmarshalJSON(b []byte) error {
	type plain Campaign
	var v struct {
		plain
		Facts *Facts `json:"facts"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = Campaign(v.plain)
	if len(c.Texts) == 0 && v.Facts != nil {
		c.Texts = map[string]Facts{c.Language: *v.Facts}
	}
	return nil
}

// Campaigns stores campaigns.
type Campaigns interface {
	CreateCampaign(ctx context.Context, c Campaign) error
	Campaign(ctx context.Context, id string) (Campaign, error)
	// UpdateCampaign replaces c if the stored campaign is in state from.
	UpdateCampaign(ctx context.Context, c Campaign, from CampaignState) error
	// Lease gives owner the campaign's sending lease until the given time
	// if it is free, expired, already owner's, or held by a process that
	// the store can tell is dead. It returns the holder otherwise.
	Lease(ctx context.Context, id, owner string, until, now time.Time) (holder string, ok bool, err error)
}

// ErrConflict is returned (wrapped) when a campaign is not in the state a
// change requires.
var ErrConflict = errors.New("conflict")

// MissingLanguageError says that a person's notice cannot be written in
// their language: the campaign lacks Field (texts.LANG or templates.LANG)
// and has no fallback.
type MissingLanguageError struct {
	Field  string
	Person string
	Lang   string
}

func (e *MissingLanguageError) Error() string {
	return fmt.Sprintf("person %s reads %s: the campaign has no %s and no fallback language", e.Person, e.Lang, e.Field)
}

// NoticeLanguage picks the language of p's notice: p's own (the default
// language when p has none) if the campaign has both texts and a template
// in it, the fallback otherwise. A notice is never written in one language
// with the incident texts of another.
func (c Campaign) NoticeLanguage(p Person) (string, error) {
	lang := p.Language
	if lang == "" {
		lang = c.Language
	}
	if c.speaks(lang) {
		return lang, nil
	}
	if c.Fallback != "" && c.speaks(c.Fallback) {
		return c.Fallback, nil
	}
	field := "texts." + lang
	if _, ok := c.Texts[lang]; ok {
		field = "templates." + lang
	}
	return "", &MissingLanguageError{Field: field, Person: p.ID, Lang: lang}
}

func (c Campaign) speaks(lang string) bool {
	_, t := c.Texts[lang]
	_, m := c.Templates[lang]
	return t && m
}
