package conformance

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mamori-dev/mamori/internal/yara"
)

// ruleGen writes random YARA rules over a small alphabet, so that random
// data hits their strings often, with conditions mixing counts, offsets,
// lengths, quantifiers, loops, integer readers and arithmetic.
type ruleGen struct {
	r     *rand.Rand
	rules []string // source of each rule, by index
	names []string // rule names usable in references
}

const alphabet = "abcAB01 -"

func (g *ruleGen) pick(options ...string) string { return options[g.r.IntN(len(options))] }

func (g *ruleGen) word(min, max int) string {
	n := min + g.r.IntN(max-min+1)
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

type genString struct {
	id      string // "$a0"
	private bool
}

// customAlphabet is the standard base64 alphabet rotated, for base64
// modifiers with an alphabet argument.
const customAlphabet = "defghijklmnopqrstuvwxyz0123456789+/ABCDEFGHIJKLMNOPQRSTUVWXYZabc"

// quoteText writes w as a YARA text string, sometimes spelling bytes with
// escape sequences.
func (g *ruleGen) quoteText(w string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case g.r.IntN(6) == 0:
			fmt.Fprintf(&b, `\x%02x`, c)
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func (g *ruleGen) textString() string {
	w := g.word(1, 4)
	var mods []string
	if g.r.IntN(6) == 0 && len(w) >= 3 {
		w = g.word(3, 5)
		mods = append(mods, g.pick("base64", "base64wide", "base64 base64wide",
			`base64("`+customAlphabet+`")`, `base64wide("`+customAlphabet+`")`))
	} else {
		if g.r.IntN(3) == 0 {
			mods = append(mods, "wide")
			if g.r.IntN(2) == 0 {
				mods = append(mods, "ascii")
			}
		} else if g.r.IntN(5) == 0 {
			mods = append(mods, "ascii")
		}
		switch g.r.IntN(6) {
		case 0:
			mods = append(mods, "nocase")
		case 1:
			lo := g.r.IntN(3)
			mods = append(mods, g.pick("xor", fmt.Sprintf("xor(%d-%d)", lo, lo+g.r.IntN(3)), fmt.Sprintf("xor(%d)", lo)))
		}
		if g.r.IntN(5) == 0 {
			mods = append(mods, "fullword")
		}
	}
	return g.quoteText(w) + " " + strings.Join(mods, " ")
}

func (g *ruleGen) hexByte() string {
	return fmt.Sprintf("%02X", alphabet[g.r.IntN(len(alphabet))])
}

func (g *ruleGen) hexString() string {
	toks := []string{g.hexByte()}
	for n := g.r.IntN(4); n > 0; n-- {
		switch g.r.IntN(6) {
		case 0:
			toks = append(toks, "??")
		case 1:
			toks = append(toks, fmt.Sprintf("%X?", alphabet[g.r.IntN(len(alphabet))]>>4))
		case 2:
			lo := g.r.IntN(3)
			toks = append(toks, g.pick(fmt.Sprintf("[%d]", lo+1), fmt.Sprintf("[%d-%d]", lo, lo+1+g.r.IntN(3)), "[0-1]"))
		case 3:
			toks = append(toks, fmt.Sprintf("( %s | %s %s )", g.hexByte(), g.hexByte(), g.hexByte()))
		default:
			toks = append(toks, g.hexByte())
		}
	}
	toks = append(toks, g.hexByte())
	return "{ " + strings.Join(toks, " ") + " }"
}

func (g *ruleGen) regexAtom() string {
	switch g.r.IntN(9) {
	case 0:
		return g.pick("[ab]", "[^a ]", "[A-C]", "[0-9]")
	case 1:
		return g.pick(`\d`, `\w`, `\s`, `\W`)
	case 2:
		return "."
	case 3:
		return "(" + g.pick("a", "b", "AB") + "|" + g.pick("c", "0", "1") + ")"
	default:
		c := alphabet[g.r.IntN(len(alphabet))]
		if c == ' ' || c == '-' {
			return `\x` + fmt.Sprintf("%02x", c)
		}
		return string(c)
	}
}

func (g *ruleGen) regexString() string {
	var b strings.Builder
	if g.r.IntN(8) == 0 {
		b.WriteString("^")
	}
	// The first atom is mandatory: regexes that can match the empty string
	// are a corner no real rule relies on.
	b.WriteString(g.regexAtom())
	for n := g.r.IntN(4); n > 0; n-- {
		b.WriteString(g.regexAtom())
		switch g.r.IntN(7) {
		case 0:
			b.WriteString("*")
		case 1:
			b.WriteString("+")
		case 2:
			b.WriteString("?")
		case 3:
			b.WriteString(g.pick("{1,2}", "{2}", "{0,3}", "{1,}"))
		}
	}
	flags := g.pick("", "", "i", "s", "is")
	mods := g.pick("", "", "nocase", "wide", "ascii wide", "fullword")
	return "/" + b.String() + "/" + flags + " " + mods
}

// expr returns a random condition over the strings of the rule.
func (g *ruleGen) expr(strs []genString, depth int) string {
	s := func() string { return strs[g.r.IntN(len(strs))].id[1:] }
	k := func(max int) int { return g.r.IntN(max + 1) }
	op := func() string { return g.pick("==", "!=", "<", "<=", ">", ">=") }
	if depth > 0 && g.r.IntN(3) == 0 {
		switch g.r.IntN(4) {
		case 0:
			return "(" + g.expr(strs, depth-1) + " and " + g.expr(strs, depth-1) + ")"
		case 1:
			return "(" + g.expr(strs, depth-1) + " or " + g.expr(strs, depth-1) + ")"
		case 2:
			return "not " + g.expr(strs, depth-1)
		default:
			return fmt.Sprintf("for %s i in (1..%d) : ( %s > %d )", g.pick("any", "all", "2", "none"), 1+k(3), g.intExpr(strs, "i"), k(6))
		}
	}
	switch g.r.IntN(29) {
	case 0:
		return "$" + s()
	case 1:
		return fmt.Sprintf("#%s %s %d", s(), op(), k(4))
	case 2:
		return fmt.Sprintf("@%s[%d] %s %d", s(), 1+k(2), op(), k(40))
	case 3:
		return fmt.Sprintf("!%s[1] %s %d", s(), op(), k(8))
	case 4:
		return fmt.Sprintf("$%s at %d", s(), k(20))
	case 5:
		lo := k(30)
		return fmt.Sprintf("$%s in (%d..%d)", s(), lo, lo+k(60))
	case 6:
		return g.pick("any of them", "all of them", "none of them", "1 of them", "2 of them", "50% of them", "any of ($"+s()[:1]+"*)", "all of ($"+s()[:1]+"*)")
	case 7:
		return fmt.Sprintf("%d of ($%s, $%s)", k(2), s(), s())
	case 8:
		return fmt.Sprintf("for any i in (1..#%s) : ( @%s[i] %s %d )", s(), s(), op(), k(50))
	case 9:
		return fmt.Sprintf("for %s of ($%s*) : ( %s )", g.pick("any", "all", "1", "none"), s()[:1], g.pick("$", "# > 1", "@ > 3", "! == 2", "$ at 0", "$ in (0..20)"))
	case 10:
		return fmt.Sprintf("%s(%d) %s %d", g.pick("uint8", "int8", "uint16", "uint16be", "int16"), k(12), op(), k(0x6262))
	case 11:
		return fmt.Sprintf("(%s(%d) & 0x%x) %s %d", g.pick("uint32", "uint32be", "int32"), k(10), k(0xffff), op(), k(0x6161))
	case 12:
		return fmt.Sprintf("filesize %s %d", op(), k(300))
	case 13:
		return fmt.Sprintf("%s %s %d", g.intExpr(strs, ""), op(), k(12))
	case 14:
		// yara 4.2.3 aborts the whole scan of a file (error 31) when it
		// evaluates "#a in (lo..hi)" with lo != 0: its paranoid check takes
		// lo for a pointer. Only lo == 0 has a result to compare.
		return fmt.Sprintf("#%s in (0..%d) %s %d", s(), 20+k(200), op(), k(3))
	case 15:
		if len(g.names) > 0 {
			return g.names[g.r.IntN(len(g.names))]
		}
		return "true"
	case 16:
		return fmt.Sprintf("defined @%s[%d]", s(), 1+k(2))
	case 17:
		return fmt.Sprintf("$%s at @%s[1] + %d", s(), s(), k(4))
	case 18:
		return fmt.Sprintf("@%s[#%s] %s %d", s(), s(), op(), k(100))
	case 19:
		return fmt.Sprintf("for all of them : ( # %s %d )", op(), k(3))
	case 20:
		return fmt.Sprintf("not ($%s or $%s)", s(), s())
	case 21:
		return g.pick(
			`ext_s contains "bc"`, `ext_s icontains "CA"`, `ext_s startswith "ab"`, `ext_s istartswith "ABC"`,
			`ext_s endswith "B"`, `ext_s iendswith "ab"`, `ext_s iequals "ABCAB"`, `ext_s matches /c[A-Z]+$/`,
			`ext_s == "abcAB"`, `ext_b`, `not ext_b`, fmt.Sprintf("ext_i + #%s > %d", s(), k(6)),
			`"abc" contains "bc"`, `"aBc" iequals "AbC"`)
	case 22:
		return g.pick(
			fmt.Sprintf("math.entropy(0, filesize) >= %s", g.pick("2.5", "3.0", "3.5", "4.0")),
			fmt.Sprintf("math.mean(0, filesize) > %s", g.pick("70.5", "80.0", "90")),
			fmt.Sprintf("math.deviation(0, filesize, 80.0) < %d", 20+k(20)),
			"math.serial_correlation(0, filesize) < 0.1",
			"math.monte_carlo_pi(0, filesize) < 0.5",
			"math.in_range(math.mean(0, 16), 60.0, 90.0)",
			fmt.Sprintf("math.count(0x%02x) > %d", alphabet[g.r.IntN(len(alphabet))], k(20)),
			fmt.Sprintf("math.percentage(0x%02x) > 0.%d", alphabet[g.r.IntN(len(alphabet))], 1+k(2)),
			"math.mode() == 0x61",
			fmt.Sprintf("math.entropy(@%s[1], 8) > 2", s()),
		)
	case 23:
		return g.pick(
			`hash.md5(0, 1) == "0cc175b9c0f1b6a831c399e269772661"`,
			`hash.sha1(0, 1) == "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"`,
			`hash.sha256(0, 1) == "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"`,
			"hash.crc32(0, 1) == hash.crc32(1, 1)",
			"hash.md5(0, 2) == hash.md5(2, 2)",
			fmt.Sprintf("hash.checksum32(0, 4) > %d", 300+k(100)),
			fmt.Sprintf("hash.md5(@%s[1], 1) == hash.md5(0, 1)", s()),
		)
	case 24:
		return fmt.Sprintf("for %s x in (%d, %d, %d) : ( uint8(x) == 0x%02x )", g.pick("any", "all", "2"),
			k(5), k(10), k(20), alphabet[g.r.IntN(len(alphabet))])
	case 25:
		return fmt.Sprintf("(#%s + 0.5) * %s > %d", s(), g.pick("2.0", "1.5", "0.25"), k(5))
	case 26:
		return fmt.Sprintf("for any i in (1..#%s) : ( for %s j in (1..#%s) : ( @%s[i] + %d < @%s[j] ) )",
			s(), g.pick("any", "all"), s(), s(), k(5), s())
	case 27:
		return g.pick(
			fmt.Sprintf("uint8(filesize - %d) == 0x%02x", 1+k(3), alphabet[g.r.IntN(len(alphabet))]),
			fmt.Sprintf("for %s i in (0..filesize - 1) : ( uint8(i) == 0x%02x )", g.pick("any", "all", "3"), alphabet[g.r.IntN(len(alphabet))]),
			fmt.Sprintf("$%s in (filesize - %d..filesize)", s(), 10+k(40)),
			fmt.Sprintf("for any of them : ( @ > filesize \\ %d )", 2+k(3)),
		)
	}
	return g.pick("true", "false")
}

// intExpr is integer arithmetic over counts, offsets and lengths; v, when
// set, is a loop variable to use.
func (g *ruleGen) intExpr(strs []genString, v string) string {
	s := func() string { return strs[g.r.IntN(len(strs))].id[1:] }
	idx := "1"
	if v != "" {
		idx = v
	}
	leaf := func() string {
		switch g.r.IntN(6) {
		case 0:
			return "#" + s()
		case 1:
			return fmt.Sprintf("@%s[%s]", s(), idx)
		case 2:
			return fmt.Sprintf("!%s[%s]", s(), idx)
		case 3:
			if v != "" {
				return v
			}
			return "filesize"
		case 4:
			return fmt.Sprintf("uint8(%s)", idx)
		}
		return strconv.Itoa(g.r.IntN(7))
	}
	switch g.r.IntN(10) {
	case 0:
		return fmt.Sprintf("(%s + %s) * %d", leaf(), leaf(), 1+g.r.IntN(3))
	case 1:
		return fmt.Sprintf("%s %% %d", leaf(), 1+g.r.IntN(4))
	case 2:
		return fmt.Sprintf("(%s | %d) << %d", leaf(), g.r.IntN(4), g.r.IntN(3))
	case 3:
		return fmt.Sprintf("-%s + %s", leaf(), leaf())
	case 4:
		return fmt.Sprintf("%s \\ %d", leaf(), 1+g.r.IntN(3))
	case 5:
		return fmt.Sprintf("(%s ^ %s) & 7", leaf(), leaf())
	case 6:
		return fmt.Sprintf("~%s >> 60", leaf())
	case 7:
		// Counts may be 0: yara makes such divisions undefined.
		return fmt.Sprintf("%s %s #%s", leaf(), g.pick("\\", "%"), s())
	case 8:
		return fmt.Sprintf("(%s << (#%s * 30)) | 1", leaf(), s())
	}
	return fmt.Sprintf("%s - %s", leaf(), leaf())
}

// rule writes rule number i.
func (g *ruleGen) rule(i int) string {
	name := fmt.Sprintf("r%d", i)
	var strs []genString
	var b strings.Builder
	kind := ""
	switch g.r.IntN(150) {
	case 0, 1, 2, 3, 4, 5:
		kind = "private "
	case 6:
		// A false global rule silences its whole namespace, so global
		// rules are rare.
		kind = "global "
	}
	fmt.Fprintf(&b, "%srule %s {\n  strings:\n", kind, name)
	for j, n := 0, 1+g.r.IntN(4); j < n; j++ {
		id := fmt.Sprintf("$%s%d", g.pick("a", "a", "b"), j)
		var def string
		switch g.r.IntN(5) {
		case 0, 1:
			def = g.textString()
		case 2, 3:
			def = g.hexString()
		default:
			def = g.regexString()
		}
		priv := g.r.IntN(10) == 0
		if priv {
			def += " private"
		}
		strs = append(strs, genString{id: id, private: priv})
		fmt.Fprintf(&b, "    %s = %s\n", id, def)
	}
	cond := g.expr(strs, 2)
	// Every string must be referenced; "or (... and false)" does that
	// without changing the outcome.
	var refs []string
	for _, s := range strs {
		refs = append(refs, s.id)
	}
	fmt.Fprintf(&b, "  condition:\n    %s or (%s and false)\n}\n", cond, strings.Join(refs, " and "))
	if kind != "private " || g.r.IntN(2) == 0 {
		g.names = append(g.names, name)
	}
	return b.String()
}

// data writes a random file from the alphabet, with samples of the rules'
// strings spliced in.
func dataFile(r *rand.Rand, gen *generator, info []yara.RuleInfo) []byte {
	n := r.IntN(200)
	b := make([]byte, 0, n+64)
	for i := 0; i < n; i++ {
		if r.IntN(10) == 0 {
			b = append(b, byte(r.Uint32()))
		} else {
			b = append(b, alphabet[r.IntN(len(alphabet))])
		}
	}
	for k := r.IntN(5); k > 0 && len(info) > 0; k-- {
		ri := info[r.IntN(len(info))]
		if len(ri.Strings) == 0 {
			continue
		}
		sample := gen.sample(ri.Strings[r.IntN(len(ri.Strings))].Pattern)
		at := r.IntN(len(b) + 1)
		b = append(b[:at], append(sample, b[at:]...)...)
	}
	return b
}

// randomHeader and randomDefines give the random rules modules and one
// external variable of each type.
const randomHeader = "import \"math\"\nimport \"hash\"\n"

var randomDefines = []string{"ext_s=abcAB", "ext_i=3", "ext_b=true"}

// acceptedRules joins the rules mamori compiles, dropping the others and
// the rules that refer to dropped ones; it returns the compile errors of
// the rules dropped for their own sake.
func acceptedRules(header string, rules []string) (string, []string) {
	var src strings.Builder
	src.WriteString(header)
	var dropped, errs []string
	for i, rule := range rules {
		refersToDropped := false
		for _, d := range dropped {
			if regexp.MustCompile(`\b` + d + `\b`).MatchString(rule[strings.Index(rule, "condition:"):]) {
				refersToDropped = true
			}
		}
		name := fmt.Sprintf("r%d", i)
		if !refersToDropped {
			if _, err := yara.Compile(src.String()+rule, "rules.yar", yara.CompileOptions{Defines: defineMap(randomDefines)}); err == nil {
				src.WriteString(rule)
				continue
			} else {
				errs = append(errs, fmt.Sprintf("%v\n%s", err, rule))
			}
		}
		dropped = append(dropped, name)
	}
	return src.String(), errs
}

// TestRandomRules compiles batches of random rules with mamori and yara,
// scans random files with both and requires the same matching rules and
// the same string matches (id, offset, length).
func TestRandomRules(t *testing.T) {
	needYara(t)
	batches := 15
	if fullRun() {
		batches = 300
	}
	failures := 0
	for batch := 0; batch < batches && failures < 10; batch++ {
		r := rand.New(rand.NewPCG(uint64(batch), 42))
		g := &ruleGen{r: r}
		for i := 0; i < 25; i++ {
			g.rules = append(g.rules, g.rule(i))
		}
		// Rules mamori rejects are reported and left out of the comparison
		// (with the rules referring to them), so one unsupported construct
		// does not hide the rest of the batch.
		src, rejected := acceptedRules(randomHeader, g.rules)
		for _, msg := range rejected {
			t.Errorf("batch %d: mamori rejects a rule yara accepts: %s", batch, msg)
			failures++
		}
		dir := t.TempDir()
		ruleFile := filepath.Join(dir, "rules.yar")
		if err := os.WriteFile(ruleFile, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		compiled := yaracCompile(t, []string{ruleFile}, randomDefines)
		rules, err := yara.Compile(src, ruleFile, yara.CompileOptions{Defines: defineMap(randomDefines)})
		if err != nil {
			t.Fatalf("batch %d: rules accepted one by one fail together: %v", batch, err)
		}
		dataDir := filepath.Join(dir, "data")
		if err := os.Mkdir(dataDir, 0o755); err != nil {
			t.Fatal(err)
		}
		gen := newGenerator(uint64(batch))
		info := rules.Info()
		files := map[string][]byte{}
		for f := 0; f < 30; f++ {
			name := fmt.Sprintf("f%02d", f)
			files[name] = dataFile(r, gen, info)
			if err := os.WriteFile(filepath.Join(dataDir, name), files[name], 0o644); err != nil {
				t.Fatal(err)
			}
		}
		yaraRes := yaraScan(t, compiled, dataDir, randomDefines, true, func(string) string { return "default" })
		mamoriRes := mamoriScan(t, rules, dataDir, true)
		reported := map[string]bool{} // one report per rule and batch
		for _, d := range diff(mamoriRes, yaraRes, true) {
			_, rest, _ := strings.Cut(d, ": rule ")
			if r, _, _ := strings.Cut(rest, " "); reported[r] {
				continue
			} else {
				reported[r] = true
			}
			failures++
			file, rest, _ := strings.Cut(d, ": rule ")
			ruleName, _, _ := strings.Cut(rest, " ")
			var ruleSrc string
			if i, err := strconv.Atoi(strings.TrimPrefix(ruleName, "r")); err == nil && i < len(g.rules) {
				ruleSrc = g.rules[i]
			}
			t.Errorf("batch %d: %s\n%s  data: %q", batch, d, ruleSrc, files[file])
		}
	}
}
