package scope

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// piiLine is the part of a `mamori scan --pii` ndjson record scoping reads.
type piiLine struct {
	Type     string   `json:"type"`
	Host     string   `json:"host"`
	Path     string   `json:"path"`
	Member   string   `json:"member"`
	Category string   `json:"category"`
	Record   *int     `json:"record"`
	Value    string   `json:"value"`
	Country  string   `json:"country"`
	Masked   string   `json:"masked"`
	Terms    []string `json:"terms"`
	Flag     string   `json:"flag"`
}

// ooxmlPart splits a member naming a part of an Office file
// ("dir/book.xlsx!xl/worksheets/sheet1.xml") into the Office file's own
// member ("dir/book.xlsx", "" at top level) and the part.
func ooxmlPart(member string) (container, part string, ok bool) {
	container, part = "", member
	if i := strings.LastIndexByte(member, '!'); i >= 0 {
		container, part = member[:i], member[i+1:]
	}
	if strings.HasPrefix(part, "xl/") || strings.HasPrefix(part, "word/") || strings.HasPrefix(part, "ppt/") {
		return container, part, true
	}
	return member, "", false
}

// sheetTracker numbers the sheets of a workbook in the order its rows
// arrive. A row's cells come from its sheet part and from the shared
// strings part, and rows are numbered per sheet: the sheet a shared string
// belongs to shows only in the stream order, where a row number going
// back or another sheet part starts the next sheet.
type sheetTracker struct {
	seg       int
	lastRec   int
	sheetPart string
}

// ReadStats counts what ReadResults took and left.
type ReadStats struct {
	Lines, Occurrences, Masked, Flags int
}

// ReadResults feeds saved `mamori scan --pii --reveal --format ndjson`
// output to the resolver. host names the machine the scan ran on ("" when
// unknown); a record's own "host" field wins. Records of other types pass.
// An occurrence without a raw value (a scan without --reveal) still counts
// its category but makes no key.
func (r *Resolver) ReadResults(in io.Reader, name, host string) (ReadStats, error) {
	var st ReadStats
	sheets := map[string]*sheetTracker{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		st.Lines++
		line := sc.Bytes()
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		var l piiLine
		if err := json.Unmarshal(line, &l); err != nil {
			return st, fmt.Errorf("%s:%d: %w", name, st.Lines, err)
		}
		h := host
		if l.Host != "" {
			h = l.Host
		}
		switch l.Type {
		case "pii":
			if l.Path == "" || l.Category == "" || l.Record == nil {
				return st, fmt.Errorf("%s:%d: pii record without path, category or record", name, st.Lines)
			}
			member := l.Member
			if c, part, ok := ooxmlPart(member); ok {
				k := h + "\x00" + l.Path + "\x00" + c
				t := sheets[k]
				if t == nil {
					t = &sheetTracker{}
					sheets[k] = t
				}
				isSheet := strings.HasPrefix(part, "xl/worksheets/")
				if *l.Record < t.lastRec || isSheet && t.sheetPart != "" && t.sheetPart != part {
					t.seg++
					t.sheetPart = ""
				}
				if isSheet {
					t.sheetPart = part
				}
				t.lastRec = *l.Record
				member = c
				if strings.HasPrefix(part, "xl/") {
					member = joinMember(c, "sheet"+strconv.Itoa(t.seg+1))
				}
			}
			src := r.Source(Source{Host: h, Path: l.Path, Member: member})
			st.Occurrences++
			if l.Value == "" {
				st.Masked++
			}
			r.AddCountry(src, *l.Record, l.Category, l.Value, l.Country)
		case "pii_flag":
			st.Flags++
			s := Source{Host: h, Path: l.Path, Member: l.Member}
			switch l.Flag {
			case "special_care":
				s.SpecialCare = l.Terms
			case "credentials":
				s.Credentials = true
			}
			r.Source(s)
		}
	}
	if err := sc.Err(); err != nil {
		return st, fmt.Errorf("%s: %w", name, err)
	}
	return st, nil
}

// ExposureRule raises the files matching Pattern to Level.
type ExposureRule struct {
	Level   Exposure
	Pattern string
	Line    int
}

// ReadExposure reads exposure rules, one per line: a level (present,
// accessed, exfiltrated), then a pattern, separated by a comma, tab or
// spaces. The pattern is a path, a directory ending in "/", or a glob
// (path.Match), optionally preceded by "host:"; it matches the file, so
// marking an archive marks every member. # starts a comment.
func ReadExposure(in io.Reader, name string) ([]ExposureRule, error) {
	var rules []ExposureRule
	sc := bufio.NewScanner(in)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		lv, pat, ok := strings.Cut(line, ",")
		if !ok {
			f := strings.Fields(line)
			if len(f) < 2 {
				return nil, fmt.Errorf("%s:%d: want LEVEL,PATTERN", name, n)
			}
			lv, pat = f[0], strings.TrimSpace(strings.TrimPrefix(line, f[0]))
		}
		e, err := ParseExposure(lv)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		pat = strings.TrimSpace(pat)
		if _, err := path.Match(pat, ""); err != nil {
			return nil, fmt.Errorf("%s:%d: pattern %q: %w", name, n, pat, err)
		}
		rules = append(rules, ExposureRule{e, pat, n})
	}
	return rules, sc.Err()
}

// ApplyExposure raises every source matching a rule; it returns how many
// sources each rule matched, in rule order, so that a rule matching
// nothing can be reported.
func (r *Resolver) ApplyExposure(rules []ExposureRule) []int {
	hits := make([]int, len(rules))
	for i := range r.sources {
		s := &r.sources[i]
		if s.Master {
			continue
		}
		for k, rule := range rules {
			if matchSource(rule.Pattern, s) {
				s.Exposure = max(s.Exposure, rule.Level)
				hits[k]++
			}
		}
	}
	return hits
}

func matchSource(pat string, s *Source) bool {
	p := pat
	if h, rest, ok := strings.Cut(pat, ":"); ok && !strings.Contains(h, "/") && !strings.Contains(h, "\\") && len(h) > 1 {
		if h != s.Host && h != "*" {
			return false
		}
		p = rest
	}
	if strings.HasSuffix(p, "/") {
		return strings.HasPrefix(s.Path, p)
	}
	if p == s.Path {
		return true
	}
	ok, _ := path.Match(p, s.Path)
	return ok
}

func joinMember(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "!" + name
}
