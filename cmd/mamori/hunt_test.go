package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const huntLinux = "../../internal/hunt/testdata/linux"

var timing = regexp.MustCompile(`("seconds":)[0-9.e-]+|in [0-9.]+s:`)

func untimed(s string) string {
	return timing.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasPrefix(m, "in ") {
			return "in 0.0s:"
		}
		return `"seconds":0`
	})
}

// TestHuntLinux: the Linux attack log set, end to end, in each output
// format; exit status 1 because there are hits.
func TestHuntLinux(t *testing.T) {
	for _, tc := range []struct{ golden, format string }{
		{"hunt-linux.ndjson", "ndjson"},
		{"hunt-linux.txt", "text"},
		{"hunt-linux.csv", "csv"},
	} {
		out, stderr, code := mamori(t, "hunt", "--no-progress", "--min-level", "medium", "--format", tc.format, huntLinux)
		if code != 1 {
			t.Errorf("%s: exit %d, want 1; stderr:\n%s", tc.format, code, stderr)
		}
		golden(t, tc.golden, untimed(out))
	}
}

func TestHuntTimeline(t *testing.T) {
	out, stderr, code := mamori(t, "hunt", "--timeline", huntLinux)
	if code != 1 {
		t.Errorf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
	golden(t, "hunt-linux-timeline.csv", out)
	if !strings.Contains(stderr, "25 events") {
		t.Errorf("stderr lacks the summary:\n%s", stderr)
	}
}

func TestHuntExitCodes(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "quiet.log"), "Mar  3 02:10:01 web1 CRON[2101]: (root) CMD (run-parts /etc/cron.hourly)\n")
	writeFile(t, filepath.Join(dir, "bad.yml"), "title: x\nlogsource:\n  product: windows\ndetection:\n  sel:\n    a|nope: b\n  condition: sel\n")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no hits", []string{dir}, 0, " rules and 2 correlations loaded, 0 refused"},
		{"no path", nil, 2, "no PATH given"},
		{"bad format", []string{"--format", "xml", dir}, 2, `--format "xml"`},
		{"bad level", []string{"--min-level", "severe", dir}, 2, `--min-level "severe"`},
		{"bad time", []string{"--from", "yesterday", dir}, 2, "--from"},
		{"to before from", []string{"--from", "2026-02-01", "--to", "2026-01-01", dir}, 2, "--to is before --from"},
		{"missing rules", []string{"--sigma", filepath.Join(dir, "none"), dir}, 2, "no such file"},
		{"only refused rules", []string{"--sigma", filepath.Join(dir, "bad.yml"), dir}, 2, `bad.yml: detection sel: a|nope: unknown modifier "nope"`},
		{"missing input", []string{filepath.Join(dir, "none")}, 2, "no such file"},
	}
	for _, tt := range tests {
		out, stderr, code := mamori(t, append([]string{"hunt", "--no-progress"}, tt.args...)...)
		if code == 0 && !strings.Contains(out, "1 log files (1 other files skipped), 1 events") {
			t.Errorf("%s: summary missing:\n%s", tt.name, out)
		}
		if code != tt.code || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit %d and %q", tt.name, code, stderr, tt.code, tt.stderr)
		}
	}
}

// TestHuntPlaceholder: a %placeholder% matches nothing until --placeholder
// gives it values.
func TestHuntPlaceholder(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	writeFile(t, filepath.Join(logs, "cron.log"), "Mar  3 02:10:01 web1 CRON[2101]: (root) CMD (run-parts /etc/cron.hourly)\n")
	rule := filepath.Join(dir, "ph.yml")
	writeFile(t, rule, "title: scheduled daemon\nlogsource:\n  product: linux\n  service: cron\ndetection:\n  sel:\n    program|expand: '%daemons%'\n  condition: sel\nlevel: high\n")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unset", nil, 0, "0 hits"},
		{"other value", []string{"--placeholder", "daemons=atd"}, 0, "0 hits"},
		{"listed value", []string{"--placeholder", "daemons=atd,CRON"}, 1, "1 × scheduled daemon"},
		{"repeated", []string{"--placeholder", "daemons=atd", "--placeholder", "%daemons%=cron"}, 1, "1 × scheduled daemon"},
		{"malformed", []string{"--placeholder", "daemons"}, 2, ""},
	}
	for _, tt := range tests {
		args := append([]string{"hunt", "--no-progress", "--sigma", rule}, tt.args...)
		out, stderr, code := mamori(t, append(args, logs)...)
		if code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("%s: exit %d, out:\n%s\nstderr:\n%s\nwant exit %d and %q", tt.name, code, out, stderr, tt.code, tt.want)
		}
		if tt.code == 2 && !strings.Contains(stderr, `--placeholder "daemons": want NAME=VALUE[,VALUE]`) {
			t.Errorf("%s: stderr:\n%s", tt.name, stderr)
		}
	}
}
