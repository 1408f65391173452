package pii

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/mamori-dev/mamori/internal/ascii"
	"github.com/mamori-dev/mamori/internal/pii/extract"
)

// Hit is one personal value inside a field's text.
type Hit struct {
	Category string
	// Start and End are byte positions in the field's normalised text.
	Start, End int
	Value      string
	// Country is a phone number's ISO 3166 country, Brand a card's brand.
	Country, Brand string
	// Confidence (0–1) and Reason say how sure the detector is and what
	// supported the finding: the validator, key, label or context word.
	Confidence float64
	Reason     string
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
	// code is set for program source: its words are identifiers and its
	// "name:" lines struct fields, so only values that validate
	// themselves (e-mail, phone, card, check-digit numbers) are sought.
	code bool
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
	k := keyClass{classifyKey(key), isHeaderNameKey(key), weakKey(key)}
	d.keys[key] = k
	return k.h, k.header
}

type keyClass struct {
	h      hint
	header bool
	weak   bool
}

// fieldKey returns the key that speaks for f: its own, or for a JSON leaf
// whose own key says nothing the nearest parent that does, so that
// "address.full" and "address.line1" are address lines.
func (d *detector) fieldKey(f *extract.Field) string {
	if f.Path == "" || d.keyHint(f.Key) != "" {
		return f.Key
	}
	p := f.Path
	for {
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			return f.Key
		}
		p = p[:i]
		switch d.keyHint(p) {
		case "":
			continue
		case Address, PersonName:
			return keyLeaf(p)
		}
		return f.Key
	}
}

