package scan

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "<a&b>", "\x00\x1f\x7f", "山田\u2028\u2029", "bad \xff\xfe utf8", "tab\tnl\ncr\r\b\f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(AppendJSONString(nil, s)), string(want)); diff != "" {
			t.Errorf("AppendJSONString(%q) (-got +want):\n%s", s, diff)
		}
	})
}
