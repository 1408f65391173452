package server

import (
	"context"
	"errors"

	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/wire"
)

// Cancelling a sweep reaches agents twice over: connected hosts get
// CancelSweep at once, and a host that holds the sweep while away learns it
// from the Welcome that answers the Hello listing the sweep. Hosts that never
// received it are simply no longer sent it (pending-sweeps skips cancelled
// hosts).

func cancelSweepMessage(sweepID, cmdID string) *wire.Message {
	return &wire.Message{Type: wire.TypeCancelSweep, ID: cmdID, CancelSweep: &wire.CancelSweep{SweepID: sweepID}}
}

// unfinishedHosts are the hosts of v that may still be scanning it.
func unfinishedHosts(v Sweep) []string {
	var ids []string
	for _, h := range v.Hosts {
		switch h.State {
		case wire.SweepQueued, wire.SweepRunning, wire.SweepOffline:
			ids = append(ids, h.HostID)
		}
	}
	return ids
}

// maxHelloSweeps bounds the sweeps of one Hello looked up, so a hostile
// agent cannot make its connection cost thousands of queries.
const maxHelloSweeps = 256

// cancelledSweeps are the sweeps of held (those a connecting agent has)
// cancelled for host meanwhile; the Welcome names them, so the agent never
// resumes them.
func (s *Server) cancelledSweeps(ctx context.Context, host string, held []string) ([]string, error) {
	var out []string
	for _, id := range held[:min(len(held), maxHelloSweeps)] {
		state, err := s.st.SweepHostState(ctx, id, host)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if state == wire.SweepCancelled {
			out = append(out, id)
		}
	}
	return out, nil
}
