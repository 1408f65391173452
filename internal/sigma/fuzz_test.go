package sigma

import (
	"testing"

	"github.com/mamori-dev/mamori/internal/logevent"
)

// FuzzLoad: any bytes either load as rules or are refused with a reason;
// whatever loads can be evaluated.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(ruleYAML("  sel:\n    A|contains|all: [x, y]\n  condition: sel")))
	f.Add([]byte(ruleYAML("  sel:\n    - A|windash: -x\n    - B|base64offset|contains: y\n  kw: [z]\n  condition: 1 of sel* or not kw")))
	f.Add([]byte(correlationRules))
	f.Add([]byte("title: [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs := New(Options{})
		rs.AddFile("f.yml", data)
		for _, r := range rs.Refused {
			if r.Reason == "" {
				t.Fatalf("refusal without a reason: %+v", r)
			}
		}
		m := rs.NewMatcher()
		m.Match(secEvent(map[string]any{"A": "x y", "B": "eQ==", "C": []any{"z", int64(1)}}))
		m.Match(&logevent.Event{Product: "linux", Service: "auth", Fields: map[string]any{"A": nil}})
	})
}

// FuzzCondition: the condition parser returns a condition or an error,
// never panics, on any text.
func FuzzCondition(f *testing.F) {
	for _, s := range []string{"a", "a and not (b or c)", "1 of sel_*", "all of them", "not not a", "(a", "a |", "any of b*"} {
		f.Add(s)
	}
	names := []string{"a", "b", "c", "sel_x", "sel_y", "_f"}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseCondition(s, names)
		if err == nil && c == nil {
			t.Fatal("no condition and no error")
		}
	})
}
