package yara

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// evalCase is one feature check: the rules that match data. Every case is
// also run through the yara CLI when it is installed, which keeps the
// expectations honest.
type evalCase struct {
	name    string
	rules   string
	data    string
	defines map[string]string
	want    []string
}

var evalCases = []evalCase{
	{name: "text", rules: `rule a { strings: $a = "foo" condition: $a }`, data: "xxfooxx", want: []string{"a"}},
	{name: "text miss", rules: `rule a { strings: $a = "foo" condition: $a }`, data: "xxfoxx"},
	{name: "nocase wide", rules: `rule a { strings: $a = "FoO" nocase wide condition: $a }`, data: "f\x00o\x00O\x00", want: []string{"a"}},
	{name: "fullword", rules: `rule a { strings: $a = "foo" fullword condition: $a } rule b { strings: $a = "foo" fullword condition: $a }`, data: "xfoo", want: nil},
	{name: "xor", rules: `rule a { strings: $a = "abc" xor(1-3) condition: $a }`, data: "\x63\x60\x61", want: []string{"a"}},
	{name: "hex", rules: `rule a { strings: $a = { 41 ?? 4? [1-2] (44|45) } condition: $a }`, data: "AxBzzE", want: []string{"a"}},
	{name: "regex", rules: `rule a { strings: $a = /ab+c/ condition: $a }`, data: "xxabbbc", want: []string{"a"}},
	{name: "count", rules: `rule a { strings: $a = "ab" condition: #a == 3 }`, data: "ababab", want: []string{"a"}},
	{name: "offset", rules: `rule a { strings: $a = "ab" condition: @a[2] == 2 and @a == 0 and !a[1] == 2 }`, data: "ababab", want: []string{"a"}},
	{name: "at in", rules: `rule a { strings: $a = "ab" condition: $a at 4 and $a in (3..5) and not $a at 1 }`, data: "ababab", want: []string{"a"}},
	{name: "filesize", rules: `rule a { condition: filesize == 6 } rule b { condition: filesize > 6 }`, data: "ababab", want: []string{"a"}},
	{name: "intfuncs", rules: `rule a { condition: uint16(0) == 0x5a4d and uint32be(0) == 0x4d5a9000 and int8(2) == -112 and uint8(100) != 0 }`, data: "MZ\x90\x00", want: nil},
	{name: "intfuncs ok", rules: `rule a { condition: uint16(0) == 0x5a4d and uint32be(0) == 0x4d5a9000 and int8(2) == -112 }`, data: "MZ\x90\x00", want: []string{"a"}},
	{name: "undefined not", rules: `rule a { condition: not (uint8(100) == 1) } rule b { condition: not defined uint8(100) }`, data: "x", want: []string{"b"}},
	{name: "undefined or", rules: `rule a { condition: uint8(100) == 1 or true } rule b { condition: uint8(100) == 1 and true }`, data: "x", want: []string{"a"}},
	{name: "div zero", rules: `rule a { condition: 1 \ (filesize - 1) == 0 } rule b { condition: not defined (1 \ (filesize - 1)) } rule c { condition: 7 \ 2 == 3 and 7 % 3 == 1 and not defined (1 % (filesize - 1)) }`, data: "x", want: []string{"b", "c"}},
	{name: "arith", rules: `rule a { condition: 1 + 2 * 3 == 7 and (1 << 4) == 16 and 0xff & 0x0f == 0x0f and -3 < 0 and ~0 == -1 and 3 ^ 1 == 2 and 1 | 2 == 3 }`, data: "x", want: []string{"a"}},
	{name: "float", rules: `rule a { condition: 1.5 + 1 == 2.5 and 3 \ 2.0 == 1.5 }`, data: "x", want: []string{"a"}},
	{name: "of", rules: `rule a { strings: $a = "a1" $b = "b2" $c = "c3" condition: 2 of them } rule b { strings: $a = "a1" $b = "b2" condition: all of ($a, $b*) } rule c { strings: $a = "a1" $b = "b2" condition: none of them } rule d { strings: $x1 = "a1" $x2 = "zz" condition: any of ($x*) }`, data: "a1b2", want: []string{"a", "b", "d"}},
	{name: "percent", rules: `rule a { strings: $a = "a1" $b = "b2" $c = "c3" $d = "d4" condition: 50% of them } rule b { strings: $a = "a1" $b = "b2" $c = "c3" $d = "d4" condition: 75% of them }`, data: "a1b2", want: []string{"a"}},
	{name: "of in", rules: `rule a { strings: $a = "a1" $b = "b2" condition: all of them in (0..3) } rule b { strings: $a = "a1" $b = "b2" condition: all of them in (0..1) }`, data: "a1b2", want: []string{"a"}},
	{name: "for of", rules: `rule a { strings: $a = "a1" $b = "b2" condition: for all of them : ($ at 0 or # == 1) } rule b { strings: $a = "a1" $b = "b2" condition: for any of ($a, $b) : (@ > 1) }`, data: "a1b2", want: []string{"a", "b"}},
	{name: "for none of", rules: `rule a { strings: $a = "a1" $b = "b2" condition: for none of them : ($) } rule b { strings: $a = "a1" $b = "zz" condition: for none of them : ($ at 100) }`, data: "a1b2", want: []string{"a", "b"}},
	{name: "for in range", rules: `rule a { strings: $a = "ab" condition: for all i in (1..#a) : (@a[i] % 2 == 0) } rule b { strings: $a = "ab" condition: for any i in (1..#a) : (@a[i] == 3) } rule c { condition: for 2 i in (1, 2, 3) : (i > 1) }`, data: "ababab", want: []string{"a", "c"}},
	{name: "for none in", rules: `rule a { condition: for none i in (1..3) : (i == 2) } rule b { condition: for none i in (1..3) : (i == 1) } rule c { condition: for none i in (1..3) : (i == 5) }`, data: "x", want: []string{"a", "b", "c"}},
	{name: "for all empty", rules: `rule a { strings: $a = "zz" condition: for all i in (1..#a) : (true) } rule b { condition: for all i in (3..1) : (false) }`, data: "x", want: nil},
	{name: "rule refs", rules: `rule a { condition: true } private rule b { condition: a } rule c { condition: b and not (a and false) } rule d { condition: any of (a, b*) }`, data: "x", want: []string{"a", "c", "d"}},
	{name: "global", rules: `global rule g { condition: filesize > 10 } rule a { condition: true }`, data: "x", want: nil},
	{name: "global ok", rules: `global rule g { condition: filesize < 10 } rule a { condition: true }`, data: "x", want: []string{"g", "a"}},
	{name: "string ops", rules: `rule a { condition: "abcdef" contains "cd" and "abc" startswith "ab" and "abc" endswith "bc" and "ABC" iequals "abc" and "aBc" icontains "B" and "ABC" istartswith "a" and "ABC" iendswith "c" } rule b { condition: "abc" matches /B/i and not ("abc" matches /^b/) }`, data: "x", want: []string{"a", "b"}},
	{name: "externals", rules: `rule a { condition: ext_int == 5 and ext_str == "hi" and ext_bool and filename == "" }`, data: "x",
		defines: map[string]string{"ext_int": "5", "ext_str": "hi", "ext_bool": "true", "filename": ""}, want: []string{"a"}},
	{name: "define types", rules: `rule a { condition: i == 12 and f == 1.5 and nf == -2.0 and s == "0x10" and big == 0 and neg == -7 }`, data: "x",
		defines: map[string]string{"i": "12", "f": "1.5", "nf": "-2.", "s": "0x10", "big": "4294967296", "neg": "-7"}, want: []string{"a"}},
	{name: "hash math", rules: `import "hash" import "math" rule a { condition: hash.md5(0, filesize) == "900150983cd24fb0d6963f7d28e17f72" and hash.sha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" and hash.crc32(0, 3) == 0x352441c2 and hash.checksum32("abc") == 294 } rule b { condition: math.entropy(0, filesize) > 1.5 and math.mean("abc") == 98.0 and math.max(1, 2) == 2 and math.to_number(1 == 1) == 1 } rule c { condition: defined hash.md5(5, 1) }`, data: "abc", want: []string{"a", "b"}},
	{name: "math", data: "aab\xffcdefgh\x80\x81zz", want: []string{"ent", "dev", "sc", "mc", "cnt", "pct", "mode", "minmax", "abs", "undef"}, rules: `import "math"
rule ent { condition: math.entropy("aabb") == 1.0 and math.in_range(math.entropy(0, filesize), 3.0, 3.9) }
rule dev { condition: math.in_range(math.deviation(0, filesize, math.mean(0, filesize)), 20.0, 80.0) and math.deviation("ab", 97.0) == 0.5 }
rule sc { condition: math.in_range(math.serial_correlation(0, filesize), -1.0, 1.0) and math.serial_correlation("\xff\x80abc") != math.serial_correlation(0, 5) }
rule mc { condition: math.monte_carlo_pi(0, filesize) > 0.0 and math.monte_carlo_pi("\xff\x80abc\x90") > 0.0 and not defined math.monte_carlo_pi("abc") }
rule cnt { condition: math.count(0x61) == 2 and math.count(0x7a, 12, 10) == 2 }
rule pct { condition: math.in_range(math.percentage(0x61), 0.14, 0.15) }
rule mode { condition: math.mode() == 0x61 and math.mode(12, 2) == 0x7a }
rule minmax { condition: math.min(1, 2) == 1 and math.max(-1, 2) == -1 }
rule abs { condition: math.abs(-3) == 3 }
rule undef { condition: not defined math.entropy(100, 1) and not defined math.count(0x61, -1, 2) }`},
	{name: "pe not pe", rules: `import "pe" rule a { condition: pe.is_pe == 0 } rule b { condition: not defined pe.number_of_sections } rule c { condition: pe.number_of_sections == 0 }`, data: "x", want: []string{"a", "b"}},
	{name: "anonymous strings", rules: `rule a { strings: $ = "a1" $ = "b2" condition: all of them }`, data: "a1b2", want: []string{"a"}},
	{name: "base64", rules: `rule a { strings: $a = "This program" base64 condition: $a }`, data: "VGhpcyBwcm9ncmFt", want: []string{"a"}},
	{name: "entrypoint", rules: `rule a { condition: not defined entrypoint }`, data: "x", want: []string{"a"}},
	{name: "overflow", rules: `rule a { condition: 0x7fffffffffffffff + filesize < 0 }`, data: "x", want: []string{"a"}},
	{name: "shift", rules: `rule a { condition: 1 << 64 == 0 and not defined (1 << (filesize - 2)) and 1 << (filesize + 63) == 0 }`, data: "x", want: []string{"a"}},
	{name: "percent undefined", rules: `rule a { strings: $a = "a1" condition: 1 % of them }`, data: "a1", want: []string{"a"}},
	{name: "of rule set", rules: `rule r1 { condition: true } rule r2 { condition: false } rule a { condition: 1 of (r*) } rule b { condition: all of (r1, r2) }`, data: "x", want: []string{"r1", "a"}},
	{name: "comments", rules: "/* c */ rule a // x\n { strings: $a = { 61 /* a */ 62 // b\n } condition: $a }", data: "ab", want: []string{"a"}},
	{name: "escapes", rules: `rule a { strings: $a = "a\x00\"\\\t" condition: $a }`, data: "a\x00\"\\\t", want: []string{"a"}},
	{name: "for in dict", rules: `import "pe" rule a { condition: not (for any k, v in pe.version_info : (k == "x")) }`, data: "x", want: []string{"a"}},
	{name: "self reference", rules: `rule a { condition: not a } rule ab { condition: true } rule b { condition: 2 of (a*) } rule c { condition: 1 of (c*) }`, data: "x", want: []string{"a", "ab", "b"}},
	{name: "short base64", rules: `rule a { strings: $a = "ab" base64 condition: $a }`, data: "YWJj", want: []string{"a"}},
	{name: "odd quantifiers", rules: `rule a { strings: $a = "x" condition: 1.5 of them } rule b { strings: $a = "x" condition: "x" of them } rule c { strings: $a = "x" condition: $a in (2..0) } rule d { condition: for 0.5 i in (1..2) : (true) } rule e { strings: $a = "x" condition: @a["x"] == 0 }`, data: "x"},
	{name: "count in from zero", rules: `rule a { strings: $a = "ab" condition: #a in (0..3) == 2 } rule b { condition: true }`, data: "ababab", want: []string{"a", "b"}},
	{name: "global after", rules: `rule a { condition: true } global private rule g { condition: filesize > 10 } rule b { condition: a }`, data: "x"},
	{name: "global refs", rules: `global rule g { strings: $a = "zz" condition: $a } rule b { condition: not g }`, data: "x"},
	{name: "private ref", rules: `private rule p { strings: $a = "x" condition: $a } rule c { strings: $a = "x" condition: p and #a == 1 }`, data: "x", want: []string{"c"}},
	{name: "sizes", rules: `rule a { condition: 1KB == 1024 and 2MB == 2097152 and 0o17 == 15 }`, data: "x", want: []string{"a"}},
}

