package pii

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func FuzzOccurrenceAppendJSON(f *testing.F) {
	f.Add("/a/b.csv", "email", int64(57), 2, 0, "", "taro@example.jp", "")
	f.Add("/x\xff<&>.txt", "phone", int64(0), 0, 9, "z.zip!m.csv", "", "***-****-5678")
	f.Fuzz(func(t *testing.T, path, cat string, off int64, line, rec int, member, value, masked string) {
		o := &Occurrence{Type: "pii", Path: path, Category: cat, Offset: off, Line: line, Record: rec, Member: member, Value: value, Masked: masked, PathRaw: member}
		want, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(o.AppendJSON(nil)), string(want)); diff != "" {
			t.Errorf("AppendJSON (-got +want):\n%s", diff)
		}
	})
}
