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

// TestSyntaxAcceptanceAgainstYara keeps testdata/syntax.txt true to yarac:
// the accepted cases compile together (each file its own namespace), the
// rejected ones fail one by one (yarac stops at the first error).
func TestSyntaxAcceptanceAgainstYara(t *testing.T) {
	bin, err := exec.LookPath("yarac")
	if err != nil {
		t.Skip("yarac not on PATH")
	}
	dir := t.TempDir()
	var okArgs []string
	for i, c := range readSyntaxCases(t) {
		rf := filepath.Join(dir, strconv.Itoa(i)+".yar")
		if err := os.WriteFile(rf, []byte(c.src+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if c.want == "ok" {
			okArgs = append(okArgs, "n"+strconv.Itoa(i)+":"+rf)
			continue
		}
		t.Run(strconv.Itoa(i+1), func(t *testing.T) {
			t.Parallel()
			if exec.Command(bin, rf, rf+".out").Run() == nil {
				t.Errorf("%s: yarac accepts it, testdata says err", c.src)
			}
		})
	}
	if out, err := exec.Command(bin, append(okArgs, filepath.Join(dir, "ok.out"))...).CombinedOutput(); err != nil {
		t.Errorf("yarac rejects cases testdata says are ok: %s", out)
	}
}
