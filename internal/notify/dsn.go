package notify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// DSN is a delivery status notification (RFC 3464) about one message.
type DSN struct {
	MessageID    string // of the original message, from its returned headers
	ReportingMTA string
	Recipients   []DSNRecipient
}

// DSNRecipient is one per-recipient block.
type DSNRecipient struct {
	Recipient  string // Final-Recipient address
	Action     string // failed, delayed, delivered, relayed, expanded
	Status     string // e.g. 5.1.1
	Diagnostic string
}

// Hard reports a permanent failure: a failed action with a 5.x.x status.
func (r DSNRecipient) Hard() bool { return r.Action == "failed" && strings.HasPrefix(r.Status, "5") }

// Soft reports a failure that a later try may overcome.
func (r DSNRecipient) Soft() bool { return r.Action == "failed" && strings.HasPrefix(r.Status, "4") }

// ErrNotDSN is returned (wrapped) for a message that is not a delivery
// status report.
var ErrNotDSN = errors.New("not a delivery status notification")

const maxDSN = 4 << 20

// ParseDSN reads a multipart/report; report-type=delivery-status message.
func ParseDSN(r io.Reader) (DSN, error) {
	var d DSN
	m, err := mail.ReadMessage(bufio.NewReader(io.LimitReader(r, maxDSN)))
	if err != nil {
		return d, fmt.Errorf("dsn: %w", err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/report" || !strings.EqualFold(params["report-type"], "delivery-status") || params["boundary"] == "" {
		return d, fmt.Errorf("dsn: content type %q: %w", m.Header.Get("Content-Type"), ErrNotDSN)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	found := false
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return d, fmt.Errorf("dsn: %w", err)
		}
		body, err := partBody(p)
		if err != nil {
			return d, fmt.Errorf("dsn: %w", err)
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch pt {
		case "message/delivery-status", "message/global-delivery-status":
			if err := parseStatus(body, &d); err != nil {
				return d, err
			}
			found = true
		case "message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers":
			h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(body, '\r', '\n', '\r', '\n')))).ReadMIMEHeader()
			if err != nil && len(h) == 0 {
				return d, fmt.Errorf("dsn: returned headers: %w", err)
			}
			d.MessageID = strings.TrimSpace(h.Get("Message-Id"))
		}
	}
	if !found {
		return d, fmt.Errorf("dsn: no delivery-status part: %w", ErrNotDSN)
	}
	return d, nil
}

func partBody(p *multipart.Part) ([]byte, error) {
	b, err := io.ReadAll(p)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(strings.TrimSpace(p.Header.Get("Content-Transfer-Encoding")), "base64") {
		return base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
	}
	return b, nil
}

// parseStatus reads the per-message block and the per-recipient blocks,
// each a header block ended by a blank line.
func parseStatus(body []byte, d *DSN) error {
	tr := textproto.NewReader(bufio.NewReader(bytes.NewReader(body)))
	first := true
	for {
		h, err := tr.ReadMIMEHeader()
		if len(h) > 0 {
			if first {
				d.ReportingMTA = addrValue(h.Get("Reporting-Mta"))
			}
			if rc := h.Get("Final-Recipient"); rc != "" {
				d.Recipients = append(d.Recipients, DSNRecipient{
					Recipient:  addrValue(rc),
					Action:     strings.ToLower(strings.TrimSpace(h.Get("Action"))),
					Status:     strings.Fields(h.Get("Status") + " ")[0],
					Diagnostic: addrValue(h.Get("Diagnostic-Code")),
				})
			}
			first = false
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("dsn: delivery-status: %w", err)
		}
	}
}

// addrValue drops the type of a typed field ("rfc822; a@b" → "a@b").
func addrValue(v string) string {
	if _, rest, ok := strings.Cut(v, ";"); ok {
		return strings.TrimSpace(rest)
	}
	return strings.TrimSpace(v)
}

// ApplyDSN records a DSN against the e-mail row it is about: a hard
// failure makes the row bounced and queues a letter when there is a postal
// address; a soft failure queues the e-mail again with backoff; other
// actions are noted only. It returns what it did, one line per recipient.
func (s *Sender) ApplyDSN(ctx context.Context, d DSN) ([]string, error) {
	s.defaults()
	if d.MessageID == "" {
		return nil, fmt.Errorf("dsn: no Message-ID of the original message: %w", ErrNotFound)
	}
	r, err := s.Outbox.ByMessageID(ctx, d.MessageID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rc := range d.Recipients {
		if !strings.EqualFold(rc.Recipient, r.Person.Email) {
			out = append(out, fmt.Sprintf("%s: recipient %s is not %s's address; ignored", d.MessageID, rc.Recipient, r.Person.ID))
			continue
		}
		now := s.Now()
		reason := strings.TrimSpace(rc.Status + " " + rc.Diagnostic)
		c := Change{ID: r.ID, From: r.State, At: now, Attempts: r.Attempts, Bounce: reason}
		switch {
		case r.State != Sent && r.State != Unknown:
			out = append(out, fmt.Sprintf("%s: %s row is %s; nothing to do", d.MessageID, r.Person.ID, r.State))
			continue
		case rc.Hard():
			c.To = Bounced
			if r.Person.CanLetter() {
				c.Add = &Row{Campaign: r.Campaign, Person: r.Person, Channel: Letter, State: Queued, QueuedAt: now}
			}
		case rc.Soft() && r.Attempts < s.MaxAttempts:
			c.To, c.At, c.NextAt = Queued, time.Time{}, now.Add(s.Backoff(r.Attempts))
		case rc.Soft():
			c.To = Failed
		default:
			out = append(out, fmt.Sprintf("%s: %s %s (%s); noted", d.MessageID, r.Person.ID, rc.Action, reason))
			continue
		}
		ok, err := s.Outbox.Apply(ctx, []Change{c})
		if err != nil {
			return out, err
		}
		if !ok[0] {
			out = append(out, fmt.Sprintf("%s: %s changed meanwhile; not applied", d.MessageID, r.Person.ID))
			continue
		}
		line := fmt.Sprintf("%s: %s %s → %s (%s)", d.MessageID, r.Person.ID, r.State, c.To, reason)
		if c.Add != nil {
			line += "; letter queued"
		}
		out = append(out, line)
		r.State = c.To
	}
	return out, nil
}
