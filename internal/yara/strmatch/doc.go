// Package strmatch owns finding YARA strings (text with modifiers, hex and
// regular expressions) in a buffer: one Aho–Corasick pass over atoms of all
// patterns, then verification only at candidate offsets with linear-time
// matchers. It knows nothing of rules or conditions.
package strmatch
