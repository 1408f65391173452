// Package pii finds personal data in scanned files and groups it into data
// subjects: detectors with validators (checksums, number plans, context
// keywords and column headers), masking, per-file summaries and the
// scan.Matcher that runs them inside mamori's single read.
//
// Decoding and format readers live in the extract subpackage; this package
// sees only normalised text fields and maps hits back to original offsets
// through them.
package pii
