// Package pe owns reading Portable Executable files the way libyara 4.2.3's
// "pe" module does, so that rules written against `import "pe"` evaluate
// identically in mamori and in yara. Parse turns bytes into a plain File;
// the YARA evaluator maps its fields and methods onto module identifiers
// (each field's comment names the identifier).
//
// The parsing follows libyara's own bounds checks, limits and quirks rather
// than a general PE library's, because equality with yara, including on
// malformed files, is the contract. Authenticode signatures are read with
// encoding/asn1 the way OpenSSL exposes them to libyara.
package pe
