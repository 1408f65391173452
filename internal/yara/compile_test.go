package yara

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// errorCases must fail to compile, at the given position; yara must
// reject them too.
var errorCases = []struct {
	name, rules string
	want        string // "line:col: message prefix"
}{
	{"syntax", "rule a {\n condition: and\n}", "2:13: syntax error"},
	{"unterminated string", "rule a { strings: $a = \"abc\n condition: $a }", "1:28: unterminated string"},
	{"undefined string", "rule a { condition: $b }", "1:21: undefined string identifier \"$b\""},
	{"unreferenced string", "rule a {\n strings:\n  $a = \"x\"\n condition: true }", "3:3: unreferenced string \"$a\""},
	{"undefined identifier", "rule a { condition: foo }", "1:21: undefined identifier \"foo\""},
	{"duplicated rule", "rule a { condition: true }\nrule a { condition: true }", "2:6: duplicated identifier \"a\""},
	{"duplicated string", "rule a { strings: $a = \"x\" $a = \"y\" condition: $a }", "1:28: duplicated string identifier \"$a\""},
	{"empty string", "rule a { strings: $a = \"\" condition: $a }", "1:19: empty string \"$a\""},
	{"xor nocase", "rule a { strings: $a = \"abc\" xor nocase condition: $a }", "1:34: invalid modifier combination: xor nocase"},
	{"base64 fullword", "rule a { strings: $a = \"abc\" base64 fullword condition: $a }", "1:37: invalid modifier combination: base64 fullword"},
	{"unknown module", "import \"nope\"\nrule a { condition: true }", "1:8: unknown module \"nope\""},
	{"module not imported", "rule a { condition: pe.is_pe }", "1:21: undefined identifier \"pe\""},
	{"wrong type", "rule a { condition: \"a\" + 1 }", "1:25: wrong type \"string\" for \"+\" operator"},
	{"mismatch", "rule a { condition: \"a\" == 1 }", "1:25: mismatching types"},
	{"division by zero", "rule a { condition: filesize \\ 0 }", "1:30: division by zero"},
	{"overflow", "rule a { condition: 0x7fffffffffffffff + 1 }", "1:40: integer overflow"},
	{"bad field", "import \"pe\"\nrule a { condition: pe.nope }", "2:24: invalid field name \"nope\""},
	{"bad args", "import \"pe\"\nrule a { condition: pe.exports(1, 2) }", "2:31: wrong arguments"},
	{"comment not regex", "rule a { strings: $a = // condition: $a }", "1:42: syntax error"},
	{"empty regex", "rule a { condition: \"\" matches // }", "1:36: syntax error"},
	{"anonymous outside for", "rule a { strings: $a = \"x\" condition: $ }", "1:39: wrong use of anonymous string"},
	{"hex modifiers", "rule a { strings: $a = { 41 } wide condition: $a }", "1:31: syntax error"},
	{"regex base64", "rule a { strings: $a = /ab/ base64 condition: $a }", "1:29: syntax error"},
	{"bool compare", "rule a { condition: true == 1 }", "1:26: mismatching types"},
	{"loop nesting", "rule a { condition: for any i in (1..2) : (for any j in (1..2) : (for any k in (1..2) : (for any l in (1..2) : (for any m in (1..2) : (true))))) }", "1:113: loop nesting limit exceeded"},
	{"non-ascii", "rule a { condition: tru\xc3\xa9 }", "1:24: non-ascii character"},
}

func TestCompileErrors(t *testing.T) {
	for _, c := range errorCases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile(c.rules, "t.yar", CompileOptions{})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want an *Error", err)
			}
			got := strings.TrimPrefix(e.Error(), "t.yar:")
			if !strings.HasPrefix(got, c.want) {
				t.Errorf("got %q, want prefix %q", got, c.want)
			}
		})
	}
}

func TestCompileErrorsAgainstYara(t *testing.T) {
	bin, err := exec.LookPath("yarac")
	if err != nil {
		t.Skip("yarac not on PATH")
	}
	for _, c := range errorCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			rf := filepath.Join(dir, "r.yar")
			if err := os.WriteFile(rf, []byte(c.rules), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin, rf, filepath.Join(dir, "out")).CombinedOutput()
			if err == nil {
				t.Errorf("yarac accepted it: %s", out)
			}
		})
	}
}

func TestDeepNesting(t *testing.T) {
	src := "rule a { condition: " + strings.Repeat("(", 5000) + "true" + strings.Repeat(")", 5000) + " }"
	_, err := Compile(src, "t.yar", CompileOptions{})
	if err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Fatalf("got %v, want a nesting error", err)
	}
	src = "rule a { condition: " + strings.Repeat("-", 5000) + "1 }"
	if _, err := Compile(src, "t.yar", CompileOptions{}); err == nil {
		t.Fatal("5000 unary minus signs compiled")
	}
}

func TestSkipUnsupported(t *testing.T) {
	src := `import "dotnet"
import "pe"
rule uses_dotnet { condition: dotnet.number_of_streams == 1 }
rule fine { condition: true }
rule refers { condition: uses_dotnet }
rule fine2 { strings: $a = "xyzzy" condition: $a and pe.is_pe == 0 }`
	if _, err := Compile(src, "t.yar", CompileOptions{}); err == nil || !strings.Contains(err.Error(), `rule "uses_dotnet"`) {
		t.Fatalf("got %v, want an error naming rule uses_dotnet", err)
	}
	var warnings []string
	r, err := Compile(src, "t.yar", CompileOptions{SkipUnsupported: true, Warn: func(m string) { warnings = append(warnings, m) }})
	if err != nil {
		t.Fatal(err)
	}
	if r.Skipped() != 2 || r.NumRules() != 2 || len(warnings) != 2 {
		t.Fatalf("skipped %d, kept %d, warnings %q; want 2, 2, 2", r.Skipped(), r.NumRules(), warnings)
	}
	res, err := r.Scan(context.Background(), []byte("xyzzy"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range res {
		got = append(got, m.Rule)
	}
	if diff := cmp.Diff(got, []string{"fine", "fine2"}); diff != "" {
		t.Error(diff)
	}
}

func TestIncludeAndNamespaces(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("inc.yar", `rule base { strings: $a = "needle" condition: $a }`)
	a := write("a.yar", `include "inc.yar"
rule same { condition: base }`)
	b := write("b.yar", `rule same { meta: author = "x" n = -3 ok = true condition: filesize > 0 }`)
	r, err := CompileFiles(context.Background(), []string{a, b}, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Scan(context.Background(), []byte("a needle"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []MatchedRule{
		{Namespace: a, Rule: "base", Tags: []string{}, Meta: map[string]any{}, Strings: []StringMatch{{ID: "$a", Offset: 2, Length: 6}}},
		{Namespace: a, Rule: "same", Tags: []string{}, Meta: map[string]any{}, Strings: []StringMatch{}},
		{Namespace: b, Rule: "same", Tags: []string{}, Meta: map[string]any{"author": "x", "n": int64(-3), "ok": true}, Strings: []StringMatch{}},
	}
	if diff := cmp.Diff(res, want); diff != "" {
		t.Error(diff)
	}
}
