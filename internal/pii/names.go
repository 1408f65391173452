package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

func isKanji(r rune) bool {
	return r >= 0x4E00 && r <= 0x9FFF || r == '々' || r == 'ヶ' || r >= 0x3400 && r <= 0x4DBF || r >= 0xF900 && r <= 0xFAFF
}
func isKatakana(r rune) bool { return r >= 0x30A1 && r <= 0x30FA || r == 'ー' || r == '・' }
func isHiragana(r rune) bool { return r >= 0x3041 && r <= 0x3096 }

// notNameBefore holds words that take 様 or さん without being names:
// お客様, 皆様, 仕様, 同様, お父さん …
var notNameBefore = map[string]bool{
	"客": true, "皆": true, "各位": true, "奥": true, "神": true, "王": true, "殿": true, "仏": true, "貴殿": true,
	"同": true, "仕": true, "模": true, "多": true, "異": true, "一": true, "態": true, "図": true, "文": true,
	"紋": true, "有": true, "両": true, "各": true, "上": true, "貴": true, "人": true, "方": true, "皆々": true,
	"父": true, "母": true, "兄": true, "姉": true, "弟": true, "妹": true, "娘": true, "息子": true, "爺": true,
	"婆": true, "子": true, "家": true, "様": true, "殿下": true, "陛下": true, "御": true, "今": true, "外": true,
	"左": true, "右": true, "若": true, "坊": true, "嬢": true, "旦那": true, "女将": true, "大家": true,
	"先生": true, "主人": true, "奥方": true, "ご主人": true, "お客": true, "皆さ": true, "異同": true,
}

// orgWords mark companies and departments, which take 様 in letters.
var orgWords = []string{"会社", "商事", "銀行", "株式", "有限", "事務所", "研究所", "事業", "法人", "組合", "協会", "病院",
	"学校", "大学", "営業部", "総務部", "人事部", "経理部", "開発部", "本部", "支部", "窓口", "課", "お客", "客"}

// notNameSuffix ends words for groups and roles, not people: 利用者様,
// 株式会社様, 営業部様.
// Surnames end in 部, 所, 方, 中 and 合 (阿部, 田所, 緒方, 田中, 河合), so
// those are matched as whole words in orgWords instead.
const notNameSuffix = "者員社会課店局院係長団体宛様殿"

