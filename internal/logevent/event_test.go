package logevent

import "testing"

func TestGet(t *testing.T) {
	e := &Event{Channel: "Security", Provider: "P", EventID: 4624, Host: "ws1",
		Fields: map[string]any{"TargetUserName": "bob", "EventID": int64(1)}}
	tests := []struct {
		name string
		want string
		ok   bool
	}{
		{"TargetUserName", "bob", true},
		{"EventID", "1", true}, // a field of the record wins over the header
		{"Channel", "Security", true},
		{"Provider_Name", "P", true},
		{"Computer", "ws1", true},
		{"Missing", "", false},
	}
	for _, tt := range tests {
		v, ok := e.Get(tt.name)
		if ok != tt.ok || String(v) != tt.want {
			t.Errorf("Get(%q) = %v, %v; want %q, %v", tt.name, v, ok, tt.want, tt.ok)
		}
	}
}
