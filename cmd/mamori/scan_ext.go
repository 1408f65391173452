package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/pii"
	"github.com/mamori-dev/mamori/internal/scan"
	"github.com/mamori-dev/mamori/internal/yara"
)

// scanExtensions holds the flags of the content matchers (YARA rules and
// personal data) that plug into the same read.
type scanExtensions struct {
	rules           multiFlag
	defines         yaraDefines
	skipUnsupported *bool
	pii, reveal     *bool
	piiCategories   *string
	minConfidence   *float64
	keyFile         *string
	timeout         *int
}

func registerScanExtensions(fs *flag.FlagSet) *scanExtensions {
	e := &scanExtensions{defines: yaraDefines{}}
	fs.Var(&e.rules, "rules", "YARA rule `path` (file, or directory of .yar/.yara files; each file its own namespace); repeatable")
	fs.Var(e.defines, "d", "define a YARA external variable `NAME=VALUE`; repeatable")
	fs.Var(e.defines, "define", "same as -d")
	e.pii = fs.Bool("pii", false, "detect personal data (e-mail, phone, card, My Number, names, addresses, ...)")
	e.reveal = fs.Bool("reveal", false, "with --pii: put raw values in ndjson/json output instead of masked ones")
	e.piiCategories = fs.String("pii-categories", "", "with --pii: only these categories (`LIST` email,phone,...), or all but -name,-name")
	e.minConfidence = fs.Float64("min-confidence", 0, "with --pii: drop findings less sure than this (0-1)")
	e.keyFile = fs.String("key-file", "", "with --pii: key `file` for subject keys (default: mamori/scope.key in the user config directory, created)")
	e.timeout = fs.Int("timeout", int(yara.DefaultTimeout/time.Second), "give up YARA rules on a file after `seconds` (an error record says so); 0: no limit")
	e.skipUnsupported = fs.Bool("skip-unsupported", false, "drop YARA rules that use a feature mamori lacks, with a warning, instead of failing")
	return e
}

func (e *scanExtensions) selected() bool { return len(e.rules) > 0 || *e.pii }

func (e *scanExtensions) matchers(ctx context.Context, warn func(string)) ([]scan.Matcher, error) {
	var ms []scan.Matcher
	if len(e.rules) > 0 {
		rules, err := yara.CompileFiles(ctx, e.rules, yara.CompileOptions{
			Defines:         e.defines,
			SkipUnsupported: *e.skipUnsupported,
			// The compiler's warnings read "FILE:L:C: warning: ..." as
			// yarac's do; warn adds its own "warning:".
			Warn: func(msg string) { warn(strings.Replace(msg, ": warning: ", ": ", 1)) },
		})
		if err != nil {
			return nil, err
		}
		if *e.timeout < 0 || *e.timeout > math.MaxInt32 {
			return nil, fmt.Errorf("--timeout %d: want seconds from 0 (no limit) to %d", *e.timeout, math.MaxInt32)
		}
		ms = append(ms, rules.Matcher(time.Duration(*e.timeout)*time.Second))
	} else if len(e.defines) > 0 {
		return nil, fmt.Errorf("-d/--define given without --rules")
	}
	if *e.reveal && !*e.pii {
		return nil, fmt.Errorf("--reveal given without --pii")
	}
	if !*e.pii && (*e.piiCategories != "" || *e.minConfidence != 0) {
		return nil, fmt.Errorf("--pii-categories or --min-confidence given without --pii")
	}
	if *e.pii {
		cats, err := pii.ParseCategories(*e.piiCategories)
		if err != nil {
			return nil, fmt.Errorf("--pii-categories: %w", err)
		}
		if *e.minConfidence < 0 || *e.minConfidence > 1 {
			return nil, fmt.Errorf("--min-confidence %v: want a number from 0 to 1", *e.minConfidence)
		}
		m, err := withSubjectKeys(pii.NewMatcher(pii.Options{Reveal: true, Categories: cats, MinConfidence: *e.minConfidence}), *e.keyFile, *e.reveal)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}
