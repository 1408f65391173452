package yara

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/scan"
)

// Hostile rules and data must give up when the scan's context ends: a
// timeout or a signal. Each case would run for minutes or for ever without
// the checks; the test allows generously for a loaded machine.
func TestScanStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, rules string
		data        []byte
	}{
		{"endless for loop", `rule r { condition: for all i in (0..9223372036854775807) : (i >= 0) }`, []byte("x")},
		{"nested for loops", `rule r { condition: for all i in (0..1000000) : (for all j in (0..1000000) : (i + j >= 0)) }`, []byte("x")},
		{"quadratic regex", `rule r { strings: $a = /a.*a.*a.*a.*a.*b/ condition: $a }`, bytes.Repeat([]byte("a"), 2<<20)},
		{"nested quantifier", `rule r { strings: $a = /(a+)+$/ condition: $a }`, bytes.Repeat([]byte("a"), 2<<20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Compile(tt.rules, "t.yar", CompileOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			done := make(chan error, 1)
			go func() { _, err := r.Scan(ctx, tt.data, nil); done <- err }()
			select {
			case err := <-done:
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Scan error = %v, want the context's deadline", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Scan still running 30 s after its context ended")
			}
		})
	}
}

func TestMatcherTimeoutAndTooManyMatches(t *testing.T) {
	t.Parallel()
	r, err := Compile(`
rule endless { condition: for all i in (0..9223372036854775807) : (i >= 0) }
`, "t.yar", CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var recs []scan.Record
	err = r.Matcher(100*time.Millisecond).Match(context.Background(), &scan.File{Path: "/x", Data: []byte("x")}, func(rec scan.Record) { recs = append(recs, rec) })
	if err == nil || !strings.Contains(err.Error(), "timed out after 100ms") {
		t.Errorf("Match error = %v, want a timeout", err)
	}

	r, err = Compile(`rule many { strings: $a = "a" condition: $a }`, "t.yar", CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	recs = nil
	data := bytes.Repeat([]byte("a"), maxMatches+10)
	err = r.Matcher(0).Match(context.Background(), &scan.File{Path: "/big", Data: data}, func(rec scan.Record) { recs = append(recs, rec) })
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, rec := range recs {
		kinds = append(kinds, rec.Kind())
		if e, ok := rec.(*scan.ErrorRecord); ok && !strings.Contains(e.Error, `rule "many": too many matches for $a`) {
			t.Errorf("error record %q does not name the rule and string", e.Error)
		}
	}
	if strings.Join(kinds, ",") != "error,yara" {
		t.Errorf("records %v, want the too-many-matches error and the rule's result", kinds)
	}
}

func TestSlowStringWarning(t *testing.T) {
	t.Parallel()
	var warnings []string
	_, err := Compile(`rule slowpoke { strings: $a = /a.*b/ $b = "hello world" condition: $a or $b }`, "t.yar",
		CompileOptions{Warn: func(m string) { warnings = append(warnings, m) }})
	if err != nil {
		t.Fatal(err)
	}
	want := `t.yar:1:26: warning: rule "slowpoke": string $a may slow down scanning`
	if len(warnings) != 1 || warnings[0] != want {
		t.Errorf("warnings %q, want [%q]", warnings, want)
	}
}
