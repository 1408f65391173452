package obligation

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

var draftHTML = template.Must(template.New("draft").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font-family: "IPAexGothic", "Noto Sans CJK JP", sans-serif; max-width: 50em; margin: 2em auto; line-height: 1.6; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1em; }
th, td { border: 1px solid #444; padding: .4em .6em; vertical-align: top; text-align: left; white-space: pre-wrap; }
th { background: #eee; width: 30%; font-weight: normal; }
h2 { font-size: 1.05em; background: #dde; padding: .3em .5em; margin: 1.2em 0 0; }
.unknown { color: #a00; font-weight: bold; }
footer { font-size: .85em; color: #555; border-top: 1px solid #999; margin-top: 2em; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{range .Sections}}<h2>{{.Heading}}</h2>
<table>
{{range .Fields}}<tr>{{if .Label}}<th>{{.Label}}</th><td{{if .Unknown}} class="unknown"{{end}}>{{.Value}}</td>{{else}}<td colspan="2"{{if .Unknown}} class="unknown"{{end}}>{{.Value}}</td>{{end}}</tr>
{{end}}</table>
{{end}}<footer>
<p>{{if eq .Lang "ja"}}使用した事実 (facts used){{else}}Facts used{{end}}:</p>
<ul>
{{range .FactsUsed}}<li><code>{{.}}</code></li>
{{end}}</ul>
</footer>
</body>
</html>
`))

// HTML renders a draft as a standalone page laid out like a form.
func (d Draft) HTML() (string, error) {
	var b bytes.Buffer
	if err := draftHTML.Execute(&b, d); err != nil {
		return "", fmt.Errorf("render %s: %w", d.Name, err)
	}
	return b.String(), nil
}

// WriteDrafts writes each draft as NAME.md, NAME.html and NAME.json in dir
// and returns, per Markdown file that already existed with other content,
// a line diff from the old text to the new, so a fact change shows what it
// changed in the drafts.
func WriteDrafts(dir string, drafts []Draft) (diffs []string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("drafts: %w", err)
	}
	for _, d := range drafts {
		md := d.Markdown()
		page, err := d.HTML()
		if err != nil {
			return nil, err
		}
		js, err := d.JSON()
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", d.Name, err)
		}
		mdPath := filepath.Join(dir, d.Name+".md")
		old, err := os.ReadFile(mdPath)
		switch {
		case err == nil && string(old) != md:
			diffs = append(diffs, LineDiff(mdPath+" (before)", mdPath+" (after)", string(old), md))
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("drafts: %w", err)
		}
		for _, out := range []struct {
			path string
			data []byte
		}{{mdPath, []byte(md)}, {filepath.Join(dir, d.Name+".html"), []byte(page)}, {filepath.Join(dir, d.Name+".json"), js}} {
			if err := os.WriteFile(out.path, out.data, 0o644); err != nil {
				return nil, fmt.Errorf("drafts: %w", err)
			}
		}
	}
	return diffs, nil
}

// lines splits a text into lines; an empty text has none.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// LineDiff is a unified-style diff of two texts by whole lines (longest
// common subsequence), with no context trimming: drafts are short.
func LineDiff(nameA, nameB, a, b string) string {
	x, y := lines(a), lines(b)
	// lcs[i][j] is the LCS length of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", nameA, nameB)
	i, j := 0, 0
	inHunk := false
	for i < len(x) || j < len(y) {
		if i < len(x) && j < len(y) && x[i] == y[j] {
			i, j, inHunk = i+1, j+1, false
			continue
		}
		if !inHunk {
			fmt.Fprintf(&out, "@@ -%d +%d @@\n", i+1, j+1)
			inHunk = true
		}
		if i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]) {
			fmt.Fprintf(&out, "-%s\n", x[i])
			i++
		} else {
			fmt.Fprintf(&out, "+%s\n", y[j])
			j++
		}
	}
	return out.String()
}
