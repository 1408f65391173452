package logs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/evtx"
	"github.com/mamori-dev/mamori/internal/logevent"
)

func json1Valid(line []byte) bool {
	line = bytes.TrimSpace(line)
	return len(line) > 1 && line[0] == '{' && json.Valid(line)
}

// readJSON reads one JSON document: an array of events, or events one
// after another (pretty-printed dumps). A syntax error cannot be skipped
// past, so it is reported and ends the file.
func readJSON(ctx context.Context, name string, r io.Reader, fn func(*logevent.Event) error, onErr func(error)) error {
	br := bufio.NewReaderSize(&recordLineFilter{br: bufio.NewReaderSize(r, 64<<10)}, 64<<10)
	array := false
	for {
		c, err := br.ReadByte()
		if err != nil {
			return nil
		}
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0xef || c == 0xbb || c == 0xbf {
			continue
		}
		array = c == '['
		if err := br.UnreadByte(); err != nil {
			return err
		}
		break
	}
	dec := json.NewDecoder(br)
	dec.UseNumber()
	if array {
		if _, err := dec.Token(); err != nil {
			onErr(&RecordError{File: name, Offset: 0, Err: err})
			return nil
		}
	}
	var n uint64
	for array && dec.More() || !array {
		if err := ctx.Err(); err != nil {
			return err
		}
		off := dec.InputOffset()
		var v any
		if err := dec.Decode(&v); err != nil {
			if errors.Is(err, io.EOF) && !array {
				return nil
			}
			onErr(&RecordError{File: name, Offset: off, Err: err})
			return nil
		}
		n++
		if err := emitJSON(v, name, n, off, fn, onErr); err != nil {
			return err
		}
	}
	return nil
}

var reRecordLine = regexp.MustCompile(`(?m)^Record \d+\r?$`)

// recordLineFilter drops the "Record N" lines evtx_dump writes between
// its JSON documents (JSON itself never has such a line).
type recordLineFilter struct {
	br      *bufio.Reader
	pending []byte
	buf     []byte
	midLine bool // the last fragment was part of a longer line
	err     error
}

func (f *recordLineFilter) Read(p []byte) (int, error) {
	for len(f.pending) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		line, err := f.br.ReadSlice('\n')
		keep := f.midLine || !reRecordLine.Match(bytes.TrimRight(line, "\n"))
		f.midLine = errors.Is(err, bufio.ErrBufferFull)
		if keep {
			f.buf = append(f.buf[:0], line...)
			f.pending = f.buf
		}
		if err != nil && !f.midLine {
			f.err = err
		}
	}
	n := copy(p, f.pending)
	f.pending = f.pending[n:]
	return n, nil
}

// readJSONL reads one JSON object per line; a bad line is reported and
// skipped.
func readJSONL(ctx context.Context, name string, r io.Reader, fn func(*logevent.Event) error, onErr func(error)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var off int64
	var line uint64
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return err
		}
		b := sc.Bytes()
		lineOff := off
		off += int64(len(b)) + 1
		line++
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			onErr(&RecordError{File: name, Offset: lineOff, Err: fmt.Errorf("line %d: %w", line, err)})
			continue
		}
		if err := emitJSON(v, name, line, lineOff, fn, onErr); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		onErr(&RecordError{File: name, Offset: off, Err: err})
	}
	return nil
}

func emitJSON(v any, name string, n uint64, off int64, fn func(*logevent.Event) error, onErr func(error)) error {
	m, ok := v.(map[string]any)
	if !ok {
		onErr(&RecordError{File: name, Offset: off, Err: fmt.Errorf("record %d: not a JSON object", n)})
		return nil
	}
	e := jsonEvent(m)
	e.Source = name
	e.Offset = off
	if e.RecordID == 0 {
		e.RecordID = n
	}
	return fn(e)
}

// jsonEvent maps one exported event, whichever tool wrote it.
func jsonEvent(m map[string]any) *logevent.Event {
	if ev, ok := m["Event"].(map[string]any); ok {
		if _, ok := ev["System"]; ok {
			return xmlJSONEvent(ev)
		}
	}
	if _, ok := m["System"].(map[string]any); ok { // Velociraptor's parse_evtx
		return xmlJSONEvent(m)
	}
	if w, ok := m["winlog"].(map[string]any); ok {
		return winlogbeatEvent(m, w)
	}
	if _, ok := m["__REALTIME_TIMESTAMP"]; ok {
		return journalEvent(m)
	}
	if _, ok := m["ProviderName"]; ok {
		if _, ok := m["Id"]; ok {
			return getWinEventEvent(m)
		}
	}
	return flatEvent(m)
}

func windowsEvent(channel, provider, host string, id int64, rec uint64, t time.Time) *logevent.Event {
	svc := evtx.ServiceForChannel(channel)
	return &logevent.Event{
		Product: "windows", Service: svc, Category: evtx.CategoryFor(svc, id),
		Channel: channel, Provider: provider, Host: host, EventID: id, RecordID: rec,
		Time: t, Fields: map[string]any{},
	}
}

