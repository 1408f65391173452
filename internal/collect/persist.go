package collect

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Persistence item kinds.
const (
	KindCron           = "cron"
	KindSystemd        = "systemd"
	KindShellRC        = "shell_rc"
	KindAuthorizedKeys = "authorized_keys"
)

// Item is one file in a persistence location.
type Item struct {
	Kind    string    `json:"kind"`
	Path    string    `json:"path"`
	Size    int64     `json:"size"`
	Mode    string    `json:"mode"`
	ModTime time.Time `json:"mtime"`
	SHA256  string    `json:"sha256"`
	// Target is set for symbolic links (systemd enables units that way).
	Target string `json:"target,omitempty"`
}

// maxItemSize bounds what is hashed: persistence files are small, and a
// huge file in /etc/cron.d is itself worth reporting but not reading.
const maxItemSize = 16 << 20

// Persistence lists the persistence locations under root ("/" on a live
// host, a fixture tree in tests): /etc/crontab, /etc/cron.d and the
// periodic cron directories, /var/spool/cron, systemd units in
// /etc/systemd/system and each user's ~/.config/systemd/user, system and
// per-user shell start-up files, and each user's ~/.ssh/authorized_keys.
// Homes come from ROOT/etc/passwd plus ROOT/root and ROOT/home/*. Paths in
// the result are as seen on the host (without root). Unreadable or missing
// locations are skipped.
func Persistence(ctx context.Context, root string) ([]Item, error) {
	var items []Item
	add := func(kind, rel string) error {
		return walkItems(ctx, root, rel, kind, &items)
	}
	system := []struct{ kind, path string }{
		{KindCron, "/etc/crontab"},
		{KindCron, "/etc/cron.d"},
		{KindCron, "/etc/cron.hourly"},
		{KindCron, "/etc/cron.daily"},
		{KindCron, "/etc/cron.weekly"},
		{KindCron, "/etc/cron.monthly"},
		{KindCron, "/var/spool/cron"},
		{KindSystemd, "/etc/systemd/system"},
		{KindSystemd, "/etc/systemd/user"},
		{KindShellRC, "/etc/profile"},
		{KindShellRC, "/etc/profile.d"},
		{KindShellRC, "/etc/bash.bashrc"},
		{KindShellRC, "/etc/zsh/zshrc"},
		{KindShellRC, "/etc/environment"},
	}
	for _, s := range system {
		if err := add(s.kind, s.path); err != nil {
			return nil, err
		}
	}
	for _, home := range homes(root) {
		for _, rc := range []string{".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile", ".zshrc", ".zprofile", ".zshenv"} {
			if err := add(KindShellRC, filepath.Join(home, rc)); err != nil {
				return nil, err
			}
		}
		if err := add(KindSystemd, filepath.Join(home, ".config/systemd/user")); err != nil {
			return nil, err
		}
		for _, k := range []string{".ssh/authorized_keys", ".ssh/authorized_keys2"} {
			if err := add(KindAuthorizedKeys, filepath.Join(home, k)); err != nil {
				return nil, err
			}
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Path < items[j].Path })
	// A home listed twice (passwd and /home) yields duplicates.
	out := items[:0]
	for i, it := range items {
		if i > 0 && it.Path == items[i-1].Path {
			continue
		}
		out = append(out, it)
	}
	return out, nil
}

// homes returns host paths of home directories.
func homes(root string) []string {
	set := map[string]bool{"/root": true}
	if f, err := os.Open(filepath.Join(root, "etc/passwd")); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Split(sc.Text(), ":")
			if len(fields) >= 7 && strings.HasPrefix(fields[5], "/") && fields[5] != "/" {
				set[filepath.Clean(fields[5])] = true
			}
		}
		f.Close()
	}
	if ents, err := os.ReadDir(filepath.Join(root, "home")); err == nil {
		for _, e := range ents {
			if e.IsDir() {
				set["/home/"+e.Name()] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for h := range set {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// walkItems adds hostPath (file or directory tree) under root to items.
func walkItems(ctx context.Context, root, hostPath, kind string, items *[]Item) error {
	full := filepath.Join(root, hostPath)
	return filepath.WalkDir(full, func(p string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if err != nil {
			// Missing or unreadable locations are normal (not every host
			// has cron); one bad subtree must not lose the rest.
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		it := Item{Kind: kind, Path: "/" + filepath.ToSlash(rel)}
		fi, err := os.Lstat(p)
		if err != nil {
			return nil
		}
		it.Size, it.Mode, it.ModTime = fi.Size(), fi.Mode().String(), fi.ModTime().UTC()
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			it.Target, _ = os.Readlink(p)
		case fi.Mode().IsRegular():
			it.SHA256, err = hashFile(p)
			if err != nil {
				it.SHA256 = ""
			}
		default:
			return nil
		}
		*items = append(*items, it)
		return nil
	})
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, maxItemSize)); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Change is one difference between two persistence snapshots.
type Change struct {
	Op   string `json:"op"` // "added", "changed" or "removed"
	Item Item   `json:"item"`
}

// Diff reports what changed from before to after, by path; an item whose
// content digest, link target or mode differs counts as changed.
func Diff(before, after []Item) []Change {
	old := make(map[string]Item, len(before))
	for _, it := range before {
		old[it.Path] = it
	}
	var out []Change
	seen := make(map[string]bool, len(after))
	for _, it := range after {
		seen[it.Path] = true
		prev, ok := old[it.Path]
		switch {
		case !ok:
			out = append(out, Change{Op: "added", Item: it})
		case prev.SHA256 != it.SHA256 || prev.Target != it.Target || prev.Mode != it.Mode || prev.Kind != it.Kind:
			out = append(out, Change{Op: "changed", Item: it})
		}
	}
	for _, it := range before {
		if !seen[it.Path] {
			out = append(out, Change{Op: "removed", Item: it})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Item.Path < out[j].Item.Path })
	return out
}
