package sigma

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/logevent"
	"go.yaml.in/yaml/v3"
)

const corpusDir = "../../../shared/corpus/sigma"

func needCorpus(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(corpusDir, "rules")); err != nil {
		t.Skipf("SigmaHQ corpus not present at %s: %v", corpusDir, err)
	}
	return corpusDir
}

var ruleDirs = []string{"rules", "rules-emerging-threats", "rules-threat-hunting", "rules-compliance", "rules-dfir", "rules-placeholder"}

func loadCorpus(t testing.TB) *Ruleset {
	t.Helper()
	dir := needCorpus(t)
	rs := New(Options{})
	for _, d := range ruleDirs {
		p := filepath.Join(dir, d)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if err := rs.AddPath(p); err != nil {
			t.Fatal(err)
		}
	}
	rs.Build()
	return rs
}

// TestCorpusLoads: every SigmaHQ rule loads unless mamori cannot read its
// log source.
func TestCorpusLoads(t *testing.T) {
	rs := loadCorpus(t)
	unreadable := 0
	for _, r := range rs.Refused {
		if strings.Contains(r.Reason, ErrUnreadableSource.Error()) {
			unreadable++
			continue
		}
		t.Errorf("refused: %s", r)
	}
	t.Logf("loaded %d rules and %d correlations; %d refused for their log source", len(rs.Rules), len(rs.Correlations), unreadable)
}

// jsonEvent converts the JSON rendering SigmaHQ ships beside each
// regression .evtx into an Event, as the EVTX reader would produce it.
func jsonEvent(raw map[string]any, source string) (*logevent.Event, error) {
	ev, _ := raw["Event"].(map[string]any)
	if ev == nil {
		return nil, errors.New("no Event object")
	}
	sys, _ := ev["System"].(map[string]any)
	e := &logevent.Event{Product: "windows", Source: source, Offset: -1, Fields: map[string]any{}}
	attr := func(m any, k string) string {
		mm, _ := m.(map[string]any)
		a, _ := mm["#attributes"].(map[string]any)
		return fmt.Sprint(a[k])
	}
	e.Provider = attr(sys["Provider"], "Name")
	e.Channel, _ = sys["Channel"].(string)
	e.Host, _ = sys["Computer"].(string)
	switch id := sys["EventID"].(type) {
	case float64:
		e.EventID = int64(id)
	case map[string]any:
		f, _ := id["#text"].(float64)
		e.EventID = int64(f)
	}
	if f, ok := sys["EventRecordID"].(float64); ok {
		e.RecordID = uint64(f)
	}
	if ts := attr(sys["TimeCreated"], "SystemTime"); ts != "" {
		e.Time, _ = time.Parse(time.RFC3339Nano, ts)
	}
	var flatten func(prefix string, v any)
	flatten = func(name string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, vv := range x {
				if k == "#attributes" {
					continue
				}
				flatten(k, vv)
			}
		case float64:
			if x == float64(int64(x)) {
				e.Fields[name] = int64(x)
			} else {
				e.Fields[name] = x
			}
		case nil:
			e.Fields[name] = nil
		case string:
			e.Fields[name] = x
		case bool:
			e.Fields[name] = x
		case []any:
			e.Fields[name] = x
		}
	}
	if d, ok := ev["EventData"]; ok {
		flatten("EventData", d)
	}
	if d, ok := ev["UserData"]; ok {
		flatten("UserData", d)
	}
	return e, nil
}

func readJSONEvents(t testing.TB, path string) []*logevent.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	var out []*logevent.Event
	for {
		var raw map[string]any
		if err := dec.Decode(&raw); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		e, err := jsonEvent(raw, path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		e.RecordID = uint64(len(out) + 1)
		out = append(out, e)
	}
	return out
}

type regressionCase struct {
	dir        string
	ruleID     string
	matchCount int
	data       string // the .json rendering
}

func regressionCases(t testing.TB) []regressionCase {
	dir := needCorpus(t)
	var cases []regressionCase
	root := filepath.Join(dir, "regression_data")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.Name() != "info.yml" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var info struct {
			RuleMetadata []struct {
				ID string `yaml:"id"`
			} `yaml:"rule_metadata"`
			Tests []struct {
				Type       string `yaml:"type"`
				MatchCount int    `yaml:"match_count"`
				Path       string `yaml:"path"`
			} `yaml:"regression_tests_info"`
		}
		if err := yaml.Unmarshal(b, &info); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for _, tc := range info.Tests {
			if tc.Type != "evtx" || len(info.RuleMetadata) == 0 {
				continue
			}
			js := strings.TrimSuffix(filepath.Join(dir, tc.Path), ".evtx") + ".json"
			cases = append(cases, regressionCase{dir: filepath.Dir(p), ruleID: info.RuleMetadata[0].ID, matchCount: tc.MatchCount, data: js})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].dir < cases[j].dir })
	return cases
}

// TestRegressionData runs each SigmaHQ regression case the way SigmaHQ's
// own runner does: the rule's directory (the rule and its siblings) is
// loaded and the case passes when the expected rule fires. Sibling rules
// firing too is normal (a broad rule and its narrower variant share a
// directory) and is only counted; so are cases whose match_count differs
// from the events that really match.
func TestRegressionData(t *testing.T) {
	dir := needCorpus(t)
	cases := regressionCases(t)
	passed, countDiff, sibling := 0, 0, 0
	sets := map[string]*Ruleset{}
	for _, tc := range cases {
		name := strings.TrimPrefix(tc.dir, filepath.Join(dir, "regression_data")+"/")
		ruleDir := filepath.Join(dir, filepath.Dir(name))
		rs := sets[ruleDir]
		if rs == nil {
			rs = New(Options{})
			if err := rs.AddPath(ruleDir); err != nil {
				t.Fatal(err)
			}
			sets[ruleDir] = rs
		}
		var r *Rule
		for _, x := range rs.Rules {
			if x.ID == tc.ruleID {
				r = x
			}
		}
		if r == nil {
			t.Errorf("%s: rule %s not loaded from %s", name, tc.ruleID, ruleDir)
			continue
		}
		m := rs.NewMatcher()
		got := 0
		for _, e := range readJSONEvents(t, tc.data) {
			for _, h := range m.Match(e) {
				if h.Rule == r {
					got++
				} else {
					sibling++
				}
			}
		}
		if got == 0 {
			t.Errorf("%s: rule %s did not fire", name, filepath.Base(r.File))
			continue
		}
		passed++
		if tc.matchCount != 0 && got != tc.matchCount {
			countDiff++
			t.Logf("%s: %d events match, info.yml says %d", name, got, tc.matchCount)
		}
	}
	t.Logf("regression cases passed: %d/%d (%d with a match_count other than the events that match; %d sibling hits)", passed, len(cases), countDiff, sibling)
}

// BenchmarkMatchRegression evaluates the regression events against every
// SigmaHQ rule.
func BenchmarkMatchRegression(b *testing.B) {
	rs := loadCorpus(b)
	var evs []*logevent.Event
	for _, tc := range regressionCases(b) {
		evs = append(evs, readJSONEvents(b, tc.data)...)
	}
	m := rs.NewMatcher()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, e := range evs {
			m.Match(e)
		}
	}
	b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
}