// xmlJSONEvent maps the XML-shaped JSON of EVTX dumpers ({"Event":
// {"System": ..., "EventData": ...}} with "#attributes" and "#text").
func xmlJSONEvent(ev map[string]any) *logevent.Event {
	sys, _ := ev["System"].(map[string]any)
	prov, _ := attr(sys["Provider"], "Name").(string)
	var t time.Time
	switch ts := attr(sys["TimeCreated"], "SystemTime").(type) {
	case string:
		t, _ = parseTime(ts)
	case json.Number: // Velociraptor: seconds since 1970
		if f, err := ts.Float64(); err == nil {
			t = time.Unix(0, int64(f*1e9)).UTC().Truncate(time.Microsecond)
		}
	}
	e := windowsEvent(str(sys["Channel"]), prov, str(sys["Computer"]),
		toInt(text(sys["EventID"])), uint64(toInt(text(sys["EventRecordID"]))), t)
	for _, name := range []string{"Level", "Task", "Opcode", "Keywords"} {
		if v := text(sys[name]); v != nil {
			e.Fields[name] = jsonValue(v)
			if n, ok := v.(json.Number); ok && name == "Keywords" {
				// Windows renders keywords in hex; some dumps as decimal.
				if u, err := strconv.ParseUint(string(n), 10, 64); err == nil {
					e.Fields[name] = "0x" + strconv.FormatUint(u, 16)
				}
			}
		}
	}
	if ed, ok := ev["EventData"].(map[string]any); ok {
		for k, v := range ed {
			switch k {
			case "#attributes":
			case "Data", "#text":
				if named(e.Fields, v) {
					continue
				}
				addUnnamed(e.Fields, text(v))
			default:
				e.Fields[k] = jsonValue(text(v))
			}
		}
	}
	if ud, ok := ev["UserData"].(map[string]any); ok {
		for k, v := range ud {
			if k == "#attributes" {
				continue
			}
			leavesInto(e.Fields, v)
		}
	}
	return e
}

// named adds xmltodict's Data elements, a list of {"@Name": ..., "#text":
// ...}, by name; false when the Data are not named that way.
func named(f map[string]any, data any) bool {
	list, ok := data.([]any)
	if !ok {
		list = []any{data}
	}
	for _, d := range list {
		m, ok := d.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := m["@Name"].(string); !ok {
			return false
		}
	}
	for _, d := range list {
		m := d.(map[string]any)
		f[m["@Name"].(string)] = jsonValue(m["#text"])
	}
	return true
}

// leavesInto adds UserData's leaf elements by element name, as the EVTX
// reader does.
func leavesInto(f map[string]any, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	for k, x := range m {
		if k == "#attributes" || strings.HasPrefix(k, "@") {
			continue
		}
		if sub, ok := x.(map[string]any); ok {
			if t, ok := sub["#text"]; ok {
				f[k] = jsonValue(t)
			} else if _, ok := sub["#attributes"]; ok && len(sub) == 1 {
				f[k] = nil
			} else {
				leavesInto(f, sub)
			}
			continue
		}
		f[k] = jsonValue(x)
	}
}

// addUnnamed stores unnamed Data values as Data1, Data2, ... and all of
// them under Data, as the EVTX reader does.
func addUnnamed(f map[string]any, v any) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	vals := make([]any, 0, len(list))
	for i, x := range list {
		x = jsonValue(text(x))
		vals = append(vals, x)
		f["Data"+strconv.Itoa(i+1)] = x
	}
	if len(vals) == 1 {
		f["Data"] = vals[0]
	} else {
		f["Data"] = vals
	}
}

func winlogbeatEvent(m, w map[string]any) *logevent.Event {
	t, _ := parseTime(str(m["@timestamp"]))
	host := str(w["computer_name"])
	if host == "" {
		if h, ok := m["host"].(map[string]any); ok {
			host = str(h["name"])
		}
	}
	prov := str(w["provider_name"])
	e := windowsEvent(str(w["channel"]), prov, host, toInt(w["event_id"]), uint64(toInt(w["record_id"])), t)
	for _, k := range []string{"event_data", "user_data"} {
		if d, ok := w[k].(map[string]any); ok {
			for f, v := range d {
				if strings.HasPrefix(f, "param") && len(f) > 5 && isDigits(f[5:]) {
					e.Fields["Data"+f[5:]] = jsonValue(v)
					continue
				}
				e.Fields[f] = jsonValue(v)
			}
		}
	}
	if msg, ok := m["message"].(string); ok {
		e.Fields["Message"] = msg
	}
	return e
}

