package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mamori-dev/mamori/internal/obligation"
	"github.com/mamori-dev/mamori/internal/obligation/workspace"
)

func init() {
	register("assess", "which breach laws apply, what is due when (mamori assess --facts FILE)", runAssess)
	// On the server, the same assessment per incident: facts, duties with
	// a countdown, warnings and drafts under /incidents/{id}/obligations.
	capabilities = append(capabilities, workspace.Capability)
}

const assessUsage = `usage: mamori assess --facts FILE [--format json|text] [--drafts DIR [--context FILE] [--register FILE]]

Judges a breach's facts (JSON; "-" reads stdin) by the law in force at
their aware_at and prints the duties: which law, which duty, due when and
why, then the laws that reach the affected people but ask nothing.

With --drafts, also writes the drafts the duties call for (PPC report,
GDPR Art. 33 notification, public statement, individual notice) to DIR as
Markdown, HTML and JSON, and prints to stderr how each changed since the
last run. --context gives the narrative (organisation, contact, summary,
measures...) as JSON; items it leaves out are marked as not yet known.
--register reads the scoping summary (counts by category, exposure,
country and channel) into the drafts.

Exit status: 0 assessed, 2 usage error or invalid facts (naming the field).

flags:
`

func runAssess(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("assess", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, assessUsage)
		fs.PrintDefaults()
	}
	factsPath := fs.String("facts", "", "the facts `FILE` (JSON)")
	format := fs.String("format", "json", "output format: json or text")
	draftsDir := fs.String("drafts", "", "write report and notice drafts to `DIR`")
	contextPath := fs.String("context", "", "draft context `FILE` (JSON), with --drafts")
	registerPath := fs.String("register", "", "register summary `FILE` (JSON, as scoping writes it), with --drafts")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mamori assess: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *factsPath == "" {
		fmt.Fprintln(stderr, "mamori assess: --facts FILE is required")
		fs.Usage()
		return 2
	}
	if *format != "json" && *format != "text" {
		fmt.Fprintf(stderr, "mamori assess: --format %q: want json or text\n", *format)
		return 2
	}
	facts, err := readFacts(*factsPath)
	if err != nil {
		fmt.Fprintf(stderr, "mamori assess: %v\n", err)
		return 2
	}
	if (*contextPath != "" || *registerPath != "") && *draftsDir == "" {
		fmt.Fprintln(stderr, "mamori assess: --context and --register need --drafts DIR")
		return 2
	}
	var dctx obligation.DraftContext
	if *contextPath != "" {
		if dctx, err = readContext(*contextPath); err != nil {
			fmt.Fprintf(stderr, "mamori assess: %v\n", err)
			return 2
		}
	}
	var reg *obligation.RegisterSummary
	if *registerPath != "" {
		if reg, err = readRegister(*registerPath); err != nil {
			fmt.Fprintf(stderr, "mamori assess: %v\n", err)
			return 2
		}
	}
	res := obligation.Assess(facts)
	if *format == "text" {
		err = obligation.WriteText(stdout, res)
	} else {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		err = enc.Encode(res)
	}
	if err != nil {
		fmt.Fprintf(stderr, "mamori assess: %v\n", err)
		return 2
	}
	if *draftsDir != "" {
		drafts := obligation.Drafts(facts, dctx, reg)
		diffs, err := obligation.WriteDrafts(*draftsDir, drafts)
		if err != nil {
			fmt.Fprintf(stderr, "mamori assess: %v\n", err)
			return 2
		}
		for _, d := range diffs {
			fmt.Fprint(stderr, d)
		}
		fmt.Fprintf(stderr, "mamori assess: wrote %d drafts (.md, .html, .json) to %s\n", len(drafts), *draftsDir)
	}
	return 0
}

func readContext(path string) (obligation.DraftContext, error) {
	f, err := os.Open(path)
	if err != nil {
		return obligation.DraftContext{}, err
	}
	defer f.Close()
	c, err := obligation.DecodeContext(f)
	if err != nil {
		return obligation.DraftContext{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func readFacts(path string) (obligation.Facts, error) {
	var r io.Reader = os.Stdin
	name := "stdin"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return obligation.Facts{}, err
		}
		defer f.Close()
		r, name = f, path
	}
	facts, err := obligation.DecodeFacts(r)
	if err != nil {
		return obligation.Facts{}, fmt.Errorf("%s: %w", name, err)
	}
	return facts, nil
}

func readRegister(path string) (*obligation.RegisterSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := obligation.DecodeRegisterSummary(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}
