package scope

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"runtime"
	"strings"
	"sync"
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
	var members memberNamer
	var last struct {
		h, path, member string
		src             int32
	}
	last.src = -1
	stop := make(chan struct{})
	defer close(stop)
	for b := range decodeBatches(in, stop) {
		<-b.done
		for i := range b.lines {
			l := &b.lines[i]
			st.Lines = b.first + i
			if b.errAt == i && b.err != nil {
				return st, fmt.Errorf("%s:%d: %w", name, st.Lines, b.err)
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
				member := members.name(h+"\x00"+l.Path, l.Member, *l.Record)
				if last.src < 0 || last.h != h || last.path != l.Path || last.member != member {
					last.h, last.path, last.member = h, l.Path, member
					last.src = r.Source(Source{Host: h, Path: l.Path, Member: member})
				}
				st.Occurrences++
				if l.Value == "" {
					st.Masked++
				}
				r.AddCountry(last.src, *l.Record, l.Category, l.Value, l.Country)
			case "pii_flag":
				st.Flags++
				s := Source{Host: h, Path: l.Path, Member: members.name(h+"\x00"+l.Path, l.Member, -1)}
				switch l.Flag {
				case "special_care":
					s.SpecialCare = l.Terms
				case "credentials":
					s.Credentials = true
				}
				r.Source(s)
			}
		}
		if b.readErr != nil {
			return st, fmt.Errorf("%s: %w", name, b.readErr)
		}
	}
	return st, nil
}

// lineBatch is a run of input lines decoded by a worker.
type lineBatch struct {
	first   int // line number of lines[0]
	raw     [][]byte
	lines   []piiLine
	err     error
	errAt   int
	readErr error
	done    chan struct{}
}

const batchLines = 4096

// decodeBatches reads in line by line and decodes the JSON of each batch
// of lines on every core; batches come out in input order, each ready once
// its done channel is closed. Blank lines decode as zero records.
func decodeBatches(in io.Reader, stop <-chan struct{}) <-chan *lineBatch {
	ordered := make(chan *lineBatch, 2*runtime.GOMAXPROCS(0))
	work := make(chan *lineBatch, 2*runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				b.lines = make([]piiLine, len(b.raw))
				b.errAt = -1
				for i, line := range b.raw {
					if len(bytes.TrimSpace(line)) == 0 {
						continue
					}
					if err := json.Unmarshal(line, &b.lines[i]); err != nil {
						b.err, b.errAt = err, i
						b.lines = b.lines[:i+1]
						break
					}
				}
				close(b.done)
			}
		}()
	}
	go func() {
		defer close(ordered)
		defer func() { close(work); wg.Wait() }()
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		n := 0
		b := &lineBatch{first: 1, done: make(chan struct{})}
		send := func() bool {
			select {
			case work <- b:
			case <-stop:
				return false
			}
			select {
			case ordered <- b:
				return true
			case <-stop:
				return false
			}
		}
		for sc.Scan() {
			n++
			b.raw = append(b.raw, bytes.Clone(sc.Bytes()))
			if len(b.raw) == batchLines {
				if !send() {
					return
				}
				b = &lineBatch{first: n + 1, done: make(chan struct{})}
			}
		}
		b.readErr = sc.Err()
		send()
	}()
	return ordered
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
