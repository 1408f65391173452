package scope

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalisation turns the many ways a value is written into one form, so
// that equal values make equal keys. Every function returns "" for a value
// it cannot read; such values make no key.

// nfkc is NFKC with a fast path for the common case, text already normal:
// every value of millions passes through here.
func nfkc(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	// QuickSpanString covering s is IsNormalString's own first answer,
	// without its allocation.
	if ascii || norm.NFKC.QuickSpanString(s) == len(s) || norm.NFKC.IsNormalString(s) {
		return s
	}
	return norm.NFKC.String(s)
}

// plusProviders fold "local+tag@domain" to "local@domain": the providers
// documented to deliver sub-addressed mail to the same mailbox. The value is
// the canonical domain: aliases of one mailbox service share it.
var plusProviders = map[string]string{
	"gmail.com": "gmail.com", "googlemail.com": "gmail.com",
	"outlook.com": "outlook.com", "outlook.jp": "outlook.jp", "hotmail.com": "hotmail.com",
	"hotmail.co.jp": "hotmail.co.jp", "live.com": "live.com", "live.jp": "live.jp", "msn.com": "msn.com",
	"icloud.com": "icloud.com", "me.com": "icloud.com", "mac.com": "icloud.com",
	"fastmail.com": "fastmail.com", "proton.me": "proton.me", "protonmail.com": "proton.me", "pm.me": "proton.me",
	"yahoo.co.jp": "yahoo.co.jp", "ymail.ne.jp": "ymail.ne.jp",
}

// NormalizeEmail lower-cases an address and folds sub-addressing for the
// providers in plusProviders; Gmail also ignores dots in the local part.
func NormalizeEmail(v string) string {
	v = strings.ToLower(strings.TrimSpace(nfkc(v)))
	v = strings.Trim(v, "<>\"' ")
	at := strings.LastIndexByte(v, '@')
	if at <= 0 || at == len(v)-1 || strings.ContainsAny(v, " \t") {
		return ""
	}
	local, domain := v[:at], strings.TrimSuffix(v[at+1:], ".")
	if canon, ok := plusProviders[domain]; ok {
		domain = canon
		if i := strings.IndexByte(local, '+'); i >= 0 {
			local = local[:i]
		}
		if domain == "gmail.com" {
			local = strings.ReplaceAll(local, ".", "")
		}
	}
	if local == "" {
		return ""
	}
	if len(local)+1+len(domain) == len(v) && v[:len(local)] == local && v[len(local)+1:] == domain {
		return v // already in this form: no new string
	}
	return local + "@" + domain
}

// callingCodes maps the country codes mamori reads to ISO countries, longest
// codes first when looked up (see phoneCountry).
var callingCodes = map[string]string{
	"1": "US", "7": "RU", "20": "EG", "27": "ZA", "30": "GR", "31": "NL", "32": "BE", "33": "FR", "34": "ES",
	"36": "HU", "39": "IT", "40": "RO", "41": "CH", "43": "AT", "44": "GB", "45": "DK", "46": "SE", "47": "NO",
	"48": "PL", "49": "DE", "51": "PE", "52": "MX", "55": "BR", "60": "MY", "61": "AU", "62": "ID", "63": "PH",
	"64": "NZ", "65": "SG", "66": "TH", "81": "JP", "82": "KR", "84": "VN", "86": "CN", "90": "TR", "91": "IN",
	"351": "PT", "353": "IE", "358": "FI", "852": "HK", "853": "MO", "855": "KH", "856": "LA", "880": "BD",
	"886": "TW", "971": "AE", "972": "IL", "977": "NP", "95": "MM", "94": "LK", "92": "PK",
}

// countryCodes is callingCodes reversed: the code for a country's domestic
// numbers.
var countryCodes = func() map[string]string {
	m := map[string]string{}
	for code, c := range callingCodes {
		m[c] = code
	}
	return m
}()

