package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/wire"
)

// Settings keys.
const (
	settingAutoIsolation   = "auto_isolation"
	settingFleetMonitoring = "fleet_monitoring"
)

// requestIsolation moves a host to "requested" and sends the command; an
// offline host gets it when it reconnects. The audit actor comes from
// ctx's principal.
func (s *Server) requestIsolation(ctx context.Context, id, reason string) (*store.Host, error) {
	var h *store.Host
	changed := false
	s.stateMu.Lock()
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		h, err = tx.Host(ctx, id)
		if err != nil {
			return err
		}
		if !h.RevokedAt.IsZero() {
			return httpapi.Conflict("host %s is revoked", id)
		}
		if h.Isolation == wire.IsolationRequested || h.Isolation == wire.IsolationIsolated {
			return nil
		}
		changed = true
		if err := tx.SetIsolation(ctx, id, wire.IsolationRequested, reason, ""); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.now(), "isolate", id, reason, h.Isolation+" -> "+wire.IsolationRequested))
	})
	s.stateMu.Unlock()
	if err != nil {
		return nil, err
	}
	if !changed {
		return h, nil
	}
	if c := s.hub.get(id); c != nil {
		if err := c.send(ctx, s.isolateMessage(c, reason)); err != nil {
			s.log.Warn("sending isolate", "agent", id, "err", err)
		}
	}
	return s.st.Host(ctx, id)
}

// requestRelease moves an isolated (or requested, or failed) host to
// "release_requested" and sends the command.
func (s *Server) requestRelease(ctx context.Context, id, reason string) (*store.Host, error) {
	var h *store.Host
	changed := false
	s.stateMu.Lock()
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		h, err = tx.Host(ctx, id)
		if err != nil {
			return err
		}
		if h.Isolation == wire.IsolationNone || h.Isolation == wire.IsolationReleaseRequested {
			return nil
		}
		changed = true
		if err := tx.SetIsolation(ctx, id, wire.IsolationReleaseRequested, reason, ""); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.now(), "release", id, reason, h.Isolation+" -> "+wire.IsolationReleaseRequested))
	})
	s.stateMu.Unlock()
	if err != nil {
		return nil, err
	}
	if !changed {
		return h, nil
	}
	m := &wire.Message{Type: wire.TypeRelease, ID: s.nextCommandID(), Release: &wire.Release{Reason: reason}}
	if err := s.hub.sendTo(ctx, id, m); err != nil && !errors.Is(err, errOffline) {
		s.log.Warn("sending release", "agent", id, "err", err)
	}
	return s.st.Host(ctx, id)
}

// isolationReported applies an agent's report to the state machine:
// requested -> isolated, release_requested -> none, anything -> failed.
// A report contradicting what the server wants is answered with the
// command again rather than accepted.
func (s *Server) isolationReported(ctx context.Context, id string, st wire.IsolationStatus) {
	var h *store.Host
	var next string
	var resend wire.Type
	ctx = httpapi.WithPrincipal(ctx, httpapi.Principal{Kind: httpapi.KindAgent, Name: id})
	s.stateMu.Lock()
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		h, err = tx.Host(ctx, id)
		if err != nil {
			return err
		}
		next, resend = h.Isolation, ""
		switch st.State {
		case wire.IsolationIsolated:
			switch h.Isolation {
			case wire.IsolationRequested, wire.IsolationFailed:
				next = wire.IsolationIsolated
			case wire.IsolationNone, wire.IsolationReleaseRequested:
				resend = wire.TypeRelease
			}
		case wire.IsolationNone:
			switch h.Isolation {
			case wire.IsolationReleaseRequested, wire.IsolationFailed:
				next = wire.IsolationNone
			case wire.IsolationIsolated:
				resend = wire.TypeIsolate
			}
		case wire.IsolationFailed:
			next = wire.IsolationFailed
		}
		if next == h.Isolation && (next != wire.IsolationFailed || st.Error == h.IsolationError) {
			return nil
		}
		if err := tx.SetIsolation(ctx, id, next, h.IsolationReason, st.Error); err != nil {
			return err
		}
		if next == h.Isolation {
			return nil
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.now(), "isolation_status", id, st.Error, h.Isolation+" -> "+next))
	})
	s.stateMu.Unlock()
	if err != nil {
		s.log.Error("isolation status", "agent", id, "err", err)
		return
	}
	var m *wire.Message
	switch resend {
	case wire.TypeRelease:
		m = &wire.Message{Type: wire.TypeRelease, ID: s.nextCommandID(), Release: &wire.Release{Reason: h.IsolationReason}}
	case wire.TypeIsolate:
		m = s.isolateMessage(s.hub.get(id), h.IsolationReason)
	}
	if m != nil {
		if err := s.hub.sendTo(ctx, id, m); err != nil && !errors.Is(err, errOffline) {
			s.log.Warn("re-sending isolation command", "agent", id, "err", err)
		}
	}
}

// Policy isolates a host automatically when one of its new findings comes
// from a rule whose meta "score" or "severity" is at least Threshold, or
// that carries one of Tags. Severity names count as numbers: low 25,
// medium 50, high 75, critical 100.
type Policy struct {
	Enabled   bool     `json:"enabled"`
	Threshold float64  `json:"threshold,omitempty"`
	Tags      []string `json:"tags,omitempty"`
}

var severityScores = map[string]float64{"low": 25, "medium": 50, "high": 75, "critical": 100}

// match returns why f triggers the policy, or "".
func (p *Policy) match(f *wire.Finding) string {
	if !p.Enabled {
		return ""
	}
	if p.Threshold > 0 {
		for _, k := range []string{"score", "severity"} {
			v, ok := f.Meta[k]
			if !ok {
				continue
			}
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				n, ok = severityScores[strings.ToLower(strings.TrimSpace(v))]
				if !ok {
					continue
				}
			}
			if n >= p.Threshold {
				return fmt.Sprintf("rule %s %s %s >= %g", f.Rule, k, v, p.Threshold)
			}
		}
	}
	for _, t := range f.Tags {
		if slices.Contains(p.Tags, t) {
			return fmt.Sprintf("rule %s tag %s", f.Rule, t)
		}
	}
	return ""
}

func (s *Server) policy(ctx context.Context) (Policy, error) {
	var p Policy
	v, err := s.st.Setting(ctx, settingAutoIsolation)
	if errors.Is(err, store.ErrNotFound) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return p, fmt.Errorf("setting %s: %w", settingAutoIsolation, err)
	}
	return p, nil
}

func (s *Server) applyPolicy(ctx context.Context, id string, fs []wire.Finding) {
	p, err := s.policy(ctx)
	if err != nil {
		s.log.Error("auto-isolation policy", "err", err)
		return
	}
	for i := range fs {
		if why := p.match(&fs[i]); why != "" {
			if _, err := s.requestIsolation(WithActor(ctx, "policy"), id, "auto-isolation: "+why); err != nil {
				s.log.Error("auto-isolation", "agent", id, "err", err)
			}
			return
		}
	}
}
