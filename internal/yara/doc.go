// Package yara owns the YARA 4.2 language as libyara 4.2.3 implements it:
// lexing and parsing rule files (with include and one namespace per file),
// compiling rules into condition trees plus the string patterns handed to
// strmatch, evaluating conditions with libyara's exact semantics (undefined
// values, of/for quantifiers, rule references, global and private rules),
// the hash, math, time, console and pe modules, and the scan.Matcher that
// `mamori scan --rules` uses.
//
// Finding strings in data is strmatch's job and parsing PE files is pe's;
// this package only wires their results into the language.
package yara