func runEval(t *testing.T, c evalCase) []string {
	t.Helper()
	r, err := Compile(c.rules, "test.yar", CompileOptions{Defines: c.defines})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	res, err := r.Scan(context.Background(), []byte(c.data), nil)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	var got []string
	for _, m := range res {
		got = append(got, m.Rule)
	}
	return got
}

func TestEval(t *testing.T) {
	for _, c := range evalCases {
		t.Run(c.name, func(t *testing.T) {
			got := runEval(t, c)
			if diff := cmp.Diff(got, c.want); diff != "" {
				t.Errorf("matched rules (-got +want):\n%s", diff)
			}
		})
	}
}

// yaraCLI returns the rules yara matches on data, in declaration order, or
// skips the test when yara is not installed.
func yaraCLI(t *testing.T, rules, data string, defines map[string]string) []string {
	t.Helper()
	bin, err := exec.LookPath("yara")
	if err != nil {
		t.Skip("yara not on PATH")
	}
	dir := t.TempDir()
	rf, df := filepath.Join(dir, "r.yar"), filepath.Join(dir, "data")
	if err := os.WriteFile(rf, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(df, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-w"}
	for k, v := range defines {
		args = append(args, "-d", k+"="+v)
	}
	out, err := exec.Command(bin, append(args, rf, df)...).CombinedOutput()
	if err != nil {
		t.Fatalf("yara: %v: %s", err, out)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			got = append(got, f[0])
		}
	}
	// yara prints in declaration order too, but sort both to be safe.
	return got
}

func TestEvalAgainstYara(t *testing.T) {
	for _, c := range evalCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := yaraCLI(t, c.rules, c.data, c.defines)
			want := append([]string(nil), c.want...)
			sort.Strings(got)
			sort.Strings(want)
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("yara's matches (-yara +table):\n%s", diff)
			}
		})
	}
}

