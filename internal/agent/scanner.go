package agent

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mamori-dev/mamori/internal/scan"
	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/wire"
)

// sink turns scan records into findings and queues them in batches, so a
// scan with many hits costs few synchronous writes while a single live
// detection is queued at once (flush).
type sink struct {
	a       *Agent
	source  string
	sweepID string
	bundle  *compiled
	// paths renames scanned paths in findings: a process's executable is
	// read through /proc/PID/exe but reported under its own path.
	paths map[string]string
	// extra matchers run besides the bundle's (personal-data discovery);
	// unsearched, when set, counts the files they could not search.
	extra      []scan.Matcher
	unsearched *unsearched
	mu         sync.Mutex
	buf        []wire.Finding
	bufBytes   int // of the personal-data results in buf
	count      int64
	err        error
}

// A sink queues its findings every sinkBatch findings, or sooner when the
// personal-data results among them reach sinkBytes: each may be 512 KiB.
const (
	sinkBatch = 200
	sinkBytes = 4 << 20
)

func (s *sink) emit(ctx context.Context, r scan.Record) {
	if s.unsearched != nil {
		s.unsearched.note(r)
	}
	if !r.Finding() {
		return
	}
	var f wire.Finding
	var err error
	size := 0
	if fr, ok := r.(*scope.FileResult); ok {
		f, size, err = piiFinding(fr, s.source, s.sweepID, time.Now())
	} else {
		f, err = toFinding(r, s.source, s.sweepID, s.bundle, time.Now())
		if p, ok := s.paths[f.Path]; ok && err == nil {
			f.Detail["scanned_as"] = f.Path
			f.Path = p
			f.ID = findingID(f.Type, f.Rule, f.Indicator, f.Path, f.SHA256, s.sweepID)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.a.log.Warn("dropping unencodable record", "kind", r.Kind(), "err", err)
		return
	}
	s.buf = append(s.buf, f)
	s.bufBytes += size
	s.count++
	if len(s.buf) >= sinkBatch || s.bufBytes >= sinkBytes {
		s.flushLocked(ctx)
	}
}

func (s *sink) flush(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushLocked(ctx)
	return s.err
}

func (s *sink) flushLocked(ctx context.Context) {
	if len(s.buf) == 0 {
		return
	}
	// The queue outlives ctx: findings already made are kept even when
	// the scan is being cancelled.
	if err := s.a.st.Enqueue(context.WithoutCancel(ctx), s.buf); err != nil && s.err == nil {
		s.err = err
	}
	clear(s.buf)
	s.buf, s.bufBytes = s.buf[:0], 0
}

// scanOptions keep the agent light on the endpoint: half the CPUs, and
// never its own data directory.
func (a *Agent) scanOptions() scan.Options {
	return scan.Options{
		Threads: max(1, runtime.GOMAXPROCS(0)/2),
		Exclude: []string{globEscape(a.cfg.DataDir)},
	}
}

func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(s)
}

// scanWith scans roots with bundle b and queues what it finds.
func (a *Agent) scanWith(ctx context.Context, roots []string, b *compiled, source, sweepID string, progress func(scan.Progress)) (scan.SummaryRecord, int64, error) {
	return a.scanSink(ctx, roots, &sink{a: a, source: source, sweepID: sweepID, bundle: b}, progress)
}

func (a *Agent) scanSink(ctx context.Context, roots []string, s *sink, progress func(scan.Progress)) (scan.SummaryRecord, int64, error) {
	var ms []scan.Matcher
	if s.bundle != nil {
		ms = s.bundle.matchers
	}
	ms = slices.Concat(ms, s.extra)
	opts := a.scanOptions()
	if s.paths != nil {
		// The roots are /proc/PID/exe links to be read through; the
		// scanner opens files without following links otherwise.
		opts.FollowSymlinks = true
	}
	opts.Progress = progress
	sum, err := scan.Run(ctx, roots, opts, ms, func(r scan.Record) { s.emit(ctx, r) })
	if ferr := s.flush(ctx); ferr != nil && err == nil {
		err = ferr
	}
	return sum, s.count, err
}

// scanInterval is the scheduled interval at the current level.
func (a *Agent) scanInterval() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.monitoring == wire.MonitoringHeightened {
		if a.heightened > 0 {
			return a.heightened
		}
		return a.cfg.HeightenedScanInterval
	}
	return a.cfg.ScanInterval
}

// scheduler runs scheduled scans of the scan paths, and on-demand ones
// (scan command, new bundle). The last scan's time is kept, so restarting
// the agent does not restart the interval.
func (a *Agent) scheduler(ctx context.Context) {
	if len(a.cfg.ScanPaths) == 0 {
		return
	}
	var last time.Time
	if _, err := a.st.GetState(ctx, stateLastScan, &last); err != nil {
		a.log.Error("reading last scan time", "err", err)
	}
	for {
		wait := time.Until(last.Add(a.scanInterval()))
		t := time.NewTimer(max(wait, 0))
		source := wire.SourceScheduled
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-a.schedWake: // interval changed: recompute
			t.Stop()
			continue
		case <-a.scanNow:
			source = wire.SourceOnDemand
		case <-t.C:
		}
		t.Stop()
		b := a.currentBundle()
		if b == nil {
			// Nothing to match yet; check again a full interval later
			// (a bundle's arrival triggers a scan itself).
			last = time.Now()
			continue
		}
		sum, n, err := a.scanWith(ctx, a.cfg.ScanPaths, b, source, "", nil)
		if ctx.Err() != nil {
			return
		}
		last = time.Now()
		if perr := a.st.PutState(ctx, stateLastScan, last); perr != nil {
			a.log.Error("storing last scan time", "err", perr)
		}
		attrs := []any{"source", source, "files", sum.Files, "findings", n, "errors", sum.Errors}
		if err != nil {
			attrs = append(attrs, "err", err)
		}
		a.log.Info("scan finished", attrs...)
	}
}

