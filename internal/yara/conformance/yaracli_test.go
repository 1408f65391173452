package conformance

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mamori-dev/mamori/internal/yara"
)

// signatureBaseDefines are the external variables signature-base's
// scanners (LOKI, THOR) define.
var signatureBaseDefines = []string{"filename=", "filepath=", "extension=", "filetype=", "owner="}

func defineMap(defs []string) map[string]string {
	m := map[string]string{}
	for _, d := range defs {
		k, v, _ := strings.Cut(d, "=")
		m[k] = v
	}
	return m
}

func defineArgs(defs []string) []string {
	var args []string
	for _, d := range defs {
		args = append(args, "-d", d)
	}
	return args
}

func needYara(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"yara", "yarac"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH (apt-get install yara)", tool)
		}
	}
}

// hit is one matched rule in one file; strings are "id@offset:length",
// sorted, when the scan reported them.
type hit struct {
	file, namespace, rule string
}

type result struct {
	rules   map[hit]bool
	strings map[hit][]string
}

func newResult() *result {
	return &result{rules: map[hit]bool{}, strings: map[hit][]string{}}
}

// yaracCompile compiles rule files with yarac, namespace "n<i>" for
// files[i], and returns the compiled file's path.
func yaracCompile(t *testing.T, files []string, defines []string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "rules.yarc")
	args := defineArgs(defines)
	for i, f := range files {
		args = append(args, fmt.Sprintf("n%d:%s", i, f))
	}
	args = append(args, out)
	if msg, err := exec.Command("yarac", args...).CombinedOutput(); err != nil {
		t.Fatalf("yarac: %v\n%s", err, msg)
	}
	return out
}

var yaraStringLine = regexp.MustCompile(`^0x([0-9a-f]+):([0-9]+):(\$[^:]*):`)

// yaraScan runs yara with compiled rules over every file of dir and
// returns its matches, namespaces mapped through nsName.
func yaraScan(t *testing.T, compiled, dir string, defines []string, withStrings bool, nsName func(string) string) *result {
	t.Helper()
	args := append([]string{"-C", "-e", "-w", "-p", "2"}, defineArgs(defines)...)
	if withStrings {
		args = append(args, "-s", "-L")
	}
	args = append(args, compiled, dir)
	var stderr bytes.Buffer
	cmd := exec.Command("yara", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("yara: %v\n%s", err, stderr.String())
	}
	// A file yara failed to scan has no result to compare against.
	if bytes.Contains(stderr.Bytes(), []byte("error scanning")) {
		t.Fatalf("yara failed on some files:\n%s", stderr.String())
	}
	res := newResult()
	var cur hit
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		line := sc.Text()
		if m := yaraStringLine.FindStringSubmatch(line); m != nil {
			off, _ := strconv.ParseInt(m[1], 16, 64)
			res.strings[cur] = append(res.strings[cur], fmt.Sprintf("%s@%d:%s", m[3], off, m[2]))
			continue
		}
		id, path, ok := strings.Cut(line, " ")
		ns, rule, ok2 := strings.Cut(id, ":")
		if !ok || !ok2 {
			t.Fatalf("unexpected yara output line %q", line)
		}
		cur = hit{file: filepath.Base(path), namespace: nsName(ns), rule: rule}
		res.rules[cur] = true
	}
	for h := range res.strings {
		sort.Strings(res.strings[h])
	}
	return res
}

// mamoriScan scans every file of dir with rules, in process.
func mamoriScan(t *testing.T, rules *yara.Rules, dir string, withStrings bool) *result {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	res := newResult()
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		matches, err := rules.Scan(context.Background(), data, nil)
		if err != nil {
			t.Fatalf("mamori scan of %s: %v", e.Name(), err)
		}
		for _, m := range matches {
			h := hit{file: e.Name(), namespace: m.Namespace, rule: m.Rule}
			res.rules[h] = true
			if withStrings {
				for _, s := range m.Strings {
					res.strings[h] = append(res.strings[h], fmt.Sprintf("%s@%d:%d", s.ID, s.Offset, s.Length))
				}
				sort.Strings(res.strings[h])
			}
		}
	}
	return res
}

// diff lists the disagreements between mamori and yara, sorted.
func diff(mamori, yaraRes *result, withStrings bool) []string {
	var out []string
	for h := range mamori.rules {
		if !yaraRes.rules[h] {
			out = append(out, fmt.Sprintf("%s: rule %s (namespace %s) matched by mamori only", h.file, h.rule, h.namespace))
		}
	}
	for h := range yaraRes.rules {
		if !mamori.rules[h] {
			out = append(out, fmt.Sprintf("%s: rule %s (namespace %s) matched by yara only", h.file, h.rule, h.namespace))
			continue
		}
		if withStrings {
			onlyM, onlyY := setMinus(mamori.strings[h], yaraRes.strings[h]), setMinus(yaraRes.strings[h], mamori.strings[h])
			if len(onlyM)+len(onlyY) > 0 {
				out = append(out, fmt.Sprintf("%s: rule %s string matches differ: mamori only [%s], yara only [%s]",
					h.file, h.rule, strings.Join(onlyM, " "), strings.Join(onlyY, " ")))
			}
		}
	}
	sort.Strings(out)
	return out
}

// setMinus returns the elements of a not in b.
func setMinus(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}
