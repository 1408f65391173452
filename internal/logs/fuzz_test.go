package logs

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/logevent"
)

// fuzzFormat reads data as format and checks what every reader promises:
// no panic, every event and error inside the input.
func fuzzFormat(t *testing.T, format Format, data []byte) {
	n := 0
	check := func(off int64) {
		if off < -1 || off > int64(len(data)) {
			t.Fatalf("%s: offset %d outside %d bytes", format, off, len(data))
		}
	}
	err := readStream(context.Background(), format, "fuzz", bytes.NewReader(data), time.Unix(1709251200, 0),
		func(e *logevent.Event) error {
			n++
			check(e.Offset)
			if e.Source != "fuzz" || e.Fields == nil {
				t.Fatalf("%s: event without source or fields: %+v", format, e)
			}
			return nil
		}, func(err error) {
			if re, ok := err.(*RecordError); ok {
				check(re.Offset)
			}
		})
	if err != nil {
		t.Fatalf("%s: %v", format, err)
	}
}

func seed(f *testing.F, files ...string) {
	for _, name := range files {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzDetect(f *testing.F) {
	seed(f, "auth.log", "audit.log", "access.log", "journal.json", "bash_history", "u_ex240301.log")
	f.Fuzz(func(t *testing.T, b []byte) {
		if format := Detect(b); format != "" && format != EVTX {
			fuzzFormat(t, format, b)
		}
	})
}

func FuzzSyslog(f *testing.F) {
	seed(f, "auth.log", "syslog", "rfc5424.log")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzFormat(t, Syslog, b) })
}

func FuzzAuditd(f *testing.F) {
	seed(f, "audit.log")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzFormat(t, Auditd, b) })
}

func FuzzWebAccess(f *testing.F) {
	seed(f, "access.log")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzFormat(t, WebAccess, b) })
}

func FuzzHistory(f *testing.F) {
	seed(f, "bash_history", "zsh_history")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzFormat(t, History, b) })
}

func FuzzJSON(f *testing.F) {
	seed(f, "getwinevent.json", "winlogbeat.jsonl", "journal.json", "xmltodict.jsonl", "velociraptor.jsonl", "evtx_dump.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzFormat(t, JSON, b)
		fuzzFormat(t, JSONL, b)
	})
}

func FuzzW3C(f *testing.F) {
	seed(f, "u_ex240301.log")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzFormat(t, W3C, b) })
}
