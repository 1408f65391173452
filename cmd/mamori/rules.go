package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/mamori-dev/mamori/internal/yara"
)

func init() {
	register("rules", "check YARA rule files (mamori rules check PATH...)", runRules)
}

const rulesUsage = `usage: mamori rules check [-d NAME=VALUE]... [--skip-unsupported] PATH...

Compiles YARA rule files (directories are searched for .yar and .yara
files) and reports errors as file:line:col: message.

Exit status: 0 all rules compile, 2 any error.

flags:
`

// yaraDefines collects repeatable -d NAME=VALUE external variables.
type yaraDefines map[string]string

func (d yaraDefines) String() string {
	var parts []string
	for k, v := range d {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (d yaraDefines) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("%q: want NAME=VALUE", v)
	}
	d[name] = value
	return nil
}

func runRules(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprint(stderr, rulesUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return 0
		}
		return 2
	}
	fs := flag.NewFlagSet("rules check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, rulesUsage)
		fs.PrintDefaults()
	}
	defines := yaraDefines{}
	fs.Var(defines, "d", "define external variable `NAME=VALUE` (repeatable)")
	fs.Var(defines, "define", "same as -d")
	skip := fs.Bool("skip-unsupported", false, "drop rules using features mamori lacks, with a warning")
	paths, err := parseInterspersed(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "mamori rules check: no PATH given")
		fs.Usage()
		return 2
	}
	opts := yara.CompileOptions{
		Defines:         defines,
		SkipUnsupported: *skip,
		Warn:            func(msg string) { fmt.Fprintln(stderr, msg) },
	}
	r, err := yara.CompileFiles(ctx, paths, opts)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	fmt.Fprintf(stdout, "%d rules OK (%d skipped)\n", r.NumRules(), r.Skipped())
	return 0
}
