package pii

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// prefectures maps each suffix rune to the names it ends: 47 in all.
var prefectures = map[rune][]string{
	'都': {"東京"},
	'道': {"北海"},
	'府': {"大阪", "京都"},
	'県': {"青森", "岩手", "宮城", "秋田", "山形", "福島", "茨城", "栃木", "群馬", "埼玉", "千葉", "神奈川",
		"新潟", "富山", "石川", "福井", "山梨", "長野", "岐阜", "静岡", "愛知", "三重", "滋賀", "兵庫", "奈良",
		"和歌山", "鳥取", "島根", "岡山", "広島", "山口", "徳島", "香川", "愛媛", "高知", "福岡", "佐賀", "長崎",
		"熊本", "大分", "宮崎", "鹿児島", "沖縄"},
}

// prefectureBefore returns the length of the prefecture name (without its
// suffix) that ends text[:at], where text[at] is the suffix rune r.
func prefectureBefore(t string, at int, r rune) int {
	for _, p := range prefectures[r] {
		if strings.HasSuffix(t[:at], p) {
			return len(p)
		}
	}
	return 0
}

// followedByPrefecture reports whether a prefecture starts right after
// text[e] (after spaces), as in "100-0001 東京都千代田区".
func followedByPrefecture(t string, e int) bool {
	for e < len(t) && t[e] == ' ' {
		e++
	}
	for i, n := e, 0; i < len(t) && n < 5; n++ {
		r, w := utf8.DecodeRuneInString(t[i:])
		if _, ok := prefectures[r]; ok {
			return prefectureBefore(t, i, r) == i-e
		}
		i += w
	}
	return false
}

const municipalityMarks = "市区町村郡"

// buildingMarks show that a segment after a space is still the address.
var buildingMarks = []string{"ビル", "マンション", "ハイツ", "荘", "コーポ", "アパート", "レジデンス", "タワー",
	"号室", "階", "棟", "寮", "ハウス", "パレス", "ヒルズ", "コート", "プラザ", "メゾン", "F"}

// prefecture reads a Japanese address led by the prefecture whose suffix
// rune is at text[at], and returns the byte after it (or at).
func (d *detector) prefecture(at int) int {
	t := d.text
	r, w := utf8.DecodeRuneInString(t[at:])
	pl := prefectureBefore(t, at, r)
	if pl == 0 {
		return at
	}
	start := at - pl
	p := at + w
	// A municipality must follow within a few runes: 東京都千代田区, not 東京都内.
	ok := false
	for q, n := p, 0; q < len(t) && n < 8; n++ {
		r, sz := utf8.DecodeRuneInString(t[q:])
		if !isKanji(r) && !isKatakana(r) && !isHiragana(r) {
			break
		}
		if strings.ContainsRune(municipalityMarks, r) && n > 0 {
			ok = true
			break
		}
		q += sz
	}
	if !ok {
		return at
	}
	end := addressEnd(t, p)
	// One more space-separated segment when it is the street number or the
	// building: "東京都千代田区丸の内 1-2-3 丸の内ビル 5F".
	afterBuilding := false
	for seg := 0; seg < 3; seg++ {
		q := end
		for q < len(t) && t[q] == ' ' {
			q++
		}
		if q == end || q >= len(t) {
			break
		}
		se := addressEnd(t, q)
		if se == q {
			break
		}
		s := t[q:se]
		hasDigit := strings.ContainsAny(t[start:end], "0123456789")
		building := false
		for _, m := range buildingMarks {
			if strings.Contains(s, m) {
				building = true
				break
			}
		}
		// After the building, its room: "1203", "203号", "101号室".
		room := afterBuilding && isDigit(t[q]) && utf8.RuneCountInString(s) <= 8
		if !(isDigit(t[q]) && !hasDigit) && !building && !room {
			break
		}
		afterBuilding = building && !room
		end = se
	}
	d.emit(Address, start, end)
	return end
}

