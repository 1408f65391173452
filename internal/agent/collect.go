package agent

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/collect"
	"github.com/mamori-dev/mamori/internal/hunt"
	"github.com/mamori-dev/mamori/internal/logevent"
	"github.com/mamori-dev/mamori/internal/logs"
	"github.com/mamori-dev/mamori/internal/sigma"
	"github.com/mamori-dev/mamori/internal/timeline"
	"github.com/mamori-dev/mamori/internal/wire"
)

// DefaultLogPaths are the logs an incident collection reads when the agent
// is given none: the Linux auth, system, audit and web server logs, and
// the shell histories of root and every home directory (globs).
var DefaultLogPaths = []string{
	"/var/log/auth.log*", "/var/log/secure*", "/var/log/syslog*", "/var/log/messages*",
	"/var/log/audit/audit.log*", "/var/log/apache2/access.log*", "/var/log/nginx/access.log*", "/var/log/httpd/access_log*",
	"/root/.bash_history", "/root/.zsh_history", "/home/*/.bash_history", "/home/*/.zsh_history",
}

// defaultMaxEvents caps a host's log and file events in one collection.
const defaultMaxEvents = 200000

// maxHashSize bounds the files a collection hashes.
const maxHashSize = 64 << 20

// archiveExts are the archives whose creation in the window is evidence.
var archiveExts = []string{".zip", ".7z", ".rar", ".tar", ".gz", ".tgz", ".bz2", ".xz"}

// collection is one run of an incident collection on this host.
type collection struct {
	a      *Agent
	spec   wire.Collect
	kinds  map[string]bool
	sink   *sink
	sigma  *sigma.Matcher
	max    int
	events int // log and file events sent, against max
	capped bool
	sent   int64
}

// runCollect carries out a sweep that collects for an incident. Every event
// becomes a finding of type "timeline" whose id is derived from the event,
// so a collection run again after a crash or restart sends nothing twice.
func (a *Agent) runCollect(ctx context.Context, sw wire.Sweep) {
	spec := *sw.Collect
	st := wire.SweepStatus{SweepID: sw.SweepID, State: wire.SweepRunning}
	a.sweepStatus(ctx, st)
	a.log.Info("collection started", "sweep", sw.SweepID, "incident", spec.IncidentID, "from", spec.From, "to", spec.To, "pii", sw.PII)
	c := &collection{a: a, spec: spec, kinds: map[string]bool{}, max: spec.MaxEvents,
		sink: &sink{a: a, source: wire.SourceCollector, sweepID: sw.SweepID}}
	if c.max <= 0 {
		c.max = defaultMaxEvents
	}
	for _, k := range spec.Kinds {
		c.kinds[k] = true
	}
	cctx := ctx
	if !sw.ExpiresAt.IsZero() {
		var cancel context.CancelFunc
		cctx, cancel = context.WithDeadline(ctx, sw.ExpiresAt)
		defer cancel()
	}
	errs := c.run(cctx)
	if sw.PII {
		n, note, err := a.collectPII(cctx, sw)
		c.sent += n
		if err != nil && cctx.Err() == nil {
			errs = append(errs, err)
		}
		if note != "" {
			errs = append(errs, errors.New(note))
		}
	}
	if cctx.Err() != nil && ctx.Err() == nil {
		// The readers stop quietly on their context; without this the
		// host would look complete.
		errs = append(errs, fmt.Errorf("stopped at the collection's expiry %s: later events were not read", sw.ExpiresAt.UTC().Format(time.RFC3339)))
	}
	if ferr := c.sink.flush(ctx); ferr != nil {
		errs = append(errs, ferr)
	}
	if ctx.Err() != nil {
		return // shutting down: the collection runs again at the next start
	}
	st.Files, st.Findings = c.sent, c.sent
	st.State = wire.SweepDone
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	if c.capped {
		msgs = append(msgs, fmt.Sprintf("event cap of %d reached: later log and file events were not sent (Sigma hits and snapshots were)", c.max))
	}
	st.Error = joinErrors(msgs...)
	_, last, berr := a.st.Bounds(ctx)
	if berr == nil {
		berr = a.st.WaitDelivered(ctx, last)
	}
	if berr != nil {
		return
	}
	a.sweepStatus(ctx, st)
	a.log.Info("collection finished", "sweep", sw.SweepID, "events", c.sent, "capped", c.capped)
}

