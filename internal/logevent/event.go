package logevent

import (
	"strconv"
	"time"
)

// Event is one log record, normalised. Values in Fields are string, int64,
// uint64, float64, bool, nil (an element present but empty), or []any of
// those; field names are the ones Sigma rules use for that log source
// (EventData names for Windows, documented names for the Linux readers).
type Event struct {
	Time time.Time // UTC; zero when the record carries no time

	// Log source as Sigma names it: product (windows, linux), service
	// (security, sysmon, powershell, auth, syslog, auditd, ...) and
	// category (process_creation, webserver, ...), where the reader knows.
	Product, Service, Category string

	Host     string // Computer (Windows) or hostname
	Channel  string // Windows channel, e.g. Security
	Provider string // Windows provider name, e.g. Microsoft-Windows-Security-Auditing
	EventID  int64

	Source   string // file the record came from (archive!member for members)
	RecordID uint64 // record number within Source (EVTX record id, or line number)
	Offset   int64  // byte offset of the record within Source, -1 if unknown

	Fields map[string]any
}

// Get returns the value of a field as Sigma sees it: the record's own fields
// first, then the header fields every Windows rule may name.
func (e *Event) Get(name string) (any, bool) {
	if v, ok := e.Fields[name]; ok {
		return v, true
	}
	switch name {
	case "EventID":
		if e.EventID != 0 || e.Channel != "" {
			return e.EventID, true
		}
	case "Channel":
		if e.Channel != "" {
			return e.Channel, true
		}
	case "Provider_Name":
		if e.Provider != "" {
			return e.Provider, true
		}
	case "Computer":
		if e.Host != "" {
			return e.Host, true
		}
	}
	return nil, false
}

// String renders a field value as text, the form string modifiers compare.
func String(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	default:
		return ""
	}
}