// TestCountInAborts pins libyara 4.2.3's failure on "#a in (lo..hi)" with
// lo != 0: the whole scan fails, so no rule is reported for the file.
func TestCountInAborts(t *testing.T) {
	r, err := Compile(`rule a { condition: true } rule b { strings: $a = "zz" condition: #a in (1..3) == 0 }`, "t.yar", CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Scan(context.Background(), []byte("ab"), nil)
	if err == nil || len(res) != 0 {
		t.Fatalf("got %v, %v; want no matches and an error", res, err)
	}
	if yaraOut := yaraCLIErr(t, `rule a { condition: true } rule b { strings: $a = "zz" condition: #a in (1..3) == 0 }`, "ab"); !strings.Contains(yaraOut, "error") {
		t.Errorf("yara did not fail: %s", yaraOut)
	}
}

// yaraCLIErr runs yara expecting it to fail and returns its output.
func yaraCLIErr(t *testing.T, rules, data string) string {
	t.Helper()
	bin, err := exec.LookPath("yara")
	if err != nil {
		return "error (yara not installed)"
	}
	dir := t.TempDir()
	rf, df := filepath.Join(dir, "r.yar"), filepath.Join(dir, "data")
	if err := os.WriteFile(rf, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(df, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(bin, rf, df).CombinedOutput()
	return string(out)
}
