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

// classify validates groups i..j of r as one value and emits it.
func (d *detector) classify(r *numRun, i, j int) bool {
	t := d.text
	d.buf = r.digits(t, i, j, d.buf[:0])
	dg := d.buf
	n := len(dg)
	if n < 7 || n > 19 {
		return false
	}
	var lensA [maxGroups]int
	lens := lensA[:0]
	for g := i; g <= j; g++ {
		lens = append(lens, r.ge[g]-r.gs[g])
	}
	kinds := r.kind[i:j]
	start, end := r.gs[i], r.ge[j]
	if i == 0 {
		start = r.start
	}
	if r.plus && i == 0 {
		if n < 8 || n > 15 || d.context(start) == nonPersonal {
			return false
		}
		if dg[0] == '8' && dg[1] == '1' {
			nat := make([]byte, 0, 16)
			if dg[2] != '0' {
				nat = append(nat, '0')
			}
			nat = append(nat, dg[2:]...)
			if m, l, s := jpNational(nat); m || l || s {
				d.emit(Phone, start, end)
				return true
			}
			return false
		}
		if countryCodeOK(dg) {
			d.emit(Phone, start, end)
			return true
		}
		return false
	}
	if bytes.IndexByte(kinds, sepDot) >= 0 {
		// Dots join digits in versions, addresses and decimals; only a
		// three-group Japanese phone number written with dots is taken.
		if len(lens) == 3 && kinds[0] == sepDot && kinds[1] == sepDot && dg[0] == '0' && validJPPhone(dg, lens) &&
			d.context(start) != nonPersonal {
			d.emit(Phone, start, end)
			return true
		}
		return false
	}
	if t[start] == '(' && (len(kinds) == 0 || kinds[0] != sepParen) {
		// "(123 …" without a closing parenthesis after the first group.
		start++
	}
	switch n {
	case 12:
		if !(len(lens) == 1 || len(lens) == 3 && lens[0] == 4 && lens[1] == 4 && sameKind(kinds)) {
			return false
		}
		switch d.context(start) {
		case MyNumber:
			if myNumberValid(dg) {
				d.emit(MyNumber, start, end)
				return true
			}
		case DriversLicense:
			d.emit(DriversLicense, start, end)
			return true
		case "":
			// A valid check digit with the keyword a few lines up, as in
			// a text table whose header row names the column.
			if myNumberValid(dg) && d.wideContext(start, MyNumber) {
				d.emit(MyNumber, start, end)
				return true
			}
		}
		return false
	case 7:
		ctx := d.context(start)
		if ctx == BankAccount && len(lens) == 1 {
			d.emit(BankAccount, start, end)
			return true
		}
		if (len(lens) == 1 || len(lens) == 2 && lens[0] == 3 && kinds[0] == sepDash) &&
			(ctx == PostalCode || followedByPrefecture(t, end)) {
			d.emit(PostalCode, start, end)
			return true
		}
		return false
	}
	if dg[0] == '0' && validJPPhone(dg, lens) {
		ctx := d.context(start)
		if ctx == nonPersonal {
			return false
		}
		if _, land, _ := jpNational(dg); land && len(lens) == 1 && ctx != Phone && !inProse(t, start) {
			// A bare 10-digit number in a log or a table is as often an
			// ID as a landline; in Japanese prose it is a phone number.
			return false
		}
		d.emit(Phone, start, end)
		return true
	}
	if cardIssuer(dg) != "" && luhn(dg) && validCardGrouping(lens, kinds) {
		if d.context(start) == nonPersonal {
			return false
		}
		d.emit(CreditCard, start, end)
		return true
	}
	return false
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
