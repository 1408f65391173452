//go:build !linux

package agent

import (
	"io/fs"
	"time"
)

type fileTime struct {
	at     time.Time
	action string
}

// fileTimes has only the modification time on this system.
func fileTimes(fi fs.FileInfo) []fileTime { return []fileTime{{fi.ModTime(), "modified"}} }
