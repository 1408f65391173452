package strmatch

import (
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzCompileHex checks that any hex body compiles or fails with a
// PatternError pointing inside it, never panics.
func FuzzCompileHex(f *testing.F) {
	for _, s := range []string{"4D 5A", "4? ?A ?? [2-4] 00", "( 01 | 02 03 ) [-] FF", "01 [300-] 02", "0", "01 [", "01 /* c */ 02 // x\n 03", "( 01 | ( 02 | 03 ) )", "01 [0-201] 02", "[1] 01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, hex string) {
		checkCompile(t, Pattern{Kind: Hex, Hex: hex}, len(hex))
	})
}

// FuzzCompileRegex is FuzzCompileHex for regular expressions.
func FuzzCompileRegex(f *testing.F) {
	for _, s := range []string{`abc`, `a(b|c)*?d`, `[^a-z\d]{2,5}`, `\bfoo\B`, `^a.c$`, `a{,3}`, `x{0}`, `(a|)+`, `[]a]`, `\x4`, `\1`, `a**`, `(`, `[a-\w]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, re string) {
		checkCompile(t, Pattern{Kind: Regex, Regex: re}, len(re))
	})
}

func checkCompile(t *testing.T, p Pattern, n int) {
	s, err := Compile([]Pattern{p})
	if err != nil {
		pe, ok := err.(*PatternError)
		if !ok {
			t.Fatalf("error %T %v is not a *PatternError", err, err)
		}
		if pe.Offset < 0 || pe.Offset > n || pe.Msg == "" {
			t.Fatalf("bad error %+v for input of %d bytes", pe, n)
		}
		return
	}
	s.Scan([]byte("abc\x00MZ\x90 abcabc\n\xff\xfe"), func(Match) {})
}

// naiveText finds a text string the way libyara verifies it, at every
// offset, without atoms.
func naiveText(p Pattern, data []byte) []Match {
	s := p.Text
	n := len(s)
	ascii := p.Ascii || !p.Wide
	var out []Match
	for off := range data {
		rest := data[off:]
		fm := 0
		switch {
		case p.Nocase:
			if ascii && len(rest) >= n && eqFold(rest, s) {
				fm = n
			}
			if fm == 0 && p.Wide && len(rest) >= 2*n && eqWide(rest, s, true, 0) {
				fm = 2 * n
			}
		default:
			if ascii && len(rest) >= n && string(rest[:n]) == string(s) {
				fm = n
			}
			if fm == 0 && p.Wide && len(rest) >= 2*n && eqWide(rest, s, false, 0) {
				fm = 2 * n
			}
			if fm == 0 && p.Xor {
				k := rest[0] ^ s[0]
				if int(k) >= p.XorMin && int(k) <= p.XorMax {
					if p.Wide && len(rest) >= 2*n && eqWide(rest, s, false, k) {
						fm = 2 * n
					}
					if fm == 0 && ascii && len(rest) >= n && eqXor(rest, s, k) {
						fm = n
					}
				}
			}
		}
		if fm == 0 || p.Fullword && !fullwordOK(data, off, fm, fm == 2*n) {
			continue
		}
		out = append(out, Match{Offset: int64(off), Length: fm})
	}
	return out
}

// FuzzScanText compares Scan with the naive matcher for text strings.
func FuzzScanText(f *testing.F) {
	f.Add([]byte("abc"), []byte("xxabcABCa\x00b\x00c\x00"), uint8(0))
	f.Add([]byte("hello"), []byte("hello \x01\x00\x02\x00"), uint8(3))
	f.Add([]byte("a"), []byte("a a\x00"), uint8(5))
	f.Fuzz(func(t *testing.T, s, data []byte, mode uint8) {
		if len(s) == 0 || len(s) > 64 || len(data) > 1<<12 {
			return
		}
		p := Pattern{Kind: Text, Text: s}
		switch mode % 6 {
		case 1:
			p.Nocase = true
		case 2:
			p.Wide, p.Ascii = true, true
		case 3:
			p.Xor, p.XorMin, p.XorMax = true, 0, 3
		case 4:
			p.Fullword = true
		case 5:
			p.Nocase, p.Wide = true, true
		}
		got := scanAll(t, []Pattern{p}, data)
		want := naiveText(p, data)
		if diff := cmp.Diff(got, want); diff != "" {
			t.Fatalf("%s on %q (-got +want):\n%s", yaraSource(p), data, diff)
		}
	})
}

// FuzzScanTree compares Scan of a hex or regex pattern, found through its
// atoms, with running the whole pattern at every offset: both must find
// matches at the same offsets.
func FuzzScanTree(f *testing.F) {
	f.Add(`61 [0-3] 63`, false, []byte("abcaxxc"))
	f.Add(`a(b|cd)+e`, true, []byte("abcdbe abe"))
	f.Add(`61 ( 62 | 63 64 ) 65`, false, []byte("abe acde"))
	f.Fuzz(func(t *testing.T, body string, regex bool, data []byte) {
		if len(data) > 1<<11 {
			return
		}
		p := Pattern{Kind: Hex, Hex: body}
		if regex {
			p = Pattern{Kind: Regex, Regex: body}
		}
		s, err := Compile([]Pattern{p})
		if err != nil {
			return
		}
		var got []int64
		s.Scan(data, func(m Match) { got = append(got, m.Offset) })
		// Chained pieces are matched differently; compare whole patterns.
		if len(s.heads[0]) != 1 {
			return
		}
		pc := &s.pieces[s.heads[0][0]]
		slow := len(s.slowPieces) > 0
		var want []int64
		var v vm
		for off := range data {
			if pc.fast {
				// The shortest match from off, if any.
				if v.runFast(pc.elems, 0, data, off, false) > 0 {
					want = append(want, int64(off))
				}
				continue
			}
			if slow {
				// Without atoms libyara runs the pattern from each offset and
				// keeps its preferred match.
				if v.run(pc.fwd, pc.entry, data, off, false, 1, modePriority) > 0 {
					want = append(want, int64(off))
				}
				continue
			}
			v.run(pc.fwd, 0, data, off, false, 1, modeExhaustive)
			for _, n := range v.lens {
				if n > 0 {
					want = append(want, int64(off))
					break
				}
			}
		}
		sort.Slice(got, func(a, b int) bool { return got[a] < got[b] })
		if diff := cmp.Diff(got, want); diff != "" {
			t.Fatalf("%q on %q (-got +want):\n%s", body, data, diff)
		}
	})
}
