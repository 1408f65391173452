package strmatch

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"

	"github.com/google/go-cmp/cmp"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sigBaseDir is signature-base's rule folder relative to this package.
const sigBaseDir = "../../../../shared/corpus/signature-base/yara"

// extractPatterns pulls the string definitions out of YARA source. It is a
// test helper, good enough for signature-base's layout, not a parser: the
// rule compiler lives in package yara.
func extractPatterns(src string) []Pattern {
	var out []Pattern
	i := 0
	for {
		k := strings.Index(src[i:], "strings:")
		if k < 0 {
			return out
		}
		i += k + len("strings:")
		end := strings.Index(src[i:], "condition:")
		if end < 0 {
			return out
		}
		out = append(out, stringsSection(src[i:i+end])...)
		i += end
	}
}

func stringsSection(s string) []Pattern {
	var out []Pattern
	i := 0
	for i < len(s) {
		d := strings.IndexByte(s[i:], '$')
		if d < 0 {
			break
		}
		i += d
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 {
			break
		}
		i += eq + 1
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			break
		}
		var p Pattern
		switch s[i] {
		case '"':
			j := i + 1
			var b []byte
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' && j+1 < len(s) {
					switch s[j+1] {
					case 'x':
						if j+3 < len(s) {
							v, err := strconv.ParseUint(s[j+2:j+4], 16, 8)
							if err == nil {
								b = append(b, byte(v))
								j += 4
								continue
							}
						}
					case 'n':
						b = append(b, '\n')
					case 't':
						b = append(b, '\t')
					case 'r':
						b = append(b, '\r')
					default:
						b = append(b, s[j+1])
					}
					j += 2
					continue
				}
				b = append(b, s[j])
				j++
			}
			p = Pattern{Kind: Text, Text: b}
			i = j + 1
		case '{':
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				return out
			}
			p = Pattern{Kind: Hex, Hex: s[i+1 : i+j]}
			i += j + 1
		case '/':
			j := i + 1
			for j < len(s) && s[j] != '/' && s[j] != '\n' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) || s[j] != '/' {
				continue
			}
			p = Pattern{Kind: Regex, Regex: s[i+1 : j]}
			j++
			for j < len(s) && (s[j] == 'i' || s[j] == 's') {
				if s[j] == 'i' {
					p.RegexNocase = true
				} else {
					p.RegexDotAll = true
				}
				j++
			}
			i = j
		default:
			continue
		}
		nl := strings.IndexByte(s[i:], '\n')
		if nl < 0 {
			nl = len(s) - i
		}
		mods := s[i : i+nl]
		if c := strings.Index(mods, "//"); c >= 0 {
			mods = mods[:c]
		}
		for _, m := range strings.Fields(mods) {
			switch {
			case m == "ascii":
				p.Ascii = true
			case m == "wide":
				p.Wide = true
			case m == "nocase":
				p.Nocase = true
			case m == "fullword":
				p.Fullword = true
			case m == "private":
				p.Private = true
			case m == "xor":
				p.Xor, p.XorMin, p.XorMax = true, 0, 255
			case strings.HasPrefix(m, "xor("):
				p.Xor = true
				r := strings.TrimSuffix(strings.TrimPrefix(m, "xor("), ")")
				lo, hi, ok := strings.Cut(r, "-")
				if !ok {
					hi = lo
				}
				p.XorMin, _ = strconv.Atoi(lo)
				p.XorMax, _ = strconv.Atoi(hi)
			case m == "base64":
				p.Base64 = true
			case m == "base64wide":
				p.Base64Wide = true
			}
		}
		if p.Kind == Text && len(p.Text) == 0 {
			continue
		}
		out = append(out, p)
	}
	return out
}

// sigBasePatterns returns every string of signature-base that compiles, or
// skips the test when the corpus is absent.
func sigBasePatterns(tb testing.TB) []Pattern {
	files, _ := filepath.Glob(filepath.Join(sigBaseDir, "*.yar"))
	if len(files) == 0 {
		tb.Skip("signature-base corpus not found at " + sigBaseDir)
	}
	var ps []Pattern
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		for _, p := range extractPatterns(string(src)) {
			if _, err := Compile([]Pattern{p}); err != nil {
				continue
			}
			ps = append(ps, p)
		}
	}
	return ps
}

