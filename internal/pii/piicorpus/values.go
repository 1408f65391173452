package piicorpus

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

type person struct {
	family, given         string // kanji
	familyKana, givenKana string // katakana
	familyRoma, givenRoma string
	western               bool
	email                 string
	phone                 string // as written
	postal                string
	address               string
	dob                   string
	myNumber              string
	card                  string
	bank                  string
	passport              string
	license               string
}

var families = []struct{ kanji, kana, roma string }{
	{"佐藤", "サトウ", "sato"}, {"鈴木", "スズキ", "suzuki"}, {"高橋", "タカハシ", "takahashi"}, {"田中", "タナカ", "tanaka"},
	{"伊藤", "イトウ", "ito"}, {"渡辺", "ワタナベ", "watanabe"}, {"山本", "ヤマモト", "yamamoto"}, {"中村", "ナカムラ", "nakamura"},
	{"小林", "コバヤシ", "kobayashi"}, {"加藤", "カトウ", "kato"}, {"吉田", "ヨシダ", "yoshida"}, {"山田", "ヤマダ", "yamada"},
	{"佐々木", "ササキ", "sasaki"}, {"山口", "ヤマグチ", "yamaguchi"}, {"松本", "マツモト", "matsumoto"}, {"井上", "イノウエ", "inoue"},
	{"木村", "キムラ", "kimura"}, {"林", "ハヤシ", "hayashi"}, {"斎藤", "サイトウ", "saito"}, {"清水", "シミズ", "shimizu"},
	{"長谷川", "ハセガワ", "hasegawa"}, {"森", "モリ", "mori"}, {"池田", "イケダ", "ikeda"}, {"橋本", "ハシモト", "hashimoto"},
	{"阿部", "アベ", "abe"}, {"石川", "イシカワ", "ishikawa"}, {"前田", "マエダ", "maeda"}, {"藤田", "フジタ", "fujita"},
	{"小川", "オガワ", "ogawa"}, {"岡田", "オカダ", "okada"}, {"後藤", "ゴトウ", "goto"}, {"長野", "ナガノ", "nagano"},
	{"村上", "ムラカミ", "murakami"}, {"近藤", "コンドウ", "kondo"}, {"坂本", "サカモト", "sakamoto"}, {"遠藤", "エンドウ", "endo"},
	{"青木", "アオキ", "aoki"}, {"西村", "ニシムラ", "nishimura"}, {"福田", "フクダ", "fukuda"}, {"太田", "オオタ", "ota"},
	{"三浦", "ミウラ", "miura"}, {"藤井", "フジイ", "fujii"}, {"岡本", "オカモト", "okamoto"}, {"松田", "マツダ", "matsuda"},
	{"中川", "ナカガワ", "nakagawa"}, {"原田", "ハラダ", "harada"}, {"小野", "オノ", "ono"}, {"竹内", "タケウチ", "takeuchi"},
}

var givens = []struct{ kanji, kana, roma string }{
	{"太郎", "タロウ", "taro"}, {"花子", "ハナコ", "hanako"}, {"翔太", "ショウタ", "shota"}, {"陽菜", "ヒナ", "hina"},
	{"大輔", "ダイスケ", "daisuke"}, {"美咲", "ミサキ", "misaki"}, {"健一", "ケンイチ", "kenichi"}, {"由美", "ユミ", "yumi"},
	{"蓮", "レン", "ren"}, {"結衣", "ユイ", "yui"}, {"拓也", "タクヤ", "takuya"}, {"さくら", "サクラ", "sakura"},
	{"直樹", "ナオキ", "naoki"}, {"愛", "アイ", "ai"}, {"誠", "マコト", "makoto"}, {"恵子", "ケイコ", "keiko"},
	{"浩二", "コウジ", "koji"}, {"真由美", "マユミ", "mayumi"}, {"悠斗", "ユウト", "yuto"}, {"あかり", "アカリ", "akari"},
	{"一郎", "イチロウ", "ichiro"}, {"明美", "アケミ", "akemi"}, {"隆", "タカシ", "takashi"}, {"智子", "トモコ", "tomoko"},
	{"和也", "カズヤ", "kazuya"}, {"優子", "ユウコ", "yuko"}, {"亮", "リョウ", "ryo"}, {"彩", "アヤ", "aya"},
}

