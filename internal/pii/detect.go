package pii

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/mamori-dev/mamori/internal/ascii"
)

// Hit is one personal value inside a field's text.
type Hit struct {
	Category string
	// Start and End are byte positions in the field's normalised text.
	Start, End int
	Value      string
}

// detector scans one field. It is reused across fields to keep its buffers.
type detector struct {
	text string
	key  string
	hint hint
	// prev is the tail of the preceding free-text field of the same record:
	// a keyword at the end of one line gives context to a number on the next.
	prev string
	hits []Hit
	buf  []byte
	// keys caches classifyKey: a file has few distinct keys and many
	// fields.
	keys      map[string]keyClass
	headerKey bool
}

func (d *detector) keyHint(key string) hint {
	h, _ := d.keyInfo(key)
	return h
}

// keyInfo returns what key says and whether it is an e-mail header that
// carries display names.
func (d *detector) keyInfo(key string) (hint, bool) {
	if key == "" {
		return "", false
	}
	if k, ok := d.keys[key]; ok {
		return k.h, k.header
	}
	if d.keys == nil || len(d.keys) > 4096 {
		d.keys = map[string]keyClass{}
	}
	k := keyClass{classifyKey(key), isHeaderNameKey(key)}
	d.keys[key] = k
	return k.h, k.header
}

type keyClass struct {
	h      hint
	header bool
}

// DetectText runs every detector over one field's normalised text. key is
// the field's column header or JSON key ("" for free text); prev is the
// text just before it in the same record, used only for context keywords.
func DetectText(text, key, prev string) []Hit {
	var d detector
	return d.detect(text, key, prev, nil)
}

func (d *detector) detect(text, key, prev string, hits []Hit) []Hit {
	d.text, d.key, d.prev, d.hits = text, key, prev, hits
	d.hint, d.headerKey = d.keyInfo(key)
	if d.hint == PersonName || d.hint == Address || d.hint == DateOfBirth {
		if d.wholeCell() {
			return d.hits
		}
	}
	if d.headerKey {
		d.displayName()
	}
	if d.hint == PostalCode && d.usZIP() {
		return d.hits
	}
	d.scan()
	return d.hits
}

func isHeaderNameKey(key string) bool {
	switch len(key) {
	case 2, 3, 4, 6, 8:
		for k := range headerNameKeys {
			if len(k) == len(key) && strings.EqualFold(k, key) {
				return true
			}
		}
	}
	return false
}

func (d *detector) emit(cat string, start, end int) {
	for _, h := range d.hits {
		if h.Category == cat && h.Start < end && start < h.End {
			return
		}
	}
	d.hits = append(d.hits, Hit{Category: cat, Start: start, End: end, Value: d.text[start:end]})
}

// scan is the single pass over the text: it stops only at bytes that can
// start a value or a context word and hands the rest to validators.
func (d *detector) scan() {
	t := d.text
	numbers := d.hint != nonPersonal
	if d.hint == "" {
		d.lineLabel(0)
	}
	for i := 0; i < len(t); {
		c := t[i]
		switch {
		case c == '\n':
			if d.hint == "" {
				d.lineLabel(i + 1)
			}
		case c >= '0' && c <= '9' || (c == '+' || c == '(') && i+1 < len(t) && isDigit(t[i+1]):
			if !numbers {
				j := i + 1
				for j < len(t) && isDigit(t[j]) {
					j++
				}
				i = j
				continue
			}
			r, next := scanRun(t, i)
			d.numbers(&r)
			i = next
			continue
		case c == '@':
			if d.hint != nonPersonal {
				if e := d.email(i); e > i {
					i = e
					continue
				}
			}
		case c == ':':
			d.label(i)
		case c == 'M' || c == 'D' || c == 'd' || c == 'b' || c == 'B':
			if c == 'M' || c == 'D' {
				d.westernName(i)
			}
			if c != 'M' {
				d.dobKeyword(i)
			}
		case c >= 0xE0:
			r, w := utf8.DecodeRuneInString(t[i:])
			switch r {
			case '都', '道', '府', '県':
				if e := d.prefecture(i); e > i {
					i = e
					continue
				}
			case '様', '殿':
				d.honorific(i, w)
			case 'さ':
				if strings.HasPrefix(t[i+w:], "ん") {
					d.honorific(i, w+len("ん"))
				}
			case '生', '誕':
				d.dobKeyword(i)
			}
			i += w
			continue
		}
		i++
	}
}

