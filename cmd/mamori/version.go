package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/mamori-dev/mamori/internal/agent"
)

func init() {
	register("version", "print mamori's version, commit and Go version", runVersion)
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: mamori version")
		return 2
	}
	fmt.Fprintln(stdout, versionLine())
	return 0
}

// versionLine is the release, the commit the binary was built from when
// the build recorded one, and the Go version and platform.
func versionLine() string {
	commit := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			commit = " commit " + rev
			if modified == "true" {
				commit += "+modified"
			}
		}
	}
	return fmt.Sprintf("mamori %s%s (%s %s/%s)", agent.Version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
