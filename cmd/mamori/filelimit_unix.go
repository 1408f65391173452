//go:build unix

package main

import "syscall"

// fileLimitMargin is the descriptors a server needs besides one per agent:
// the database, API clients, enrolments.
const fileLimitMargin = 1000

// raiseFileLimit lifts the open-file limit as far as allowed, since every
// agent connection is a descriptor, and returns the limit now in force.
func raiseFileLimit() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	want := lim
	want.Cur = max(lim.Max, 1<<20)
	want.Max = want.Cur
	// Raising the hard limit needs privilege; without it settle for it.
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		want.Cur, want.Max = lim.Max, lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want)
	}
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	return uint64(lim.Cur)
}