func (c *collection) want(kind string) bool { return len(c.kinds) == 0 || c.kinds[kind] }

func (c *collection) inWindow(t time.Time) bool {
	return !t.Before(c.spec.From) && !t.After(c.spec.To)
}

// emit queues one event. Capped events (log and file events past the cap)
// are dropped; hits and snapshots always go.
func (c *collection) emit(ctx context.Context, ev timeline.Event, capped bool) {
	if capped {
		if c.events >= c.max {
			c.capped = true
			return
		}
		c.events++
	}
	ev.Host = c.a.id.AgentID
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	var detail map[string]any
	if json.Unmarshal(b, &detail) != nil {
		return
	}
	id := findingID("timeline", c.spec.IncidentID, ev.Kind, ev.Ref, ev.Time.UTC().Format(time.RFC3339Nano), ev.Summary, ev.Rule)
	f := wire.Finding{ID: id, Type: "timeline", Source: wire.SourceCollector, Rule: ev.Rule, SeenAt: time.Now().UTC(),
		SweepID: c.sink.sweepID, Detail: detail}
	c.sink.mu.Lock()
	c.sink.buf = append(c.sink.buf, f)
	full := len(c.sink.buf) >= sinkBatch
	if full {
		c.sink.flushLocked(ctx)
	}
	c.sink.mu.Unlock()
	c.sent++
}