// addressEnd returns where the address text that continues at p stops.
func addressEnd(t string, p int) int {
	for p < len(t) {
		r, w := utf8.DecodeRuneInString(t[p:])
		switch {
		case isKanji(r) || isKatakana(r) || isHiragana(r) || r < 0x80 && (isAlnum(byte(r)) || r == '#'):
		case r == '-' || dashAt(t, p) == w && w > 1 && p+w < len(t) && isDigit(t[p+w]):
		default:
			return p
		}
		if isHiragana(r) && (r == 'で' || r == 'に' || r == 'へ' || r == 'を' || r == 'は' || r == 'が' || r == 'ま' || r == 'と') {
			// Particles end the address in running text: 東京都…3にお住まい.
			if p > 0 {
				prev, _ := utf8.DecodeLastRuneInString(t[:p])
				if isDigit(byte(prev)) || isKanji(prev) {
					return p
				}
			}
		}
		p += w
	}
	return p
}

// westernAddressRE matches a US-style address ending in a state and ZIP
// code. It only ever runs on the line before a 5-digit number preceded by
// a state code, never over whole files.
var westernAddressRE = regexp.MustCompile(`\d{1,6}[A-Za-z]?\s+(?:[A-Z0-9][A-Za-z0-9.'-]*\s+){0,4}(?:St|Street|Ave|Avenue|Rd|Road|Blvd|Boulevard|Ln|Lane|Dr|Drive|Way|Ct|Court|Pl|Place|Ter|Terrace|Pkwy|Parkway|Cir|Circle|Hwy|Highway|Sq|Square)\.?(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b)?(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|#)\.?\s*[A-Za-z0-9-]+)?,\s*[A-Z][A-Za-z]+(?:\s+[A-Z][A-Za-z]+){0,2},?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?$`)

// westernAddress checks whether the 5-digit (or ZIP+4) run r ends a US
// address such as "123 Main St, Springfield, IL 62704".
func (d *detector) westernAddress(r *numRun) {
	t := d.text
	s := r.gs[0]
	if s < 4 || t[s-1] != ' ' || !isUpper(t[s-2]) || !isUpper(t[s-3]) || isAlnum(t[s-4]) || r.badTail {
		return
	}
	if r.ge[0]-s != 5 || (r.n > 1 && !(r.n == 2 && r.ge[1]-r.gs[1] == 4 && r.kind[0] == sepDash)) {
		return
	}
	end := r.ge[r.n-1]
	if r.n > 2 {
		end = r.ge[0]
	}
	from := strings.LastIndexByte(t[:s], '\n') + 1
	if s-from > 200 {
		from = s - 200
	}
	loc := westernAddressRE.FindStringIndex(t[from:end])
	if loc == nil {
		return
	}
	d.emit(Address, from+loc[0], from+loc[1])
}

// westernStreet reads a street address in running text that starts at the
// house number r and ends in a British or Canadian postcode: "221 Baker
// Street, London NW1 6XE". US addresses end in a state and ZIP code and go
// through westernAddress.
func (d *detector) westernStreet(r *numRun) {
	t := d.text
	s := r.gs[0]
	if r.n != 1 || r.ge[0]-s > 4 || r.badHead || r.ge[0]+2 >= len(t) || t[r.ge[0]] != ' ' || !isUpper(t[r.ge[0]+1]) {
		return
	}
	limit := min(len(t), s+120)
	if nl := strings.IndexByte(t[s:limit], '\n'); nl >= 0 {
		limit = s + nl
	}
	// Word start and end positions up to the line's (or window's) end.
	var ws, we []int
	for p := s; p < limit && len(ws) < 16; {
		for p < limit && t[p] == ' ' {
			p++
		}
		q := p
		for q < limit && t[q] != ' ' {
			q++
		}
		if q > p {
			ws, we = append(ws, p), append(we, q)
		}
		p = q
	}
	street := false
	for i := range ws {
		w := t[ws[i]:we[i]]
		if i > 0 && i <= 5 && streetWords[strings.ToLower(strings.Trim(w, ",."))] {
			street = true
		}
		if !street || i+1 >= len(ws) {
			continue
		}
		in := strings.TrimRight(t[ws[i+1]:we[i+1]], ",.;)")
		if pc := w + " " + in; gbPostcode(pc) || caPostcode(pc) {
			e := ws[i+1] + len(in)
			d.emit(Address, s, e).because(0.85, "street+postcode")
			iso := "GB"
			if caPostcode(pc) {
				iso = "CA"
			}
			d.emit(PostalCode, ws[i], e).because(0.85, "address-postcode").Country = iso
			return
		}
		if i > 12 {
			return
		}
	}
}

