package main

import (
	"context"
	"flag"

	"github.com/mamori-dev/mamori/internal/scan"
)

// scanExtensions holds the flags of the content matchers (YARA rules and
// personal data) that plug into the same read.
type scanExtensions struct{}

func registerScanExtensions(fs *flag.FlagSet) *scanExtensions {
	return &scanExtensions{}
}

func (e *scanExtensions) selected() bool { return false }

func (e *scanExtensions) matchers(ctx context.Context, warn func(string)) ([]scan.Matcher, error) {
	return nil, nil
}