// fieldHint returns what f's key says and whether it says it weakly: a
// bare "name" or "address" key is as often a program's as a person's.
func (d *detector) fieldHint(f *extract.Field) (hint, bool) {
	k := d.fieldKey(f)
	h, _ := d.keyInfo(k)
	if k == "" {
		return h, false
	}
	return h, d.keys[k].weak
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
	if d.code {
		d.hint, d.headerKey = "", false
		d.scanCode()
		return d.hits
	}
	if d.hint == PersonName || d.hint == Address || d.hint == DateOfBirth {
		if d.wholeCell() {
			return d.hits
		}
	}
	if d.headerKey {
		d.displayName()
	}
	if d.hint == PostalCode && d.postalCell() {
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

func (d *detector) emit(cat string, start, end int) *Hit {
	for _, h := range d.hits {
		if h.Category == cat && h.Start < end && start < h.End {
			return &Hit{}
		}
	}
	d.hits = append(d.hits, Hit{Category: cat, Start: start, End: end, Value: d.text[start:end]})
	return &d.hits[len(d.hits)-1]
}

// because records why the hit h was taken.
func (h *Hit) because(conf float64, reason string) *Hit {
	h.Confidence, h.Reason = conf, reason
	return h
}

// scan is the single pass over the text: it stops only at bytes that can
// start a value or a context word and hands the rest to validators.
func (d *detector) scan() {
	t := d.text
	numbers := d.hint != nonPersonal
	if d.hint == "" {
		d.lineLabel(0)
	}
	d.wordStart(0)
	for i := 0; i < len(t); {
		c := t[i]
		if !scanStops[c] {
			i++
			continue
		}
		switch {
		case c == '\n':
			if d.hint == "" {
				d.lineLabel(i + 1)
			}
			d.wordStart(i + 1)
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
			d.wordStart(i + 1)
		case c < 0x80:
			// White space and punctuation: a word may start after it.
			if c == ' ' && i > 0 && t[i-1] >= 'a' && t[i-1] <= 'z' {
				d.proseNameAfter(i)
			}
			d.wordStart(i + 1)
		default:
			r, w := utf8.DecodeRuneInString(t[i:])
			switch r {
			case '都', '道', '府', '県':
				if e := d.prefecture(i); e > i {
					i = e
					continue
				}
			case '様', '殿', '氏':
				d.honorific(i, w)
			case 'さ':
				if strings.HasPrefix(t[i+w:], "ん") {
					d.honorific(i, w+len("ん"))
				}
			case '生', '誕':
				d.dobKeyword(i)
			case '로', '길':
				if e := d.koreanAddress(i, w); e > i {
					i = e
					continue
				}
			case '号':
				if e := d.chineseAddress(i, w); e > i {
					i = e
					continue
				}
			}
			i += w
			if i < len(t) && t[i] < 0x80 {
				d.wordStart(i)
			}
			continue
		}
		i++
	}
}

// scanCode is scan for program source: numbers and e-mail addresses only.
func (d *detector) scanCode() {
	t := d.text
	for i := 0; i < len(t); {
		c := t[i]
		if !codeStops[c] {
			i++
			continue
		}
		switch {
		case c >= '0' && c <= '9' || (c == '+' || c == '(') && i+1 < len(t) && isDigit(t[i+1]):
			if c >= '0' && c <= '9' {
				// Most numbers in code are short and stand alone
				// (x[1], 0x7f, 255): no value has fewer than 7 digits.
				j := i + 1
				for j < len(t) && isDigit(t[j]) {
					j++
				}
				if j-i < 7 && (j+1 >= len(t) || !isDigit(t[j+1]) || !numberJoiner[t[j]]) {
					i = j
					continue
				}
			}
			r, next := scanRun(t, i)
			d.numbers(&r)
			i = next
			continue
		case c == '@':
			if e := d.email(i); e > i {
				i = e
				continue
			}
		}
		i++
	}
}

// numberJoiner are the bytes that join digit groups into one value.
var numberJoiner = [256]bool{' ': true, '-': true, '.': true, '(': true, ')': true, '\t': true}

// codeStops are the bytes scanCode stops at.
var codeStops = func() (s [256]bool) {
	for _, c := range []byte("0123456789+(@") {
		s[c] = true
	}
	return s
}()

// sourceExts are the extensions of program source and build files.
var sourceExts = map[string]bool{".go": true, ".c": true, ".h": true, ".cc": true, ".cpp": true, ".hpp": true,
	".s": true, ".asm": true, ".py": true, ".js": true, ".mjs": true, ".ts": true, ".java": true, ".kt": true,
	".rs": true, ".rb": true, ".pl": true, ".pm": true, ".php": true, ".cs": true, ".swift": true, ".m": true,
	".scala": true, ".lua": true, ".sh": true, ".bash": true, ".zsh": true, ".ps1": true, ".bat": true,
	".awk": true, ".sed": true, ".el": true, ".lisp": true, ".hs": true, ".ml": true, ".erl": true, ".ex": true,
	".proto": true, ".y": true, ".l": true, ".mk": true, ".cmake": true, ".gradle": true, ".patch": true, ".diff": true}

// isSourceCode reports whether the file or member name is program source.
func isSourceCode(name string) bool {
	i := strings.LastIndexByte(name, '.')
	if i < 0 || strings.LastIndexByte(name, '/') > i {
		return false
	}
	return sourceExts[strings.ToLower(name[i:])]
}

// scanStops are the bytes scan stops at: where a value, a context word or
// a word can start. Every other byte (most letters) costs one table look.
var scanStops = func() (s [256]bool) {
	for _, c := range []byte("\n0123456789+(@: \t\"',;>/[") {
		s[c] = true
	}
	for c := 0xE0; c < 0x100; c++ {
		s[c] = true // leads of three- and four-byte runes: kana, kanji
	}
	return s
}()

// wordStart tries the detectors that start at a word: titles and
// salutations, birth keywords, prose verbs before a name.
func (d *detector) wordStart(p int) {
	if p >= len(d.text) {
		return
	}
	switch d.text[p] {
	case 'M':
		d.westernName(p)
	case 'D':
		d.westernName(p)
		d.dobKeyword(p)
	case 'd', 'b', 'B':
		d.dobKeyword(p)
	case 's', 't', 'm', 'c', 'l', 'e', 'o':
		d.proseName(p)
	}
}

// context returns what the words before text[start] say about a value
// there: the nearest keyword on the same line (or the line before when the
// value starts its line), else the field's key, else the previous field.
func (d *detector) context(start int) hint {
	t := d.text
	back := max(start-256, 0)
	ls := back + strings.LastIndexByte(t[back:start], '\n') + 1
	from := ls
	if strings.TrimSpace(t[ls:start]) == "" && ls > 0 && ls > back {
		pb := max(ls-1-256, 0)
		from = pb + strings.LastIndexByte(t[pb:ls-1], '\n') + 1
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
	if total <= 4 && !d.code {
		d.westernStreet(r)
	}
	if total < 5 || coordinate(d.text, r) {
		return
	}
	if r.badHead && r.n >= 1 && r.ge[0]-r.gs[0] == 7 && !(r.n == 1 && r.badTail) {
		d.passport(r)
	}
	if total == 5 || total == 9 {
		d.westernAddress(r)
	}
	if total >= 4 && total <= 9 && r.n <= 2 && !r.badHead && !r.badTail {
		d.postalNumber(r)
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
	whole      bool   // the whole run, not some of its groups
}

// classify validates groups i..j of r as one value and emits it.
func (d *detector) classify(r *numRun, i, j int) bool {
	d.buf = r.digits(d.text, i, j, d.buf[:0])
	if len(d.buf) < 7 || len(d.buf) > 19 {
		return false
	}
	var lens [maxGroups]int
	c := candidate{digits: d.buf, lens: lens[:0], kinds: r.kind[i:j], start: r.gs[i], end: r.ge[j], plus: r.plus && i == 0,
		whole: i == 0 && j == r.n-1 && !r.badHead && !r.badTail}
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
	if d.card(&c) {
		return true
	}
	return d.foreignPhone(&c)
}

// international takes "+CC …" numbers whose national part has a length
// the country's numbering plan allows.
func (d *detector) international(c *candidate) bool {
	dg := c.digits
	if len(dg) < 8 || len(dg) > 15 || d.context(c.start) == nonPersonal {
		return false
	}
	iso := e164(dg)
	if iso == "" {
		return false
	}
	end := d.extension(c.end)
	h := d.emit(Phone, c.start, end).because(0.9, "e164:"+iso)
	h.Country = iso
	return true
}

// dotted takes digits joined by dots, which are versions, addresses and
// decimals, except a three-group Japanese phone number: "03.1234.5678".
func (d *detector) dotted(c *candidate) bool {
	k := c.kinds
	if len(c.lens) != 3 || k[0] != sepDot || k[1] != sepDot || !c.whole || d.context(c.start) == nonPersonal {
		return false
	}
	if c.digits[0] == '0' && validJPPhone(c.digits, c.lens) {
		d.emit(Phone, c.start, c.end).because(0.8, "jp-plan").Country = "JP"
		return true
	}
	if iso := domesticCountry(c.digits, c.lens, k); iso == "US" || iso == "CA" {
		d.emit(Phone, c.start, d.extension(c.end)).because(0.75, "nanp").Country = iso
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
	conf, why := 0.8, "jp-plan"
	if ctx == Phone {
		conf, why = 0.95, "jp-plan+phone-keyword"
	}
	d.emit(Phone, c.start, c.end).because(conf, why).Country = "JP"
	return true
}

// foreignPhone takes a national number printed the way its country prints
// them; one standing among other numbers on its line is a table's.
func (d *detector) foreignPhone(c *candidate) bool {
	if !c.whole {
		return false
	}
	ctx := d.context(c.start)
	if ctx == nonPersonal {
		return false
	}
	iso := domesticCountry(c.digits, c.lens, c.kinds)
	if iso == "" && len(c.digits) >= 10 && c.digits[0] == '0' && c.digits[1] == '0' && c.digits[2] != '0' {
		// 00 (or 011 from North America) and an E.164 number.
		iso = e164(c.digits[2:])
	} else if iso == "" && len(c.digits) >= 11 && string(c.digits[:3]) == "011" {
		iso = e164(c.digits[3:])
	}
	dg := c.digits
	if iso == "" && len(c.lens) == 1 && len(dg) == 11 && dg[0] == '1' && dg[1] >= '3' && inProse(d.text, c.start) {
		iso = "CN" // 请拨打13800138000
	}
	if iso == "" && ctx == Phone && len(c.lens) == 1 && len(dg) == 11 && string(dg[:3]) == "010" {
		iso = "KR"
	}
	switch iso {
	case "FR", "DE", "AU", "TW":
		// Their shapes are common in hex dumps and tables; only a
		// phone keyword makes them numbers to call.
		if ctx != Phone {
			return false
		}
	}
	if iso == "" && ctx == Phone && len(c.lens) == 1 {
		switch {
		case len(c.digits) == 10:
			iso = nanpCountry(c.digits)
		case len(c.digits) == 11 && c.digits[0] == '1' && c.digits[1] >= '3':
			iso = "CN"
		}
	}
	if iso == "" && ctx == Phone {
		iso = shortDomestic(c.digits, c.lens)
	}
	if iso == "" || ctx != Phone && d.numericNeighbours(c.start, c.end) {
		return false
	}
	conf, why := 0.7, "national-format"
	if ctx == Phone {
		conf, why = 0.9, "national-format+phone-keyword"
	}
	end := c.end
	if iso == "US" || iso == "CA" {
		end = d.extension(end)
	}
	d.emit(Phone, c.start, end).because(conf, why).Country = iso
	return true
}

// extension extends a phone number ending at e over "x123", "ext. 123" or
// "ext 123".
func (d *detector) extension(e int) int {
	t := d.text
	p := e
	for p < len(t) && t[p] == ' ' {
		p++
	}
	switch {
	case strings.HasPrefix(t[p:], "ext."):
		p += 4
	case strings.HasPrefix(t[p:], "ext"), strings.HasPrefix(t[p:], "Ext"):
		p += 3
	case strings.HasPrefix(t[p:], "x"):
		p++
	default:
		return e
	}
	for p < len(t) && t[p] == ' ' {
		p++
	}
	q := p
	for q < len(t) && isDigit(t[q]) && q-p < 6 {
		q++
	}
	if q == p || q < len(t) && isAlnum(t[q]) {
		return e
	}
	return q
}

// numericNeighbours reports other numbers of three or more digits on the
// value's line within 40 bytes: a row of a numeric table, not a phone or
// a card number someone wrote down.
func (d *detector) numericNeighbours(start, end int) bool {
	t := d.text
	from, to := max(start-40, 0), min(end+40, len(t))
	if i := strings.LastIndexByte(t[from:start], '\n'); i >= 0 {
		from += i + 1
	}
	if i := strings.IndexByte(t[end:to], '\n'); i >= 0 {
		to = end + i
	}
	run := 0
	for p := from; p < to; p++ {
		if p == start {
			p = end - 1
			run = 0
			continue
		}
		if isDigit(t[p]) {
			run++
			if run >= 3 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// card takes a Luhn-valid number in an issuer's range, printed as cards are.
func (d *detector) card(c *candidate) bool {
	brand := cardIssuer(c.digits)
	if brand == "" || !luhn(c.digits) || !validCardGrouping(c.lens, c.kinds) {
		return false
	}
	ctx := d.context(c.start)
	if ctx == nonPersonal {
		return false
	}
	conf, why := 0.95, "luhn+iin+card-keyword"
	if ctx != CreditCard {
		// Without a card keyword, only a number standing alone: a row of
		// a numeric table holds Luhn-valid runs by chance.
		if !c.whole || d.numericNeighbours(c.start, c.end) {
			return false
		}
		conf, why = 0.8, "luhn+iin"
	}
	d.emit(CreditCard, c.start, c.end).because(conf, why).Brand = brand
	return true
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

// postalNumber takes a postal code of digits after a postal keyword in
// free text: "Postcode 2000", "邮编：100020", "우편번호 06236".
func (d *detector) postalNumber(r *numRun) {
	if d.hint == PostalCode {
		return // the whole cell was tried
	}
	s, e := r.start, r.ge[r.n-1]
	iso := postalShape(d.text[s:e])
	if iso == "" || iso == "JP" || d.context(s) != PostalCode {
		return
	}
	h := d.emit(PostalCode, s, e).because(0.85, "postal-keyword")
	if iso != "5" {
		h.Country = iso
	}
}
