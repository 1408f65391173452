package strmatch

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// handPatterns cover each feature; TestHandAgainstYara checks them against
// the yara CLI on a data blob built to exercise them.
var handPatterns = []Pattern{
	{Kind: Text, Text: []byte("abc")},
	{Kind: Text, Text: []byte("abc"), Nocase: true, Wide: true, Ascii: true},
	{Kind: Regex, Regex: `ab(c|cab)*`},
	{Kind: Hex, Hex: `61 [0-3] 63`},
	{Kind: Hex, Hex: `61 ( 62 | 62 63 )`},
	{Kind: Text, Text: []byte("aa")},
	{Kind: Text, Text: []byte("abc"), Fullword: true},
	{Kind: Text, Text: []byte("abc"), Fullword: true, Wide: true},
	{Kind: Text, Text: []byte("hello"), Xor: true, XorMin: 0, XorMax: 255},
	{Kind: Text, Text: []byte("hello"), Xor: true, XorMin: 1, XorMax: 3, Wide: true},
	{Kind: Text, Text: []byte("This program"), Base64: true},
	{Kind: Text, Text: []byte("This program"), Base64Wide: true},
	{Kind: Text, Text: []byte("This program"), Base64: true, Wide: true, Ascii: true},
	{Kind: Regex, Regex: `[a-c]+\d{2,3}`},
	{Kind: Regex, Regex: `hel+o\b`},
	{Kind: Regex, Regex: `^xx`},
	{Kind: Regex, Regex: `xyz$`},
	{Kind: Regex, Regex: `HELLO`, RegexNocase: true},
	{Kind: Regex, Regex: `a.c`, RegexDotAll: true},
	{Kind: Regex, Regex: `a.c`},
	{Kind: Hex, Hex: `4? 5A ?? 00`},
	{Kind: Hex, Hex: `61 62 [2-] 78`},
	{Kind: Hex, Hex: `61 [300-400] 7A`},
	{Kind: Regex, Regex: `ab.*?yz`},
	{Kind: Regex, Regex: `(ab|abc)+x`},
	{Kind: Regex, Regex: `b+c`},
	{Kind: Regex, Regex: `\w+@\w+\.com`},
	{Kind: Regex, Regex: `[^a-z ]{3}`},
	{Kind: Hex, Hex: `( 61 | 62 ) 63`},
	{Kind: Regex, Regex: `a\x00b`, Wide: true, Ascii: true},
	{Kind: Regex, Regex: `\babc`, Wide: true},
	// libyara picks the alternation's atoms here, so wide data is missed.
	{Kind: Regex, Regex: `b(a|bc){1,3}?`, Ascii: true, Wide: true},
	{Kind: Regex, Regex: `b(a|bc)`, Wide: true},
}

func handData() []byte {
	var d []byte
	d = append(d, "xxabcabcab ABC a\x00b\x00c\x00 xyz\n"...)
	d = append(d, "aaaa abc-abcd a\x00b\x00c\x00 Xa\x00b\x00c\x00\n"...)
	for _, k := range []byte{0, 1, 2, 0x55} {
		for _, c := range []byte("hello") {
			d = append(d, c^k)
		}
		d = append(d, ' ')
		for _, c := range []byte("hello") {
			d = append(d, c^k, k)
		}
		d = append(d, ' ')
	}
	d = append(d, "VGhpcyBwcm9ncmFt xVGhpcyBwcm9ncmFt QgcHJvZ3JhbQ== \n"...)
	d = append(d, widen([]byte("VGhpcyBwcm9ncmFt"))...)
	d = append(d, " VABoAGkAcwAgAHAAcgBvAGcAcgBhAG0A "...)
	d = append(d, " abc12 bbb999 helllo hellox HeLLo a\nc abc MZ\x90\x00 MZ\x00\x00\n"...)
	d = append(d, "ab    yz abcabx  me@example.com ABC! 12#"...)
	d = append(d, make([]byte, 350)...)
	d = append(d, "zzabcxxab cac bc bbbc\n"...)
	d = append(d, "a\x00\x00b\x00 abc\n"...)
	d = append(d, "b\x00a\x00 b\x00b\x00c\x00 ba bbc\n"...)
	return d
}

func TestHandAgainstYara(t *testing.T) {
	needYara(t)
	data := handData()
	want := runYara(t, handPatterns, data)
	got := asPrinted(scanAll(t, handPatterns, data))
	for i, p := range handPatterns {
		if diff := cmp.Diff(byPattern(got, i), byPattern(want, i)); diff != "" {
			t.Errorf("%s: matches differ from yara (-got +want):\n%s", yaraSource(p), diff)
		}
	}
}

