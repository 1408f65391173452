package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"time"

	"github.com/mamori-dev/mamori/internal/server"
)

func init() {
	register("server", "run the fleet server: CA and enrolment, agent gateway, API", runServer)
}

// capabilities are the server's parts beyond the fleet (incidents, audit,
// ...). Each capability's subcommand file appends its constructor in an
// init function, as subcommands register themselves, so adding one edits
// no shared file:
//
//	func init() { capabilities = append(capabilities, incident.Capability) }
var capabilities []server.CapabilityFunc

func runServer(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mamori server --data DIR --listen HOST:PORT [--db URL] [--san NAME|IP]...")
		fs.PrintDefaults()
	}
	var cfg server.Config
	var sans multiFlag
	var verbose bool
	var policy server.Policy
	var policyTags multiFlag
	fs.StringVar(&cfg.DataDir, "data", "", "data `DIR`: CA, tokens and the SQLite database (created on first start)")
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:8443", "`HOST:PORT` to serve the API and the agent gateway on (TLS)")
	fs.StringVar(&cfg.DB, "db", "", "database: postgres://… `URL`, or a SQLite path (default DIR/mamori.db)")
	fs.Var(&sans, "san", "extra DNS `NAME` or IP for the server certificate (repeatable)")
	fs.DurationVar(&cfg.Heartbeat, "heartbeat", 15*time.Second, "agent heartbeat interval")
	fs.DurationVar(&cfg.ScanInterval, "scan-interval", time.Hour, "scheduled scan interval at monitoring level normal")
	fs.DurationVar(&cfg.HeightenedScanInterval, "heightened-scan-interval", 5*time.Minute, "scheduled scan interval at monitoring level heightened")
	fs.DurationVar(&cfg.SweepTTL, "sweep-ttl", 24*time.Hour, "how long a sweep waits for offline hosts")
	fs.Float64Var(&policy.Threshold, "auto-isolate-score", 0, "isolate a host when a rule with meta score/severity at least this matches (0: off)")
	fs.Var(&policyTags, "auto-isolate-tag", "isolate a host when a rule with this `TAG` matches (repeatable)")
	iso := server.IsolationPolicy{}
	var resolvers multiFlag
	fs.BoolVar(&iso.AllowDNS, "isolate-allow-dns", true, "let isolated hosts query DNS (their own resolvers, or --isolate-resolver)")
	fs.Var(&resolvers, "isolate-resolver", "DNS resolver `IP` isolated hosts may query (repeatable)")
	fs.BoolVar(&iso.AllowDHCP, "isolate-allow-dhcp", true, "let isolated hosts use DHCP")
	memLimit := sizeFlag(1792 << 20)
	fs.Var(&memLimit, "memory-limit", "soft memory `SIZE` the Go runtime keeps the server under by collecting garbage sooner (GOMEMLIMIT overrides)")
	expectAgents := fs.Uint("expect-agents", 1000, "how many agents will connect, to warn when the open-file limit is too low for them")
	fs.BoolVar(&verbose, "v", false, "log debug messages")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if cfg.DataDir == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	cfg.SANs = sans
	iso.Resolvers = resolvers
	for _, r := range resolvers {
		if net.ParseIP(r) == nil {
			fmt.Fprintf(stderr, "mamori server: --isolate-resolver %q is not an IP address\n", r)
			return 2
		}
	}
	cfg.Isolation = &iso
	if w := fileLimitWarning(raiseFileLimit(), *expectAgents); w != "" {
		fmt.Fprintln(stderr, w)
	}
	// Idle connections hold little live memory but the default GC pacing
	// lets garbage double the heap; a soft limit trades some CPU for a
	// bounded RSS with 20,000 agents connected.
	if os.Getenv("GOMEMLIMIT") == "" && memLimit > 0 {
		debug.SetMemoryLimit(int64(memLimit))
	}
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.Capabilities = capabilities
	srv, err := server.New(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "mamori server: %v\n", err)
		return 1
	}
	if policy.Threshold > 0 || len(policyTags) > 0 {
		policy.Enabled, policy.Tags = true, policyTags
		if err := srv.SetPolicy(server.WithActor(ctx, "server-flags"), policy); err != nil {
			fmt.Fprintf(stderr, "mamori server: %v\n", errors.Join(err, srv.Close()))
			return 1
		}
	}
	if err := srv.Listen(); err != nil {
		fmt.Fprintf(stderr, "mamori server: %v\n", errors.Join(err, srv.Close()))
		return 1
	}
	fmt.Fprintf(stdout, "mamori server listening on %s\n", srv.URL())
	if err := srv.Serve(ctx); err != nil {
		fmt.Fprintf(stderr, "mamori server: %v\n", err)
		return 1
	}
	return 0
}

// fileLimitWarning is the warning for an open-file limit too low for the
// agents expected, or "" (also when the limit is unknown, 0).
func fileLimitWarning(limit uint64, agents uint) string {
	if limit == 0 || limit >= uint64(agents)+fileLimitMargin {
		return ""
	}
	return fmt.Sprintf("mamori server: warning: the open-file limit %d is too low for %d agents (--expect-agents); raise it (ulimit -n, LimitNOFILE=)", limit, agents)
}
