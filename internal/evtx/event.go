package evtx

import (
	"strconv"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/logevent"
)

// systemFields are the System elements Sigma rules name besides the
// header (Level: 2, Keywords: '0x8010000000000000'); they are fields unless
// EventData has a field of the same name, which wins.
var systemFields = []string{"Level", "Task", "Opcode", "Keywords"}

// toEvent maps a record's decoded Event element (see the package doc).
func toEvent(root *Element) *logevent.Event {
	n := len(systemFields)
	if ed := root.Kid("EventData"); ed != nil {
		n += len(ed.Kids)
	}
	e := &logevent.Event{Product: "windows", Fields: make(map[string]any, n)}
	if sys := root.Kid("System"); sys != nil {
		if p := sys.Kid("Provider"); p != nil {
			v, _ := p.Attr("Name")
			e.Provider = Text(v)
			if e.Provider == "" {
				v, _ = p.Attr("EventSourceName")
				e.Provider = Text(v)
			}
		}
		if k := sys.Kid("EventID"); k != nil {
			e.EventID = asInt(k.Value())
		}
		if k := sys.Kid("TimeCreated"); k != nil {
			if v, ok := k.Attr("SystemTime"); ok {
				if t, err := time.Parse(time.RFC3339Nano, Text(v)); err == nil {
					e.Time = t.UTC()
				}
			}
		}
		if k := sys.Kid("EventRecordID"); k != nil {
			e.RecordID = uint64(asInt(k.Value()))
		}
		if k := sys.Kid("Channel"); k != nil {
			e.Channel = Text(k.Value())
		}
		if k := sys.Kid("Computer"); k != nil {
			e.Host = Text(k.Value())
		}
		for _, name := range systemFields {
			if k := sys.Kid(name); k != nil && k.Value() != nil {
				e.Fields[name] = k.Value()
			}
		}
	}
	e.Service = ServiceForChannel(e.Channel)
	e.Category = CategoryFor(e.Service, e.EventID)
	if ed := root.Kid("EventData"); ed != nil {
		var unnamed []any
		for _, k := range ed.Kids {
			switch k.Name {
			case "Data":
				if n, ok := k.Attr("Name"); ok && Text(n) != "" {
					e.Fields[Text(n)] = k.Value()
				} else {
					unnamed = append(unnamed, k.Value())
				}
			default:
				e.Fields[k.Name] = k.Value()
			}
		}
		if len(unnamed) == 0 && len(ed.Text) > 0 {
			unnamed = append(unnamed, ed.Value())
		}
		addUnnamed(e.Fields, unnamed)
	}
	if ud := root.Kid("UserData"); ud != nil {
		for _, k := range ud.Kids {
			leaves(e.Fields, k)
		}
	}
	return e
}

func addUnnamed(f map[string]any, vals []any) {
	switch len(vals) {
	case 0:
		return
	case 1:
		f["Data"] = vals[0]
	default:
		f["Data"] = vals
	}
	for i, v := range vals {
		f["Data"+strconv.Itoa(i+1)] = v
	}
}

// leaves adds the leaf elements under e as fields by element name.
func leaves(f map[string]any, e *Element) {
	for _, k := range e.Kids {
		if len(k.Kids) == 0 {
			f[k.Name] = k.Value()
		} else {
			leaves(f, k)
		}
	}
}

func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case uint64:
		return int64(x)
	case string:
		n, _ := strconv.ParseInt(strings.TrimSpace(x), 0, 64)
		return n
	}
	return 0
}
