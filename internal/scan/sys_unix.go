//go:build unix

package scan

import (
	"io/fs"
	"os"
	"syscall"
)

func idOf(fi fs.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, true
}

// openFlags opens without blocking, so a FIFO swapped in after the walk cannot
// hang a worker, and without following a final symlink unless asked.
func openFlags(noFollow bool) int {
	flags := os.O_RDONLY | syscall.O_NONBLOCK | syscall.O_CLOEXEC
	if noFollow {
		flags |= syscall.O_NOFOLLOW
	}
	return flags
}
