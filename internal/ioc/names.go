package ioc

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"

	ahocorasick "github.com/BobuSumisu/aho-corasick"

	"github.com/mamori-dev/mamori/internal/scan"
)

// NamePattern is one filename indicator.
type NamePattern struct {
	Source  string
	re      *regexp.Regexp
	Score   int
	exclude *regexp.Regexp
}

// NameSet holds filename indicators in signature-base's
// "REGEX;SCORE[;FALSE-POSITIVE-REGEX]" format.
type NameSet struct {
	patterns []NamePattern
	// A path is tested only against patterns whose required literal occurs
	// in it (found in one Aho–Corasick pass) and against the few patterns
	// without one: thousands of regexes per file would otherwise cost more
	// than hashing the file.
	trie      *ahocorasick.Trie
	byLiteral [][]int
	noLiteral []int
}

var (
	_ scan.Matcher     = (*NameSet)(nil)
	_ scan.ContentFree = (*NameSet)(nil)
)

// Len is the number of usable patterns.
func (s *NameSet) Len() int { return len(s.patterns) }

// LoadNameFile adds the patterns of one file. A pattern Go's regexp cannot
// compile is reported through warn with file:line and skipped: feeds carry
// PCRE-only constructs, and one bad line must not cost the other thousands.
// An unreadable file or a line without a score is an error.
func (s *NameSet) LoadNameFile(path string, warn func(string)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("filename IOC file: %w", err)
	}
	defer f.Close()
	return s.LoadNames(path, f, warn)
}

// LoadNames is LoadNameFile for content already open; name is used in
// messages.
func (s *NameSet) LoadNames(path string, r io.Reader, warn func(string)) error {
	err := eachLine(path, r, func(line int, text string) error {
		p, err := parseNameLine(text)
		if err != nil {
			warn(fmt.Sprintf("%s:%d: %v; pattern skipped", path, line, err))
			return nil
		}
		s.patterns = append(s.patterns, p)
		return nil
	})
	if err != nil {
		return err
	}
	s.index()
	return nil
}

func (s *NameSet) index() {
	lits := map[string]int{}
	var order []string
	s.byLiteral, s.noLiteral = nil, nil
	for i, p := range s.patterns {
		lit := requiredLiteral(p.re.String())
		if len(lit) < 3 {
			s.noLiteral = append(s.noLiteral, i)
			continue
		}
		lit = foldPath(lit)
		k, ok := lits[lit]
		if !ok {
			k = len(order)
			lits[lit] = k
			order = append(order, lit)
			s.byLiteral = append(s.byLiteral, nil)
		}
		s.byLiteral[k] = append(s.byLiteral[k], i)
	}
	s.trie = ahocorasick.NewTrieBuilder().AddStrings(order).Build()
}

// foldPath maps a path or literal to the form the prefilter compares:
// lower case, with both separators as '\'.
func foldPath(p string) string {
	return strings.ToLower(strings.ReplaceAll(p, "/", `\`))
}

// requiredLiteral returns the longest literal every match of the regex
// must contain, or "" when there is none worth indexing.
func requiredLiteral(expr string) string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return ""
	}
	return longestRequired(re.Simplify())
}

func longestRequired(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		return string(re.Rune)
	case syntax.OpCapture:
		return longestRequired(re.Sub[0])
	case syntax.OpPlus:
		return longestRequired(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return longestRequired(re.Sub[0])
		}
	case syntax.OpConcat:
		best, run := "", ""
		for _, sub := range re.Sub {
			if sub.Op == syntax.OpLiteral {
				run += string(sub.Rune)
				continue
			}
			if len(run) > len(best) {
				best = run
			}
			run = ""
			if inner := longestRequired(sub); len(inner) > len(best) {
				best = inner
			}
		}
		if len(run) > len(best) {
			best = run
		}
		return best
	}
	return ""
}

func parseNameLine(text string) (NamePattern, error) {
	// The regex itself may contain ';', so the score is found from the
	// right: the last field that is an integer, optionally followed by one
	// exclusion regex.
	fields := strings.Split(text, ";")
	scoreAt := -1
	for i := len(fields) - 1; i >= 1 && i >= len(fields)-2; i-- {
		if _, err := strconv.Atoi(strings.TrimSpace(fields[i])); err == nil {
			scoreAt = i
			break
		}
	}
	if scoreAt < 0 {
		return NamePattern{}, fmt.Errorf("no score: want REGEX;SCORE[;EXCLUDE]")
	}
	score, _ := strconv.Atoi(strings.TrimSpace(fields[scoreAt]))
	src := strings.Join(fields[:scoreAt], ";")
	re, err := regexp.Compile(src)
	if err != nil {
		return NamePattern{}, fmt.Errorf("regex %q: %w", src, err)
	}
	p := NamePattern{Source: src, re: re, Score: score}
	if scoreAt+1 < len(fields) {
		ex := fields[scoreAt+1]
		if p.exclude, err = regexp.Compile(ex); err != nil {
			return NamePattern{}, fmt.Errorf("exclusion regex %q: %w", ex, err)
		}
	}
	return p, nil
}

func (s *NameSet) Digests() scan.Digests { return 0 }
func (s *NameSet) ContentFree()          {}

// Match tests the path as it is and, with '/' turned into '\', as Windows
// writes it: feeds describe Windows paths, and responders scan mounted
// Windows volumes from Linux.
func (s *NameSet) Match(_ context.Context, f *scan.File, emit func(scan.Record)) error {
	if len(s.patterns) == 0 {
		return nil
	}
	win := strings.ReplaceAll(f.Path, "/", `\`)
	var cand []int
	cand = append(cand, s.noLiteral...)
	s.trie.Walk([]byte(foldPath(f.Path)), func(_, _, k int64) bool {
		cand = append(cand, s.byLiteral[k]...)
		return true
	})
	slices.Sort(cand)
	cand = slices.Compact(cand)
	for _, i := range cand {
		p := &s.patterns[i]
		hit := p.re.MatchString(f.Path)
		if !hit && win != f.Path {
			hit = p.re.MatchString(win)
		}
		if !hit {
			continue
		}
		if p.exclude != nil && (p.exclude.MatchString(f.Path) || p.exclude.MatchString(win)) {
			continue
		}
		emit(&NameRecord{Type: "filename_ioc", Path: scan.DisplayPath(f.Path), PathRaw: scan.RawPath(f.Path), Pattern: p.Source, Score: p.Score})
	}
	return nil
}

// NameRecord is the ndjson "filename_ioc" record.
type NameRecord struct {
	Type    string `json:"type"`
	Path    string `json:"path"`
	PathRaw string `json:"path_raw,omitempty"`
	Pattern string `json:"pattern"`
	Score   int    `json:"score"`
}

func (r *NameRecord) Kind() string  { return "filename_ioc" }
func (r *NameRecord) Finding() bool { return true }
func (r *NameRecord) Text() string {
	return fmt.Sprintf("FILENAME %s matches %s (score %d)", r.Path, r.Pattern, r.Score)
}
