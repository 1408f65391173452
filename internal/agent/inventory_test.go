package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseLabels(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr string
	}{
		{"", nil, ""},
		{"env=prod", map[string]string{"env": "prod"}, ""},
		{" env = prod , site=tokyo,empty=", map[string]string{"env": "prod", "site": "tokyo", "empty": ""}, ""},
		{"env", nil, `item 1 "env": want key=value`},
		{"a=1,=2", nil, `item 2 "=2": want key=value`},
		{"a=1,a=2", nil, `item 2: key "a" given twice`},
	}
	for _, tt := range tests {
		got, err := ParseLabels(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseLabels(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseLabels(%q): %v", tt.in, err)
		}
		if d := cmp.Diff(got, tt.want, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("ParseLabels(%q) (-got +want):\n%s", tt.in, d)
		}
	}
}

func FuzzParseLabels(f *testing.F) {
	for _, s := range []string{"", "a=b", "a=b,c=d", "=", ",,", "a=b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseLabels(s)
		if err != nil {
			return
		}
		for k := range m {
			if k == "" || strings.ContainsAny(k, ",=") {
				t.Fatalf("bad key %q from %q", k, s)
			}
		}
	})
}

func TestSystemResolversAndOSRelease(t *testing.T) {
	dir := t.TempDir()
	resolv := filepath.Join(dir, "resolv.conf")
	os.WriteFile(resolv, []byte("# c\nsearch example\nnameserver 192.0.2.53\nnameserver fd00::53\nnameserver bogus\noptions edns0\n"), 0o644)
	var got []string
	for _, a := range systemResolvers(resolv) {
		got = append(got, a.String())
	}
	if d := cmp.Diff(got, []string{"192.0.2.53", "fd00::53"}); d != "" {
		t.Errorf("resolvers (-got +want):\n%s", d)
	}
	rel := filepath.Join(dir, "os-release")
	os.WriteFile(rel, []byte("NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"), 0o644)
	if got := osRelease(rel); got != "Debian GNU/Linux 12 (bookworm)" {
		t.Errorf("osRelease = %q", got)
	}
	if got := osRelease(filepath.Join(dir, "missing")); got != "" {
		t.Errorf("osRelease of a missing file = %q", got)
	}
}