func TestSigBaseCompiles(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sigBaseDir, "*.yar"))
	if len(files) == 0 {
		t.Skip("signature-base corpus not found at " + sigBaseDir)
	}
	var ps []Pattern
	var from []string
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range extractPatterns(string(src)) {
			ps = append(ps, p)
			from = append(from, filepath.Base(f))
		}
	}
	s, err := Compile(ps)
	if err != nil {
		pe := err.(*PatternError)
		t.Fatalf("%s: %s: %v", from[pe.Index], yaraSource(ps[pe.Index]), err)
	}
	t.Logf("%d strings compiled, %d slow", len(ps), len(s.Slow()))
}

// TestSigBaseAgainstYara scans a piece of a real binary, with the text
// strings of signature-base planted in it, using every string of
// signature-base, and requires the matches yara reports.
func TestSigBaseAgainstYara(t *testing.T) {
	needYara(t)
	if testing.Short() {
		t.Skip("slow: scans with all of signature-base in both engines")
	}
	// A quarter of the strings keeps the test short; STRMATCH_SIGBASE_ALL=1
	// takes them all.
	step := 4
	if os.Getenv("STRMATCH_SIGBASE_ALL") != "" {
		step = 1
	}
	var ps []Pattern
	for i, p := range sigBasePatterns(t) {
		if i%step != 0 {
			continue
		}
		// The test extractor picks up modifiers from comments now and
		// then; drop combinations yara refuses.
		text := p.Nocase || p.Wide || p.Ascii || p.Fullword || p.Xor || p.Base64 || p.Base64Wide
		if p.Kind == Hex && text || p.Kind == Regex && (p.Xor || p.Base64 || p.Base64Wide) ||
			(p.Base64 || p.Base64Wide) && (p.Fullword || p.Nocase || p.Xor) {
			continue
		}
		ps = append(ps, p)
	}
	bin, err := os.ReadFile("/usr/bin/bash")
	if err != nil {
		t.Skip("no /usr/bin/bash to scan")
	}
	data := append([]byte(nil), bin[:min(len(bin), 128<<10)]...)
	for i, p := range ps {
		if p.Kind == Text && i%3 == 0 {
			data = append(data, ' ')
			data = append(data, p.Text...)
		}
	}
	ps = yaraAccepts(t, ps)
	want := runYara(t, ps, data)
	got := asPrinted(scanAll(t, ps, data))
	if len(want) < 100 {
		t.Fatalf("yara found only %d matches; the test data is not doing its job", len(want))
	}
	for i, p := range ps {
		g, w := byPattern(got, i), byPattern(want, i)
		if diff := cmp.Diff(g, w); diff != "" {
			t.Errorf("%s differs (-got +want):\n%s", yaraSource(p), diff)
		}
	}
}

var yaraErrLine = regexp.MustCompile(`^error: rule "r\d+" in .*\((\d+)\):`)

// yaraAccepts drops the patterns yara rejects (the test extractor is not a
// full parser, and some signature-base strings only parse in context).
func yaraAccepts(t *testing.T, ps []Pattern) []Pattern {
	for try := 0; try < 30; try++ {
		var src strings.Builder
		var lineOf []int // 1-based line where each pattern ends
		for i, p := range ps {
			if i%5000 == 0 {
				if i > 0 {
					src.WriteString(" condition:\n  any of them\n}\n")
				}
				fmt.Fprintf(&src, "rule r%d {\n strings:\n", i/5000)
			}
			fmt.Fprintf(&src, "  $s%d = %s\n", i, yaraSource(p))
			lineOf = append(lineOf, strings.Count(src.String(), "\n"))
		}
		src.WriteString(" condition:\n  any of them\n}\n")
		rf := filepath.Join(t.TempDir(), "r.yar")
		if err := os.WriteFile(rf, []byte(src.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("yara", "-w", rf, rf).CombinedOutput()
		if err == nil {
			return ps
		}
		bad := map[int]bool{}
		for _, line := range strings.Split(string(out), "\n") {
			if m := yaraErrLine.FindStringSubmatch(line); m != nil {
				n, _ := strconv.Atoi(m[1])
				if i := sort.SearchInts(lineOf, n); i < len(ps) {
					bad[i] = true
				}
			}
		}
		if len(bad) == 0 {
			t.Fatalf("yara rejects the strings: %s", out)
		}
		var keep []Pattern
		for i, p := range ps {
			if bad[i] {
				t.Logf("yara rejects %s", yaraSource(p)[:min(60, len(yaraSource(p)))])
			}
			if !bad[i] {
				keep = append(keep, p)
			}
		}
		ps = keep
	}
	t.Fatal("yara keeps rejecting strings")
	return nil
}
