package workspace

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/incident"
	"github.com/mamori-dev/mamori/internal/obligation"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
)

// Service serves the obligations routes.
type Service struct {
	st  *store.Store
	now func() time.Time
	log *slog.Logger
}

// Capability builds the service; cmd/mamori lists it.
func Capability(env httpapi.Env) (httpapi.Capability, error) {
	return &Service{st: env.Store, now: env.Now, log: env.Log}, nil
}

var (
	readers = []httpapi.Role{httpapi.RoleResponder, httpapi.RolePrivacy, httpapi.RoleAuditor, httpapi.RoleViewer}
	privacy = []httpapi.Role{httpapi.RolePrivacy}
)

// Routes of the obligations workspace.
func (s *Service) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "GET", Pattern: "/incidents/{id}/obligations", Summary: "The incident's legal duties with a countdown and warnings for deadlines within 24 hours, and the facts they were judged from.",
			Response: ObligationsView{}, Roles: readers, Handler: s.getObligations},
		{Method: "PUT", Pattern: "/incidents/{id}/obligations/facts", Summary: "Set the facts the duties are judged from (and the drafts' narrative); answers with the duties and the drafts' diffs.",
			Request: ObligationFactsChange{}, Response: ObligationsView{}, Roles: privacy, Handler: s.putFacts},
		{Method: "DELETE", Pattern: "/incidents/{id}/obligations/facts", Summary: "Drop the facts set by hand, so they are derived from the incident again.",
			Request: ObligationFactsReset{}, Response: ObligationsView{}, Roles: privacy, Handler: s.deleteFacts},
		{Method: "GET", Pattern: "/incidents/{id}/obligations/drafts", Summary: "The drafts of the reports and notices the duties call for (PPC report, GDPR Art. 33, public statement, individual notice).",
			Response: []obligation.Draft(nil), Roles: readers, Handler: s.getDrafts},
		{Method: "GET", Pattern: "/incidents/{id}/obligations/drafts/{name}", Summary: "One draft as JSON, Markdown or HTML.",
			Query:    []httpapi.Param{{Name: "format", Description: "json (default), markdown or html"}},
			Response: obligation.Draft{}, Roles: readers, Handler: s.getDraft},
		{Method: "GET", Pattern: "/obligations/warnings", Summary: "Incidents not closed with a deadline within 24 hours or past, for the console.",
			Response: []ObligationWarnings(nil), Roles: readers, Handler: s.getWarnings},
	}
}

// ObligationsView is the assessment document of `mamori assess` with a
// countdown, and where its facts came from.
type ObligationsView struct {
	IncidentID string `json:"incident_id"`
	obligation.Countdown
	Facts       json.RawMessage `json:"facts" doc:"the facts judged, in the document mamori assess --facts reads"`
	FactsSource string          `json:"facts_source" enum:"derived,set" doc:"derived from the incident, or set by a person"`
	FactsSetBy  string          `json:"facts_set_by,omitempty"`
	FactsSetAt  *time.Time      `json:"facts_set_at,omitempty"`
	FactsReason string          `json:"facts_reason,omitempty"`
	// DraftDiffs, in the answer to a change, are line diffs of each draft
	// (Markdown) from the facts before to the facts after.
	DraftDiffs []string `json:"draft_diffs,omitempty" doc:"in the answer to a change: a line diff of each draft that changed"`
}

// ObligationFactsChange sets an incident's facts.
type ObligationFactsChange struct {
	Facts   json.RawMessage          `json:"facts" required:"true" doc:"the facts document mamori assess reads; aware_at may be left out (it is the incident's)"`
	Context *obligation.DraftContext `json:"context,omitempty" doc:"the drafts' narrative (organization, contact, summary, measures...); left out keeps the current one"`
	Reason  string                   `json:"reason" required:"true"`
}

// ObligationFactsReset drops an incident's facts set by hand.
type ObligationFactsReset struct {
	Reason string `json:"reason" required:"true"`
}

// ObligationWarnings are one incident's deadline warnings.
type ObligationWarnings struct {
	IncidentID string    `json:"incident_id"`
	Title      string    `json:"title"`
	AwareAt    time.Time `json:"aware_at"`
	Warnings   []string  `json:"warnings"`
}

// current is an incident with the facts judged for it.
type current struct {
	in    incident.Incident
	facts obligation.Facts
	dctx  obligation.DraftContext
	set   *store.ObligationFacts // nil when derived
}

