package scan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// walker finds regular files. It runs in one goroutine; readers do the I/O
// on content, so a slow directory never stalls hashing and vice versa.
type walker struct {
	opts  Options
	jobs  chan<- job
	emit  func(Record)
	stats *counters
	// active holds the directories on the current descent path (by device
	// and inode) to recognise symlink loops; seen holds every directory
	// entered so a tree reachable through two links is scanned once.
	active map[fileID]bool
	seen   map[fileID]bool
	rootFS uint64
}

type fileID struct{ dev, ino uint64 }

// walkRoot scans one command-line path. Like find -H, a root that is itself
// a symlink is followed: the responder named it explicitly.
func (w *walker) walkRoot(ctx context.Context, root string) {
	path, err := absClean(root)
	if err != nil {
		w.emit(NewError(root, err))
		return
	}
	fi, err := os.Stat(path)
	if err != nil {
		w.emit(NewError(path, err))
		return
	}
	w.active = map[fileID]bool{}
	if w.seen == nil {
		w.seen = map[fileID]bool{}
	}
	if id, ok := idOf(fi); ok {
		w.rootFS = id.dev
	}
	w.visit(ctx, path, fi, true)
}

func (w *walker) excluded(path string) bool {
	base := filepath.Base(path)
	for _, g := range w.opts.Exclude {
		if ok, _ := filepath.Match(g, base); ok {
			return true
		}
		if ok, _ := filepath.Match(g, path); ok {
			return true
		}
	}
	return false
}

// visit handles one path whose (already symlink-resolved where intended)
// info is fi.
func (w *walker) visit(ctx context.Context, path string, fi fs.FileInfo, root bool) {
	if ctx.Err() != nil {
		return
	}
	if w.excluded(path) {
		return
	}
	switch {
	case fi.Mode().IsRegular():
		id, hasID := idOf(fi)
		if w.opts.OneFileSystem && hasID && id.dev != w.rootFS {
			return // a followed symlink may lead off the file system
		}
		w.stats.queuedFiles.Add(1)
		w.stats.queuedBytes.Add(fi.Size())
		select {
		case w.jobs <- job{path: path, size: fi.Size(), id: id, hasID: hasID, root: root}:
		case <-ctx.Done():
		}
	case fi.IsDir():
		w.dir(ctx, path, fi)
	default:
		// FIFOs, sockets and devices hold no file content worth scanning,
		// and opening a FIFO would block the scan.
	}
}

func (w *walker) dir(ctx context.Context, path string, fi fs.FileInfo) {
	id, hasID := idOf(fi)
	if hasID {
		if w.opts.OneFileSystem && id.dev != w.rootFS {
			return
		}
		if w.active[id] {
			w.emit(NewError(path, errors.New("symlink loop: directory is its own ancestor; not descending")))
			return
		}
		if w.seen[id] {
			return
		}
		w.active[id] = true
		w.seen[id] = true
		defer delete(w.active, id)
	}
	entries, err := readDir(path, w.opts.FollowSymlinks)
	if err != nil && len(entries) == 0 {
		w.emit(NewError(path, fmt.Errorf("read directory: %w", err)))
		return
	}
	if err != nil {
		w.emit(NewError(path, fmt.Errorf("read directory (partly): %w", err)))
	}
	for _, e := range entries {
		if e.symlink && !w.opts.FollowSymlinks {
			continue
		}
		child := filepath.Join(path, e.name)
		if e.err != nil {
			w.emit(NewError(child, e.err))
			continue
		}
		w.visit(ctx, child, e.info, false)
	}
}

// dirEntry is one name in a directory with what the walker needs of it: its
// lstat information, or its target's when it is a symlink to be followed.
type dirEntry struct {
	name    string
	symlink bool
	info    fs.FileInfo
	err     error
}