// context returns what the words before text[start] say about a value
// there: the nearest keyword on the same line (or the line before when the
// value starts its line), else the field's key, else the previous field.
func (d *detector) context(start int) hint {
	t := d.text
	ls := strings.LastIndexByte(t[:start], '\n') + 1
	from := ls
	if strings.TrimSpace(t[ls:start]) == "" && ls > 0 {
		from = strings.LastIndexByte(t[:ls-1], '\n') + 1
	}
	if start-from > 48 {
		from = start - 48
		for from < start && !utf8.RuneStart(t[from]) {
			from++
		}
	}
	if h := nearestContext(t[from:start]); h != "" {
		return h
	}
	if d.hint != "" {
		return d.hint
	}
	if from == 0 && d.prev != "" && strings.TrimSpace(t[:start]) == "" {
		// Only a value that starts its line takes context from the line
		// before: "個人番号\n1234 5678 9018".
		p := d.prev
		if len(p) > 48 {
			k := len(p) - 48
			for k < len(p) && !utf8.RuneStart(p[k]) {
				k++
			}
			p = p[k:]
		}
		return nearestContext(p)
	}
	return ""
}

// wideContext reports whether a keyword of category cat occurs up to 256
// bytes back or in the previous field. Only values with their own check
// digit use it.
func (d *detector) wideContext(start int, cat hint) bool {
	from := start - 256
	if from < 0 {
		from = 0
	}
	for from < start && !utf8.RuneStart(d.text[from]) {
		from++
	}
	w := ascii.Lower(d.text[from:start])
	if from == 0 && d.key == "" {
		w = ascii.Lower(d.prev) + "\n" + w
	}
	for _, kw := range contextWords {
		if kw.cat == cat && findWord(w, kw.word, 0) >= 0 {
			return true
		}
	}
	return false
}

// numbers tries every way the run can split at spaces into values, longest
// first, so "TEL 03 1234 5678 / 4111 1111 1111 1111" yields both.
func (d *detector) numbers(r *numRun) {
	if r.n == 0 {
		return
	}
	total := 0
	for g := 0; g < r.n; g++ {
		total += r.ge[g] - r.gs[g]
	}
	if total < 5 {
		return
	}
	if r.badHead && r.n >= 1 && r.ge[0]-r.gs[0] == 7 && !(r.n == 1 && r.badTail) {
		d.passport(r)
	}
	if total == 5 || total == 9 {
		d.westernAddress(r)
	}
	if total < 7 {
		return
	}
	for i := 0; i < r.n; {
		if (i == 0 && r.badHead) || (i > 0 && r.kind[i-1] != sepSpace) {
			i++
			continue
		}
		matched := false
		for j := r.n - 1; j >= i; j-- {
			if (j == r.n-1 && r.badTail) || (j < r.n-1 && r.kind[j] != sepSpace) {
				continue
			}
			if d.classify(r, i, j) {
				i, matched = j+1, true
				break
			}
		}
		if !matched {
			i++
		}
	}
}

// candidate is groups i..j of a run read as one value.
type candidate struct {
	digits     []byte
	lens       []int  // digits per group
	kinds      []byte // separator kinds between the groups
	start, end int    // byte range in the text
	plus       bool   // written with a leading '+'
}

// classify validates groups i..j of r as one value and emits it.
func (d *detector) classify(r *numRun, i, j int) bool {
	d.buf = r.digits(d.text, i, j, d.buf[:0])
	if len(d.buf) < 7 || len(d.buf) > 19 {
		return false
	}
	var lens [maxGroups]int
	c := candidate{digits: d.buf, lens: lens[:0], kinds: r.kind[i:j], start: r.gs[i], end: r.ge[j], plus: r.plus && i == 0}
	for g := i; g <= j; g++ {
		c.lens = append(c.lens, r.ge[g]-r.gs[g])
	}
	if i == 0 {
		c.start = r.start
	}
	if c.plus {
		return d.international(&c)
	}
	if bytes.IndexByte(c.kinds, sepDot) >= 0 {
		return d.dotted(&c)
	}
	if d.text[c.start] == '(' && (len(c.kinds) == 0 || c.kinds[0] != sepParen) {
		// "(123 …" without a closing parenthesis after the first group.
		c.start++
	}
	switch len(c.digits) {
	case 12:
		return d.twelveDigits(&c)
	case 7:
		return d.sevenDigits(&c)
	}
	if c.digits[0] == '0' && validJPPhone(c.digits, c.lens) {
		return d.jpPhone(&c)
	}
	return d.card(&c)
}

// international takes "+81 …" by the Japanese plan and other "+CC …"
// numbers by their country code.
func (d *detector) international(c *candidate) bool {
	dg := c.digits
	if len(dg) < 8 || len(dg) > 15 || d.context(c.start) == nonPersonal {
		return false
	}
	if dg[0] == '8' && dg[1] == '1' {
		nat := make([]byte, 0, 16)
		if dg[2] != '0' {
			nat = append(nat, '0')
		}
		nat = append(nat, dg[2:]...)
		if m, l, s := jpNational(nat); m || l || s {
			d.emit(Phone, c.start, c.end)
			return true
		}
		return false
	}
	if countryCodeOK(dg) {
		d.emit(Phone, c.start, c.end)
		return true
	}
	return false
}

