package yara

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// syntaxCase is one line of testdata/syntax.txt: "ok" or "err", a tab,
// and a one-line rule source whose acceptance by yarac 4.2.3 the status
// records.
type syntaxCase struct{ want, src string }

func readSyntaxCases(t *testing.T) []syntaxCase {
	t.Helper()
	f, err := os.Open("testdata/syntax.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []syntaxCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		status, src, ok := strings.Cut(sc.Text(), "\t")
		if !ok || status != "ok" && status != "err" {
			t.Fatalf("bad line %q", sc.Text())
		}
		out = append(out, syntaxCase{status, src})
	}
	return out
}

// TestSyntaxAcceptance checks that mamori accepts exactly the rules yarac
// accepts, over a list of edge cases of the grammar and type rules.
func TestSyntaxAcceptance(t *testing.T) {
	for _, c := range readSyntaxCases(t) {
		_, err := Compile(c.src, "s.yar", CompileOptions{})
		got := "ok"
		if err != nil {
			got = "err"
		}
		if got != c.want {
			t.Errorf("%s (yarac: %s, mamori: %v)", c.src, c.want, err)
		}
	}
}

// TestSyntaxAcceptanceAgainstYara keeps testdata/syntax.txt true to yarac.
func TestSyntaxAcceptanceAgainstYara(t *testing.T) {
	bin, err := exec.LookPath("yarac")
	if err != nil {
		t.Skip("yarac not on PATH")
	}
	for i, c := range readSyntaxCases(t) {
		t.Run(strconv.Itoa(i+1), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			rf := filepath.Join(dir, "s.yar")
			if err := os.WriteFile(rf, []byte(c.src+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			got := "ok"
			if exec.Command(bin, rf, filepath.Join(dir, "out")).Run() != nil {
				got = "err"
			}
			if got != c.want {
				t.Errorf("%s: yarac says %s, testdata says %s", c.src, got, c.want)
			}
		})
	}
}
