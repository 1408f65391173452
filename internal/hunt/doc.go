// Package hunt owns `mamori hunt`'s work: it walks the given paths, reads
// every log file with internal/logs (format by content, .gz and .zip in
// place), evaluates each event against a sigma.Ruleset on all cores,
// evaluates correlations once everything is read, and returns the hits in
// time order with error records for damaged files. Hits and timeline rows
// beyond a memory budget go to sorted runs on disk, merged on the way out,
// so memory stays bounded however dense the input. With a timeline it also
// writes every event, in time order and with its hits, as CSV that
// Timesketch imports. Rendering records for a terminal or a file is the
// command's business.
//
// The embedded default rule set (DefaultRules) is a selection of SigmaHQ
// rules, under the Detection Rule License 1.1, plus mamori's own rules for
// Linux gaps; rules/README.md says which and why.
package hunt