// honorific finds a Japanese name before 様, 殿 or さん at text[at] (w is
// the honorific's width).
func (d *detector) honorific(at, w int) {
	t := d.text
	if at+w < len(t) {
		if r, _ := utf8.DecodeRuneInString(t[at+w:]); isKanji(r) || r == '々' {
			return // 様子, 様式, 殿堂
		}
	}
	end := at
	for end > 0 && t[end-1] == ' ' {
		end--
	}
	if at-end > 2 {
		return
	}
	if r, sz := utf8.DecodeLastRuneInString(t[:end]); r == '）' || r == ')' {
		// 原田 桃子（ハラダ モモコ）様: the reading in brackets sits
		// between the name and the honorific.
		open := strings.LastIndexAny(t[:end-sz], "（(")
		if open < 0 {
			return
		}
		_, ow := utf8.DecodeRuneInString(t[open:])
		if reading := strings.NewReplacer(" ", "", "　", "").Replace(t[open+ow : end-sz]); !kanaKanjiOnly(reading, false) {
			return
		}
		end = open
		for end > 0 && t[end-1] == ' ' {
			end--
		}
	}
	// Collect up to 12 runes of kanji, kana and at most one space.
	start, runes, space := end, 0, -1
	for start > 0 && runes < 12 {
		r, sz := utf8.DecodeLastRuneInString(t[:start])
		if r == ' ' && space < 0 && start < end {
			space = start - sz
			start -= sz
			continue
		}
		if !isKanji(r) && !isKatakana(r) && !isHiragana(r) {
			break
		}
		start -= sz
		runes++
	}
	if start < end && t[start] == ' ' {
		start++
		space = -1
	}
	if start >= end {
		return
	}
	name := -1 // start of the name
	if space >= 0 {
		given := t[space+1 : end]
		if kanaKanjiOnly(given, true) && utf8.RuneCountInString(given) <= 4 {
			name = familyStart(t, start, space)
			if name == space {
				return
			}
		} else {
			// The space separates earlier words: 拝啓 この度は山田様.
			start = space + 1
		}
	}
	if name < 0 {
		run := t[start:end]
		if run == "" {
			return
		}
		last, _ := utf8.DecodeLastRuneInString(run)
		if isHiragana(last) {
			// 山田さくら様: a hiragana given name after a kanji family name.
			h := end
			for h > start {
				r, sz := utf8.DecodeLastRuneInString(t[:h])
				if !isHiragana(r) {
					break
				}
				h -= sz
			}
			if utf8.RuneCountInString(t[h:end]) < 2 || utf8.RuneCountInString(t[h:end]) > 4 {
				return
			}
			name = familyStart(t, start, h)
			if name == h || utf8.RuneCountInString(t[name:h]) > 3 {
				return
			}
		} else {
			name = end
			for name > start {
				r, sz := utf8.DecodeLastRuneInString(t[:name])
				if !isKanji(r) && !isKatakana(r) {
					break
				}
				name -= sz
			}
			first, _ := utf8.DecodeRuneInString(t[name:end])
			if c := utf8.RuneCountInString(t[name:end]); c < 1 || c > 6 || c == 1 && !isKanji(first) {
				return
			}
		}
	}
	v := t[name:end]
	family := v
	if i := strings.IndexByte(v, ' '); i >= 0 {
		family = v[:i]
	}
	if notNameBefore[v] || notNameBefore[family] || strings.HasPrefix(v, "ー") || strings.HasPrefix(v, "・") {
		return
	}
	for _, w := range orgWords {
		if strings.Contains(v, w) {
			return
		}
	}
	if i := strings.IndexByte(v, ' '); i >= 0 {
		if g := v[i+1:]; strings.HasPrefix(g, "お") || strings.HasPrefix(g, "ご") || notNameBefore[g] {
			return
		}
	}
	last, _ := utf8.DecodeLastRuneInString(v)
	if strings.ContainsRune(notNameSuffix, last) {
		return
	}
	if name >= 3 {
		if r, _ := utf8.DecodeLastRuneInString(t[:name]); r == 'お' || r == 'ご' {
			if utf8.RuneCountInString(v) <= 2 {
				return // お客様, ご担当様
			}
		}
	}
	hon, _ := utf8.DecodeRuneInString(t[at:])
	d.emit(PersonName, name, end).because(0.85, "honorific:"+string(hon))
}

// familyStart returns where a family name ending at end begins: the longest
// run of kanji or katakana (up to five runes) not before start.
func familyStart(t string, start, end int) int {
	p, n := end, 0
	for p > start && n < 5 {
		r, sz := utf8.DecodeLastRuneInString(t[:p])
		if !isKanji(r) && !isKatakana(r) {
			break
		}
		p -= sz
		n++
	}
	return p
}

func kanaKanjiOnly(s string, allowHiragana bool) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !isKanji(r) && !isKatakana(r) && !(allowHiragana && isHiragana(r)) {
			return false
		}
	}
	return true
}

var westernTitles = []string{"Mr.", "Mrs.", "Ms.", "Miss ", "Mr ", "Mrs ", "Ms ", "Dr.", "Dr ", "Dear "}

// notNameWord are capitalised words that follow "Dear" in form letters.
var notNameWord = map[string]bool{
	"Customer": true, "Customers": true, "Sir": true, "Madam": true, "Valued": true, "All": true, "Team": true,
	"Colleagues": true, "Member": true, "Members": true, "User": true, "Users": true, "Friend": true,
	"Friends": true, "Client": true, "Partner": true, "Partners": true, "Applicant": true, "Hiring": true,
	"Manager": true, "Support": true, "Admin": true, "Administrator": true, "Subscriber": true, "Guest": true,
}

