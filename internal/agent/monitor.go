package agent

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/mamori-dev/mamori/internal/collect"
	"github.com/mamori-dev/mamori/internal/wire"
)

// debounce is how long a changed file must stay quiet before it is
// scanned: a file being written arrives as a burst of events.
const debounce = 200 * time.Millisecond

// monitor runs the heightened-mode work (file watcher and collectors)
// while the level is heightened, and stops it when it drops to normal.
func (a *Agent) monitor(ctx context.Context) {
	var (
		stop func()
		wg   sync.WaitGroup
	)
	defer func() {
		if stop != nil {
			stop()
			wg.Wait()
		}
	}()
	for {
		on := a.level() == wire.MonitoringHeightened
		switch {
		case on && stop == nil:
			hctx, cancel := context.WithCancel(ctx)
			stop = cancel
			wg.Add(2)
			go func() { defer wg.Done(); a.watch(hctx) }()
			go func() { defer wg.Done(); a.collectLoop(hctx) }()
			a.log.Info("heightened monitoring started")
		case !on && stop != nil:
			stop()
			wg.Wait()
			stop = nil
			a.log.Info("heightened monitoring stopped")
		}
		select {
		case <-ctx.Done():
			return
		case <-a.monWake:
		}
	}
}

// watch scans files created or changed under the scan paths as soon as
// they settle, with the current bundle (source "live").
func (a *Agent) watch(ctx context.Context) {
	if len(a.cfg.ScanPaths) == 0 {
		return
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		a.log.Error("file watcher", "err", err)
		return
	}
	defer w.Close()
	addTree := func(root string) {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			if p == a.cfg.DataDir {
				return filepath.SkipDir
			}
			if err := w.Add(p); err != nil {
				a.log.Warn("watching directory", "path", p, "err", err)
			}
			return nil
		})
	}
	for _, root := range a.cfg.ScanPaths {
		addTree(root)
	}
	pending := map[string]time.Time{}
	tick := time.NewTicker(debounce / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			a.log.Warn("file watcher", "err", err)
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Write) {
				continue
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
					// A new directory: watch it, and catch files made
					// in it before the watch was in place.
					addTree(ev.Name)
					filepath.WalkDir(ev.Name, func(p string, d fs.DirEntry, err error) error {
						if err == nil && d.Type().IsRegular() {
							pending[p] = time.Now()
						}
						return nil
					})
					continue
				}
			}
			pending[ev.Name] = time.Now()
		case now := <-tick.C:
			var ready []string
			for p, t := range pending {
				if now.Sub(t) >= debounce {
					ready = append(ready, p)
					delete(pending, p)
				}
			}
			if len(ready) == 0 {
				continue
			}
			b := a.currentBundle()
			if b == nil {
				continue
			}
			_, n, err := a.scanWith(ctx, ready, b, wire.SourceLive, "", nil)
			if err != nil && ctx.Err() == nil {
				a.log.Warn("live scan", "err", err)
			}
			if n > 0 {
				a.log.Warn("live detection", "files", len(ready), "findings", n)
			}
		}
	}
}

