//go:build linux

package agent

import (
	"io/fs"
	"syscall"
	"time"
)

type fileTime struct {
	at     time.Time
	action string
}

// fileTimes returns when a file was modified, changed (created, on file
// systems without a birth time in stat) and last read. Access times are
// only as good as the mount's atime policy (relatime updates them at most
// daily), which the collection cannot improve on.
func fileTimes(fi fs.FileInfo) []fileTime {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return []fileTime{{fi.ModTime(), "modified"}}
	}
	return []fileTime{
		{time.Unix(st.Ctim.Sec, st.Ctim.Nsec), "created"},
		{fi.ModTime(), "modified"},
		{time.Unix(st.Atim.Sec, st.Atim.Nsec), "accessed"},
	}
}
