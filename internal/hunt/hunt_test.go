package hunt

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/mamori-dev/mamori/internal/sigma"
	"go.yaml.in/yaml/v3"
)

func TestDefaultRulesLoad(t *testing.T) {
	rs := DefaultRules(sigma.Options{})
	for _, r := range rs.Refused {
		t.Errorf("embedded rule refused: %s", r)
	}
	if len(rs.Rules) < 2000 || len(rs.Correlations) != 2 {
		t.Errorf("%d rules, %d correlations", len(rs.Rules), len(rs.Correlations))
	}
}

// TestLinuxAttack: an SSH brute force, the successful login that follows,
// a new UID-0 user, sudo from www-data and a cleared history come out as
// hits in time order, and the damaged line as an error record.
func TestLinuxAttack(t *testing.T) {
	res, err := Run(context.Background(), []string{"testdata/linux"}, Options{Rules: DefaultRules(sigma.Options{}), MinLevel: "medium"})
	if err != nil {
		t.Fatal(err)
	}
	type hit struct{ Time, Rule string }
	var got []hit
	for _, h := range res.Hits {
		if strings.HasPrefix(h.RuleFile, "mamori/") {
			got = append(got, hit{h.Time.Format(time.TimeOnly), h.Rule})
		}
	}
	want := []hit{
		{"02:15:08", "SSH Brute Force"},
		{"02:17:30", "SSH Brute Force Followed by a Successful Login"},
		{"02:19:12", "New or Modified Linux User With UID 0"},
		{"02:21:44", "Sudo Run by a Web Server Account"},
		{"02:25:00", "Shell History Cleared or Disabled"},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("mamori hits (-got +want)\n%s", diff)
	}
	for i := 1; i < len(res.Hits); i++ {
		if res.Hits[i].Time.Before(res.Hits[i-1].Time) {
			t.Errorf("hit %d is out of time order", i)
		}
	}
	wantErr := []FileError{{Type: "error", File: "testdata/linux/auth.log.gz", Offset: 2051, Error: "line 22: not a syslog line"}}
	if diff := cmp.Diff(res.Errors, wantErr); diff != "" {
		t.Errorf("errors (-got +want)\n%s", diff)
	}
	if res.Files != 2 || res.Skipped != 1 || res.Events != 25 {
		t.Errorf("files %d skipped %d events %d", res.Files, res.Skipped, res.Events)
	}
}