// NormalizePhone returns the E.164 form (+819012345678) of a phone number.
// International forms (+CC, 00CC, 010CC from Japan) keep their country;
// domestic forms, with a leading trunk 0 (or 10 digits in the US), are read
// as numbers of country (an ISO code, "JP" when empty).
func NormalizePhone(v, country string) string {
	v = nfkc(v)
	if i := strings.IndexAny(v, "xX内"); i > 0 {
		v = v[:i] // extensions: "03-1234-5678 内線12", "x123"
	}
	plus := strings.HasPrefix(strings.TrimSpace(v), "+")
	d := make([]byte, 0, 16)
	for i := 0; i < len(v); i++ {
		if c := v[i]; c >= '0' && c <= '9' {
			d = append(d, c)
		}
	}
	s := string(d)
	if country == "" {
		country = "JP"
	}
	switch {
	case plus:
	case strings.HasPrefix(s, "010") && country == "JP":
		s = s[3:]
	case strings.HasPrefix(s, "00"):
		s = s[2:]
	default:
		code := countryCodes[country]
		switch {
		case code == "":
			return ""
		case code == "1" && len(s) == 10:
		case code == "1" && len(s) == 11 && s[0] == '1':
			s = s[1:]
		case strings.HasPrefix(s, "0"):
			s = s[1:]
		default:
			return ""
		}
		s = code + s
	}
	// "+81 (0)90-..." writes the trunk 0 after the country code.
	for strings.HasPrefix(s, "810") {
		s = "81" + s[3:]
	}
	if len(s) < 8 || len(s) > 15 || s[0] == '0' {
		return ""
	}
	return "+" + s
}

// PhoneCountry returns the ISO country of an E.164 number, "" if unknown.
func PhoneCountry(e164 string) string {
	s := strings.TrimPrefix(e164, "+")
	for n := 3; n >= 1; n-- {
		if len(s) > n {
			if c, ok := callingCodes[s[:n]]; ok {
				return c
			}
		}
	}
	return ""
}

// digits keeps the ASCII digits of v after NFKC (full-width digits count).
func digits(v string) string {
	v = nfkc(v)
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if c := v[i]; c >= '0' && c <= '9' {
			b = append(b, c)
		}
	}
	return string(b)
}

// NormalizeMyNumber returns the 12 digits of an individual number.
func NormalizeMyNumber(v string) string {
	if d := digits(v); len(d) == 12 {
		return d
	}
	return ""
}

// NormalizeCard returns a card number's digits. Callers hash it at once:
// the register never holds a card number.
func NormalizeCard(v string) string {
	if d := digits(v); len(d) >= 12 && len(d) <= 19 {
		return d
	}
	return ""
}

// NormalizePostal returns a postal code's digits (Japanese codes: 7).
func NormalizePostal(v string) string {
	d := digits(v)
	if len(d) < 3 || len(d) > 10 {
		return ""
	}
	return d
}

