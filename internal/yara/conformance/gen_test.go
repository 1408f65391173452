package conformance

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mamori-dev/mamori/internal/yara"
	"github.com/mamori-dev/mamori/internal/yara/pe/petest"
	"github.com/mamori-dev/mamori/internal/yara/strmatch"
)

// generator produces bytes that a YARA string matches.
type generator struct {
	r *rand.Rand
}

func newGenerator(seed uint64) *generator {
	return &generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// sample returns bytes that p matches, or nil when none could be made.
func (g *generator) sample(p strmatch.Pattern) []byte {
	switch p.Kind {
	case strmatch.Text:
		return g.text(p)
	case strmatch.Hex:
		return g.hex(p.Hex)
	case strmatch.Regex:
		return g.regex(p.Regex, p.RegexNocase, p.RegexDotAll)
	}
	return nil
}

func widen(b []byte) []byte {
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, c, 0)
	}
	return out
}

// text applies a text string's modifiers, choosing one variant where the
// modifiers allow several.
func (g *generator) text(p strmatch.Pattern) []byte {
	b := bytes.Clone(p.Text)
	if p.Nocase {
		for i, c := range b {
			if g.r.IntN(2) == 0 {
				switch {
				case c >= 'a' && c <= 'z':
					b[i] = c - 32
				case c >= 'A' && c <= 'Z':
					b[i] = c + 32
				}
			}
		}
	}
	if p.Base64 || p.Base64Wide {
		enc := base64.StdEncoding
		if p.Base64Alphabet != "" {
			enc = base64.NewEncoding(p.Base64Alphabet)
		}
		// A random prefix shifts the string to one of the three alignments
		// YARA searches for.
		prefix := []byte("xyz")[:g.r.IntN(3)]
		s := []byte(enc.EncodeToString(append(prefix, b...)))
		if p.Base64Wide && (!p.Base64 || g.r.IntN(2) == 0) {
			return widen(s)
		}
		return s
	}
	if p.Wide && (!p.Ascii || g.r.IntN(2) == 0) {
		b = widen(b)
	}
	if p.Xor {
		key := byte(p.XorMin + g.r.IntN(p.XorMax-p.XorMin+1))
		for i := range b {
			b[i] ^= key
		}
	}
	return b
}

// hex fills wildcards with random bytes, takes jumps at their minimum
// length and one alternative of each group.
func (g *generator) hex(body string) []byte {
	src := stripHexComments(body)
	var out []byte
	var walk func(s string) (string, bool)
	// walk consumes tokens until ')' or '|' at this level.
	walk = func(s string) (string, bool) {
		for {
			s = strings.TrimLeft(s, " \t\r\n")
			if s == "" || s[0] == ')' || s[0] == '|' {
				return s, true
			}
			switch {
			case s[0] == '(':
				// Pick an alternative, then skip the others.
				alts := splitAlternatives(s[1:])
				if alts == nil {
					return "", false
				}
				choice := alts.parts[g.r.IntN(len(alts.parts))]
				if _, ok := walk(choice); !ok {
					return "", false
				}
				s = alts.rest
			case s[0] == '[':
				end := strings.IndexByte(s, ']')
				if end < 0 {
					return "", false
				}
				lo, _, _ := strings.Cut(strings.TrimSpace(s[1:end]), "-")
				n, _ := strconv.Atoi(strings.TrimSpace(lo))
				for i := 0; i < n; i++ {
					out = append(out, byte(g.r.Uint32()))
				}
				s = s[end+1:]
			case s[0] == '~':
				// "Not" byte (YARA 4.3+): any other value.
				if len(s) < 3 {
					return "", false
				}
				v, ok := hexByte(s[1:3], g)
				if !ok {
					return "", false
				}
				out = append(out, v^0xff)
				s = s[3:]
			default:
				if len(s) < 2 {
					return "", false
				}
				v, ok := hexByte(s[:2], g)
				if !ok {
					return "", false
				}
				out = append(out, v)
				s = s[2:]
			}
		}
	}
	if rest, ok := walk(src); !ok || strings.TrimSpace(rest) != "" {
		return nil
	}
	return out
}

type alternatives struct {
	parts []string
	rest  string
}

// splitAlternatives splits the inside of "( a | b | c ) rest" at top-level
// bars.
func splitAlternatives(s string) *alternatives {
	depth, start := 0, 0
	var parts []string
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			if depth == 0 {
				return &alternatives{parts: append(parts, s[start:i]), rest: s[i+1:]}
			}
			depth--
		case '|':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return nil
}

