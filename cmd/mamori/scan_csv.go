package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/mamori-dev/mamori/internal/scan"
	"github.com/mamori-dev/mamori/internal/scope"
)

// scanCSVHeader are the columns of --format csv. Personal-data occurrences
// fill the named columns; other records put their remaining fields, as
// JSON, in detail.
var scanCSVHeader = []string{"type", "path", "member", "record", "line", "offset", "category", "subject", "value", "masked",
	"confidence", "reason", "country", "brand", "detail"}

// writeCSV renders one record as a CSV row, the header first.
func (o *recordWriter) writeCSV(r scan.Record) error {
	if o.csv == nil {
		o.csv = csv.NewWriter(o.w)
		if err := o.csv.Write(scanCSVHeader); err != nil {
			return err
		}
	}
	if p, ok := r.(*scope.Occurrence); ok {
		return o.csv.Write([]string{"pii", p.Path, p.Member, strconv.Itoa(p.Record), strconv.Itoa(p.Line),
			strconv.FormatInt(p.Offset, 10), p.Category, p.Subject, p.Value, p.Masked,
			strconv.FormatFloat(p.Confidence, 'f', -1, 64), p.Reason, p.Country, p.Brand, ""})
	}
	var b []byte
	var err error
	if a, ok := r.(scan.JSONAppender); ok {
		b = a.AppendJSON(nil)
	} else if b, err = json.Marshal(r); err != nil {
		return fmt.Errorf("encoding %s record: %w", r.Kind(), err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("encoding %s record: %w", r.Kind(), err)
	}
	row := make([]string, len(scanCSVHeader))
	for i, col := range scanCSVHeader[:len(scanCSVHeader)-1] {
		if v, ok := m[col]; ok {
			row[i] = csvCell(v)
			delete(m, col)
		}
	}
	if len(m) > 0 {
		// encoding/json sorts map keys: the detail is stable.
		d, _ := json.Marshal(m)
		row[len(row)-1] = string(d)
	}
	return o.csv.Write(row)
}

func csvCell(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return ""
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}