// collectLoop runs the collectors every CollectInterval. The first pass is
// the baseline; later passes report what is new: executables started,
// listening sockets and remote peers, persistence entries added, changed
// or removed. Every new executable is also scanned with the bundle.
func (a *Agent) collectLoop(ctx context.Context) {
	c := &collector{a: a, hasher: collect.NewHasher()}
	t := time.NewTicker(a.cfg.CollectInterval)
	defer t.Stop()
	for {
		if err := c.pass(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("collectors", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type collector struct {
	a        *Agent
	hasher   *collect.Hasher
	baseline bool
	exes     map[string]bool // sha256 of executables seen
	conns    map[string]bool // connection keys seen
	persist  []collect.Item
	// scanned remembers (bundle digest, exe digest) pairs already matched.
	scanned map[[2]string]bool
}

// pass runs each collector once and queues the events it yields.
func (c *collector) pass(ctx context.Context) error {
	a := c.a
	now := time.Now()
	var events []wire.Finding
	event := func(kind, path, sha string, key string, detail map[string]any) {
		events = append(events, wire.Finding{
			ID: findingID(kind, key), Type: kind, Source: wire.SourceCollector,
			Path: path, SHA256: sha, SeenAt: now.UTC(), Detail: detail,
		})
	}

	procs, err := collect.Processes(ctx, a.procRoot, c.hasher)
	if err != nil {
		return err
	}
	b := a.currentBundle()
	var toScan []string
	exePaths := map[string]string{}
	exes := map[string]bool{}
	for _, p := range procs {
		if p.SHA256 == "" {
			continue
		}
		if c.baseline && !c.exes[p.SHA256] && !exes[p.SHA256] {
			event("process", p.Exe, p.SHA256, p.SHA256, map[string]any{
				"pid": p.PID, "ppid": p.PPID, "uid": p.UID, "comm": p.Comm, "cmdline": p.Cmdline, "deleted": p.Deleted,
			})
		}
		exes[p.SHA256] = true
		if b != nil && !c.scanned[[2]string{b.digest, p.SHA256}] {
			if c.scanned == nil {
				c.scanned = map[[2]string]bool{}
			}
			c.scanned[[2]string{b.digest, p.SHA256}] = true
			// Through /proc/PID/exe, so a deleted binary is still read.
			link := filepath.Join(a.procRoot, strconv.Itoa(p.PID), "exe")
			toScan = append(toScan, link)
			exePaths[link] = p.Exe
		}
	}
	for h := range exes {
		if c.exes == nil {
			c.exes = map[string]bool{}
		}
		c.exes[h] = true
	}
	if len(toScan) > 0 {
		if _, _, err := a.scanSink(ctx, toScan, &sink{a: a, source: wire.SourceCollector, bundle: b, paths: exePaths}, nil); err != nil {
			return err
		}
	}

	conns, err := collect.Connections(ctx, a.procRoot)
	if err != nil {
		return err
	}
	listening := map[uint16]bool{}
	for _, cn := range conns {
		if cn.State == "LISTEN" {
			listening[cn.Local.Port()] = true
		}
	}
	for _, cn := range conns {
		var key string
		switch {
		case cn.State == "LISTEN" || cn.State == "UNCONNECTED":
			key = cn.Proto + " listen " + cn.Local.String() + " " + cn.Comm
		case cn.State != "ESTABLISHED" && cn.State != "SYN_SENT" && cn.State != "CONNECTED":
			continue
		case listening[cn.Local.Port()]:
			// Inbound: the client's port is ephemeral; a new client
			// address on a service is what is new.
			key = cn.Proto + " in :" + strconv.Itoa(int(cn.Local.Port())) + " from " + cn.Remote.Addr().String() + " " + cn.Comm
		default:
			// Outbound: the local port is ephemeral; the peer and the
			// process are what is new.
			key = cn.Proto + " out " + cn.Remote.String() + " " + cn.Comm
		}
		if c.conns == nil {
			c.conns = map[string]bool{}
		}
		if c.baseline && !c.conns[key] {
			event("connection", "", "", key, map[string]any{
				"proto": cn.Proto, "local": cn.Local.String(), "remote": cn.Remote.String(),
				"state": cn.State, "pid": cn.PID, "comm": cn.Comm, "uid": cn.UID,
			})
		}
		c.conns[key] = true
	}

	items, err := collect.Persistence(ctx, a.fsRoot)
	if err != nil {
		return err
	}
	if c.baseline {
		for _, ch := range collect.Diff(c.persist, items) {
			event("persistence", ch.Item.Path, ch.Item.SHA256, ch.Op+" "+ch.Item.Path+" "+ch.Item.SHA256+" "+ch.Item.Target, map[string]any{
				"op": ch.Op, "kind": ch.Item.Kind, "mode": ch.Item.Mode, "mtime": ch.Item.ModTime, "target": ch.Item.Target, "size": ch.Item.Size,
			})
		}
	}
	c.persist = items
	c.baseline = true
	return a.st.Enqueue(context.WithoutCancel(ctx), events)
}