func hexByte(s string, g *generator) (byte, bool) {
	var v byte
	for _, c := range []byte(s) {
		var n byte
		switch {
		case c == '?':
			n = byte(g.r.IntN(16))
		case c >= '0' && c <= '9':
			n = c - '0'
		case c >= 'a' && c <= 'f':
			n = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			n = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | n
	}
	return v, true
}

func stripHexComments(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "//"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return b.String()
			}
			i += end + 3
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// regex generates a string the regular expression matches from Go's parse
// of it; YARA regexes work on bytes, so the body is read as latin1 and
// runes below 256 are written back as single bytes.
func (g *generator) regex(body string, nocase, dotall bool) []byte {
	runes := make([]rune, len(body))
	for i := 0; i < len(body); i++ {
		runes[i] = rune(body[i])
	}
	flags := syntax.Perl
	if nocase {
		flags |= syntax.FoldCase
	}
	if dotall {
		flags |= syntax.DotNL
	}
	re, err := syntax.Parse(string(runes), flags)
	if err != nil {
		return nil
	}
	var out []byte
	emit := func(r rune) {
		if r < 256 {
			out = append(out, byte(r))
		} else {
			out = utf8.AppendRune(out, r)
		}
	}
	var walk func(re *syntax.Regexp)
	walk = func(re *syntax.Regexp) {
		switch re.Op {
		case syntax.OpLiteral:
			for _, r := range re.Rune {
				emit(r)
			}
		case syntax.OpCharClass:
			if len(re.Rune) >= 2 {
				// Prefer a printable member so that fullword-like context
				// stays intact.
				for i := 0; i+1 < len(re.Rune); i += 2 {
					lo, hi := re.Rune[i], re.Rune[i+1]
					if hi >= 'a' && lo <= 'z' {
						emit(max(lo, 'a'))
						return
					}
				}
				emit(re.Rune[0])
			}
		case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
			emit('x')
		case syntax.OpCapture:
			walk(re.Sub[0])
		case syntax.OpStar, syntax.OpQuest:
			if g.r.IntN(2) == 0 {
				walk(re.Sub[0])
			}
		case syntax.OpPlus:
			walk(re.Sub[0])
		case syntax.OpRepeat:
			n := re.Min
			if re.Max > n && g.r.IntN(2) == 0 {
				n++
			}
			for i := 0; i < n; i++ {
				walk(re.Sub[0])
			}
		case syntax.OpConcat:
			for _, s := range re.Sub {
				walk(s)
			}
		case syntax.OpAlternate:
			walk(re.Sub[g.r.IntN(len(re.Sub))])
		}
	}
	walk(re)
	return out
}

var (
	peExport  = regexp.MustCompile(`pe\.exports\(\s*"([^"]+)"\s*\)`)
	peImport  = regexp.MustCompile(`pe\.imports\(\s*"([^"]+)"\s*,\s*"([^"]+)"\s*\)`)
	peVersion = regexp.MustCompile(`pe\.version_info\["([^"]+)"\]\s*(?:==|contains|icontains|startswith|istartswith)\s*"([^"\\]*)"`)
	peSection = regexp.MustCompile(`pe\.sections\[[^]]+\]\.name\s*==\s*"([^"\\]+)"`)
	peStamp   = regexp.MustCompile(`pe\.timestamp\s*==\s*(0x[0-9a-fA-F]+|[0-9]+)`)
)

// peSpec derives a PE from what a rule's condition asks of the pe module
// (exports, imports, version information, section names, timestamp,
// DLL-ness, bitness), so that pe-conditioned rules can fire.
func peSpec(ruleSrc string, code []byte) petest.Spec {
	spec := petest.Spec{
		Code:      code,
		Timestamp: 0x5f000000,
		Is64:      strings.Contains(ruleSrc, "is_64bit()") || strings.Contains(ruleSrc, "MACHINE_AMD64"),
		DLL:       strings.Contains(ruleSrc, "is_dll()") || strings.Contains(ruleSrc, "pe.DLL"),
	}
	for _, m := range peExport.FindAllStringSubmatch(ruleSrc, -1) {
		spec.Exports = append(spec.Exports, m[1])
	}
	if len(spec.Exports) > 0 {
		spec.ExportName = "sample.dll"
	}
	imports := map[string]int{}
	for _, m := range peImport.FindAllStringSubmatch(ruleSrc, -1) {
		i, ok := imports[strings.ToLower(m[1])]
		if !ok {
			i = len(spec.Imports)
			imports[strings.ToLower(m[1])] = i
			spec.Imports = append(spec.Imports, petest.Import{DLL: m[1]})
		}
		spec.Imports[i].Functions = append(spec.Imports[i].Functions, m[2])
	}
	if len(spec.Imports) == 0 {
		spec.Imports = []petest.Import{{DLL: "KERNEL32.dll", Functions: []string{"CreateFileA", "VirtualAlloc"}}}
	}
	for _, m := range peVersion.FindAllStringSubmatch(ruleSrc, -1) {
		spec.VersionInfo = append(spec.VersionInfo, [2]string{m[1], m[2]})
	}
	for _, m := range peSection.FindAllStringSubmatch(ruleSrc, -1) {
		if len(m[1]) <= 8 {
			spec.Sections = append(spec.Sections, petest.Section{Name: m[1], Data: []byte{0}, Characteristics: 0x60000020})
		}
	}
	if m := peStamp.FindStringSubmatch(ruleSrc); m != nil {
		if v, err := strconv.ParseUint(m[1], 0, 32); err == nil {
			spec.Timestamp = uint32(v)
		}
	}
	return spec
}

// ruleFile builds a file holding samples of all of rule's strings. Variant
// 0 puts them at offset 0 of otherwise random bytes; variant 1 puts them
// in the code section of a PE shaped by the rule's pe conditions (ruleSrc,
// the rule's text, may be empty), since many rules require "MZ" and PE
// headers; variant 2 is random bytes behind an "MZ" marker.
func (g *generator) ruleFile(rule yara.RuleInfo, ruleSrc string, variant int) []byte {
	var body []byte
	for i, s := range rule.Strings {
		if i > 0 {
			body = append(body, 0, 0) // keeps fullword strings whole words
		}
		body = append(body, g.sample(s.Pattern)...)
	}
	pad := make([]byte, 16+g.r.IntN(64))
	for i := range pad {
		pad[i] = byte(g.r.Uint32())
	}
	switch variant {
	case 1:
		return petest.Build(peSpec(ruleSrc, append(append([]byte{0x55, 0x8b, 0xec, 0, 0}, body...), pad...)))
	case 2:
		return append(append([]byte("MZ\x90\x00"), body...), pad...)
	}
	return append(body, pad...)
}