// NormalizeID normalises passport and licence numbers: NFKC, upper case,
// letters and digits only.
func NormalizeID(v string) string {
	v = strings.ToUpper(nfkc(v))
	var b strings.Builder
	for _, r := range v {
		if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	if b.Len() < 5 {
		return ""
	}
	return b.String()
}

// honorifics end a name in letters and lists; they are not part of it.
var honorifics = []string{"様", "殿", "さん", "さま", "くん", "君", "氏", "先生"}

var latinTitles = map[string]bool{"mr": true, "mrs": true, "ms": true, "miss": true, "dr": true, "prof": true, "mx": true}

// NormalizeName folds a person's name: NFKC (full and half width), no
// spaces or middle dots, katakana as hiragana, old kanji forms as new ones
// (kanji.go), honorifics and titles dropped. Latin names are lower-cased
// and their words sorted, so "Taro Yamada" and "YAMADA, Taro" agree.
func NormalizeName(v string) string {
	v = nfkc(strings.TrimSpace(v))
	for _, h := range honorifics {
		v = strings.TrimSuffix(strings.TrimSpace(v), h)
	}
	latin := true
	for _, r := range v {
		if r >= 0x80 && !unicode.IsSpace(r) && r != '・' {
			latin = false
			break
		}
	}
	if latin {
		f := strings.FieldsFunc(strings.ToLower(v), func(r rune) bool {
			return !unicode.IsLetter(r) && r != '\'' && r != '-'
		})
		w := f[:0]
		for _, x := range f {
			if !latinTitles[x] {
				w = append(w, x)
			}
		}
		slices.Sort(w)
		return strings.Join(w, " ")
	}
	var b strings.Builder
	for _, r := range v {
		switch {
		case unicode.IsSpace(r), r == '・', r == '･', r == '.', r == ',', r == '、':
			continue
		case r >= 0x30A1 && r <= 0x30F6: // katakana → hiragana
			r -= 0x60
		case r < 0x80 && unicode.IsUpper(r):
			r = unicode.ToLower(r)
		}
		r = newKanji(r)
		b.WriteRune(r)
	}
	return b.String()
}

// IsKanaName reports names written in kana only: a reading (フリガナ) of
// another name in the same record rather than a second person.
func IsKanaName(n string) bool {
	if n == "" {
		return false
	}
	for _, r := range n {
		if !(r >= 0x3041 && r <= 0x309F || r == 'ー') {
			return false
		}
	}
	return true
}

// blockMarks turn 丁目/番地/番/号 and the の of "3の5" into hyphens. A
// room's 号室 goes before 号: "ビル101号室" and "ビル101" are one flat.
var blockReplacer = strings.NewReplacer(
	"丁目", "-", "番地", "-", "番", "-", "号室", "", "号", "", "の", "-", "ノ", "-",
	"‐", "-", "‑", "-", "‒", "-", "–", "-", "—", "-", "―", "-", "−", "-", "ー", "-", "－", "-",
)

var kanjiDigits = map[rune]int{'〇': 0, '一': 1, '二': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}

// NormalizeAddress folds a postal address so that its written variants
// agree: NFKC, no spaces, the postal code and 〒 removed, kanji numerals
// before 丁目/番/号 as digits, 1丁目2番3号 and 1-2-3 alike, katakana as
// hiragana, old kanji as new, and the 大字/字 prefixes dropped. Building
// names and room numbers stay, without 号室: they tell households apart.
func NormalizeAddress(v string) string {
	v = nfkc(v)
	v = strings.ReplaceAll(v, "〒", "")
	var b strings.Builder
	rs := []rune(v)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case unicode.IsSpace(r), r == ',', r == '、':
			continue
		case r >= 0x30A1 && r <= 0x30F6 && r != 'ノ':
			r -= 0x60
		case r < 0x80 && unicode.IsUpper(r):
			r = unicode.ToLower(r)
		}
		r = newKanji(r)
		// Kanji numerals of block numbers: 三丁目, 十二番.
		if isKanjiDigit(r) || r == '十' {
			j := i
			for j < len(rs) && (rs[j] == '十' || isKanjiDigit(rs[j])) {
				j++
			}
			if j < len(rs) && strings.ContainsRune("丁番号-の", rs[j]) {
				b.WriteString(kanjiNumber(rs[i:j]))
				i = j - 1
				continue
			}
		}
		b.WriteRune(r)
	}
	s := blockReplacer.Replace(b.String())
	// A leading postal code: "123-4567東京都..." or "1234567 東京都".
	if p := leadingPostal(s); p > 0 {
		s = s[p:]
	}
	s = strings.ReplaceAll(s, "大字", "")
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	s = strings.Trim(s, "-")
	return s
}

func isKanjiDigit(r rune) bool {
	switch r {
	case '〇', '一', '二', '三', '四', '五', '六', '七', '八', '九':
		return true
	}
	return false
}

// kanjiNumber reads 十二 as 12 and 二〇 as 20.
func kanjiNumber(rs []rune) string {
	n, cur := 0, 0
	for _, r := range rs {
		if r == '十' {
			if cur == 0 {
				cur = 1
			}
			n += cur * 10
			cur = 0
			continue
		}
		cur = cur*10 + kanjiDigits[r]
	}
	n += cur
	return itoa(n)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// leadingPostal returns the length of a postal code at the start of s
// (ddd-dddd or 7 digits), 0 if there is none.
func leadingPostal(s string) int {
	d := 0
	i := 0
	for i < len(s) && d < 7 {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			d++
		case c == '-' && d == 3:
		default:
			return 0
		}
		i++
	}
	if d != 7 || (i < len(s) && s[i] >= '0' && s[i] <= '9') {
		return 0
	}
	for i < len(s) && s[i] == '-' {
		i++
	}
	return i
}

