package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Mask hides most of a value so that text and default ndjson output never
// carry it whole: enough remains to recognise a known value, not to use it.
func Mask(category, v string) string {
	switch category {
	case Email:
		at := strings.LastIndexByte(v, '@')
		if at < 0 {
			return strings.Repeat("*", utf8.RuneCountInString(v))
		}
		keep := 2
		if at <= 2 {
			keep = 1
		}
		return v[:keep] + "***" + v[at:]
	case MyNumber:
		return maskDigits(v, 0, 0)
	case PostalCode:
		return maskDigits(v, 3, 0)
	case DateOfBirth:
		return maskDigits(v, 2, 0)
	case PersonName:
		var b strings.Builder
		first := true
		for _, r := range v {
			switch {
			case unicode.IsSpace(r):
				b.WriteRune(r)
				first = true
			case first:
				b.WriteRune(r)
				first = false
			default:
				b.WriteByte('*')
			}
		}
		return b.String()
	case Address:
		n := utf8.RuneCountInString(v)
		keep := n / 3
		if keep > 7 {
			keep = 7
		}
		var b strings.Builder
		i := 0
		for _, r := range v {
			if i >= keep {
				break
			}
			if r >= '0' && r <= '9' {
				r = '*'
			}
			b.WriteRune(r)
			i++
		}
		b.WriteString("***")
		return b.String()
	}
	// Phone, card, bank account, passport, licence: the last digits only.
	keepLast := 4
	if countDigits(v) <= 8 {
		keepLast = 2
	}
	return maskDigits(v, 0, keepLast)
}

func countDigits(v string) int {
	n := 0
	for i := 0; i < len(v); i++ {
		if isDigit(v[i]) {
			n++
		}
	}
	return n
}

// maskDigits replaces digits with '*' except the first keepFirst and the
// last keepLast; separators stay so the shape is recognisable.
func maskDigits(v string, keepFirst, keepLast int) string {
	total := countDigits(v)
	b := []byte(v)
	seen := 0
	for i, c := range b {
		if !isDigit(c) {
			continue
		}
		if seen >= keepFirst && seen < total-keepLast {
			b[i] = '*'
		}
		seen++
	}
	return string(b)
}

// Normalize returns the form in which values are compared and
// de-duplicated: e-mail lower-cased; phone, card and other numbers as
// digits only, a +81 prefix read as the national 0; names and addresses
// without white space.
func Normalize(category, v string) string {
	switch category {
	case Email:
		return strings.ToLower(v)
	case Phone:
		d := digitsOnly(v)
		if strings.HasPrefix(strings.TrimSpace(v), "+81") {
			d = d[2:]
			if !strings.HasPrefix(d, "0") {
				d = "0" + d
			}
		}
		return d
	case CreditCard, MyNumber, BankAccount, DriversLicense, PostalCode:
		return digitsOnly(v)
	case Passport:
		return strings.ToUpper(strings.Join(strings.Fields(v), ""))
	}
	if !strings.ContainsAny(v, " \t\r\n") {
		return v
	}
	return strings.Join(strings.Fields(v), "")
}

func digitsOnly(v string) string {
	if allDigits(v) {
		return v
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if isDigit(v[i]) {
			b = append(b, v[i])
		}
	}
	return string(b)
}