func (s *Service) load(ctx context.Context, id string) (*current, error) {
	in, err := incident.Get(ctx, s.st, id)
	if err != nil {
		return nil, err
	}
	c := &current{in: in, dctx: obligation.DraftContext{Summary: in.Summary}}
	set, err := s.st.ObligationFacts(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		counts, err := incident.CountsOf(ctx, s.st, id)
		if err != nil {
			return nil, err
		}
		cause := "other"
		if counts.Detections > 0 {
			cause = "malware"
		}
		var reg *obligation.RegisterSummary
		switch b, err := s.st.PIISummary(ctx, id); {
		case err == nil:
			r, err := obligation.DecodeRegisterSummary(bytes.NewReader(b))
			if err != nil {
				return nil, fmt.Errorf("obligations: register summary of %s: %w", id, err)
			}
			reg = &r
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
		c.facts = obligation.DeriveFacts(in.AwareAt, cause, reg)
		return c, nil
	case err != nil:
		return nil, err
	}
	c.set = set
	if c.facts, err = obligation.DecodeFacts(bytes.NewReader(set.Facts)); err != nil {
		return nil, fmt.Errorf("obligations: stored facts of %s: %w", id, err)
	}
	c.facts.AwareAt = in.AwareAt
	if len(set.Context) > 0 {
		if c.dctx, err = obligation.DecodeContext(bytes.NewReader(set.Context)); err != nil {
			return nil, fmt.Errorf("obligations: stored draft context of %s: %w", id, err)
		}
	}
	if c.dctx.Summary == "" {
		c.dctx.Summary = in.Summary
	}
	return c, nil
}

func (s *Service) view(c *current) (ObligationsView, error) {
	raw, err := json.Marshal(c.facts)
	if err != nil {
		return ObligationsView{}, err
	}
	v := ObligationsView{IncidentID: c.in.ID, Countdown: obligation.CountdownAt(obligation.Assess(c.facts), s.now()),
		Facts: raw, FactsSource: "derived"}
	if c.set != nil {
		at := c.set.UpdatedAt.UTC()
		v.FactsSource, v.FactsSetBy, v.FactsSetAt, v.FactsReason = "set", c.set.UpdatedBy, &at, c.set.Reason
	}
	return v, nil
}

func (s *Service) getObligations(w http.ResponseWriter, r *http.Request) {
	c, err := s.load(r.Context(), r.PathValue("id"))
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	v, err := s.view(c)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, v)
}

// MaxFacts bounds a facts change: the document is counts and flags.
const MaxFacts = 1 << 20

func (s *Service) putFacts(w http.ResponseWriter, r *http.Request) {
	var body ObligationFactsChange
	if err := httpapi.DecodeBody(r, MaxFacts, &body); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if err := checkReason(body.Reason); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	ctx := r.Context()
	id := r.PathValue("id")
	before, err := s.load(ctx, id)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	facts, err := checkFacts(body.Facts, before.in.AwareAt)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	dctx := before.dctx
	if body.Context != nil {
		dctx = *body.Context
	}
	stored, err := json.Marshal(facts)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	storedCtx, err := json.Marshal(dctx)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	now := s.now()
	p, _ := httpapi.PrincipalFrom(ctx)
	set := &store.ObligationFacts{IncidentID: id, Facts: stored, Context: storedCtx, UpdatedAt: now, UpdatedBy: p.Actor(), Reason: body.Reason}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.PutObligationFacts(ctx, set); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, now, "obligation.facts", id, body.Reason, string(stored)))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	after := &current{in: before.in, facts: facts, dctx: dctx, set: set}
	if dctx.Summary == "" {
		after.dctx.Summary = before.in.Summary
	}
	s.answerChange(w, r, before, after)
}

func (s *Service) deleteFacts(w http.ResponseWriter, r *http.Request) {
	var body ObligationFactsReset
	if err := httpapi.DecodeBody(r, 0, &body); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if err := checkReason(body.Reason); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	ctx := r.Context()
	id := r.PathValue("id")
	before, err := s.load(ctx, id)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if before.set == nil {
		httpapi.Fail(w, r, httpapi.Conflict("incident %s has no facts set by hand; they are already derived", id))
		return
	}
	now := s.now()
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteObligationFacts(ctx, id); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, now, "obligation.facts_reset", id, body.Reason, ""))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	after, err := s.load(ctx, id)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	s.answerChange(w, r, before, after)
}

// answerChange answers a change with the new view and the drafts' diffs.
func (s *Service) answerChange(w http.ResponseWriter, r *http.Request, before, after *current) {
	v, err := s.view(after)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	v.DraftDiffs = draftDiffs(drafts(before), drafts(after))
	httpapi.WriteJSON(w, http.StatusOK, v)
}

func drafts(c *current) []obligation.Draft {
	return obligation.Drafts(c.facts, c.dctx, nil)
}