var westernFirst = []string{"John", "Mary", "James", "Linda", "Robert", "Patricia", "Michael", "Jennifer", "David", "Susan", "Emily", "Daniel", "Sarah", "Thomas", "Laura"}
var westernLast = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Clark", "O'Neil"}

var places = []struct{ pref, city string }{
	{"東京都", "千代田区"}, {"東京都", "新宿区"}, {"東京都", "世田谷区"}, {"東京都", "八王子市"}, {"北海道", "札幌市中央区"},
	{"大阪府", "大阪市北区"}, {"大阪府", "堺市堺区"}, {"京都府", "京都市左京区"}, {"神奈川県", "横浜市港北区"},
	{"神奈川県", "川崎市中原区"}, {"埼玉県", "さいたま市浦和区"}, {"千葉県", "船橋市"}, {"愛知県", "名古屋市中区"},
	{"福岡県", "福岡市博多区"}, {"兵庫県", "神戸市中央区"}, {"宮城県", "仙台市青葉区"}, {"広島県", "広島市中区"},
	{"静岡県", "浜松市中央区"}, {"長野県", "松本市"}, {"沖縄県", "那覇市"}, {"鹿児島県", "鹿児島市"}, {"和歌山県", "和歌山市"},
	{"茨城県", "つくば市"}, {"新潟県", "新潟市中央区"}, {"岡山県", "倉敷市"}, {"熊本県", "熊本市中央区"}, {"群馬県", "高崎市"},
	{"山梨県", "甲府市"}, {"長崎県", "佐世保市"}, {"北海道", "旭川市"}, {"三重県", "津市"}, {"富山県", "富山市"},
}

var towns = []string{"丸の内", "本町", "中央", "緑町", "桜ケ丘", "東雲", "若葉", "旭町", "栄", "西新宿", "青葉台", "港南", "大手町", "梅田", "天神", "南町"}
var buildings = []string{"グランドハイツ", "サンシャインマンション", "メゾン桜", "コーポ青葉", "第一ビル", "レジデンス栄", "パークタワー"}

var westernStreets = []string{"Main St", "Oak Avenue", "Maple Ave", "Sunset Blvd", "Elm Street", "Park Rd", "Lake Shore Dr", "Cedar Ln", "Pine St"}
var westernCities = []struct{ city, state string }{
	{"Springfield", "IL"}, {"Portland", "OR"}, {"Austin", "TX"}, {"San Francisco", "CA"}, {"Boston", "MA"}, {"Denver", "CO"}, {"Seattle", "WA"},
}

var mailDomains = []string{"example.co.jp", "example.jp", "mail.example.com", "docomo.ne.jp", "ezweb.ne.jp", "yahoo.co.jp", "gmail.com", "icloud.com", "outlook.jp", "softbank.ne.jp"}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func digits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

