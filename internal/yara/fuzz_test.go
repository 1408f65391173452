package yara

import (
	"context"
	"testing"
)

// FuzzCompile feeds arbitrary rule text to the compiler: it must return
// rules or an *Error, never panic.
func FuzzCompile(f *testing.F) {
	for _, c := range evalCases {
		f.Add(c.rules)
	}
	for _, c := range errorCases {
		f.Add(c.rules)
	}
	f.Fuzz(func(t *testing.T, src string) {
		r, err := Compile(src, "fuzz.yar", CompileOptions{Defines: map[string]string{"ext_int": "1", "ext_str": "s", "ext_bool": "true", "filename": ""}})
		if err != nil {
			return
		}
		if _, err := r.Scan(context.Background(), []byte("MZ\x90\x00abcdef a1b2"), nil); err != nil {
			t.Fatal(err)
		}
	})
}

// fuzzRules exercises strings of every kind and conditions over offsets.
const fuzzRules = `import "pe"
import "math"
import "hash"
rule t { strings: $a = "abc" nocase wide ascii $b = "MZ" fullword condition: #a > 1 or @b[1] == 0 }
rule h { strings: $h = { 4D 5A ?? [0-4] ( 00 | FF ) } condition: $h and uint16(0) == 0x5a4d }
rule r { strings: $r = /ab+c/i condition: for any i in (1..#r) : (!r[i] > 3) }
rule x { strings: $x = "key" xor $y = "b64" base64 condition: any of them }
rule m { condition: math.entropy(0, filesize) > 7 or hash.md5(0, 2) == "x" }
rule p { condition: pe.is_pe and pe.number_of_sections > 0 and for any s in pe.sections : (s.name == ".text") }
`

// FuzzScan scans arbitrary data with fixed rules: no panics, and the same
// answer twice (compiled rules are reused).
func FuzzScan(f *testing.F) {
	r, err := Compile(fuzzRules, "fuzz.yar", CompileOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("MZ\x90\x00abcABCabc"))
	f.Add([]byte("a\x00b\x00c\x00 abbbc key"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := r.Scan(context.Background(), data, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := r.Scan(context.Background(), data, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) {
			t.Fatalf("first scan matched %d rules, second %d", len(a), len(b))
		}
	})
}
