package scope

import (
	"encoding/json"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/mamori-dev/mamori/internal/pii"
)

// FuzzFileResultCheck: whatever an agent sends, Check does not panic, and
// what it accepts holds to the bounds the server relies on.
func FuzzFileResultCheck(f *testing.F) {
	f.Add([]byte(`{"type":"pii_file","path":"/a.csv","size":3,"part":0,"parts":1,"categories":{"email":1},"subjects":[{"record":1,"key":"k","values":[{"category":"email","value":"a@example.jp"}]}]}`))
	f.Add([]byte(`{"type":"pii_file","path":"/a.zip","part":2,"parts":3,"categories":{"phone":2},"subjects":[{"member":"b.csv","record":0,"values":[{"category":"phone","value":"+81312345678","country":"JP"}]}],"flags":[{"flag":"special_care","terms":["病歴"]}]}`))
	f.Add([]byte(`{"type":"pii_file","path":"/a","part":-1,"parts":0,"categories":{"shoe":1}}`))
	f.Add([]byte(`{"type":"pii_file","path":"/a.csv","part":4,"parts":0,"categories":{"email":1},"subjects":[{"record":9,"key":"k","values":[{"category":"email","value":"a@example.jp"}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r FileResult
		if json.Unmarshal(b, &r) != nil || r.Check() != nil {
			return
		}
		if r.Part < 0 || r.Part >= MaxFileParts || r.Parts > 0 && r.Part >= r.Parts || r.Parts < 0 || r.Parts > MaxFileParts ||
			r.Parts == 0 && (len(r.Flags) > 0 || r.Masked > 0) || r.Size < 0 || r.Path == "" || !utf8.ValidString(r.Path) {
			t.Fatalf("accepted %+v", r)
		}
		for _, s := range r.Subjects {
			for _, v := range s.Values {
				if v.Value == "" || len(v.Value) > maxResultValue || !slices.Contains(pii.Categories, v.Category) {
					t.Fatalf("accepted value %+v", v)
				}
			}
		}
	})
}