// eras are the Japanese era names and their first Gregorian year minus one.
var eras = map[string]int{"明治": 1867, "大正": 1911, "昭和": 1925, "平成": 1988, "令和": 2018,
	"M": 1867, "T": 1911, "S": 1925, "H": 1988, "R": 2018}

// NormalizeDate returns a date of birth as YYYY-MM-DD, reading ISO and
// slashed dates, 1985年4月12日, era dates (昭和60年4月12日, S60.4.12) and
// US month/day/year forms; "" when it is none of these.
func NormalizeDate(v string) string {
	v = strings.TrimSpace(nfkc(v))
	base := 0
	for e, y := range eras {
		if strings.HasPrefix(v, e) {
			base = y
			v = strings.TrimSpace(v[len(e):])
			v = strings.Replace(v, "元", "1", 1)
			break
		}
	}
	var nums []int
	cur, in := 0, false
	for _, r := range v {
		if r >= '0' && r <= '9' {
			cur = cur*10 + int(r-'0')
			in = true
			continue
		}
		if in {
			nums = append(nums, cur)
			cur, in = 0, false
		}
		if r == 'T' || r == ' ' && len(nums) == 3 { // a time follows
			break
		}
	}
	if in {
		nums = append(nums, cur)
	}
	if len(nums) == 1 && base == 0 && nums[0] >= 10000000 && nums[0] < 30000000 { // 19850412
		n := nums[0]
		nums = []int{n / 10000, n / 100 % 100, n % 100}
	}
	if len(nums) < 3 {
		return ""
	}
	y, m, d := nums[0], nums[1], nums[2]
	switch {
	case base > 0:
		y += base
	case y < 100 && nums[2] >= 1000: // 04/12/1985
		y, m, d = nums[2], nums[0], nums[1]
		if m > 12 {
			m, d = d, m
		}
	}
	if y < 1870 || y > 2100 || m < 1 || m > 12 || d < 1 || d > 31 {
		return ""
	}
	return itoa(y) + "-" + pad2(m) + "-" + pad2(d)
}

func pad2(n int) string {
	if n < 10 {
		return "0" + itoa(n)
	}
	return itoa(n)
}

// prefectures locate an address in Japan.
var prefectures = strings.Fields(`北海道 青森県 岩手県 宮城県 秋田県 山形県 福島県 茨城県 栃木県 群馬県 埼玉県 千葉県 東京都 神奈川県
新潟県 富山県 石川県 福井県 山梨県 長野県 岐阜県 静岡県 愛知県 三重県 滋賀県 京都府 大阪府 兵庫県 奈良県 和歌山県
鳥取県 島根県 岡山県 広島県 山口県 徳島県 香川県 愛媛県 高知県 福岡県 佐賀県 長崎県 熊本県 大分県 宮崎県 鹿児島県 沖縄県`)

// prefectureEnds groups the prefectures by their last letter (都, 道, 府,
// 県): an address holds one where it holds that letter, so only those
// places are looked at.
var prefectureEnds = func() map[rune][]string {
	m := map[rune][]string{}
	for _, p := range prefectures {
		last, _ := utf8.DecodeLastRuneInString(p)
		m[last] = append(m[last], p)
	}
	return m
}()

// hasPrefecture reports whether a names a prefecture anywhere.
func hasPrefecture(a string) bool {
	for i, c := range a {
		ps, ok := prefectureEnds[c]
		if !ok {
			continue
		}
		end := i + utf8.RuneLen(c)
		for _, p := range ps {
			if strings.HasSuffix(a[:end], p) {
				return true
			}
		}
	}
	return false
}

