package main

import (
	"github.com/mamori-dev/mamori/internal/scan"
	"github.com/mamori-dev/mamori/internal/scope"
)

// withSubjectKeys wraps the personal-data matcher (built with raw values)
// so that occurrences carry a subject key and are masked unless reveal.
func withSubjectKeys(m scan.Matcher, keyFile string, reveal bool) (scan.Matcher, error) {
	if keyFile == "" {
		p, err := scope.DefaultKeyFile()
		if err != nil {
			return nil, err
		}
		keyFile = p
	}
	key, err := scope.LoadKey(keyFile)
	if err != nil {
		return nil, err
	}
	return scope.NewScanMatcher(m, key, reveal, "JP"), nil
}