// TestTimeline: every event once, in time order, hits annotated, the same
// whether the rows stay in memory or go through runs on disk.
func TestTimeline(t *testing.T) {
	rules := DefaultRules(sigma.Options{})
	render := func() []byte {
		var b bytes.Buffer
		if _, err := Run(context.Background(), []string{"testdata/linux"}, Options{Rules: rules, Timeline: &b, TempDir: t.TempDir()}); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	mem := render()
	old := runBytes
	runBytes = 1 // every row its own run
	disk := render()
	runBytes = old
	if diff := cmp.Diff(string(disk), string(mem)); diff != "" {
		t.Errorf("spilled timeline differs (-disk +mem)\n%s", diff)
	}
	recs, err := csv.NewReader(bytes.NewReader(mem)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(recs[0], TimelineHeader); diff != "" {
		t.Errorf("header (-got +want)\n%s", diff)
	}
	// 25 events and 2 correlation rows.
	if len(recs) != 1+25+2 {
		t.Errorf("%d rows", len(recs)-1)
	}
	for i := 2; i < len(recs); i++ {
		if recs[i][0] < recs[i-1][0] {
			t.Errorf("row %d out of order: %s after %s", i, recs[i][0], recs[i-1][0])
		}
	}
	var sudo []string
	for _, r := range recs {
		if strings.Contains(r[2], "user=www-data") {
			sudo = r
		}
	}
	want := []string{"2026-03-03T02:21:44.000000Z", "Event Recorded", "", "web1", "", "", "", "testdata/linux/auth.log.gz", "20", "high", "Sudo Run by a Web Server Account"}
	if sudo == nil {
		t.Fatal("no sudo row")
	}
	sudo[2] = ""
	if diff := cmp.Diff(sudo, want); diff != "" {
		t.Errorf("sudo row (-got +want)\n%s", diff)
	}
}

func TestFromTo(t *testing.T) {
	from := time.Date(2026, 3, 3, 2, 19, 0, 0, time.UTC)
	to := time.Date(2026, 3, 3, 2, 22, 0, 0, time.UTC)
	res, err := Run(context.Background(), []string{"testdata/linux"}, Options{Rules: DefaultRules(sigma.Options{}), MinLevel: "high", From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range res.Hits {
		got = append(got, h.Rule)
	}
	want := []string{"New or Modified Linux User With UID 0", "Privileged User Has Been Created", "Sudo Run by a Web Server Account"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("(-got +want)\n%s", diff)
	}
}

const corpusDir = "../../../shared/corpus/sigma"

// TestRegressionEVTX runs SigmaHQ's regression .evtx files through the
// whole hunt (EVTX reader and engine) with the rule's directory loaded, as
// SigmaHQ's runner does: each case's rule must fire.
func TestRegressionEVTX(t *testing.T) {
	root := filepath.Join(corpusDir, "regression_data")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("SigmaHQ regression data not present: %v", err)
	}
	sets := map[string]*sigma.Ruleset{}
	cases, passed := 0, 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.Name() != "info.yml" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var info struct {
			RuleMetadata []struct{ ID string }         `yaml:"rule_metadata"`
			Tests        []struct{ Type, Path string } `yaml:"regression_tests_info"`
		}
		if err := yaml.Unmarshal(b, &info); err != nil {
			return err
		}
		for _, tc := range info.Tests {
			if tc.Type != "evtx" {
				continue
			}
			cases++
			rel, _ := filepath.Rel(root, filepath.Dir(p))
			ruleDir := filepath.Join(corpusDir, filepath.Dir(rel))
			rs := sets[ruleDir]
			if rs == nil {
				rs = sigma.New(sigma.Options{})
				if err := rs.AddPath(ruleDir); err != nil {
					return err
				}
				rs.Build()
				sets[ruleDir] = rs
			}
			res, err := Run(context.Background(), []string{filepath.Join(corpusDir, tc.Path)}, Options{Rules: rs, Workers: 1})
			if err != nil {
				return err
			}
			fired := false
			for _, h := range res.Hits {
				fired = fired || h.RuleID == info.RuleMetadata[0].ID
			}
			if len(res.Errors) > 0 {
				t.Errorf("%s: %v", rel, res.Errors)
			}
			if !fired {
				t.Errorf("%s: rule %s did not fire", rel, info.RuleMetadata[0].ID)
				continue
			}
			passed++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("regression .evtx cases whose rule fired: %d/%d", passed, cases)
}

// TestHitsSpilled: hits spilled to sorted runs on disk come back in the
// order and with the content of hits kept in memory, and more than once.
func TestHitsSpilled(t *testing.T) {
	rules := DefaultRules(sigma.Options{})
	run := func() *Result {
		res, err := Run(context.Background(), []string{"testdata/linux"}, Options{Rules: rules, TempDir: t.TempDir(), Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(res.Close)
		return res
	}
	mem := run()
	old := hitRunBytes
	hitRunBytes = 1 // every hit its own run
	disk := run()
	hitRunBytes = old
	if mem.Hits == nil || disk.Hits != nil {
		t.Fatalf("in memory: %d hits; spilled: %d hits kept in memory", len(mem.Hits), len(disk.Hits))
	}
	for pass := range 2 {
		var got []Hit
		if err := disk.EachHit(func(h Hit) error { got = append(got, h); return nil }); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, mem.Hits, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("pass %d: spilled hits (-disk +mem)\n%s", pass, diff)
		}
	}
	if disk.HitCount != len(mem.Hits) || mem.HitCount != len(mem.Hits) {
		t.Errorf("HitCount %d (spilled), %d (in memory), want %d", disk.HitCount, mem.HitCount, len(mem.Hits))
	}
	if diff := cmp.Diff(disk.Levels, mem.Levels); diff != "" {
		t.Errorf("levels (-disk +mem)\n%s", diff)
	}
}