// westernName finds "Mr. John Smith", "Dear Jane Doe," at text[at].
func (d *detector) westernName(at int) {
	t := d.text
	if at > 0 && isAlnum(t[at-1]) {
		return
	}
	title := ""
	for _, w := range westernTitles {
		if strings.HasPrefix(t[at:], w) {
			title = w
			break
		}
	}
	if title == "" {
		return
	}
	p := at + len(title)
	for p < len(t) && t[p] == ' ' {
		p++
	}
	if title == "Dear " {
		// "Dear Mr. Smith": let the title match do it.
		for _, w := range westernTitles[:7] {
			if strings.HasPrefix(t[p:], w) {
				return
			}
		}
	}
	start, end, words := p, p, 0
	for words < 4 {
		q := end
		if words > 0 {
			if q >= len(t) || t[q] != ' ' {
				break
			}
			q++
		}
		ws := q
		if q >= len(t) || !isUpper(t[q]) {
			break
		}
		q++
		for q < len(t) && (t[q] >= 'a' && t[q] <= 'z' || t[q] == '\'' || t[q] == '-' || isUpper(t[q]) && q == ws+1) {
			q++
		}
		if q < len(t) && t[q] == '.' && q-ws == 1 {
			q++ // middle initial
		}
		if q-ws < 2 || q < len(t) && isAlnum(t[q]) || notNameWord[t[ws:q]] {
			break
		}
		end = q
		words++
	}
	if words == 0 || title == "Dear " && words < 2 {
		return
	}
	d.emit(PersonName, start, end).because(0.8, "title:"+strings.TrimSpace(title))
}

// displayName takes the name part of an e-mail header value such as
// "Yamada Taro <taro@example.jp>" or "山田 太郎 <…>".
func (d *detector) displayName() {
	t := d.text
	for off := 0; off < len(t); {
		lt := strings.IndexByte(t[off:], '<')
		if lt < 0 {
			return
		}
		lt += off
		s := off
		if c := strings.LastIndexByte(t[off:lt], ','); c >= 0 {
			s = off + c + 1
		}
		s, e := trimSpan(t, s, lt)
		if e > s && t[s] == '"' && t[e-1] == '"' && e-s >= 2 {
			s, e = s+1, e-1
		}
		if e > s && looksLikeName(t[s:e]) && !strings.Contains(t[s:e], "@") {
			d.emit(PersonName, s, e).because(0.9, "display-name:"+d.key)
		}
		gt := strings.IndexByte(t[lt:], '>')
		if gt < 0 {
			return
		}
		off = lt + gt + 1
	}
}

// trimSpan narrows [s,e) of t to exclude surrounding white space.
func trimSpan(t string, s, e int) (int, int) {
	for s < e && (t[s] == ' ' || t[s] == '\t' || t[s] == '\r' || t[s] == '\n') {
		s++
	}
	for e > s && (t[e-1] == ' ' || t[e-1] == '\t' || t[e-1] == '\r' || t[e-1] == '\n') {
		e--
	}
	return s, e
}

// looksLikeName accepts a cell of a name column: letters of any script,
// spaces and the punctuation names carry, no digits, at most 60 runes.
func looksLikeName(v string) bool {
	n, letters := 0, 0
	for _, r := range v {
		n++
		switch {
		case unicode.IsLetter(r):
			letters++
		case r == ' ' || r == '.' || r == '\'' || r == '-' || r == '・' || r == 'ー' || r == '々' || r == ',':
		default:
			return false
		}
	}
	return letters > 0 && n <= 60
}