// randomPattern builds a pattern from a small alphabet so that random
// data holds many occurrences.
func randomPattern(r *rand.Rand) Pattern {
	alpha := []byte("abcAB\x00 ")
	lit := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[r.Intn(len(alpha))]
		}
		return b
	}
	switch r.Intn(4) {
	case 0:
		p := Pattern{Kind: Text, Text: lit(1 + r.Intn(6))}
		switch r.Intn(8) {
		case 0:
			p.Nocase = true
			p.Wide = r.Intn(2) == 0
		case 1:
			p.Wide = true
			p.Ascii = r.Intn(2) == 0
		case 2:
			p.Xor, p.XorMin, p.XorMax = true, r.Intn(2), 1+r.Intn(4)
			p.Wide = r.Intn(3) == 0
		case 3:
			p.Fullword = true
			p.Wide = r.Intn(2) == 0
		case 4:
			p.Base64 = true
			p.Base64Wide = r.Intn(3) == 0
			p.Wide = r.Intn(3) == 0
			p.Ascii = p.Wide && r.Intn(2) == 0
			p.Text = append([]byte("ab"), p.Text...)
		}
		return p
	case 3:
		// Long jumps split hex strings into chained pieces.
		a, b := 190+r.Intn(30), 0
		b = a + r.Intn(120)
		h := fmt.Sprintf("%02X %02X [%d-%d] %02X", alpha[r.Intn(5)], alpha[r.Intn(5)], a, b, alpha[r.Intn(5)])
		if r.Intn(2) == 0 {
			h += fmt.Sprintf(" [%d-] %02X", r.Intn(300), alpha[r.Intn(5)])
		}
		return Pattern{Kind: Hex, Hex: h}
	case 1:
		var h []byte
		n := 1 + r.Intn(5)
		for i := 0; i < n; i++ {
			if i > 0 && i < n-1 && r.Intn(4) == 0 {
				a := r.Intn(3)
				h = fmt.Appendf(h, "[%d-%d] ", a, a+r.Intn(3))
				continue
			}
			switch r.Intn(6) {
			case 0:
				h = append(h, "?? "...)
			case 1:
				h = fmt.Appendf(h, "%X? ", alpha[r.Intn(len(alpha))]>>4)
			case 2:
				h = fmt.Appendf(h, "( %02X | %02X %02X ) ", alpha[r.Intn(len(alpha))], alpha[r.Intn(len(alpha))], alpha[r.Intn(len(alpha))])
			default:
				h = fmt.Appendf(h, "%02X ", alpha[r.Intn(len(alpha))])
			}
		}
		return Pattern{Kind: Hex, Hex: string(h)}
	default:
		parts := []string{"a", "b", "c", "A", "ab", "[ab]", ".", `\x00`, " ", "(a|bc)", `\w`, `\s`}
		quant := []string{"", "", "", "*", "+", "?", "{1,3}"}
		lazy := r.Intn(2) == 0
		var s string
		n := 1 + r.Intn(4)
		for i := 0; i < n; i++ {
			q := quant[r.Intn(len(quant))]
			if q != "" && lazy {
				q += "?"
			}
			s += parts[r.Intn(len(parts))] + q
		}
		if r.Intn(6) == 0 {
			s = `\b` + s
		}
		if r.Intn(8) == 0 {
			s += "$"
		}
		if r.Intn(8) == 0 {
			s = "^" + s
		}
		p := Pattern{Kind: Regex, Regex: s}
		switch r.Intn(6) {
		case 0:
			p.RegexNocase = true
		case 1:
			p.Wide, p.Ascii = true, true
		case 2:
			p.RegexDotAll = true
		case 3:
			p.Fullword = true
		case 4:
			p.Wide = true
		}
		return p
	}
}

