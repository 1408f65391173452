package notify

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
)

// RecipientsHeader is the CSV header mamori notify reads. items is
// "category=masked value" pairs separated by ";". The scoping register's
// people.csv is read too: its categories column ("category:exposure"
// pairs) gives the items, without values.
var RecipientsHeader = []string{"person_id", "name", "email", "postal_code", "address", "language", "items"}

// ReadRecipients streams people from a register export CSV, one call of fn
// per row, so a campaign of any size is read in constant memory. Errors
// name the line and the field.
func ReadRecipients(r io.Reader, fn func(Person) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("recipients: header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, need := range []string{"person_id", "name"} {
		if _, ok := col[need]; !ok {
			return fmt.Errorf("recipients: header: no %q column (want %s)", need, strings.Join(RecipientsHeader, ","))
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("recipients: %w", err)
		}
		line, _ := cr.FieldPos(0)
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		p := Person{ID: get("person_id"), Name: get("name"), Email: get("email"), PostalCode: get("postal_code"), Address: get("address"), Language: get("language")}
		if p.ID == "" {
			return fmt.Errorf("recipients: line %d: person_id is empty", line)
		}
		if p.Email != "" {
			a, err := mail.ParseAddress(p.Email)
			if err != nil || a.Address != p.Email || strings.ContainsAny(p.Email, "<>\r\n ") {
				return fmt.Errorf("recipients: line %d: email %q is not a bare address", line, p.Email)
			}
		}
		if _, ok := col["items"]; !ok {
			for _, kv := range strings.Split(get("categories"), ";") {
				if k, _, _ := strings.Cut(kv, ":"); strings.TrimSpace(k) != "" {
					p.Items = append(p.Items, Item{Category: strings.TrimSpace(k)})
				}
			}
		}
		if items := get("items"); items != "" {
			for _, kv := range strings.Split(items, ";") {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || strings.TrimSpace(k) == "" {
					return fmt.Errorf("recipients: line %d: items: %q is not category=masked", line, kv)
				}
				p.Items = append(p.Items, Item{Category: strings.TrimSpace(k), Masked: strings.TrimSpace(v)})
			}
		}
		if err := fn(p); err != nil {
			return err
		}
	}
}
