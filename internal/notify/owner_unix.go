//go:build unix

package notify

import (
	"errors"
	"syscall"
)

func processGone(pid int) bool { return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) }
