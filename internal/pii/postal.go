package pii

import "strings"

// postalShape returns the country whose postal code v is, written whole:
// JP 123-4567, US 12345 and ZIP+4 12345-6789, GB SW1A 1AA, CA K1A 0B6,
// CN 100020, AU 2000. Five digits are US, KR, DE and FR codes alike and
// come back as "5"; "" means no postal code.
func postalShape(v string) string {
	v = strings.TrimPrefix(strings.TrimSpace(v), "〒")
	n := len(v)
	switch {
	case n == 8 && allDigits(v[:3]) && v[3] == '-' && allDigits(v[4:]), n == 7 && allDigits(v):
		return "JP"
	case n == 10 && allDigits(v[:5]) && v[5] == '-' && allDigits(v[6:]):
		return "US"
	case n == 5 && allDigits(v):
		return "5"
	case n == 6 && allDigits(v):
		return "CN"
	case n == 4 && allDigits(v) && v[0] != '0':
		return "AU"
	}
	if gbPostcode(v) {
		return "GB"
	}
	if caPostcode(v) {
		return "CA"
	}
	return ""
}

// gbPostcode accepts the UK forms A9 9AA, A99 9AA, AA9 9AA, AA99 9AA,
// A9A 9AA and AA9A 9AA.
func gbPostcode(v string) bool {
	sp := strings.IndexByte(v, ' ')
	if sp < 2 || sp > 4 || len(v)-sp-1 != 3 {
		return false
	}
	out, in := v[:sp], v[sp+1:]
	if !isDigit(in[0]) || !isUpper(in[1]) || !isUpper(in[2]) || !isUpper(out[0]) {
		return false
	}
	i := 1
	if isUpper(out[i]) {
		i++
	}
	if i >= len(out) || !isDigit(out[i]) {
		return false
	}
	i++
	if i < len(out) && (isDigit(out[i]) || isUpper(out[i])) {
		i++
	}
	return i == len(out)
}

// caPostcode accepts A9A 9A9 without the letters Canada Post never uses
// (D, F, I, O, Q, U; W and Z never first).
func caPostcode(v string) bool {
	if len(v) != 7 || v[3] != ' ' {
		return false
	}
	for i, c := range []byte(v[:3] + v[4:]) {
		if i%2 == 0 {
			if !isUpper(c) || strings.IndexByte("DFIOQU", c) >= 0 || i == 0 && (c == 'W' || c == 'Z') {
				return false
			}
		} else if !isDigit(c) {
			return false
		}
	}
	return true
}

// postalCell takes a whole cell of a postal-code column or label.
func (d *detector) postalCell() bool {
	s, e := trimSpan(d.text, 0, len(d.text))
	iso := postalShape(d.text[s:e])
	if iso == "" {
		return false
	}
	h := d.emit(PostalCode, s, e).because(0.9, "key:"+d.key)
	if iso != "5" {
		h.Country = iso
	}
	return true
}

// trailingPostcode emits the British or Canadian postal code that ends an
// address at text[s:e]: "…, London SW1A 1AA", "… ON K1A 0B6".
func (d *detector) trailingPostcode(s, e int) {
	v := d.text[s:e]
	v = strings.TrimRight(v, " ,.")
	for _, l := range []int{8, 7, 6} {
		if len(v) <= l || v[len(v)-l-1] != ' ' {
			continue
		}
		tail := v[len(v)-l:]
		iso := postalShape(tail)
		if iso != "GB" && iso != "CA" {
			// Digits at an address's end are the postal code's own
			// column's business: a ZIP there may be a suite number.
			continue
		}
		d.emit(PostalCode, s+len(v)-l, s+len(v)).because(0.85, "address-postcode").Country = iso
		return
	}
}
