package scopeapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
)

// decision is a stored answer to a proposal.
type decision struct {
	ID, By  string
	Confirm bool
}

// decisions lists the incident's decisions in the order they were taken.
func (s *Service) decisions(ctx context.Context, incidentID string) ([]decision, error) {
	rows, err := s.st.Query(ctx, "pii-decisions", incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []decision
	for rows.Next() {
		var d decision
		var confirm int
		var reason string
		var at int64
		if err := rows.Scan(&d.ID, &confirm, &d.By, &reason, &at); err != nil {
			return nil, fmt.Errorf("scope: decisions: %w", err)
		}
		d.Confirm = confirm != 0
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *Service) proposals(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	b, err := s.incidentRegister(ctx, id)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	ds, err := s.decisions(ctx, id)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	byID := map[string]decision{}
	for _, d := range ds {
		byID[d.ID] = d
	}
	out := []ProposalView{}
	for _, p := range b.reg.Proposals {
		v := ProposalView{ID: p.ID, A: p.A, B: p.B, Key: p.Key, Reason: p.Reason}
		if d, ok := byID[p.ID]; ok {
			v.Decision, v.DecidedBy = decisionName(d.Confirm), d.By
		}
		out = append(out, v)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func decisionName(confirm bool) string {
	if confirm {
		return "confirm"
	}
	return "reject"
}

func (s *Service) decide(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, pid := r.PathValue("id"), r.PathValue("pid")
	var body DecisionRequest
	if err := httpapi.DecodeBody(r, 1<<16, &body); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if body.Decision != "confirm" && body.Decision != "reject" {
		httpapi.Fail(w, r, httpapi.BadInput("decision", "%q, want confirm or reject", body.Decision))
		return
	}
	if err := needReason(body.Reason); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	b, err := s.incidentRegister(ctx, id)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	var view *ProposalView
	for _, p := range b.reg.Proposals {
		if p.ID == pid {
			view = &ProposalView{ID: p.ID, A: p.A, B: p.B, Key: p.Key, Reason: p.Reason}
		}
	}
	if view == nil {
		httpapi.Fail(w, r, fmt.Errorf("proposal %s of incident %s (only open proposals can be decided): %w", pid, id, store.ErrNotFound))
		return
	}
	now := s.now()
	p, _ := httpapi.PrincipalFrom(ctx)
	confirm := 0
	if body.Decision == "confirm" {
		confirm = 1
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "pii-decision-upsert", id, pid, confirm, p.Actor(), body.Reason, store.ToMS(now)); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, now, "scope.proposal_"+body.Decision, id+"/"+pid, body.Reason, view.Key+": "+view.A+" ~ "+view.B))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	view.Decision, view.DecidedBy = body.Decision, p.Actor()
	httpapi.WriteJSON(w, http.StatusOK, view)
}