// countryNames are country names an address may end with, in English
// and in the country's own language: a Japanese company's CRM keeps a
// foreign customer's address as they wrote it. Every EEA state is here,
// so that a resident there whose record has no phone number still comes
// under the GDPR.
var countryNames = map[string]string{
	"japan": "JP", "日本": "JP", "usa": "US", "united states": "US", "united states of america": "US", "u.s.a.": "US", "u.s.": "US",
	"united kingdom": "GB", "uk": "GB", "u.k.": "GB", "great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
	"china": "CN", "中国": "CN", "korea": "KR", "south korea": "KR", "republic of korea": "KR", "韓国": "KR", "taiwan": "TW", "台湾": "TW",
	"singapore": "SG", "australia": "AU", "canada": "CA", "india": "IN", "vietnam": "VN", "viet nam": "VN", "thailand": "TH",
	"philippines": "PH", "indonesia": "ID", "malaysia": "MY", "hong kong": "HK", "new zealand": "NZ", "brazil": "BR", "mexico": "MX",
	"switzerland": "CH", "schweiz": "CH", "suisse": "CH",
	"austria": "AT", "österreich": "AT", "belgium": "BE", "belgique": "BE", "belgië": "BE", "bulgaria": "BG", "croatia": "HR",
	"cyprus": "CY", "czech republic": "CZ", "czechia": "CZ", "denmark": "DK", "danmark": "DK", "estonia": "EE", "finland": "FI", "suomi": "FI",
	"france": "FR", "germany": "DE", "deutschland": "DE", "greece": "GR", "hungary": "HU", "ireland": "IE", "italy": "IT", "italia": "IT",
	"latvia": "LV", "lithuania": "LT", "luxembourg": "LU", "malta": "MT", "netherlands": "NL", "the netherlands": "NL", "nederland": "NL",
	"poland": "PL", "polska": "PL", "portugal": "PT", "romania": "RO", "slovakia": "SK", "slovenia": "SI", "spain": "ES", "españa": "ES",
	"sweden": "SE", "sverige": "SE", "iceland": "IS", "liechtenstein": "LI", "norway": "NO", "norge": "NO",
}

// usStates are the two-letter codes that end US-style addresses.
var usStates = map[string]bool{}

func init() {
	for _, s := range strings.Fields("AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC") {
		usStates[s] = true
	}
}

// AddressCountry returns the ISO country an address is in, "" if unknown: a
// prefecture means JP, a trailing country name its country, a US state
// with a ZIP code US.
func AddressCountry(addr string) string {
	// NFKC leaves CJK ideographs as they are: a prefecture written in the
	// address is there after it too, and most addresses are answered
	// without normalising.
	if hasPrefecture(addr) {
		return "JP"
	}
	a := nfkc(addr)
	if hasPrefecture(a) {
		return "JP"
	}
	if c := trailingCountry(strings.ToLower(a)); c != "" {
		return c
	}
	f := strings.FieldsFunc(a, func(r rune) bool { return r == ' ' || r == ',' })
	for i := len(f) - 1; i > 0; i-- {
		if usStates[f[i]] && i+1 < len(f) && len(digits(f[i+1])) == 5 {
			return "US"
		}
	}
	if utf8.RuneCountInString(a) > 0 && hasJapanese(a) {
		return "JP"
	}
	return ""
}

// trailingCountry returns the country whose name ends the lower-case
// address low, the longest name if several do ("northern ireland", not
// "ireland"), as a whole word ("uk", not the end of "Bukuk"). A postcode
// may follow the name, as Singapore's always does: "Singapore 018956".
func trailingCountry(low string) string {
	low = strings.TrimRight(low, " .,")
	if t := strings.TrimRight(low, "0123456789- "); t != low && len(low)-len(t) >= 3 {
		if c := trailingCountry(t); c != "" {
			return c
		}
	}
	best, code := 0, ""
	for name, c := range countryNames {
		if len(name) <= best || !strings.HasSuffix(low, name) {
			continue
		}
		if r, _ := utf8.DecodeLastRuneInString(low[:len(low)-len(name)]); unicode.IsLetter(r) && !hasJapanese(name) {
			continue
		}
		best, code = len(name), c
	}
	return code
}

func hasJapanese(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han) {
			return true
		}
	}
	return false
}
