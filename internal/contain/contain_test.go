package contain_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/mamori-dev/mamori/internal/contain"
)

func TestValidate(t *testing.T) {
	ok := netip.MustParseAddrPort("198.18.0.1:8443")
	tests := []struct {
		name    string
		p       contain.Policy
		wantErr string // substring; empty means valid
	}{
		{"server only", contain.Policy{Server: []netip.AddrPort{ok}}, ""},
		{"everything", contain.Policy{
			Server:    []netip.AddrPort{ok, netip.MustParseAddrPort("[2001:db8::1]:443")},
			DNS:       []netip.Addr{netip.MustParseAddr("198.18.0.53"), netip.MustParseAddr("2001:db8::53")},
			AllowDHCP: true,
		}, ""},
		{"no server", contain.Policy{DNS: []netip.Addr{netip.MustParseAddr("198.18.0.53")}}, "field Server: no server address"},
		{"zero server", contain.Policy{Server: []netip.AddrPort{ok, {}}}, "field Server[1]: invalid address"},
		{"port 0", contain.Policy{Server: []netip.AddrPort{netip.MustParseAddrPort("198.18.0.1:0")}}, "field Server[0]: 198.18.0.1:0: port 0"},
		{"zoned server", contain.Policy{Server: []netip.AddrPort{netip.MustParseAddrPort("[fe80::1%eth0]:443")}}, "field Server[0]: [fe80::1%eth0]:443: zoned"},
		{"zero resolver", contain.Policy{Server: []netip.AddrPort{ok}, DNS: []netip.Addr{{}}}, "field DNS[0]: invalid address"},
		{"zoned resolver", contain.Policy{Server: []netip.AddrPort{ok}, DNS: []netip.Addr{netip.MustParseAddr("fe80::53%eth0")}}, "field DNS[0]: fe80::53%eth0: zoned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}