func isHangul(r rune) bool { return r >= 0xAC00 && r <= 0xD7A3 }

// koreanAddress reads a road-name address around the road name ending in
// 로 or 길 at text[at] (w bytes): "서울특별시 강남구 테헤란로 152 강남빌딩
// 10층". It returns the byte after it, or at.
func (d *detector) koreanAddress(at, w int) int {
	t := d.text
	p := at + w
	if p+1 >= len(t) || t[p] != ' ' || !isDigit(t[p+1]) {
		return at
	}
	wordStart := func(e int) int {
		s := e
		for s > 0 {
			r, sz := utf8.DecodeLastRuneInString(t[:s])
			if !isHangul(r) {
				break
			}
			s -= sz
		}
		return s
	}
	start := wordStart(at + w)
	district, city := false, false
	for n := 0; n < 3 && start > 1 && t[start-1] == ' '; n++ {
		s := wordStart(start - 1)
		if s == start-1 {
			break
		}
		last, _ := utf8.DecodeLastRuneInString(t[s : start-1])
		switch last {
		case '구', '군':
			district = true
		case '시', '도':
			city = true
		default:
			n = 3
			continue
		}
		start = s
	}
	if !city && !district {
		return at
	}
	// The building number, then the building and its floor or unit.
	e := p + 1
	for e < len(t) && (isDigit(t[e]) || t[e] == '-' && e+1 < len(t) && isDigit(t[e+1])) {
		e++
	}
	for seg := 0; seg < 2 && e+1 < len(t) && t[e] == ' '; seg++ {
		q := e + 1
		for q < len(t) {
			r, sz := utf8.DecodeRuneInString(t[q:])
			if !isHangul(r) && !(r < 0x80 && isAlnum(byte(r))) {
				break
			}
			q += sz
		}
		if q == e+1 {
			break
		}
		last, _ := utf8.DecodeLastRuneInString(t[e+1 : q])
		if !strings.ContainsRune("층호동관빌딩센터타워아파트", last) {
			break
		}
		e = q
	}
	d.emit(Address, start, e).because(0.85, "road-name-address")
	return e
}

// chineseAddress reads a Chinese address ending at the 号 at text[at]:
// led by a province or city (省, 市, 自治区), with a district or road
// (区, 县, 路, 街, 道), and followed by the building and room
// ("…建国路88号SOHO现代城5号楼1201室").
func (d *detector) chineseAddress(at, w int) int {
	t := d.text
	if at == 0 || !isDigit(t[at-1]) {
		return at
	}
	start, runes := at, 0
	lead := -1
	for start > 0 && runes < 30 {
		r, sz := utf8.DecodeLastRuneInString(t[:start])
		if !isKanji(r) && !(r < 0x80 && isAlnum(byte(r))) && r != '-' {
			break
		}
		start -= sz
		runes++
		if r == '省' || r == '市' {
			lead = start
		}
	}
	if lead < 0 {
		return at
	}
	// The leading place name: two runes before the first 省/市 (北京市,
	// 广东省), three for the provinces named so (黑龙江省).
	s := lead
	for n := 0; s > start && n < 2; n++ {
		_, sz := utf8.DecodeLastRuneInString(t[:s])
		s -= sz
	}
	if s > start {
		r, sz := utf8.DecodeLastRuneInString(t[:s])
		if strings.HasPrefix(string(r)+t[s:lead], "黑龙江") || strings.HasPrefix(string(r)+t[s:lead], "内蒙古") {
			s -= sz
		}
	}
	if !strings.ContainsAny(t[s:at], "区县路街道") {
		return at
	}
	e := at + w
	last := e
	for q, n := e, 0; q < len(t) && n < 24; n++ {
		r, sz := utf8.DecodeRuneInString(t[q:])
		if !isKanji(r) && !(r < 0x80 && isAlnum(byte(r))) && r != '-' {
			break
		}
		q += sz
		if strings.ContainsRune("室楼层号座", r) {
			last = q
		}
	}
	d.emit(Address, s, last).because(0.85, "chinese-address")
	return last
}
