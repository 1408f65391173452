package strmatch

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// yaraSource renders a pattern as a YARA string definition.
func yaraSource(p Pattern) string {
	var b strings.Builder
	switch p.Kind {
	case Text:
		b.WriteByte('"')
		for _, c := range p.Text {
			if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		}
		b.WriteByte('"')
	case Hex:
		b.WriteString("{ " + p.Hex + " }")
	case Regex:
		b.WriteString("/" + p.Regex + "/")
		if p.RegexNocase {
			b.WriteByte('i')
		}
		if p.RegexDotAll {
			b.WriteByte('s')
		}
	}
	if p.Nocase {
		b.WriteString(" nocase")
	}
	if p.Ascii {
		b.WriteString(" ascii")
	}
	if p.Wide {
		b.WriteString(" wide")
	}
	if p.Fullword {
		b.WriteString(" fullword")
	}
	if p.Xor {
		if p.XorMin == 0 && p.XorMax == 255 {
			b.WriteString(" xor")
		} else {
			fmt.Fprintf(&b, " xor(%d-%d)", p.XorMin, p.XorMax)
		}
	}
	if p.Base64 {
		b.WriteString(" base64")
		if p.Base64Alphabet != "" {
			fmt.Fprintf(&b, "(%q)", p.Base64Alphabet)
		}
	}
	if p.Base64Wide {
		b.WriteString(" base64wide")
		if p.Base64Alphabet != "" {
			fmt.Fprintf(&b, "(%q)", p.Base64Alphabet)
		}
	}
	return b.String()
}

var yaraLine = regexp.MustCompile(`^0x([0-9a-f]+):(\d+):\$s(\d+): `)

// runYara scans data with the yara CLI, one rule holding all patterns,
// and returns the matches it prints.
func runYara(t testing.TB, ps []Pattern, data []byte) []Match {
	t.Helper()
	dir := t.TempDir()
	// One rule per 5000 strings, below yara's limit per rule.
	var rule strings.Builder
	for i, p := range ps {
		if i%5000 == 0 {
			if i > 0 {
				rule.WriteString(" condition:\n  any of them\n}\n")
			}
			fmt.Fprintf(&rule, "rule r%d {\n strings:\n", i/5000)
		}
		fmt.Fprintf(&rule, "  $s%d = %s\n", i, yaraSource(p))
	}
	rule.WriteString(" condition:\n  any of them\n}\n")
	rf := filepath.Join(dir, "r.yar")
	df := filepath.Join(dir, "data")
	if err := os.WriteFile(rf, []byte(rule.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(df, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("yara", "-s", "-L", "--max-strings-per-rule=100000", rf, df)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("yara: %v\n%s\nrule:\n%s", err, stderr.String(), rule.String())
	}
	var ms []Match
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		m := yaraLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		off, _ := strconv.ParseInt(m[1], 16, 64)
		n, _ := strconv.Atoi(m[2])
		id, _ := strconv.Atoi(m[3])
		ms = append(ms, Match{Pattern: id, Offset: off, Length: n})
	}
	sortMatches(ms)
	return ms
}

func sortMatches(ms []Match) {
	sort.Slice(ms, func(a, b int) bool {
		if ms[a].Pattern != ms[b].Pattern {
			return ms[a].Pattern < ms[b].Pattern
		}
		return ms[a].Offset < ms[b].Offset
	})
}

func scanAll(t testing.TB, ps []Pattern, data []byte) []Match {
	t.Helper()
	s, err := Compile(ps)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	var ms []Match
	s.Scan(data, func(m Match) { ms = append(ms, m) })
	return ms
}

// yaraMaxMatchData is libyara's default YR_CONFIG_MAX_MATCH_DATA: `yara -L`
// prints the length of the data it kept, at most this much.
const yaraMaxMatchData = 512

// asPrinted cuts lengths the way `yara -L` prints them.
func asPrinted(ms []Match) []Match {
	var out []Match
	for _, m := range ms {
		m.Length = min(m.Length, yaraMaxMatchData)
		out = append(out, m)
	}
	return out
}

func needYara(t testing.TB) {
	if _, err := exec.LookPath("yara"); err != nil {
		t.Skip("yara CLI not on PATH (apt-get install yara)")
	}
}
