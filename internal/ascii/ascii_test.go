package ascii

import "testing"

func TestLower(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""}, {"abc", "abc"}, {"MiXeD 123", "mixed 123"}, {"山田TARO", "山田taro"}, {"\xffAB", "\xffab"},
	} {
		if got := Lower(tt.in); got != tt.want {
			t.Errorf("Lower(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