func (c *collection) run(ctx context.Context) []error {
	var errs []error
	if c.want(wire.CollectLogs) {
		errs = append(errs, c.logs(ctx)...)
	}
	if c.want(wire.CollectProcesses) {
		if err := c.processes(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if c.want(wire.CollectConnections) {
		if err := c.connections(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if c.want(wire.CollectPersistence) {
		if err := c.persistence(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if c.want(wire.CollectFiles) || c.want(wire.CollectArchives) {
		errs = append(errs, c.files(ctx)...)
	}
	return errs
}

// logFiles expands the configured log globs, adds .evtx files under the
// scan paths, and keeps each file once.
func (c *collection) logFiles() []string {
	var out []string
	if c.a.cfg.LogPaths == nil {
		for _, g := range DefaultLogPaths {
			ms, _ := filepath.Glob(filepath.Join(c.a.fsRoot, g))
			out = append(out, ms...)
		}
	}
	for _, g := range c.a.cfg.LogPaths {
		ms, _ := filepath.Glob(g)
		out = append(out, ms...)
	}
	for _, root := range c.a.cfg.ScanPaths {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && strings.EqualFold(filepath.Ext(p), ".evtx") {
				out = append(out, p)
			}
			return nil
		})
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (c *collection) logs(ctx context.Context) []error {
	if c.sigma == nil {
		c.sigma = hunt.DefaultRules(sigma.Options{}).NewMatcher()
	}
	var errs []error
	files := c.logFiles()
	if path, err := c.journal(ctx); err == nil && path != "" {
		defer os.Remove(path)
		files = append(files, path)
	} else if err != nil {
		errs = append(errs, err)
	}
	for _, p := range files {
		fi, err := os.Stat(p)
		// A log last written before the window holds nothing in it.
		if err != nil || fi.ModTime().Before(c.spec.From) {
			continue
		}
		_, err = logs.ReadFile(ctx, p, func(e *logevent.Event) error {
			if !e.Time.IsZero() && !c.inWindow(e.Time) {
				return nil
			}
			ev := timeline.FromLog(c.a.id.AgentID, e)
			for _, h := range c.sigma.Match(e) {
				if h.Rule.Suppressed() || h.Rule.Correlated() && h.Rule.Level == "" {
					continue
				}
				hit := ev
				hit.Kind, hit.Level, hit.Rule = "sigma", h.Rule.Level, h.Rule.Title
				hit.Summary = h.Rule.Title + ": " + ev.Summary
				hit.Fields = map[string]string{"rule_id": h.Rule.ID, "tags": strings.Join(h.Rule.Tags, ",")}
				for k, v := range ev.Fields {
					hit.Fields[k] = v
				}
				for _, t := range h.Rule.Tags {
					if strings.HasPrefix(t, "attack.t") {
						hit.Technique = strings.ToUpper(strings.TrimPrefix(t, "attack."))
						break
					}
				}
				c.emit(ctx, hit, false)
			}
			c.emit(ctx, ev, true)
			return ctx.Err()
		}, func(err error) {})
		if err != nil && ctx.Err() == nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
		}
		if ctx.Err() != nil {
			return errs
		}
	}
	return errs
}

// journal writes the journal of the window as JSON lines to a temporary
// file, when this host has journalctl; "" when it has not.
func (c *collection) journal(ctx context.Context) (string, error) {
	if c.a.cfg.LogPaths != nil || (c.a.fsRoot != "" && c.a.fsRoot != "/") {
		// Logs named explicitly are all that is read, and a test's
		// fixture tree has no journal.
		return "", nil
	}
	jc, err := exec.LookPath("journalctl")
	if err != nil {
		return "", nil
	}
	f, err := os.CreateTemp(c.a.cfg.DataDir, "journal-*.jsonl")
	if err != nil {
		return "", fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	cmd := exec.CommandContext(ctx, jc, "-o", "json", "--no-pager", "--utc",
		"--since", c.spec.From.UTC().Format("2006-01-02 15:04:05"), "--until", c.spec.To.UTC().Format("2006-01-02 15:04:05"))
	cmd.Stdout = f
	if err := cmd.Run(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("journalctl: %w", err)
	}
	return f.Name(), nil
}

func (c *collection) processes(ctx context.Context) error {
	ps, err := collect.Processes(ctx, c.a.procRoot, collect.NewHasher())
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	for _, p := range ps {
		ev := timeline.Event{Time: now, Source: timeline.SourceCollector, Kind: "process", Ref: fmt.Sprintf("process:%d", p.PID),
			Summary: fmt.Sprintf("running: %s (pid %d)", strings.Join(p.Cmdline, " "), p.PID),
			Fields: map[string]string{"image": p.Exe, "command_line": strings.Join(p.Cmdline, " "), "pid": fmt.Sprint(p.PID),
				"ppid": fmt.Sprint(p.PPID), "uid": fmt.Sprint(p.UID), "sha256": p.SHA256}}
		if p.Deleted {
			ev.Fields["deleted"] = "true"
		}
		c.emit(ctx, ev, false)
	}
	return nil
}

func (c *collection) connections(ctx context.Context) error {
	cs, err := collect.Connections(ctx, c.a.procRoot)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	for _, cn := range cs {
		if !cn.Remote.IsValid() || cn.Remote.Addr().IsUnspecified() {
			continue
		}
		c.emit(ctx, timeline.Event{Time: now, Source: timeline.SourceCollector, Kind: "connection", Ref: "connection:" + cn.Key(),
			Summary: fmt.Sprintf("%s %s → %s %s (%s)", cn.Proto, cn.Local, cn.Remote, cn.State, cn.Comm),
			Fields: map[string]string{"remote_ip": cn.Remote.Addr().String(), "remote_port": fmt.Sprint(cn.Remote.Port()),
				"local": cn.Local.String(), "state": cn.State, "process": cn.Comm, "pid": fmt.Sprint(cn.PID)}}, false)
	}
	return nil
}

func (c *collection) persistence(ctx context.Context) error {
	items, err := collect.Persistence(ctx, c.a.fsRoot)
	if err != nil {
		return err
	}
	for _, it := range items {
		if !c.inWindow(it.ModTime) {
			continue
		}
		c.emit(ctx, timeline.Event{Time: it.ModTime.UTC(), Source: timeline.SourceCollector, Kind: "persistence", Ref: "persistence:" + it.Path,
			Summary: fmt.Sprintf("%s changed: %s", it.Kind, it.Path),
			Fields:  map[string]string{"path": it.Path, "kind": it.Kind, "sha256": it.SHA256}}, false)
	}
	return nil
}

// files reports file activity in the window under the scan paths, and the
// archives made in it with their member lists.
func (c *collection) files(ctx context.Context) []error {
	var errs []error
	for _, root := range c.a.cfg.ScanPaths {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return nil
			}
			times := fileTimes(fi)
			var when, made time.Time
			var action string
			for _, t := range times {
				if c.inWindow(t.at) && (when.IsZero() || t.at.Before(when)) {
					when, action = t.at, t.action
				}
				if t.action != "accessed" && c.inWindow(t.at) && (made.IsZero() || t.at.Before(made)) {
					made = t.at
				}
			}
			if when.IsZero() {
				return nil
			}
			sum := ""
			if fi.Size() <= maxHashSize {
				sum, _ = hashFile(p)
			}
			if c.want(wire.CollectArchives) && isArchive(p) && !made.IsZero() {
				members, err := archiveMembers(p)
				ev := timeline.Event{Time: made.UTC(), Source: timeline.SourceCollector, Kind: "archive", Ref: "file:" + p,
					Summary: fmt.Sprintf("archive %s made with %d members", p, len(members)),
					Fields: map[string]string{"path": p, "members": strings.Join(members, "\n"), "count": fmt.Sprint(len(members)),
						"size": fmt.Sprint(fi.Size()), "sha256": sum}}
				if err != nil {
					ev.Fields["members_error"] = err.Error()
				}
				c.emit(ctx, ev, false)
			}
			if c.want(wire.CollectFiles) {
				c.emit(ctx, timeline.Event{Time: when.UTC(), Source: timeline.SourceCollector, Kind: "file", Ref: "file:" + p,
					Summary: fmt.Sprintf("file %s: %s", action, p),
					Fields:  map[string]string{"path": p, "action": action, "size": fmt.Sprint(fi.Size()), "sha256": sum}}, true)
			}
			return nil
		})
		if err != nil && ctx.Err() == nil {
			errs = append(errs, fmt.Errorf("files under %s: %w", root, err))
		}
	}
	return errs
}

func isArchive(p string) bool {
	return slices.Contains(archiveExts, strings.ToLower(filepath.Ext(p)))
}

// archiveMembers lists an archive's members: zip and tar (plain or gzip)
// are read; for other formats the list is empty.
func archiveMembers(p string) ([]string, error) {
	lower := strings.ToLower(p)
	switch {
	case strings.HasSuffix(lower, ".zip"):
		zr, err := zip.OpenReader(p)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		var out []string
		for _, f := range zr.File {
			if !f.FileInfo().IsDir() {
				out = append(out, f.Name)
			}
		}
		return out, nil
	case strings.HasSuffix(lower, ".tar"), strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"):
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		var r io.Reader = f
		if !strings.HasSuffix(lower, ".tar") {
			gz, err := gzip.NewReader(f)
			if err != nil {
				return nil, err
			}
			defer gz.Close()
			r = gz
		}
		tr := tar.NewReader(r)
		var out []string
		for len(out) < 100000 {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return out, err
			}
			if h.Typeflag == tar.TypeReg {
				out = append(out, h.Name)
			}
		}
		return out, nil
	}
	return nil, nil
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
