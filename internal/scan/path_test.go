package scan

import (
	"encoding/base64"
	"testing"
)

func TestDisplayPath(t *testing.T) {
	tests := []struct {
		in, display string
		raw         bool
	}{
		{"/home/a/b.txt", "/home/a/b.txt", false},
		{"/home/日本語.txt", "/home/日本語.txt", false},
		{"/tmp/caf\xe9", `/tmp/caf\xe9`, true},
		{"/tmp/\xff\xfe", `/tmp/\xff\xfe`, true},
		{"/tmp/\x82\xa0日", `/tmp/\x82\xa0日`, true}, // Shift_JIS bytes, then valid UTF-8
		{"/tmp/\xe6\x97", `/tmp/\xe6\x97`, true},   // truncated sequence
	}
	for _, tt := range tests {
		if got := DisplayPath(tt.in); got != tt.display {
			t.Errorf("DisplayPath(%q) = %q, want %q", tt.in, got, tt.display)
		}
		raw := RawPath(tt.in)
		if (raw != "") != tt.raw {
			t.Errorf("RawPath(%q) = %q, want set=%v", tt.in, raw, tt.raw)
		}
		if raw != "" {
			b, err := base64.StdEncoding.DecodeString(raw)
			if err != nil || string(b) != tt.in {
				t.Errorf("RawPath(%q) decodes to %q, %v", tt.in, b, err)
			}
		}
	}
	if DisplayPath("/tmp/a\xff") == DisplayPath("/tmp/a\xfe") {
		t.Error("names differing only in invalid bytes display the same")
	}
}

func TestEscapeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"IOC x /tmp/a.txt", "IOC x /tmp/a.txt"},
		{"/tmp/a\nIOC forged", `/tmp/a\x0aIOC forged`},
		{"/tmp/\x1b[31mred", `/tmp/\x1b[31mred`},
		{"/tmp/invoice\u202efdp.exe", `/tmp/invoice\u202efdp.exe`},
		{"/tmp/日本\u0085", `/tmp/日本\x85`},
		{`/tmp/\xff`, `/tmp/\xff`}, // already escaped by DisplayPath: left alone
	}
	for _, tt := range tests {
		if got := EscapeText(tt.in); got != tt.want {
			t.Errorf("EscapeText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
