//go:build unix

package collect

import (
	"io/fs"
	"syscall"
)

// fileIdentity returns the device and inode of a file, which stay the same
// while a path is renamed and change when it is replaced.
func fileIdentity(fi fs.FileInfo) (dev, ino uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return uint64(st.Dev), uint64(st.Ino), true
}