// draftDiffs compares two sets of drafts by name: a draft that appears or
// goes shows as a diff from or to nothing.
func draftDiffs(before, after []obligation.Draft) []string {
	old := map[string]string{}
	for _, d := range before {
		old[d.Name] = d.Markdown()
	}
	var out []string
	seen := map[string]bool{}
	for _, d := range after {
		seen[d.Name] = true
		if md := d.Markdown(); md != old[d.Name] {
			out = append(out, obligation.LineDiff(d.Name+".md (before)", d.Name+".md (after)", old[d.Name], md))
		}
	}
	for _, d := range before {
		if !seen[d.Name] {
			out = append(out, obligation.LineDiff(d.Name+".md (before)", d.Name+".md (after)", old[d.Name], ""))
		}
	}
	return out
}

func checkReason(reason string) error {
	if strings.TrimSpace(reason) == "" {
		return httpapi.BadInput("reason", "required: say why the facts change")
	}
	return nil
}

// checkFacts decodes a facts document strictly, with aware_at the
// incident's: filled in when left out, refused when it names another time.
func checkFacts(raw json.RawMessage, awareAt time.Time) (obligation.Facts, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil || doc == nil {
		return obligation.Facts{}, httpapi.BadInput("facts", "want a JSON object")
	}
	if v, ok := doc["aware_at"]; ok && string(v) != "null" {
		var t time.Time
		if err := json.Unmarshal(v, &t); err != nil {
			return obligation.Facts{}, httpapi.BadInput("facts.aware_at", "want an RFC 3339 time, got %s", v)
		}
		// The facts document gives aware_at to the second (RFC 3339), so
		// the facts read from GET go back unchanged when the incident's
		// has milliseconds, as an automatic one's has.
		if !t.Equal(awareAt) && !(t.Nanosecond() == 0 && t.Equal(awareAt.Truncate(time.Second))) {
			return obligation.Facts{}, httpapi.BadInput("facts.aware_at", "%s is not the incident's aware_at (%s): leave it out, or change it on the incident",
				v, awareAt.Format(time.RFC3339))
		}
	}
	doc["aware_at"], _ = json.Marshal(awareAt.Format(time.RFC3339Nano))
	full, err := json.Marshal(doc)
	if err != nil {
		return obligation.Facts{}, err
	}
	f, err := obligation.DecodeFacts(bytes.NewReader(full))
	var fe *obligation.FieldError
	if errors.As(err, &fe) {
		return obligation.Facts{}, httpapi.BadInput("facts."+fe.Field, "%s", fe.Msg)
	}
	return f, err
}

func (s *Service) getDrafts(w http.ResponseWriter, r *http.Request) {
	c, err := s.load(r.Context(), r.PathValue("id"))
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, drafts(c))
}

func (s *Service) getDraft(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "markdown" && format != "html" {
		httpapi.Fail(w, r, httpapi.BadInput("query parameter format", "%q, want json, markdown or html", format))
		return
	}
	c, err := s.load(r.Context(), r.PathValue("id"))
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	name := r.PathValue("name")
	var names []string
	for _, d := range drafts(c) {
		names = append(names, d.Name)
		if d.Name != name {
			continue
		}
		switch format {
		case "markdown":
			w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
			fmt.Fprint(w, d.Markdown())
		case "html":
			page, err := d.HTML()
			if err != nil {
				httpapi.Fail(w, r, err)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, page)
		default:
			httpapi.WriteJSON(w, http.StatusOK, d)
		}
		return
	}
	httpapi.Fail(w, r, fmt.Errorf("draft %q of incident %s (drafts: %s): %w", name, c.in.ID, strings.Join(names, ", "), store.ErrNotFound))
}

func (s *Service) getWarnings(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	out := []ObligationWarnings{}
	now := s.now()
	for after := ""; ; {
		page, err := incident.List(ctx, s.st, "", after, httpapi.MaxLimit)
		if err != nil {
			httpapi.Fail(w, r, err)
			return
		}
		for _, in := range page {
			if in.State == incident.Closed {
				continue
			}
			c, err := s.load(ctx, in.ID)
			if err != nil {
				httpapi.Fail(w, r, err)
				return
			}
			if ws := obligation.CountdownAt(obligation.Assess(c.facts), now).Warnings; len(ws) > 0 {
				out = append(out, ObligationWarnings{IncidentID: in.ID, Title: in.Title, AwareAt: in.AwareAt, Warnings: ws})
			}
		}
		if len(page) < httpapi.MaxLimit {
			break
		}
		after = page[len(page)-1].ID
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}
