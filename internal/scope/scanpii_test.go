package scope

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/pii"
	"github.com/mamori-dev/mamori/internal/pii/extract"
	"github.com/mamori-dev/mamori/internal/scan"
)

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       []string
	}{
		{"customers.csv", "氏名,メール,病歴,暗証番号\n山田 太郎,t@example.jp,高血圧,1234\n",
			[]string{"special_care column 病歴", "credentials column 暗証番号"}},
		{"medical_records.txt", "山田 太郎 様\n既往歴: なし\n",
			[]string{"special_care name medical", "special_care column 既往歴"}},
		{"notes.txt", "健康のため毎日歩いています。 Password reset for t@example.jp\n", nil},
		{"race_results.csv", "name,time\nTaro,12.3\n", nil},
		{"patients.csv", "name,race,religion\nTaro,x,y\n", []string{"special_care name patients", "special_care column race,religion"}},
	} {
		var got []string
		for _, f := range Flags(context.Background(), "/d/"+tc.name, []byte(tc.data), extract.DefaultLimits) {
			got = append(got, f.Flag+" "+f.Via+" "+strings.Join(f.Terms, ","))
		}
		if diff := cmp.Diff(got, tc.want); diff != "" {
			t.Errorf("%s (-got +want):\n%s", tc.name, diff)
		}
	}
}

func TestScanMatcherSubjects(t *testing.T) {
	data := []byte("氏名,メールアドレス,電話番号\n山田 太郎,Taro@Example.jp,090-1234-5678\n佐藤 花子,hanako@example.jp,080-2222-3333\n")
	other := []byte("name,email\nTaro Yamada,taro@example.jp\n")
	m := NewScanMatcher(pii.NewMatcher(pii.Options{Reveal: true}), testKey, false, "JP")
	subjects := map[string][]string{}
	for name, d := range map[string][]byte{"/a.csv": data, "/b.csv": other} {
		err := m.Match(context.Background(), &scan.File{Path: name, Data: d, Size: int64(len(d))}, func(r scan.Record) {
			if o, ok := r.(*Occurrence); ok {
				if o.Value != "" || o.Masked == "" {
					t.Errorf("not masked: %+v", o)
				}
				if !strings.HasPrefix(string(o.AppendJSON(nil)), `{"type":"pii"`) || !strings.HasSuffix(string(o.AppendJSON(nil)), `"subject":"`+o.Subject+`"}`) {
					t.Errorf("json: %s", o.AppendJSON(nil))
				}
				k := name + "#" + strings.Repeat("I", o.Record+1)
				if !contains(subjects[o.Subject], k) {
					subjects[o.Subject] = append(subjects[o.Subject], k)
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var groups []string
	for _, ks := range subjects {
		groups = append(groups, strings.Join(sorted(ks), " "))
	}
	want := []string{"/a.csv#I /b.csv#I", "/a.csv#II"}
	if diff := cmp.Diff(sorted(groups), want); diff != "" {
		t.Errorf("subjects (-got +want):\n%s", diff)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
