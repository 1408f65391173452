package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/agent"
	"github.com/mamori-dev/mamori/internal/loadtest"
)

func init() {
	register("loadtest", "load-test a fleet server with simulated agents (loadtest agents -n N ...)", runLoadtest)
}

func runLoadtest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "agents" {
		fmt.Fprintln(stderr, "usage: mamori loadtest agents -n N --server URL --ca FILE --enroll-token TOKEN [flags]")
		return 2
	}
	fs := flag.NewFlagSet("loadtest agents", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		n          = fs.Int("n", 100, "number of simulated agents")
		server     = fs.String("server", "", "server base URL, https://HOST:PORT (required)")
		caFile     = fs.String("ca", "", "PEM file of the fleet CA (required)")
		token      = fs.String("enroll-token", "", "fleet enrolment token (required unless every identity is in --identities)")
		admin      = fs.String("admin-token", "", "admin API token, for round-trip pings and server counters; @FILE reads it from FILE")
		rate       = fs.Float64("findings-rate", 0, "findings per second sent by all agents together")
		batch      = fs.Int("batch", 50, "findings per batch")
		duration   = fs.Duration("duration", 30*time.Second, "length of the measured phase, after all agents connected")
		pingRate   = fs.Float64("ping-rate", 20, "round-trip probes per second during the measured phase")
		heartbeat  = fs.Duration("heartbeat", 0, "heartbeat interval per agent (default: what the server asks for)")
		workers    = fs.Int("workers", 64, "concurrent enrolments and connection attempts")
		identities = fs.String("identities", "", "JSON Lines file keeping enrolled identities across runs")
		prefix     = fs.String("name-prefix", "sim", "simulated host name prefix")
		sources    = fs.Int("source-addrs", 16, "loopback source addresses to spread connections over (server on loopback only)")
		pid        = fs.Int("server-pid", 0, "server process id, to sample its RSS and CPU from /proc")
		jsonOut    = fs.Bool("json", false, "print the report as JSON")
		verbose    = fs.Bool("v", false, "log progress")
	)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usage := func(msg string) int {
		fmt.Fprintf(stderr, "mamori loadtest agents: %s\n", msg)
		fs.Usage()
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return usage(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	case *server == "":
		return usage("--server is required")
	case *caFile == "":
		return usage("--ca is required")
	case *n <= 0:
		return usage("-n must be positive")
	case *token == "" && *identities == "":
		return usage("--enroll-token is required")
	}
	adminToken := *admin
	if f, ok := strings.CutPrefix(adminToken, "@"); ok {
		b, err := os.ReadFile(f)
		if err != nil {
			return usage(fmt.Sprintf("--admin-token: %v", err))
		}
		adminToken = strings.TrimSpace(string(b))
	}
	roots, err := agent.LoadCA(*caFile)
	if err != nil {
		fmt.Fprintf(stderr, "mamori loadtest: %v\n", err)
		return 1
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	rep, err := loadtest.Run(ctx, loadtest.Config{
		ServerURL: *server, Roots: roots, EnrollToken: *token, AdminToken: adminToken,
		Agents: *n, FindingsRate: *rate, Batch: *batch, Duration: *duration, PingRate: *pingRate,
		Heartbeat: *heartbeat, Workers: *workers, IdentityFile: *identities, NamePrefix: *prefix,
		SourceAddrs: *sources, ServerPID: *pid,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		fmt.Fprintf(stderr, "mamori loadtest: %v\n", err)
		return 1
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		fmt.Fprint(stdout, rep.Text())
	}
	if rep.Connected < rep.Agents {
		return 1
	}
	return 0
}
