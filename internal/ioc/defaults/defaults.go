// Package defaults holds the indicators `mamori scan` uses when it is given
// no indicator, rule or personal-data option, so that a fresh checkout does
// something useful with no downloads.
package defaults

import _ "embed"

// Hashes is a hash indicator file in digest;description form.
//
//go:embed hashes.txt
var Hashes []byte

// Filenames is a filename indicator file in REGEX;SCORE[;EXCLUDE] form.
//
//go:embed filenames.txt
var Filenames []byte
