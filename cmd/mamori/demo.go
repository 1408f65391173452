package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/mamori-dev/mamori/internal/demo"
)

func init() {
	register("demo", "play a whole breach on this machine: detection to the last notice", runDemo)
}

const demoUsage = `usage: mamori demo [--dir DIR] [--keep] [--listen 127.0.0.1:PORT] [--agents N] [--people N] [--seed N]

Starts a real mamori server (SQLite), N real agents each with a directory tree
standing for a corporate PC, and an SMTP sink, all on loopback, then plays a
breach through the real API and commands: malware found, PCs isolated
(simulated: this machine is never cut off), the fleet watched, the evidence
collected and analysed, the agents asked for the personal data on the two PCs
and the server's register of the affected customers built (the files taken
marked exfiltrated from the evidence), the legal duties judged from it and
the PPC report drafted, every customer in it notified, and the audit log
verified.

Exit status: 0 the scenario completed, 1 a step failed, 2 usage error.

flags:
`

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, demoUsage)
		fs.PrintDefaults()
	}
	var (
		dir    = fs.String("dir", "", "keep the demo's files in `DIR` (default: a temporary directory, removed at the end)")
		keep   = fs.Bool("keep", false, "keep the server, agents and console running after the scenario, until Ctrl-C")
		listen = fs.String("listen", "127.0.0.1:0", "server address (loopback only)")
		agents = fs.Int("agents", 5, "number of simulated corporate PCs (at least 2)")
		people = fs.Int("people", 1200, "customers whose data the PCs hold (1,200 crosses APPI's 1,000-person line)")
		seed   = fs.Uint64("seed", 1, "seed of the generated data")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mamori demo: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *agents < 2 || *people < 1 {
		fmt.Fprintln(stderr, "mamori demo: --agents must be at least 2 and --people at least 1")
		return 2
	}
	_, err := demo.Run(ctx, demo.Config{Dir: *dir, Keep: *keep, Listen: *listen, Agents: *agents, People: *people, Seed: *seed,
		Capabilities: capabilities, Run: run, Out: stdout})
	if err != nil {
		fmt.Fprintln(stderr, "mamori demo:", err)
		return 1
	}
	return 0
}
