package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mamori-dev/mamori/internal/pii"
	"github.com/mamori-dev/mamori/internal/scan"
	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/wire"
)

// piiKeyFile holds the key of the subject keys in FileResults, in the
// data directory.
const piiKeyFile = "scope.key"

// piiMatcher is the personal-data matcher of sweeps and collections with
// pii set, built on first use.
func (a *Agent) piiMatcher() (*scope.FileMatcher, error) {
	a.piiOnce.Do(func() {
		key, err := scope.LoadKey(filepath.Join(a.cfg.DataDir, piiKeyFile))
		if err != nil {
			a.piiErr = fmt.Errorf("personal-data discovery: %w", err)
			return
		}
		a.pii = scope.NewFileMatcher(pii.NewMatcher(pii.Options{Reveal: true}), key, "JP")
	})
	return a.pii, a.piiErr
}

// piiFinding turns a FileResult into a finding whose Detail is the record,
// and says how many bytes the record encodes to. Its id is made from the
// file (its own name bytes), content, part and sweep, so that a re-run
// sweep sends each part as the same finding.
func piiFinding(r *scope.FileResult, source, sweepID string, now time.Time) (wire.Finding, int, error) {
	raw, err := json.Marshal(r)
	if err != nil {
		return wire.Finding{}, 0, fmt.Errorf("finding: %w", err)
	}
	var detail map[string]any
	if err := json.Unmarshal(raw, &detail); err != nil {
		return wire.Finding{}, 0, fmt.Errorf("finding: %w", err)
	}
	return wire.Finding{
		ID:     findingID(r.Type, idPath(r.Path, r.PathRaw), r.SHA256, strconv.Itoa(r.Part), sweepID),
		Type:   r.Type,
		Source: source,
		Path:   r.Path,
		SHA256: r.SHA256,
		Size:   r.Size,
		SeenAt: now.UTC(),
		// The sweep id is in the finding's own field.
		SweepID: sweepID,
		Detail:  detail,
	}, len(raw), nil
}

// unsearched counts the files (and archive members) personal-data
// discovery could not search, so that a sweep says so instead of leaving
// them out in silence.
type unsearched struct {
	mu      sync.Mutex
	byWhy   map[string]int
	n       int
	example string
}

// note counts r when it says a file was skipped or could not be read.
func (u *unsearched) note(r scan.Record) {
	var why, what string
	switch r := r.(type) {
	case *pii.Skipped:
		why, what = r.FileType, r.Path
		if r.Member != "" {
			what += "!" + r.Member
		}
		what += ": " + r.Reason
	case *scan.ErrorRecord:
		// Unreadable files, damaged archive members, and files over the
		// size limit, which are hashed only.
		why, what = "error", r.Path+": "+r.Error
		if strings.Contains(r.Error, "exceeds --max-file-size") {
			why = "too large"
		}
	default:
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.byWhy == nil {
		u.byWhy = map[string]int{}
	}
	u.byWhy[why]++
	u.n++
	if u.example == "" {
		u.example = what
	}
}

// String sums them up for the sweep's per-host error, "" when there are
// none.
func (u *unsearched) String() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.n == 0 {
		return ""
	}
	var whys []string
	for w := range u.byWhy {
		whys = append(whys, w)
	}
	slices.Sort(whys)
	for i, w := range whys {
		whys[i] = fmt.Sprintf("%s %d", w, u.byWhy[w])
	}
	return fmt.Sprintf("personal data not searched in %d files or members (%s), e.g. %s", u.n, strings.Join(whys, ", "), u.example)
}

// piiRoots are the paths a collection with pii searches: those it names,
// else the agent's scan paths.
func (a *Agent) piiRoots(sw wire.Sweep) ([]string, error) {
	if len(sw.Paths) > 0 {
		return sw.Paths, nil
	}
	if len(a.cfg.ScanPaths) == 0 {
		return nil, errors.New("personal-data discovery: the collection names no paths and the agent has no scan paths")
	}
	return a.cfg.ScanPaths, nil
}

// collectPII runs personal-data discovery for a collection with pii set;
// it returns the FileResult parts queued and what could not be searched.
func (a *Agent) collectPII(ctx context.Context, sw wire.Sweep) (int64, string, error) {
	roots, err := a.piiRoots(sw)
	if err != nil {
		return 0, "", err
	}
	m, err := a.piiMatcher()
	if err != nil {
		return 0, "", err
	}
	s := &sink{a: a, source: wire.SourceCollector, sweepID: sw.SweepID, extra: []scan.Matcher{m}, unsearched: &unsearched{}}
	_, n, err := a.scanSink(ctx, roots, s, nil)
	return n, s.unsearched.String(), err
}

// maxStatusError bounds the error text of a sweep status.
const maxStatusError = 4000

// joinErrors joins a sweep's error texts, leaving out empty ones, and cuts
// the result to maxStatusError bytes.
func joinErrors(msgs ...string) string {
	msgs = slices.DeleteFunc(slices.Clone(msgs), func(s string) bool { return s == "" })
	s := strings.Join(msgs, "; ")
	if len(s) > maxStatusError {
		s = strings.ToValidUTF8(s[:maxStatusError], "") + "…"
	}
	return s
}