// getWinEventEvent maps PowerShell's Get-WinEvent | ConvertTo-Json, whose
// Properties carry the event data without names.
func getWinEventEvent(m map[string]any) *logevent.Event {
	t, _ := parseTime(str(m["TimeCreated"]))
	e := windowsEvent(str(m["LogName"]), str(m["ProviderName"]), str(m["MachineName"]),
		toInt(m["Id"]), uint64(toInt(m["RecordId"])), t)
	if props, ok := m["Properties"].([]any); ok && len(props) > 0 {
		vals := make([]any, 0, len(props))
		for _, p := range props {
			if pm, ok := p.(map[string]any); ok {
				vals = append(vals, pm["Value"])
			} else {
				vals = append(vals, p)
			}
		}
		addUnnamed(e.Fields, vals)
	}
	if msg, ok := m["Message"].(string); ok {
		e.Fields["Message"] = msg
	}
	return e
}

// flatEvent maps an object whose keys are the fields (Sigma-style flat
// exports); nested objects become dotted names.
func flatEvent(m map[string]any) *logevent.Event {
	e := &logevent.Event{Fields: map[string]any{}}
	flattenInto(e.Fields, "", m)
	get := func(names ...string) any {
		for _, n := range names {
			if v, ok := e.Fields[n]; ok {
				return v
			}
		}
		return nil
	}
	e.Channel = str(get("Channel", "channel", "Event.System.Channel"))
	e.Provider = str(get("Provider_Name", "ProviderName", "Provider", "Event.System.Provider.Name"))
	e.Host = str(get("Computer", "computer_name", "Hostname", "host.name", "Event.System.Computer"))
	e.EventID = toInt(get("EventID", "EventId", "event_id", "Event.System.EventID"))
	e.RecordID = uint64(toInt(get("EventRecordID", "RecordId", "record_id", "Event.System.EventRecordID")))
	for _, k := range []string{"TimeCreated", "Event.System.TimeCreated.SystemTime", "@timestamp", "timestamp", "time", "UtcTime"} {
		if t, ok := parseTime(str(e.Fields[k])); ok {
			e.Time = t
			break
		}
	}
	if e.Channel != "" || e.EventID != 0 {
		e.Product = "windows"
		e.Service = evtx.ServiceForChannel(e.Channel)
		e.Category = evtx.CategoryFor(e.Service, e.EventID)
	}
	return e
}

func flattenInto(f map[string]any, prefix string, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		if prefix != "" {
			f[prefix] = jsonValue(v)
		}
		return
	}
	for k, x := range m {
		name := k
		if k == "#attributes" || k == "#text" {
			name = ""
		}
		if prefix != "" {
			if name == "" {
				name = prefix
			} else {
				name = prefix + "." + name
			}
		}
		flattenInto(f, name, x)
	}
}

// jsonValue gives a decoded JSON value the types logevent.Event holds.
func jsonValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		if u, err := strconv.ParseUint(string(x), 10, 64); err == nil {
			return u
		}
		f, _ := x.Float64()
		return f
	case []any:
		out := make([]any, len(x))
		for i, y := range x {
			out[i] = jsonValue(y)
		}
		return out
	case map[string]any:
		if t, ok := x["#text"]; ok {
			return jsonValue(t)
		}
		b, _ := json.Marshal(x)
		return string(b)
	}
	return v
}

// attr returns an XML-shaped JSON node's attribute.
func attr(node any, name string) any {
	m, _ := node.(map[string]any)
	if a, ok := m["#attributes"].(map[string]any); ok {
		return a[name]
	}
	if v, ok := m["@"+name]; ok { // xmltodict's attributes
		return v
	}
	return m[name] // Velociraptor's: attributes as plain keys
}

// text returns an XML-shaped JSON node's text ("#text" when it has
// attributes too, "Value" in Velociraptor's EventID).
func text(node any) any {
	if m, ok := node.(map[string]any); ok {
		if t, ok := m["#text"]; ok {
			return t
		}
		if t, ok := m["Value"]; ok {
			return t
		}
		for k := range m {
			if k != "#attributes" && !strings.HasPrefix(k, "@") && k != "Qualifiers" {
				return node
			}
		}
		return nil // attributes only: an empty element
	}
	return node
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return string(x)
	}
	return logevent.String(v)
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case json.Number:
		i, _ := x.Int64()
		return i
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(x), 0, 64)
		if err != nil {
			u, _ := strconv.ParseUint(strings.TrimSpace(x), 0, 64)
			return int64(u)
		}
		return i
	case int64:
		return x
	case uint64:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999 MST",
}

// parseTime reads the timestamps exporters write: RFC 3339 with or
// without zone (UTC assumed), space-separated, and .NET's /Date(ms)/.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if strings.HasPrefix(s, "/Date(") && strings.HasSuffix(s, ")/") {
		ms := strings.TrimSuffix(strings.TrimPrefix(s, "/Date("), ")/")
		if i := strings.IndexAny(ms[1:], "+-"); i >= 0 {
			ms = ms[:i+1]
		}
		n, err := strconv.ParseInt(ms, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.UnixMilli(n).UTC(), true
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
