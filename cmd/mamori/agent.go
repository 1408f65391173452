package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/mamori-dev/mamori/internal/agent"
)

func init() {
	register("agent", "run the endpoint agent: enrol, stay connected, scan, monitor, isolate", runAgent)
}

func runAgent(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		server    = fs.String("server", "", "server base URL, https://HOST:PORT (required)")
		caFile    = fs.String("ca", "", "PEM file of the fleet CA that signed the server's certificate (required)")
		token     = fs.String("enroll-token", "", "fleet enrolment `TOKEN`, or @FILE to read it from a file (needed on first start only; default $MAMORI_ENROLL_TOKEN, which keeps it out of ps)")
		dataDir   = fs.String("data", "", "directory for the agent's key, certificate, queue and state (required)")
		name      = fs.String("name", "", "host name shown on the server (default: the OS hostname)")
		labels    = fs.String("labels", "", "comma-separated key=value labels sent at enrolment")
		interval  = fs.Duration("scan-interval", agent.DefaultScanInterval, "scheduled scan interval in normal monitoring")
		hinterval = fs.Duration("heightened-scan-interval", agent.DefaultHeightenedScanInterval, "scheduled scan interval in heightened monitoring (unless the server sets one)")
		collect   = fs.Duration("collect-interval", agent.DefaultCollectInterval, "how often heightened monitoring runs its collectors")
		verbose   = fs.Bool("v", false, "log debug messages")
		paths     multiFlag
		logPaths  multiFlag
	)
	fs.Var(&logPaths, "log-path", "log file or glob incident collections read (repeatable; default: the system's auth, syslog, audit and web logs, shell histories and the journal)")
	fs.Var(&paths, "scan-path", "directory or file to scan on schedule and watch in heightened monitoring (repeatable)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usage := func(msg string) int {
		fmt.Fprintf(stderr, "mamori agent: %s\n", msg)
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
	case *dataDir == "":
		return usage("--data is required")
	}
	if _, err := agent.ServerURL(*server); err != nil {
		return usage("--server " + err.Error())
	}
	tok, err := enrollToken(*token, os.Getenv("MAMORI_ENROLL_TOKEN"))
	if err != nil {
		return usage(err.Error())
	}
	lbl, err := agent.ParseLabels(*labels)
	if err != nil {
		return usage(err.Error())
	}
	var abs []string
	for _, p := range paths {
		a, err := filepath.Abs(p)
		if err != nil {
			return usage(fmt.Sprintf("--scan-path %q: %v", p, err))
		}
		abs = append(abs, a)
	}
	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		return usage(fmt.Sprintf("--data %q: %v", *dataDir, err))
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	roots, err := agent.LoadCA(*caFile)
	if err != nil {
		fmt.Fprintf(stderr, "mamori agent: %v\n", err)
		return 1
	}
	a, err := agent.New(ctx, agent.Config{
		ServerURL: *server, Roots: roots, EnrollToken: tok, DataDir: dir, Name: *name, Labels: lbl,
		ScanPaths: abs, LogPaths: logPaths, ScanInterval: *interval, HeightenedScanInterval: *hinterval, CollectInterval: *collect,
		Logger: log,
	})
	if err != nil {
		fmt.Fprintf(stderr, "mamori agent: %v\n", err)
		return 1
	}
	defer a.Close()
	fmt.Fprintf(stdout, "mamori agent %s enrolled as %s, connecting to %s\n", agent.Version, a.ID(), *server)
	if err := a.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "mamori agent: %v\n", err)
		return 1
	}
	return 0
}

// enrollToken resolves --enroll-token: @FILE reads the token from FILE, an
// empty flag falls back to the environment, so that the token need not
// appear in the process list.
func enrollToken(flagValue, env string) (string, error) {
	file, ok := strings.CutPrefix(flagValue, "@")
	if !ok {
		if flagValue == "" {
			return env, nil
		}
		return flagValue, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--enroll-token @%s: %w", file, err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("--enroll-token @%s: the file is empty", file)
	}
	return tok, nil
}
