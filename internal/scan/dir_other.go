//go:build !linux

package scan

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// openPath, lstatPath and readDir take the plain path routes here: only the
// Linux build resolves paths longer than PATH_MAX through descriptors.
func openPath(path string, flag int) (*os.File, error) { return os.OpenFile(path, flag, 0) }

func lstatPath(path string) (fs.FileInfo, error) { return os.Lstat(path) }

func readDir(path string, follow bool) ([]dirEntry, error) {
	entries, err := os.ReadDir(path)
	out := make([]dirEntry, 0, len(entries))
	for _, d := range entries {
		e := dirEntry{name: d.Name()}
		if d.Type()&fs.ModeSymlink != 0 {
			e.symlink = true
			if follow {
				e.info, e.err = os.Stat(filepath.Join(path, d.Name()))
				if e.err != nil {
					e.err = fmt.Errorf("follow symlink: %w", e.err)
				}
			}
		} else {
			e.info, e.err = d.Info()
			if errors.Is(e.err, fs.ErrNotExist) {
				e.err = fmt.Errorf("vanished during the walk: %w", e.err)
			}
		}
		out = append(out, e)
	}
	return out, err
}