// sweeper runs the sweeps in the store one at a time: those received since
// the last look, and any a restart interrupted.
func (a *Agent) sweeper(ctx context.Context) {
	select {
	case <-a.contacted:
	case <-time.After(firstContactWait):
	case <-ctx.Done():
		return
	}
	for {
		rows, err := a.st.Sweeps(ctx, time.Now())
		if err != nil && ctx.Err() == nil {
			a.log.Error("listing sweeps", "err", err)
		}
		for _, r := range rows {
			if r.status.State == wire.SweepQueued || r.status.State == wire.SweepRunning {
				a.runSweep(ctx, r.sweep)
			}
			if ctx.Err() != nil {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-a.sweepWake:
		}
	}
}

func (a *Agent) sweepStatus(ctx context.Context, st wire.SweepStatus) {
	if err := a.st.UpdateSweep(context.WithoutCancel(ctx), st); err != nil {
		a.log.Error("storing sweep state", "sweep", st.SweepID, "err", err)
	}
	if err := a.send(ctx, &wire.Message{Type: wire.TypeSweepStatus, SweepStatus: &st}); err != nil && !errors.Is(err, errOffline) {
		a.log.Warn("sending sweep status", "sweep", st.SweepID, "err", err)
	}
}

func (a *Agent) resendSweepStatus(ctx context.Context, id string) {
	rows, err := a.st.Sweeps(ctx, time.Now())
	if err != nil {
		return
	}
	for _, r := range rows {
		if r.status.SweepID == id && !r.accepted {
			st := r.status
			if err := a.send(ctx, &wire.Message{Type: wire.TypeSweepStatus, SweepStatus: &st}); err != nil && !errors.Is(err, errOffline) {
				a.log.Warn("sending sweep status", "sweep", id, "err", err)
			}
		}
	}
}

func (a *Agent) runSweep(ctx context.Context, sw wire.Sweep) {
	if sw.Collect != nil {
		a.runCollect(ctx, sw)
		return
	}
	st := wire.SweepStatus{SweepID: sw.SweepID, State: wire.SweepRunning}
	if !sw.ExpiresAt.IsZero() && time.Now().After(sw.ExpiresAt) {
		st.State, st.Error = wire.SweepFailed, "expired before it could run"
		a.sweepStatus(ctx, st)
		return
	}
	b, err := a.cache.get(sw.Bundle)
	if err != nil {
		st.State, st.Error = wire.SweepFailed, err.Error()
		a.sweepStatus(ctx, st)
		return
	}
	a.sweepStatus(ctx, st)
	a.log.Info("sweep started", "sweep", sw.SweepID, "paths", sw.Paths, "pii", sw.PII)
	var lastReport time.Time
	progress := func(p scan.Progress) {
		if time.Since(lastReport) < time.Second {
			return
		}
		lastReport = time.Now()
		a.sweepStatus(ctx, wire.SweepStatus{SweepID: sw.SweepID, State: wire.SweepRunning, Files: p.Files})
	}
	sctx, stopped := a.sweepContext(ctx, sw.SweepID)
	defer stopped()
	if !sw.ExpiresAt.IsZero() {
		var cancel context.CancelFunc
		sctx, cancel = context.WithDeadline(sctx, sw.ExpiresAt)
		defer cancel()
	}
	s := &sink{a: a, source: wire.SourceSweep, sweepID: sw.SweepID, bundle: b}
	if sw.PII {
		m, err := a.piiMatcher()
		if err != nil {
			st.State, st.Error = wire.SweepFailed, err.Error()
			a.sweepStatus(ctx, st)
			return
		}
		s.extra, s.unsearched = []scan.Matcher{m}, &unsearched{}
	}
	sum, n, err := a.scanSink(sctx, sw.Paths, s, progress)
	if ctx.Err() != nil {
		// Shutting down: the sweep stays "running" in the store and
		// starts over at the next start (findings are de-duplicated).
		return
	}
	st.Files, st.Findings = sum.Files, n
	switch {
	case errors.Is(context.Cause(sctx), errSweepCancelled):
		st.State = wire.SweepCancelled
	case err != nil:
		st.State, st.Error = wire.SweepFailed, fmt.Sprintf("sweep: %v", err)
	default:
		st.State = wire.SweepDone
	}
	if s.unsearched != nil {
		st.Error = joinErrors(st.Error, s.unsearched.String())
	}
	// Report the end only once the server has the sweep's findings, so
	// that a sweep shown done on the server shows all its results. While
	// the server is away this waits; a shutdown meanwhile leaves the
	// sweep running, to be run again (de-duplicated) at the next start.
	_, last, berr := a.st.Bounds(ctx)
	if berr == nil {
		berr = a.st.WaitDelivered(ctx, last)
	}
	if berr != nil {
		if ctx.Err() == nil {
			a.log.Error("waiting for sweep findings to be delivered", "sweep", sw.SweepID, "err", berr)
		}
		return
	}
	a.sweepStatus(ctx, st)
	a.log.Info("sweep finished", "sweep", sw.SweepID, "state", st.State, "files", st.Files, "findings", n)
}
