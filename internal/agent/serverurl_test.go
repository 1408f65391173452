package agent

import (
	"strings"
	"testing"
)

func TestServerURL(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "https://host:8443", want: "https://host:8443"},
		{in: "https://host:8443/", want: "https://host:8443"},
		{in: "https://[::1]:8443/", want: "https://[::1]:8443"},
		{in: "https://host:8443/mamori", err: `"https://host:8443/mamori" has a path (/mamori)`},
		{in: "https://host:8443/mamori/", err: "has a path"},
		{in: "http://host:8443", err: "want https://HOST:PORT"},
		{in: "host:8443", err: "want https://HOST:PORT"},
		{in: "https://user:pw@host:8443", err: "without credentials"},
		{in: "https://host:8443?x=1", err: "without credentials, query"},
		{in: "https://host:8443/%zz", err: "invalid URL escape"},
	}
	for _, tt := range tests {
		got, err := ServerURL(tt.in)
		if tt.err == "" && (err != nil || got != tt.want) {
			t.Errorf("ServerURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("ServerURL(%q) error = %v; want it to contain %q", tt.in, err, tt.err)
		}
	}
}
