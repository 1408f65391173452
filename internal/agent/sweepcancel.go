package agent

import (
	"context"
	"errors"
	"time"

	"github.com/mamori-dev/mamori/internal/wire"
)

// errSweepCancelled ends a sweep's scan when the server cancelled the sweep.
var errSweepCancelled = errors.New("sweep cancelled by the server")

// firstContactWait bounds how long sweeps held from an earlier run wait for
// the server to say which of them were cancelled: an agent that cannot
// reach the server still runs them.
const firstContactWait = 10 * time.Second

func (a *Agent) markContacted() { a.contactOnce.Do(func() { close(a.contacted) }) }

// sweepContext is the context a sweep's scan runs under: cancelSweep ends
// it. It is born cancelled when the cancel came first (the sweeper may have
// read the sweep as queued just before). stopped must be called when the
// scan is over.
func (a *Agent) sweepContext(ctx context.Context, id string) (sctx context.Context, stopped func()) {
	sctx, cancel := context.WithCancelCause(ctx)
	a.mu.Lock()
	if a.cancelledSweeps[id] {
		cancel(errSweepCancelled)
	} else {
		if a.sweepStops == nil {
			a.sweepStops = map[string]context.CancelCauseFunc{}
		}
		a.sweepStops[id] = cancel
	}
	a.mu.Unlock()
	return sctx, func() {
		a.mu.Lock()
		delete(a.sweepStops, id)
		a.mu.Unlock()
		cancel(nil)
	}
}

// cancelSweep carries out the server's CancelSweep: a running scan of the
// sweep ends (runSweep then reports it cancelled), and a sweep not running
// is marked cancelled here so that it never starts. A finished sweep stays
// as it finished.
func (a *Agent) cancelSweep(ctx context.Context, id string) {
	a.mu.Lock()
	if a.cancelledSweeps == nil {
		a.cancelledSweeps = map[string]bool{}
	}
	a.cancelledSweeps[id] = true
	stop := a.sweepStops[id]
	a.mu.Unlock()
	a.log.Info("sweep cancelled by the server", "sweep", id, "running", stop != nil)
	if stop != nil {
		stop(errSweepCancelled)
		return
	}
	rows, err := a.st.Sweeps(ctx, time.Now())
	if err != nil {
		a.log.Error("listing sweeps", "err", err)
		return
	}
	for _, r := range rows {
		if r.status.SweepID != id || (r.status.State != wire.SweepQueued && r.status.State != wire.SweepRunning) {
			continue
		}
		st := r.status
		st.State, st.Error = wire.SweepCancelled, ""
		a.sweepStatus(ctx, st)
	}
}