// label handles "氏名: 山田 太郎" and "Name: John Smith" lines in free text:
// the label acts as the key of the rest of the line.
func (d *detector) label(colon int) {
	t := d.text
	if d.key != "" && d.hint != "" || colon == 0 || isDigit(t[colon-1]) {
		return // times and ports, not labels
	}
	// Labels are short: look back 64 bytes at most, not to the start of
	// a long line for every colon in it.
	from := max(colon-64, 0)
	ls := from + strings.LastIndexByte(t[from:colon], '\n') + 1
	for _, sep := range []string{"\t", ",", "|", "  ", "。"} {
		if i := strings.LastIndex(t[ls:colon], sep); i >= 0 {
			ls += i + len(sep)
		}
	}
	if colon-ls > 40 {
		return
	}
	lab := strings.TrimSpace(t[ls:colon])
	if lab == "" {
		return
	}
	h := d.keyHint(lab)
	if h != PersonName && h != Address && h != DateOfBirth {
		return
	}
	le := strings.IndexByte(t[colon:], '\n')
	if le < 0 {
		le = len(t)
	} else {
		le += colon
	}
	s, e := trimSpan(t, colon+1, le)
	if e > s && t[e-1] == ',' {
		e--
	}
	if e <= s {
		return
	}
	d.cell(h, s, e)
}

// wholeCell classifies a field whose key names a text category; it
// reports whether the field was consumed.
func (d *detector) wholeCell() bool {
	s, e := trimSpan(d.text, 0, len(d.text))
	if e <= s {
		return true
	}
	if strings.IndexByte(d.text[s:e], '\n') >= 0 && d.hint != Address {
		return false
	}
	return d.cell(d.hint, s, e)
}

// cell emits text[s:e] as a value of category h when it looks like one.
func (d *detector) cell(h hint, s, e int) bool {
	v := d.text[s:e]
	switch h {
	case PersonName:
		if looksLikeName(v) && !strings.EqualFold(v, d.key) && !identifierLike(v) {
			d.emit(PersonName, s, e)
			return true
		}
	case Address:
		// "〒100-0001 東京都…": the postal code is a value of its own.
		if skip := leadingPostalCode(v); skip > 0 {
			s += skip
			v = d.text[s:e]
		}
		if addressShape(v) {
			d.emit(Address, s, e)
			d.trailingPostcode(s, e)
			return true
		}
	case DateOfBirth:
		if ds, de := findDate(v); de > ds {
			d.emit(DateOfBirth, s+ds, s+de)
			return true
		}
	}
	return false
}