// luhnComplete appends the Luhn check digit to body.
func luhnComplete(body string) string {
	sum := 0
	for i := len(body) - 1; i >= 0; i-- {
		v := int(body[i] - '0')
		// Positions counted from the right of the final number, the check
		// digit being position 1: body's last digit is doubled.
		if (len(body)-1-i)%2 == 0 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return body + string(rune('0'+(10-sum%10)%10))
}

// luhnBreak returns a Luhn-complete number with its last digit changed.
func luhnBreak(valid string) string {
	last := valid[len(valid)-1]
	return valid[:len(valid)-1] + string(rune('0'+(last-'0'+1)%10))
}

// cardNumber returns a valid number of a random brand and its grouping.
func cardNumber(r *rand.Rand) (num string, groups []int) {
	switch r.IntN(6) {
	case 0, 1:
		return luhnComplete("4" + digits(r, 14)), []int{4, 4, 4, 4}
	case 2:
		if r.IntN(2) == 0 {
			return luhnComplete(fmt.Sprint(51+r.IntN(5)) + digits(r, 13)), []int{4, 4, 4, 4}
		}
		return luhnComplete(fmt.Sprint(2221+r.IntN(500)) + digits(r, 11)), []int{4, 4, 4, 4}
	case 3:
		return luhnComplete(fmt.Sprint(3528+r.IntN(62)) + digits(r, 11)), []int{4, 4, 4, 4}
	case 4:
		return luhnComplete(pick(r, []string{"34", "37"}) + digits(r, 12)), []int{4, 6, 5}
	default:
		return dinersNumber(r), []int{4, 6, 4}
	}
}

func dinersNumber(r *rand.Rand) string {
	p := pick(r, []string{"36", "38", "300", "305"})
	return luhnComplete(p + digits(r, 13-len(p)))
}

func group(num string, groups []int, sep string) string {
	var b strings.Builder
	p := 0
	for i, g := range groups {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(num[p : p+g])
		p += g
	}
	return b.String()
}

// myNumber returns a valid Individual Number: the check digit is
// 11 - (sum of digit*weight) mod 11 (0 for remainders 0 and 1), weights
// 2..7 then 2..6 from the digit next to the check digit leftwards.
func myNumber(r *rand.Rand) string {
	body := digits(r, 11)
	return body + string(rune('0'+myNumberCheck(body)))
}

func myNumberCheck(body string) int {
	weights := []int{6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2} // for body[0..10]
	s := 0
	for i := 0; i < 11; i++ {
		s += int(body[i]-'0') * weights[i]
	}
	if s%11 <= 1 {
		return 0
	}
	return 11 - s%11
}

// myNumberInvalid returns 12 digits whose check digit is wrong.
func myNumberInvalid(r *rand.Rand) string {
	body := digits(r, 11)
	c := myNumberCheck(body)
	return body + string(rune('0'+(c+1+r.IntN(8))%10))
}

// phone returns a Japanese phone number in one of the ways people write
// one, and whether the format is a bare 10-digit landline (which needs a
// label to be recognisable).
func phone(r *rand.Rand) (s string, bareLandline bool) {
	switch r.IntN(10) {
	case 0, 1, 2, 3: // mobile
		p := pick(r, []string{"090", "080", "070"})
		a, b := digits(r, 4), digits(r, 4)
		switch r.IntN(6) {
		case 0, 1:
			return p + "-" + a + "-" + b, false
		case 2:
			return p + a + b, false
		case 3:
			return "+81-" + p[1:] + "-" + a + "-" + b, false
		case 4:
			return "+81 " + p[1:] + " " + a + " " + b, false
		default:
			return p + " " + a + " " + b, false
		}
	case 4, 5, 6: // landline, area codes of 2 to 5 digits
		area := pick(r, []string{"03", "06", "045", "052", "011", "092", "0466", "0297", "0544", "01267", "04992"})
		local := digits(r, 6-len(area))
		if local[0] == '0' {
			local = "5" + local[1:]
		}
		sub := digits(r, 4)
		switch r.IntN(5) {
		case 0, 1:
			return area + "-" + local + "-" + sub, false
		case 2:
			return area + "(" + local + ")" + sub, false
		case 3:
			return "(" + area + ")" + local + "-" + sub, false
		default:
			return "+81-" + area[1:] + "-" + local + "-" + sub, false
		}
	case 7:
		return "050-" + digits(r, 4) + "-" + digits(r, 4), false
	case 8:
		if r.IntN(2) == 0 {
			return "0120-" + digits(r, 3) + "-" + digits(r, 3), false
		}
		return "0800-" + digits(r, 3) + "-" + digits(r, 4), false
	default:
		area := pick(r, []string{"03", "06"})
		return area + "5" + digits(r, 7), true
	}
}

func intlPhone(r *rand.Rand) string {
	switch r.IntN(3) {
	case 0:
		// A valid NANP area code: no middle 9, no N11 service code.
		a, _, _ := nanpNumber(r)
		return "+1 " + a + " 555 " + digits(r, 4)
	case 1:
		return "+44 20 " + digits(r, 4) + " " + digits(r, 4)
	default:
		return "+86 10 " + digits(r, 4) + " " + digits(r, 4)
	}
}

func newPerson(r *rand.Rand, western bool) *person {
	p := &person{western: western}
	if western {
		p.given, p.family = pick(r, westernFirst), pick(r, westernLast)
		p.givenRoma, p.familyRoma = strings.ToLower(p.given), strings.ToLower(strings.ReplaceAll(p.family, "'", ""))
		c := pick(r, westernCities)
		p.address = fmt.Sprintf("%d %s, %s, %s %05d", 10+r.IntN(9000), pick(r, westernStreets), c.city, c.state, 10000+r.IntN(89999))
		p.phone = intlPhone(r)
	} else {
		f, g := pick(r, families), pick(r, givens)
		p.family, p.given, p.familyKana, p.givenKana, p.familyRoma, p.givenRoma = f.kanji, g.kanji, f.kana, g.kana, f.roma, g.roma
		pl := pick(r, places)
		addr := pl.pref + pl.city + pick(r, towns)
		switch r.IntN(3) {
		case 0:
			addr += fmt.Sprintf("%d-%d-%d", 1+r.IntN(9), 1+r.IntN(30), 1+r.IntN(20))
		case 1:
			addr += fmt.Sprintf("%d丁目%d番%d号", 1+r.IntN(9), 1+r.IntN(30), 1+r.IntN(20))
		default:
			addr += fmt.Sprintf("%d-%d-%d %s%d号室", 1+r.IntN(9), 1+r.IntN(30), 1+r.IntN(20), pick(r, buildings), 101+r.IntN(800))
		}
		p.address = addr
		p.phone, _ = phone(r)
	}
	p.postal = digits(r, 3) + "-" + digits(r, 4)
	if p.postal[0] == '0' {
		p.postal = "1" + p.postal[1:]
	}
	local := pick(r, []string{p.givenRoma + "." + p.familyRoma, p.familyRoma + "_" + p.givenRoma[:1], p.givenRoma + fmt.Sprint(r.IntN(100)),
		p.familyRoma + "-" + p.givenRoma, p.givenRoma[:1] + p.familyRoma + fmt.Sprint(1960+r.IntN(45))})
	if r.IntN(6) == 0 {
		local = strings.ToUpper(local[:1]) + local[1:]
	}
	p.email = local + "@" + pick(r, mailDomains)
	y, m, d := 1940+r.IntN(65), 1+r.IntN(12), 1+r.IntN(28)
	switch r.IntN(4) {
	case 0:
		p.dob = fmt.Sprintf("%d-%02d-%02d", y, m, d)
	case 1:
		p.dob = fmt.Sprintf("%d/%d/%d", y, m, d)
	case 2:
		p.dob = fmt.Sprintf("%d年%d月%d日", y, m, d)
	default:
		if y >= 1989 {
			p.dob = fmt.Sprintf("平成%d年%d月%d日", y-1988, m, d)
		} else {
			p.dob = fmt.Sprintf("昭和%d年%d月%d日", y-1925, m, d)
		}
	}
	p.myNumber = myNumber(r)
	num, groups := cardNumber(r)
	switch r.IntN(3) {
	case 0:
		p.card = num
	case 1:
		p.card = group(num, groups, " ")
	default:
		p.card = group(num, groups, "-")
	}
	p.bank = digits(r, 7)
	p.passport = pick(r, []string{"TK", "TR", "MU", "TZ", "RE"}) + digits(r, 7)
	p.license = fmt.Sprint(10+r.IntN(80)) + digits(r, 10)
	return p
}

// fullName returns the name as written, with or without the space.
func (p *person) fullName(r *rand.Rand) string {
	if p.western {
		return p.given + " " + p.family
	}
	if r.IntN(2) == 0 {
		return p.family + p.given
	}
	return p.family + " " + p.given
}

func (p *person) kana() string { return p.familyKana + " " + p.givenKana }

// toFullWidth turns ASCII digits, letters, '-', '@' and '.' into their
// full-width forms, as Japanese word processors do.
func toFullWidth(s string, dash rune) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '@', c == '.', c == '(', c == ')', c == '+':
			b.WriteRune(c - 0x21 + 0xFF01)
		case c == '-':
			b.WriteRune(dash)
		case c == ' ':
			b.WriteRune('　')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}