// dotted takes digits joined by dots, which are versions, addresses and
// decimals, except a three-group Japanese phone number: "03.1234.5678".
func (d *detector) dotted(c *candidate) bool {
	k := c.kinds
	if len(c.lens) == 3 && k[0] == sepDot && k[1] == sepDot && c.digits[0] == '0' && validJPPhone(c.digits, c.lens) &&
		d.context(c.start) != nonPersonal {
		d.emit(Phone, c.start, c.end)
		return true
	}
	return false
}

// twelveDigits takes a My Number or a driver's licence number, which only
// their keyword tells apart from other 12-digit numbers.
func (d *detector) twelveDigits(c *candidate) bool {
	l := c.lens
	if !(len(l) == 1 || len(l) == 3 && l[0] == 4 && l[1] == 4 && sameKind(c.kinds)) {
		return false
	}
	switch d.context(c.start) {
	case MyNumber:
		if myNumberValid(c.digits) {
			d.emit(MyNumber, c.start, c.end)
			return true
		}
	case DriversLicense:
		d.emit(DriversLicense, c.start, c.end)
		return true
	case "":
		// A valid check digit with the keyword a few lines up, as in
		// a text table whose header row names the column.
		if myNumberValid(c.digits) && d.wideContext(c.start, MyNumber) {
			d.emit(MyNumber, c.start, c.end)
			return true
		}
	}
	return false
}

// sevenDigits takes a bank account number or a Japanese postal code, each
// only with its keyword (or a prefecture after the postal code).
func (d *detector) sevenDigits(c *candidate) bool {
	ctx := d.context(c.start)
	if ctx == BankAccount && len(c.lens) == 1 {
		d.emit(BankAccount, c.start, c.end)
		return true
	}
	if (len(c.lens) == 1 || len(c.lens) == 2 && c.lens[0] == 3 && c.kinds[0] == sepDash) &&
		(ctx == PostalCode || followedByPrefecture(d.text, c.end)) {
		d.emit(PostalCode, c.start, c.end)
		return true
	}
	return false
}

// jpPhone takes a national number valid under the Japanese plan.
func (d *detector) jpPhone(c *candidate) bool {
	ctx := d.context(c.start)
	if ctx == nonPersonal {
		return false
	}
	if _, land, _ := jpNational(c.digits); land && len(c.lens) == 1 && ctx != Phone && !inProse(d.text, c.start) {
		// A bare 10-digit number in a log or a table is as often an
		// ID as a landline; in Japanese prose it is a phone number.
		return false
	}
	d.emit(Phone, c.start, c.end)
	return true
}

// card takes a Luhn-valid number in an issuer's range, printed as cards are.
func (d *detector) card(c *candidate) bool {
	if cardIssuer(c.digits) == "" || !luhn(c.digits) || !validCardGrouping(c.lens, c.kinds) {
		return false
	}
	if d.context(c.start) == nonPersonal {
		return false
	}
	d.emit(CreditCard, c.start, c.end)
	return true
}

// usZIP takes a whole cell of a postal-code column that is a US ZIP or
// ZIP+4 code; Japanese codes have seven digits and go through numbers.
func (d *detector) usZIP() bool {
	s, e := trimSpan(d.text, 0, len(d.text))
	v := d.text[s:e]
	if len(v) == 5 && allDigits(v) || len(v) == 10 && allDigits(v[:5]) && v[5] == '-' && allDigits(v[6:]) {
		d.emit(PostalCode, s, e)
		return true
	}
	return false
}

// inProse reports whether text[start] follows Japanese text or an opening
// parenthesis after it: "担当（0312345678）", "電話は0312345678まで".
func inProse(t string, start int) bool {
	p := start
	if p > 0 && t[p-1] == '(' {
		p--
	}
	return p > 0 && t[p-1] >= 0x80
}

func sameKind(k []byte) bool {
	for _, x := range k {
		if x != k[0] || x == sepParen {
			return false
		}
	}
	return true
}

// passport accepts a Japanese passport number, two capital letters and
// seven digits, when a passport keyword or key is near.
func (d *detector) passport(r *numRun) {
	t := d.text
	s := r.gs[0]
	if s < 2 || !isUpper(t[s-1]) || !isUpper(t[s-2]) || (s >= 3 && isAlnum(t[s-3])) {
		return
	}
	if r.n > 1 && r.kind[0] != sepSpace || r.n == 1 && r.badTail {
		return
	}
	if d.context(s-2) == Passport {
		d.emit(Passport, s-2, r.ge[0])
	}
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