// looksLikeAddress accepts a cell of an address column: some letters, not
// an e-mail address, not a bare number, not a whole paragraph.
func looksLikeAddress(v string) bool {
	if strings.Contains(v, "@") || len(v) > 300 {
		return false
	}
	letters := 0
	for _, r := range v {
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters >= 2 && utf8.RuneCountInString(v) >= 4
}

// codeBytes never occur in a name or a postal address, and always in
// source code, shell and markup.
const codeBytes = "{}[]()<>;=*&|$\"`\\"

// identifierLike reports a name cell that is a program's word rather than
// a person's: lower-case first letters (addr, callback), camelCase
// (keepAlive), dotted or underscored words (obj.TYPE_MEM), code
// punctuation.
func identifierLike(v string) bool {
	if strings.ContainsAny(v, codeBytes+"_") {
		return true
	}
	if len(v) > 1 && strings.IndexByte(v, ' ') < 0 && strings.ToUpper(v) == v && v[0] < 0x80 {
		return true // NAME: SUMMARY, "name": "BLR"
	}
	for _, w := range strings.Fields(v) {
		c := w[0]
		if c < 0x80 && !isUpper(c) {
			return true
		}
		if codeWord(w) {
			return true
		}
	}
	return false
}

// codeWord reports a token shaped like an identifier: a letter, a dot and a
// letter (obj.TYPE), lower-case then upper-case letters (keepAlive,
// RawSockaddr), lower-case letters then digits (uint64).
func codeWord(w string) bool {
	humps := 0
	for i := 1; i < len(w); i++ {
		a, b := w[i-1], w[i]
		switch {
		case a >= 'a' && a <= 'z' && isUpper(b):
			// McDonald, MacLeod, DeAngelo, LeBlanc are names; keepAlive,
			// IsAnyArrayBuffer, writableHighWaterMark are not.
			humps++
			if humps > 1 || i > 3 || !isUpper(w[0]) {
				return true
			}
		case a >= 'a' && a <= 'z' && isDigit(b):
			return true
		case a == '.' && i >= 2 && isAlnum(w[i-2]) && isAlnum(b) && !(i == 2 && isUpper(w[0])):
			// "J.Smith" initials pass; "obj.TYPE" and "sa.String" do not.
			return true
		}
	}
	return false
}

// addressShape accepts a cell of an address column or label: a Japanese,
// Chinese or Korean address (some kanji or hangul), or a Western one with
// a number and a capitalised word; never code, an e-mail address, a
// paragraph or a sentence about something else.
func addressShape(v string) bool {
	if !looksLikeAddress(v) || strings.ContainsAny(v, codeBytes) || strings.Contains(v, "//") {
		return false
	}
	cjk, digits, capital := 0, 0, false
	for _, r := range v {
		switch {
		case isKanji(r) || r >= 0xAC00 && r <= 0xD7A3:
			cjk++
		case r >= '0' && r <= '9':
			digits++
		}
	}
	if cjk >= 2 {
		return true
	}
	words := strings.Fields(v)
	if len(words) < 2 || digits == 0 || strings.IndexByte(v, '_') >= 0 {
		return false
	}
	street := isDigit(words[0][0])
	for i, w := range words {
		w = strings.Trim(w, ",.")
		if w == "" {
			continue
		}
		if codeWord(w) {
			return false
		}
		if capitalised(w) {
			capital = true
		}
		if streetWords[strings.ToLower(w)] || i+1 < len(words) && isDigit(words[i+1][0]) && streetName(w) {
			street = true
		}
	}
	return capital && street
}

// capitalised reports a word of an upper-case letter then a lower-case
// one, in any Latin script: "Berlin", "Köln", "Élysée".
func capitalised(w string) bool {
	r0, n := utf8.DecodeRuneInString(w)
	r1, _ := utf8.DecodeRuneInString(w[n:])
	return unicode.IsUpper(r0) && unicode.IsLower(r1)
}

// streetSuffixes end the one-word street names of German, Dutch and
// Nordic addresses, which put the house number after the street:
// "Kastanienallee 12", "Königstraße 5", "Prinsengracht 263",
// "Drottninggatan 71".
var streetSuffixes = []string{"straße", "strasse", "str", "allee", "weg", "platz", "gasse", "damm", "ufer", "chaussee",
	"straat", "laan", "gracht", "plein", "kade", "gatan", "vägen", "vej", "gade", "veien"}

// streetName reports a capitalised word ending in a street suffix, with
// more before it than the suffix: "Leopoldstrasse", not "Weg".
func streetName(w string) bool {
	if !capitalised(w) {
		return false
	}
	l := strings.ToLower(w)
	for _, s := range streetSuffixes {
		if len(l) > len(s)+1 && strings.HasSuffix(l, s) {
			return true
		}
	}
	return false
}

// streetWords mark a Western address line: "Saratoga Avenue", "Fifth
// Floor", "Flat 3", "PO Box 12".
var streetWords = map[string]bool{"street": true, "st": true, "avenue": true, "ave": true, "road": true, "rd": true,
	"lane": true, "ln": true, "drive": true, "dr": true, "boulevard": true, "blvd": true, "way": true, "court": true,
	"ct": true, "place": true, "pl": true, "terrace": true, "parkway": true, "pkwy": true, "circle": true,
	"highway": true, "hwy": true, "square": true, "sq": true, "close": true, "crescent": true, "grove": true,
	"gardens": true, "mews": true, "row": true, "hill": true, "park": true, "green": true, "walk": true,
	"floor": true, "suite": true, "ste": true, "apt": true, "apartment": true, "unit": true, "flat": true,
	"box": true, "building": true, "house": true,
	// Romance and Central European street words, before the name: "12 rue
	// de Rivoli", "Via Roma 10", "Calle Mayor 5", "ul. Marszałkowska 1".
	"rue": true, "chemin": true, "quai": true, "impasse": true, "allée": true, "via": true, "viale": true,
	"piazza": true, "corso": true, "calle": true, "avenida": true, "paseo": true, "plaza": true, "carrer": true,
	"rua": true, "ul": true}

// lineLabel handles a label separated from its value by white space or
// brackets at the start of a line: "氏名　山田 太郎", "【住所】東京都…".
func (d *detector) lineLabel(ls int) {
	t := d.text
	for ls < len(t) && (t[ls] == ' ' || t[ls] == '\t') {
		ls++
	}
	p := ls
	for _, open := range []string{"【", "[", "■", "・"} {
		if strings.HasPrefix(t[p:], open) {
			p += len(open)
			break
		}
	}
	ws := p
	if p >= len(t) || isDigit(t[p]) {
		return // log lines start with a time stamp, not a label
	}
	for p < len(t) && p-ws <= 24 {
		c := t[p]
		if c == ' ' || c == '\t' || c == ':' || c == '\n' || c == ']' || strings.HasPrefix(t[p:], "】") {
			break
		}
		p++
	}
	if p >= len(t) || p == ws || t[p] == ':' || t[p] == '\n' || p-ws > 24 {
		return
	}
	h := d.keyHint(t[ws:p])
	if h != PersonName && h != Address && h != DateOfBirth {
		return
	}
	if !utf8.ValidString(t[ws:p]) || utf8.RuneCountInString(t[ws:p]) > 8 {
		return
	}
	if t[p] == ']' {
		p++
	} else if strings.HasPrefix(t[p:], "】") {
		p += len("】")
	}
	le := strings.IndexByte(t[p:], '\n')
	if le < 0 {
		le = len(t)
	} else {
		le += p
	}
	s, e := trimSpan(t, p, le)
	if e <= s {
		return
	}
	v := t[s:e]
	if strings.Contains(v, "  ") {
		return // a table header row, not a label and its value
	}
	for _, w := range strings.Fields(v) {
		if d.keyHint(w) != "" {
			return
		}
	}
	switch h {
	case PersonName:
		if nameShape(v) {
			d.emit(PersonName, s, e)
		}
	case Address:
		if strings.ContainsAny(v, "0123456789") && addressShape(v) {
			d.emit(Address, s, e)
		}
	default:
		d.cell(h, s, e)
	}
}

// nameShape accepts what a name looks like when nothing but a label says
// so: a Japanese family and given name, or two or three capitalised words.
func nameShape(v string) bool {
	parts := strings.Fields(v)
	if len(parts) == 0 || len(parts) > 3 {
		return false
	}
	if joined := strings.Join(parts, ""); hangulOnly(joined) {
		n := utf8.RuneCountInString(joined)
		return n >= 2 && n <= 5 // 김민준, 남궁 민수
	}
	if kanaKanjiOnly(strings.Join(parts, ""), true) {
		n := utf8.RuneCountInString(strings.Join(parts, ""))
		first, _ := utf8.DecodeRuneInString(v)
		return n >= 2 && n <= 10 && len(parts) <= 2 && !isHiragana(first)
	}
	if len(parts) < 2 {
		return false
	}
	for _, w := range parts {
		if !isUpper(w[0]) || !looksLikeName(w) {
			return false
		}
	}
	return true
}

// leadingPostalCode returns the length of a Japanese postal code and the
// spaces after it at the start of v, or 0.
func leadingPostalCode(v string) int {
	p := 0
	if strings.HasPrefix(v, "〒") {
		p = len("〒")
	}
	q := p
	for q < len(v) && q-p < 3 && isDigit(v[q]) {
		q++
	}
	if q-p != 3 {
		return 0
	}
	if q < len(v) && v[q] == '-' {
		q++
	}
	r := q
	for r < len(v) && r-q < 4 && isDigit(v[r]) {
		r++
	}
	if r-q != 4 || r < len(v) && isDigit(v[r]) {
		return 0
	}
	for r < len(v) && v[r] == ' ' {
		r++
	}
	return r
}

// proseVerbs introduce or follow a person's name in running English:
// "I spoke with Jane Doe", "Jane Doe called".
var (
	proseBefore = []string{"spoke with ", "spoke to ", "talked to ", "talked with ", "speaking with ", "met with ",
		"call from ", "message from ", "letter from ", "email from ", "on behalf of "}
	// "wrote" and "said" are left out: changelogs and AUTHORS files are
	// full of "X wrote the parser".
	proseAfter = []string{" called", " phoned", " rang", " emailed", " visited", " complained"}
)

// proseName finds "spoke with Jane Doe" and "Jane Doe called" around
// text[at], a lower-case letter starting one of the verbs.
func (d *detector) proseName(at int) {
	t := d.text
	if at > 0 && isAlnum(t[at-1]) {
		return
	}
	for _, v := range proseBefore {
		if strings.HasPrefix(t[at:], v) {
			if s, e := capitalWords(t, at+len(v)); e > s {
				d.emit(PersonName, s, e).because(0.8, "prose:"+strings.TrimSpace(v))
			}
			return
		}
	}
}

// proseNameAfter finds a name ending right before a verb at text[at]
// (the space before it).
func (d *detector) proseNameAfter(at int) {
	t := d.text
	for _, v := range proseAfter {
		if !strings.HasPrefix(t[at:], v) || at+len(v) < len(t) && isAlnum(t[at+len(v)]) {
			continue
		}
		// Walk back over two or three capitalised words.
		s, words := at, 0
		for words < 2 {
			q := s
			for q > 0 && (t[q-1] >= 'a' && t[q-1] <= 'z' || t[q-1] == '\'' || t[q-1] == '-' || isUpper(t[q-1])) {
				q--
			}
			if q == s || !isUpper(t[q]) || notNameWord[t[q:s]] || q > 0 && isAlnum(t[q-1]) {
				break
			}
			s, words = q, words+1
			if s == 0 || t[s-1] != ' ' {
				break
			}
			s--
		}
		if t[s] == ' ' {
			s++
		}
		if words >= 2 && !sentenceWord(t[s:at]) {
			d.emit(PersonName, s, at).because(0.75, "prose:"+strings.TrimSpace(v))
		}
		return
	}
}

// sentenceWord reports a capitalised run that starts with a word
// sentences start with rather than a given name.
func sentenceWord(v string) bool {
	first, _, _ := strings.Cut(v, " ")
	switch first {
	case "The", "This", "That", "It", "He", "She", "We", "They", "You", "I", "Our", "Your", "Who", "When", "If", "Then", "Also":
		return true
	}
	return false
}

// capitalWords returns the span of two or three capitalised words at p.
func capitalWords(t string, p int) (int, int) {
	start, end, words := p, p, 0
	for words < 3 {
		q := end
		if words > 0 {
			if q >= len(t) || t[q] != ' ' {
				break
			}
			q++
		}
		ws := q
		if q >= len(t) || !isUpper(t[q]) {
			break
		}
		q++
		for q < len(t) && (t[q] >= 'a' && t[q] <= 'z' || t[q] == '\'' || t[q] == '-' ||
			isUpper(t[q]) && (t[q-1] == '\'' || t[q-1] == '-' || q-ws == 2 && t[ws:q] == "Mc")) {
			q++ // O'Neil, Smith-Jones, McDonald
		}
		if q-ws < 2 || q < len(t) && isAlnum(t[q]) || notNameWord[t[ws:q]] {
			break
		}
		end, words = q, words+1
	}
	if words < 2 || sentenceWord(t[start:end]) {
		return 0, 0
	}
	return start, end
}

func hangulOnly(s string) bool {
	for _, r := range s {
		if !isHangul(r) {
			return false
		}
	}
	return s != ""
}
