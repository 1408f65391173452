// Package strmatch owns finding YARA strings (text with modifiers, hex and
// regular expressions) in a buffer with the results of libyara 4.2.3: the
// same offsets and lengths for every match. It knows nothing of rules or
// conditions.
//
// Compile parses hex strings and regexes (YARA's syntax, libyara's error
// wording and limits) and chooses atoms of at most four bytes the way
// libyara does, because where a string is split for verification decides
// which length libyara reports. Scan then makes one pass over the data
// looking the next four bytes up in per-length filtered hash tables (with
// atoms this short an Aho–Corasick automaton degenerates into that lookup)
// and verifies only at atom hits: text strings by comparison, regexes on a
// Pike machine that follows threads in libyara's priority order (forwards
// from the atom, every way backwards, 4096 bytes at most each way), hex
// strings without alternatives on position sets with shortest-match
// semantics as libyara's fast matcher. Strings without atoms are found
// through a shared run table or, failing that, tried at every offset;
// Slow names them like libyara's "slows down scanning" warning. Hex strings
// with jumps over 200 bytes are split into chained pieces as in libyara.
//
// A Set is read-only after Compile; Scan keeps its per-call state in a
// sync.Pool, so one Set serves many goroutines.
package strmatch
