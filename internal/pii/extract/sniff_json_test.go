package extract

import (
	"context"
	"strings"
	"testing"
)

// A text file that merely starts with '[' is text: no "invalid JSON" error,
// and its content is still read. A .json file that is broken is reported.
func TestSniffedJSONFallsBackQuietly(t *testing.T) {
	data := []byte("[section]\nemail = taro@example.jp\n")
	for _, tt := range []struct {
		name     string
		wantErrs int
	}{{"settings.ini", 0}, {"orders.json", 1}} {
		var errs []error
		var text string
		err := Read(context.Background(), tt.name, data, DefaultLimits, func(r *Record) error {
			for _, f := range r.Fields {
				text += f.Text
			}
			return nil
		}, func(err error) { errs = append(errs, err) })
		if err != nil {
			t.Fatal(err)
		}
		if len(errs) != tt.wantErrs {
			t.Errorf("%s: errors %v, want %d", tt.name, errs, tt.wantErrs)
		}
		if !strings.Contains(text, "taro@example.jp") {
			t.Errorf("%s: text %q lost the e-mail", tt.name, text)
		}
	}
}