// plant writes encodings of the text patterns into data at random places.
func plant(r *rand.Rand, data []byte, ps []Pattern) {
	for _, p := range ps {
		if p.Kind != Text {
			continue
		}
		for n := 0; n < 3; n++ {
			enc := p.Text
			switch {
			case p.Base64 || p.Base64Wide:
				src := p.Text
				if p.Wide && (!p.Ascii || r.Intn(2) == 0) {
					src = widen(src)
				}
				enc = base64Shifted(src, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", r.Intn(3), p.Base64Wide && (!p.Base64 || r.Intn(2) == 0))
			case p.Wide && (!p.Ascii || r.Intn(2) == 0):
				enc = widen(enc)
			}
			if p.Xor {
				k := byte(r.Intn(6))
				x := make([]byte, len(enc))
				for i := range enc {
					x[i] = enc[i] ^ k
				}
				enc = x
			}
			if len(enc) < len(data) {
				copy(data[r.Intn(len(data)-len(enc)):], enc)
			}
		}
	}
}

func byPattern(ms []Match, i int) []Match {
	var out []Match
	for _, m := range ms {
		if m.Pattern == i {
			out = append(out, m)
		}
	}
	return out
}

func randomData(r *rand.Rand, n int) []byte {
	alpha := []byte("abcAB\x00 \n")
	d := make([]byte, n)
	for i := range d {
		d[i] = alpha[r.Intn(len(alpha))]
	}
	return d
}

func TestRandomAgainstYara(t *testing.T) {
	needYara(t)
	// STRMATCH_SEED and STRMATCH_ROUNDS widen the search by hand.
	seed, rounds := int64(1), 40
	if v, err := strconv.ParseInt(os.Getenv("STRMATCH_SEED"), 10, 64); err == nil {
		seed = v
	}
	if v, err := strconv.Atoi(os.Getenv("STRMATCH_ROUNDS")); err == nil {
		rounds = v
	}
	r := rand.New(rand.NewSource(seed))
	for round := 0; round < rounds; round++ {
		var ps []Pattern
		for len(ps) < 20 {
			p := randomPattern(r)
			if _, err := Compile([]Pattern{p}); err != nil {
				continue
			}
			ps = append(ps, p)
		}
		data := randomData(r, 3000)
		plant(r, data, ps)
		want := runYara(t, ps, data)
		got := asPrinted(scanAll(t, ps, data))
		if diff := cmp.Diff(got, want); diff != "" {
			for i, p := range ps {
				g, w := byPattern(got, i), byPattern(want, i)
				if d := cmp.Diff(g, w); d != "" {
					t.Logf("$s%d = %s differs (-got +want):\n%s", i, yaraSource(p), d)
				}
			}
			t.Errorf("round %d: matches differ from yara", round)
		}
	}
}

// yaraSlow reports whether yara warns that the pattern slows down scanning.
func yaraSlow(t *testing.T, p Pattern) bool {
	t.Helper()
	dir := t.TempDir()
	rf := filepath.Join(dir, "r.yar")
	src := "rule r {\n strings:\n  $s0 = " + yaraSource(p) + "\n condition:\n  $s0\n}\n"
	if err := os.WriteFile(rf, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("yara", rf, rf).CombinedOutput()
	if err != nil {
		t.Fatalf("yara: %v\n%s", err, out)
	}
	return strings.Contains(string(out), "slow down scanning")
}

func TestSlowAgainstYara(t *testing.T) {
	needYara(t)
	r := rand.New(rand.NewSource(2))
	ps := append([]Pattern(nil), handPatterns...)
	for len(ps) < len(handPatterns)+15 {
		p := randomPattern(r)
		if _, err := Compile([]Pattern{p}); err == nil {
			ps = append(ps, p)
		}
	}
	for _, p := range ps {
		s, err := Compile([]Pattern{p})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(s.Slow()) == 1, yaraSlow(t, p); got != want {
			t.Errorf("%s: Slow() says %v, yara warns %v", yaraSource(p), got, want)
		}
	}
}

// TestEOLAnchoredUnchanged: a regex that can only match at the end of the
// data ("$") is not run where the end is out of reach (more than scanLimit
// bytes away). That must change no match: the same set scanned with the
// shortcut removed finds the same matches. (libyara itself is the slow
// party here: it runs /(a+)+$/ from every "a", for minutes.)
func TestEOLAnchoredUnchanged(t *testing.T) {
	ps := []Pattern{
		{Kind: Regex, Regex: `(a+)+$`},
		{Kind: Regex, Regex: `(ab|a)+b?$`},
		{Kind: Regex, Regex: `aa(x$|a)`},
		{Kind: Regex, Regex: `ba$`, Wide: true},
	}
	fast, err := Compile(ps)
	if err != nil {
		t.Fatal(err)
	}
	slow, err := Compile(ps)
	if err != nil {
		t.Fatal(err)
	}
	pruned := 0
	for i := range slow.pieces {
		if p := slow.pieces[i].fwd; p != nil && p.eolOnly != nil {
			p.eolOnly = nil
			pruned++
		}
	}
	if pruned == 0 {
		t.Fatal("no program is marked as matching only at the end")
	}
	for _, data := range [][]byte{
		[]byte(strings.Repeat("a", scanLimit+300)),
		[]byte(strings.Repeat("b\x00a\x00", scanLimit/4+100)),
	} {
		var got, want []Match
		fast.Scan(data, func(m Match) { got = append(got, m) })
		slow.Scan(data, func(m Match) { want = append(want, m) })
		if len(want) == 0 {
			t.Errorf("%d bytes: no match at all, the data tests nothing", len(data))
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("%d bytes: matches differ without the shortcut (-got +want):\n%s", len(data), diff)
		}
	}
}
