// Package conformance holds the proof that mamori's YARA engine equals
// libyara: differential tests that compile the same rules with mamori and
// with the yara CLI, scan the same generated files with both and require
// identical (file, rule) sets. Test data is generated from the compiled
// rules themselves (each rule's strings, honouring their modifiers) so
// that rules actually fire. The package has no non-test code.
package conformance
