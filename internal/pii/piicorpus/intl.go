package piicorpus

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Locales of the international generator.
var Locales = []string{"en_US", "en_GB", "ko_KR", "zh_CN"}

// IntlKinds is the number of file kinds NextIntl cycles through for each
// locale: a CSV customer list, nested JSON records, a letter.
const IntlKinds = 3

// intlPerson is one customer of a non-Japanese locale, every value written
// as that locale writes it.
type intlPerson struct {
	name, email, phone, postal, address, card, dob string
}

var (
	krFamily = []string{"김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"}
	krGiven  = []string{"민준", "서연", "도윤", "지우", "하준", "서윤", "예준", "지민", "시우", "수아"}
	krCity   = []string{"서울특별시 강남구 테헤란로", "서울특별시 종로구 세종대로", "부산광역시 해운대구 해운대로", "경기도 성남시 분당구 판교역로"}
	cnFamily = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"}
	cnGiven  = []string{"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "洋"}
	cnCity   = []string{"北京市朝阳区建国路", "上海市浦东新区世纪大道", "广东省深圳市南山区科技园路", "浙江省杭州市西湖区文三路"}
	gbStreet = []string{"High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue", "Mill Lane"}
	gbTown   = []struct{ town, area string }{{"London", "SW"}, {"Manchester", "M"}, {"Leeds", "LS"}, {"Bristol", "BS"}, {"Cardiff", "CF"}}
)

// nanpNumber returns a valid NANP area code, exchange and line.
func nanpNumber(r *rand.Rand) (area, exch, line string) {
	a := fmt.Sprintf("%d%d%d", 2+r.IntN(8), r.IntN(9), r.IntN(10))
	if a[1] == '1' && a[2] == '1' {
		a = a[:2] + "2"
	}
	return a, fmt.Sprintf("%d%02d", 2+r.IntN(8), 20+r.IntN(80)), digits(r, 4)
}

// anyCard returns a Luhn-valid number of any major brand and how it is
// usually grouped.
func anyCard(r *rand.Rand) (string, []int) {
	switch r.IntN(9) {
	case 0:
		return luhnComplete("4" + digits(r, 11)), []int{4, 4, 4, 1} // Visa 13
	case 1:
		return luhnComplete("4" + digits(r, 17)), []int{4, 4, 4, 4, 3} // Visa 19
	case 2:
		p := pick(r, []string{"6011", "644", "65"})
		return luhnComplete(p + digits(r, 15-len(p))), []int{4, 4, 4, 4}
	case 3:
		return luhnComplete(pick(r, []string{"1800", "2131"}) + digits(r, 10)), []int{4, 6, 5}
	case 4:
		return luhnComplete("62" + digits(r, 13)), []int{4, 4, 4, 4}
	case 5:
		p := pick(r, []string{"5018", "5020", "6304", "6759"})
		return luhnComplete(p + digits(r, 13)), []int{4, 4, 4, 4, 2}
	case 6:
		return luhnComplete(fmt.Sprint(2221+r.IntN(500)) + digits(r, 11)), []int{4, 4, 4, 4}
	default:
		return cardNumber(r)
	}
}

func newIntlPerson(r *rand.Rand, locale string) *intlPerson {
	p := &intlPerson{}
	num, groups := anyCard(r)
	p.card = group(num, groups, pick(r, []string{" ", "-", ""}))
	p.dob = fmt.Sprintf("%d-%02d-%02d", 1940+r.IntN(65), 1+r.IntN(12), 1+r.IntN(28))
	switch locale {
	case "en_US":
		first, last := pick(r, westernFirst), pick(r, westernLast)
		p.name = first + " " + last
		p.email = strings.ToLower(first+"."+strings.ReplaceAll(last, "'", "")) + fmt.Sprint(r.IntN(100)) + "@example.com"
		a, e, l := nanpNumber(r)
		switch r.IntN(10) {
		case 0:
			p.phone = "(" + a + ") " + e + "-" + l
		case 1:
			p.phone = a + "-" + e + "-" + l
		case 2:
			p.phone = "+1 " + a + " " + e + " " + l
		case 3:
			p.phone = a + "." + e + "." + l + " x" + fmt.Sprint(10+r.IntN(9000))
		case 4:
			p.phone = "+1-" + a + "-" + e + "-" + l
		case 5:
			p.phone = "+1 (" + a + ") " + e + "-" + l
		case 6:
			p.phone = a + "-" + e + "-" + l + " ext. " + fmt.Sprint(1+r.IntN(999))
		case 7:
			p.phone = "001-" + a + "-" + e + "-" + l + "x" + fmt.Sprint(100+r.IntN(900))
		case 8:
			p.phone = "(" + a + ")" + e + "-" + l
		default:
			p.phone = "1-" + a + "-" + e + "-" + l
		}
		c := pick(r, westernCities)
		p.postal = fmt.Sprintf("%05d-%04d", 10000+r.IntN(89999), r.IntN(10000))
		p.address = fmt.Sprintf("%d %s, %s, %s %s", 1+r.IntN(9999), pick(r, westernStreets), c.city, c.state, p.postal[:5])
	case "en_GB":
		first, last := pick(r, westernFirst), pick(r, westernLast)
		p.name = first + " " + last
		p.email = strings.ToLower(string(first[0])+strings.ReplaceAll(last, "'", "")) + "@example.co.uk"
		switch r.IntN(8) {
		case 0:
			p.phone = "020 7946 " + digits(r, 4)
		case 1:
			p.phone = "07700 900" + digits(r, 3)
		case 2:
			p.phone = "+44 20 7946 " + digits(r, 4)
		case 3:
			p.phone = "+44(0)1632 960 " + digits(r, 3)
		case 4:
			p.phone = "(01632) 960 " + digits(r, 3)
		case 5:
			p.phone = "0808 157 " + digits(r, 4)
		case 6:
			p.phone = "07700 900 " + digits(r, 3)
		default:
			p.phone = "0161 496 " + digits(r, 4)
		}
		t := pick(r, gbTown)
		p.postal = fmt.Sprintf("%s%d %d%c%c", t.area, 1+r.IntN(20), r.IntN(10), 'A'+rune(r.IntN(26)), 'A'+rune(r.IntN(26)))
		p.address = fmt.Sprintf("%d %s, %s %s", 1+r.IntN(300), pick(r, gbStreet), t.town, p.postal)
	case "ko_KR":
		p.name = pick(r, krFamily) + pick(r, krGiven)
		p.email = "user" + digits(r, 5) + "@example.kr"
		switch r.IntN(6) {
		case 0:
			p.phone = "010-" + digits(r, 4) + "-" + digits(r, 4)
		case 1:
			p.phone = "+82 10 " + digits(r, 4) + " " + digits(r, 4)
		case 2:
			p.phone = "02-" + fmt.Sprint(200+r.IntN(800)) + "-" + digits(r, 4)
		case 3:
			p.phone = "031-" + fmt.Sprint(1000+r.IntN(9000)) + "-" + digits(r, 4)
		case 4:
			p.phone = "+82-10-" + digits(r, 4) + "-" + digits(r, 4)
		default:
			p.phone = "010 " + digits(r, 4) + " " + digits(r, 4)
		}
		p.postal = fmt.Sprintf("%05d", 1000+r.IntN(62000))
		p.address = fmt.Sprintf("%s %d", pick(r, krCity), 1+r.IntN(500))
	default: // zh_CN
		p.name = pick(r, cnFamily) + pick(r, cnGiven)
		p.email = "user" + digits(r, 6) + "@example.cn"
		m := fmt.Sprint(13+r.IntN(7)) + digits(r, 9)
		switch r.IntN(4) {
		case 0:
			p.phone = m
		case 1:
			p.phone = m[:3] + " " + m[3:7] + " " + m[7:]
		case 2:
			p.phone = m[:3] + "-" + m[3:7] + "-" + m[7:]
		default:
			p.phone = "+86 " + m[:3] + " " + m[3:7] + " " + m[7:]
		}
		p.postal = fmt.Sprintf("%06d", 100000+r.IntN(800000))
		p.address = fmt.Sprintf("%s%d号", pick(r, cnCity), 1+r.IntN(300))
	}
	return p
}

// headers are the column names each locale's exports use.
var headers = map[string][]string{
	"en_US": {"name", "email", "phone", "zip", "address", "card_number", "date_of_birth"},
	"en_GB": {"Full Name", "Email", "Telephone", "Postcode", "Address", "Card Number", "Date of Birth"},
	"ko_KR": {"이름", "이메일", "전화번호", "우편번호", "주소", "신용카드", "생년월일"},
	"zh_CN": {"姓名", "邮箱", "电话", "邮编", "地址", "信用卡", "出生日期"},
}

func (p *intlPerson) values() []string {
	return []string{p.name, p.email, p.phone, p.postal, p.address, p.card, p.dob}
}

func (b *builder) labelIntl(p *intlPerson) {
	b.label(PersonName, p.name)
	b.label(Email, p.email)
	b.label(Phone, p.phone)
	b.label(PostalCode, p.postal)
	b.label(Address, p.address)
	b.label(CreditCard, p.card)
	b.label(DateOfBirth, p.dob)
}

// NextIntl returns the next file of the international generator: locales
// in turn, and for each a CSV list, JSON records nesting the address
// ("address": {"full": …}) and a letter naming its addressee in prose.
func (g *Generator) NextIntl() File {
	g.n++
	b := &builder{r: g.r}
	locale := Locales[(g.n-1)%len(Locales)]
	kind := ((g.n - 1) / len(Locales)) % IntlKinds
	var name string
	switch kind {
	case 0:
		name = fmt.Sprintf("customers_%s_%04d.csv", locale, g.n)
		var t strings.Builder
		t.WriteString(strings.Join(headers[locale], ",") + "\n")
		for n := 10 + b.r.IntN(30); n > 0; n-- {
			p := newIntlPerson(b.r, locale)
			row := p.values()
			for i, v := range row {
				if strings.ContainsAny(v, ",\"") {
					row[i] = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
				}
			}
			t.WriteString(strings.Join(row, ",") + "\n")
			b.labelIntl(p)
		}
		b.data = []byte(t.String())
	case 1:
		name = fmt.Sprintf("customers_%s_%04d.json", locale, g.n)
		var recs []any
		for n := 5 + b.r.IntN(20); n > 0; n-- {
			p := newIntlPerson(b.r, locale)
			recs = append(recs, map[string]any{
				"id":       b.r.IntN(1000000),
				"customer": map[string]any{"name": p.name, "email": p.email, "phone": p.phone, "birthDate": p.dob},
				"address":  map[string]any{"full": p.address, "postalCode": p.postal},
				"payment":  map[string]any{"cardNumber": p.card},
			})
			b.labelIntl(p)
		}
		data, _ := json.MarshalIndent(map[string]any{"customers": recs}, "", "  ")
		b.data = data
	default:
		name = fmt.Sprintf("letter_%s_%04d.txt", locale, g.n)
		p := newIntlPerson(b.r, locale)
		var t strings.Builder
		h := headers[locale]
		switch locale {
		case "en_US", "en_GB":
			if b.r.IntN(2) == 0 {
				fmt.Fprintf(&t, "Dear %s,\n\n", p.name)
			} else {
				t.WriteString("Dear Customer,\n\n") // the name is only in the prose below
			}
			if b.r.IntN(2) == 0 {
				fmt.Fprintf(&t, "Thank you for your order. Earlier today I spoke with %s about the delivery.\n", p.name)
			} else {
				fmt.Fprintf(&t, "Thank you for your order. Yesterday %s called about the delivery.\n", p.name)
			}
			// Decoys: an order number shaped like a phone number with an
			// invalid area code, a version, a Luhn-invalid card.
			fmt.Fprintf(&t, "Order 123-%s-%s, build 4.%d.%d, ref %s\n", digits(b.r, 3), digits(b.r, 4), b.r.IntN(9), b.r.IntN(99),
				luhnBreak(luhnComplete("4"+digits(b.r, 14))))
		default:
			fmt.Fprintf(&t, "%s: %s\n", h[0], p.name)
		}
		fmt.Fprintf(&t, "%s: %s\n", h[4], p.address)
		fmt.Fprintf(&t, "%s: %s\n%s: %s\n%s: %s\n%s: %s\n%s: %s\n", h[1], p.email, h[2], p.phone, h[3], p.postal,
			h[5], p.card, h[6], p.dob)
		b.data = []byte(t.String())
		b.labelIntl(p)
	}
	for i := range b.labels {
		b.labels[i].File = name
		b.labels[i].Value = Norm(b.labels[i].Category, b.labels[i].Value)
	}
	return File{Name: name, Data: b.data, Labels: b.labels}
}
