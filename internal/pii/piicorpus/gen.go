package piicorpus

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/unicode/norm"
)

// Category names, as in the detector's output contract.
const (
	Email          = "email"
	Phone          = "phone"
	CreditCard     = "credit_card"
	MyNumber       = "my_number"
	PersonName     = "person_name"
	Address        = "address"
	PostalCode     = "postal_code"
	DateOfBirth    = "date_of_birth"
	BankAccount    = "bank_account"
	Passport       = "passport"
	DriversLicense = "drivers_license"
)

// Label is one personal value a file truly contains, normalised by Norm.
type Label struct {
	File     string `json:"file"`
	Category string `json:"category"`
	Value    string `json:"value"`
}

// File is one generated file and its labels.
type File struct {
	Name   string
	Data   []byte
	Labels []Label
}

// Generator produces files of every kind in turn from one seed.
type Generator struct {
	r *rand.Rand
	n int
}

// New returns a deterministic generator.
func New(seed uint64) *Generator {
	return &Generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Kinds is the number of file kinds Next cycles through.
const Kinds = 8

// Next returns the next file.
func (g *Generator) Next() File {
	g.n++
	b := &builder{r: g.r}
	var name string
	switch (g.n - 1) % Kinds {
	case 0:
		name = fmt.Sprintf("customers_%04d.csv", g.n)
		b.customerCSV(false)
	case 1:
		name = fmt.Sprintf("顧客名簿_%04d.csv", g.n)
		b.customerCSV(true)
	case 2:
		name = fmt.Sprintf("orders_%04d.jsonl", g.n)
		b.ordersJSONL()
	case 3:
		name = fmt.Sprintf("letter_%04d.txt", g.n)
		b.letter()
	case 4:
		name = fmt.Sprintf("export_%04d.tsv", g.n)
		b.utf16Export()
	case 5:
		name = fmt.Sprintf("app_%04d.log", g.n)
		b.appLog()
	case 6:
		name = fmt.Sprintf("mail_%04d.eml", g.n)
		b.mail()
	default:
		name = fmt.Sprintf("inventory_%04d.csv", g.n)
		b.decoyCSV()
	}
	f := File{Name: name, Data: b.data}
	seen := map[Label]bool{}
	for _, l := range b.labels {
		l.File = name
		l.Value = Norm(l.Category, l.Value)
		if !seen[l] {
			seen[l] = true
			f.Labels = append(f.Labels, l)
		}
	}
	return f
}

type builder struct {
	r      *rand.Rand
	data   []byte
	labels []Label
}

func (b *builder) label(cat, v string) { b.labels = append(b.labels, Label{Category: cat, Value: v}) }

func encode(enc encoding.Encoding, s string) []byte {
	out, err := enc.NewEncoder().Bytes([]byte(s))
	if err != nil {
		panic(fmt.Sprintf("piicorpus: encoding generated text: %v", err))
	}
	return out
}

type column struct {
	header string
	cat    string // "" for non-personal columns
	value  func(p *person) string
}

// customerCSV writes a Japanese customer list with a random choice of
// columns and header spellings; in CP932 when sjis is set.
func (b *builder) customerCSV(sjis bool) {
	r := b.r
	cols := []column{
		{pick(r, []string{"顧客ID", "会員番号", "No"}), "", func(*person) string { return fmt.Sprint(100000 + r.IntN(900000)) }},
	}
	if r.IntN(4) == 0 {
		// Family and given names in columns of their own: one name, labelled
		// at the family name's column.
		cols = append(cols, column{"姓", PersonName, func(p *person) string { return p.family }},
			column{"名", PersonName, func(p *person) string { return p.given }})
	} else {
		cols = append(cols, column{pick(r, []string{"氏名", "お名前", "顧客名", "名前"}), PersonName, func(p *person) string { return p.fullName(r) }})
	}
	if r.IntN(2) == 0 {
		cols = append(cols, column{pick(r, []string{"フリガナ", "氏名（カナ）", "ふりがな"}), PersonName, func(p *person) string { return p.kana() }})
	}
	cols = append(cols,
		column{pick(r, []string{"メールアドレス", "メール", "E-mail"}), Email, func(p *person) string { return p.email }},
		column{pick(r, []string{"電話番号", "TEL", "携帯電話", "連絡先電話番号"}), Phone, func(p *person) string { s, _ := phone(r); p.phone = s; return s }},
		column{"郵便番号", PostalCode, func(p *person) string {
			if r.IntN(3) == 0 {
				return strings.ReplaceAll(p.postal, "-", "")
			}
			return p.postal
		}},
		column{pick(r, []string{"住所", "ご住所", "送付先住所"}), Address, func(p *person) string { return p.address }},
	)
	if r.IntN(2) == 0 {
		cols = append(cols, column{"生年月日", DateOfBirth, func(p *person) string { return p.dob }})
	}
	if r.IntN(2) == 0 {
		cols = append(cols, column{pick(r, []string{"マイナンバー", "個人番号"}), MyNumber, func(p *person) string {
			if r.IntN(3) == 0 {
				return p.myNumber[:4] + " " + p.myNumber[4:8] + " " + p.myNumber[8:]
			}
			return p.myNumber
		}})
	}
	if r.IntN(2) == 0 {
		cols = append(cols, column{pick(r, []string{"カード番号", "クレジットカード番号"}), CreditCard, func(p *person) string { return p.card }})
	}
	// Valid-looking numbers in clearly non-personal columns.
	cols = append(cols,
		column{pick(r, []string{"注文番号", "受注番号"}), "", func(*person) string { n, _ := cardNumber(r); return n }},
		column{"商品コード", "", func(*person) string { return "49" + digits(r, 11) }},
		column{"管理番号", "", func(*person) string { return myNumber(r) }},
		column{"登録日時", "", func(*person) string {
			return fmt.Sprintf("2024-%02d-%02d %02d:%02d:%02d", 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60))
		}},
		column{"金額", "", func(*person) string { return fmt.Sprint(r.IntN(200000)) }},
	)
	r.Shuffle(len(cols)-1, func(i, j int) { cols[i+1], cols[j+1] = cols[j+1], cols[i+1] })
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = r.IntN(2) == 0
	row := make([]string, len(cols))
	for i, c := range cols {
		row[i] = c.header
	}
	w.Write(row)
	for n := 20 + r.IntN(150); n > 0; n-- {
		p := newPerson(r, false)
		for i, c := range cols {
			row[i] = c.value(p)
			switch {
			case c.cat == "" || c.header == "名":
			case c.header == "姓":
				b.label(c.cat, p.family+" "+p.given)
			default:
				b.label(c.cat, row[i])
			}
		}
		w.Write(row)
	}
	w.Flush()
	switch {
	case sjis:
		b.data = encode(japanese.ShiftJIS, buf.String())
	case r.IntN(2) == 0:
		b.data = append([]byte("\xEF\xBB\xBF"), buf.Bytes()...)
	default:
		b.data = buf.Bytes()
	}
}

// ordersJSONL writes order records with nested customers and decoy ids.
func (b *builder) ordersJSONL() {
	r := b.r
	var buf bytes.Buffer
	for n := 20 + r.IntN(100); n > 0; n-- {
		p := newPerson(r, r.IntN(5) == 0)
		oid, _ := cardNumber(r)
		// Snake case or camel case, as different services write them.
		k := func(snake, camel string) string {
			if camel != "" && r.IntN(2) == 0 {
				return camel
			}
			return snake
		}
		order := map[string]any{
			k("order_id", "orderId"):     oid,
			k("created_at", "createdAt"): fmt.Sprintf("2024-%02d-%02dT%02d:%02d:%02d+09:00", 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60)),
			"customer": map[string]any{
				k("name", "fullName"):     p.fullName(r),
				k("email", "mailAddress"): p.email,
				k("phone", "phoneNumber"): p.phone,
				"address": map[string]any{
					k("zip", "zipCode"): p.postal,
					"full":              p.address,
				},
			},
			"items":           []any{map[string]any{"sku": "49" + digits(r, 11), "qty": 1 + r.IntN(5), "price": 100 * (1 + r.IntN(300))}},
			"tracking_number": digits(r, 12),
			"amount":          r.IntN(100000),
		}
		cust := order["customer"].(map[string]any)
		for _, key := range []string{"name", "fullName"} {
			if v, ok := cust[key]; ok {
				b.label(PersonName, v.(string))
			}
		}
		b.label(Email, p.email)
		b.label(Phone, p.phone)
		b.label(PostalCode, p.postal)
		b.label(Address, p.address)
		if r.IntN(2) == 0 {
			order["payment"] = map[string]any{"method": "card", k("card_number", "cardNumber"): p.card, "brand": "visa"}
			b.label(CreditCard, p.card)
		}
		line, err := json.Marshal(order)
		if err != nil {
			panic(err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	b.data = buf.Bytes()
}

// letter writes a Japanese business letter with full-width digits, in
// UTF-8 or CP932.
func (b *builder) letter() {
	r := b.r
	p := newPerson(r, false)
	dash := pick(r, []rune{'－', '－', 'ー', '‐'})
	fw := func(s string) string { return toFullWidth(s, dash) }
	var t strings.Builder
	name := p.fullName(r)
	fmt.Fprintf(&t, "〒%s\n%s\n%s 様\n\n", fw(p.postal), fw(p.address), name)
	b.label(PostalCode, p.postal)
	b.label(Address, p.address)
	b.label(PersonName, name)
	t.WriteString("拝啓 時下ますますご清栄のこととお慶び申し上げます。\n平素は格別のお引き立てを賜り、厚く御礼申し上げます。\n")
	fmt.Fprintf(&t, "ご注文番号%sの商品は%s月%s日に発送いたしました。\n", fw(digits(r, 10)), fw(fmt.Sprint(1+r.IntN(12))), fw(fmt.Sprint(1+r.IntN(28))))
	// Contact details inside running text, not after a label.
	staffPhone, _ := phone(r)
	fmt.Fprintf(&t, "ご不明な点は担当窓口（%s）または%sまでお問い合わせください。\n", fw(staffPhone), toFullWidth(p.email, '－'))
	b.label(Phone, staffPhone)
	t.WriteString("ご登録いただいた内容は以下のとおりです。\n\n")
	fmt.Fprintf(&t, "お名前：%s\n", name)
	if r.IntN(2) == 0 {
		fmt.Fprintf(&t, "生年月日：%s\n", fw(p.dob))
		b.label(DateOfBirth, p.dob)
	}
	fmt.Fprintf(&t, "%s：%s\n", pick(r, []string{"電話番号", "お電話番号", "TEL", "ご連絡先"}), fw(p.phone))
	b.label(Phone, p.phone)
	fmt.Fprintf(&t, "メールアドレス：%s\n", toFullWidth(p.email, '－'))
	b.label(Email, p.email)
	if r.IntN(2) == 0 {
		mn := p.myNumber[:4] + " " + p.myNumber[4:8] + " " + p.myNumber[8:]
		if r.IntN(2) == 0 {
			mn = p.myNumber
		}
		fmt.Fprintf(&t, "%s：%s\n", pick(r, []string{"マイナンバー（個人番号）", "個人番号", "マイナンバー"}), fw(mn))
		b.label(MyNumber, p.myNumber)
	}
	if r.IntN(3) == 0 {
		fmt.Fprintf(&t, "お引落口座：みずほ銀行 新宿支店 普通 %s\n", fw(p.bank))
		b.label(BankAccount, p.bank)
	}
	if r.IntN(3) == 0 {
		fmt.Fprintf(&t, "お支払いカード：%s\n", fw(p.card))
		b.label(CreditCard, p.card)
	}
	if r.IntN(4) == 0 {
		fmt.Fprintf(&t, "運転免許証番号：%s\n", fw(p.license))
		b.label(DriversLicense, p.license)
	}
	if r.IntN(4) == 0 {
		fmt.Fprintf(&t, "旅券番号：%s\n", p.passport)
		b.label(Passport, p.passport)
	}
	fmt.Fprintf(&t, "\nお問い合わせ番号：%s\n受付日時：%s\n", fw(myNumberInvalid(r)), fw(fmt.Sprintf("2024/%02d/%02d %02d:%02d", 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60))))
	t.WriteString("今後ともよろしくお願い申し上げます。\n敬具\n\n株式会社サンプル商事 お客様サポート部\n")
	if r.IntN(3) == 0 {
		b.data = encode(japanese.ShiftJIS, t.String())
	} else {
		b.data = []byte(t.String())
	}
}

// utf16Export writes a TSV export with English headers in UTF-16 with a
// byte order mark, as spreadsheet programs save "Unicode text".
func (b *builder) utf16Export() {
	r := b.r
	var t strings.Builder
	t.WriteString("customer_id\tfull_name\temail\tphone\tzip\taddress\tbirth_date\tcard_number\tsku\n")
	for n := 20 + r.IntN(100); n > 0; n-- {
		p := newPerson(r, r.IntN(3) == 0)
		name := p.fullName(r)
		fmt.Fprintf(&t, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", 1000000+r.IntN(9000000), name, p.email, p.phone,
			p.postal, p.address, p.dob, p.card, "49"+digits(r, 11))
		b.label(PersonName, name)
		b.label(Email, p.email)
		b.label(Phone, p.phone)
		b.label(PostalCode, p.postal)
		b.label(Address, p.address)
		b.label(DateOfBirth, p.dob)
		b.label(CreditCard, p.card)
	}
	order := unicode.LittleEndian
	if r.IntN(3) == 0 {
		order = unicode.BigEndian
	}
	b.data = encode(unicode.UTF16(order, unicode.UseBOM), t.String())
}

// appLog writes application log lines: mostly decoys (order numbers,
// serials, build numbers, timestamps, Luhn- and check-digit-invalid
// numbers), with some personal data among them.
func (b *builder) appLog() {
	r := b.r
	var t strings.Builder
	for n := 200 + r.IntN(800); n > 0; n-- {
		ts := fmt.Sprintf("2024-%02d-%02dT%02d:%02d:%02d.%03d+09:00", 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1000))
		t.WriteString(ts)
		valid, _ := cardNumber(r)
		switch r.IntN(16) {
		case 0:
			fmt.Fprintf(&t, " INFO  [api] GET /api/orders/%s 200 %dms\n", valid, r.IntN(900))
		case 1:
			fmt.Fprintf(&t, " INFO  [order] order_id=%s amount=%d status=paid\n", valid, r.IntN(90000))
		case 2:
			fmt.Fprintf(&t, " INFO  [deploy] build=%d.%d version=%d.%d.%d commit=%x\n", 20240000+r.IntN(1300), r.IntN(9999), r.IntN(9), r.IntN(20), r.IntN(50), r.Uint32())
		case 3:
			fmt.Fprintf(&t, " WARN  [payment] declined card=%s reason=invalid_number\n", luhnBreak(valid))
		case 4:
			fmt.Fprintf(&t, " DEBUG [kyc] 個人番号チェック失敗 value=%s\n", myNumberInvalid(r))
		case 5:
			fmt.Fprintf(&t, " INFO  [device] serial=SN%s fw=%d.%d.%d\n", digits(r, 10), r.IntN(9), r.IntN(9), r.IntN(99))
		case 6:
			fmt.Fprintf(&t, " INFO  [ship] tracking=%s carrier=yamato request_id=%s\n", digits(r, 12), "0"+digits(r, 10))
		case 7:
			fmt.Fprintf(&t, " INFO  [net] conn from 192.168.%d.%d:%d bytes=%d elapsed=%d.%04ds\n", r.IntN(255), r.IntN(255), 1024+r.IntN(60000), r.IntN(10000000), r.IntN(9), r.IntN(9999))
		case 8:
			fmt.Fprintf(&t, " INFO  [batch] epoch=%d job=%d sku=49%s\n", 1700000000+r.IntN(90000000), r.IntN(99999), digits(r, 11))
		case 9, 10:
			p := newPerson(r, false)
			fmt.Fprintf(&t, " INFO  [user] registered email=%s phone=%s\n", p.email, p.phone)
			b.label(Email, p.email)
			b.label(Phone, p.phone)
		case 11:
			p := newPerson(r, false)
			fmt.Fprintf(&t, " INFO  [payment] captured card=%s user=%s\n", p.card, p.email)
			b.label(CreditCard, p.card)
			b.label(Email, p.email)
		case 12:
			p := newPerson(r, r.IntN(2) == 0)
			fmt.Fprintf(&t, " INFO  [sms] sent to %s\n", p.phone)
			b.label(Phone, p.phone)
		case 13:
			fmt.Fprintf(&t, " ERROR [db] deadlock txn=%s retry=%d\n", valid, r.IntN(5))
		case 14:
			fmt.Fprintf(&t, " INFO  [invoice] invoice=%s total=%d,%03d円\n", myNumber(r), r.IntN(999), r.IntN(1000))
		default:
			fmt.Fprintf(&t, " INFO  [health] ok uptime=%ds mem=%dMB pid=%d\n", r.IntN(10000000), r.IntN(4096), r.IntN(99999))
		}
	}
	b.data = []byte(t.String())
}

// mail writes an .eml message about a customer.
func (b *builder) mail() {
	r := b.r
	p := newPerson(r, false)
	staff := newPerson(r, false)
	name := p.family + " " + p.given
	var t strings.Builder
	fmt.Fprintf(&t, "From: %s <%s>\r\nTo: %s %s <%s>\r\nSubject: =?UTF-8?B?5L2P5omA5aSJ5pu044Gu44GK6aGY44GE?=\r\n", name, p.email, staff.family, staff.given, staff.email)
	fmt.Fprintf(&t, "Message-ID: <%d.%s@mail.example.co.jp>\r\nDate: Tue, 12 Mar 2024 10:23:45 +0900\r\n", 1700000000+r.IntN(9999999), digits(r, 12))
	t.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	fmt.Fprintf(&t, "%s様\r\n\r\nお世話になっております。%sです。\r\n引っ越しのため、登録住所の変更をお願いします。\r\n\r\n", staff.family, p.family)
	fmt.Fprintf(&t, "新住所：%s\r\n電話番号：%s\r\n", p.address, p.phone)
	if r.IntN(2) == 0 {
		fmt.Fprintf(&t, "カード番号：%s\r\n", p.card)
		b.label(CreditCard, p.card)
	}
	fmt.Fprintf(&t, "\r\n--\r\n%s\r\n%s\r\n", name, p.email)
	b.label(PersonName, name)
	b.label(Email, p.email)
	b.label(PersonName, staff.family+" "+staff.given)
	b.label(Email, staff.email)
	b.label(PersonName, staff.family)
	b.label(Address, p.address)
	b.label(Phone, p.phone)
	b.data = []byte(t.String())
}

// decoyCSV writes an inventory list: valid-looking numbers, none personal.
func (b *builder) decoyCSV() {
	r := b.r
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"sku", "order_id", "serial", "product_name", "build", "updated_at", "qty"})
	for n := 50 + r.IntN(200); n > 0; n-- {
		oid, _ := cardNumber(r)
		w.Write([]string{"49" + digits(r, 11), oid, "0" + digits(r, 10), pick(r, []string{"ボールペン", "ノート A4", "USBメモリ 32GB", "Desk Lamp"}),
			fmt.Sprintf("%d.%d", 20240000+r.IntN(1300), r.IntN(9999)), fmt.Sprintf("2024/%02d/%02d", 1+r.IntN(12), 1+r.IntN(28)), fmt.Sprint(r.IntN(500))})
	}
	w.Flush()
	b.data = buf.Bytes()
}

// Norm is the comparison form of a value: e-mail lower-cased; phone, card
// and other numbers digits only with +81 read as 0; text values
// width-folded without white space and with dashes unified.
func Norm(cat, v string) string {
	v = norm.NFKC.String(v)
	switch cat {
	case Email:
		return strings.ToLower(strings.TrimSpace(v))
	case Phone, CreditCard, MyNumber, BankAccount, DriversLicense, PostalCode:
		var d strings.Builder
		for _, c := range v {
			if c >= '0' && c <= '9' {
				d.WriteRune(c)
			}
		}
		s := d.String()
		if cat == Phone && strings.HasPrefix(strings.TrimSpace(v), "+81") {
			s = "0" + strings.TrimPrefix(s[2:], "0")
		}
		return s
	}
	return strings.Map(func(c rune) rune {
		switch c {
		case ' ', '\t', '　':
			return -1
		case 'ー', '‐', '−', '–', '—':
			return '-'
		}
		return c
	}, v)
}

// Categories lists every category.
var Categories = []string{Email, Phone, CreditCard, MyNumber, PersonName, Address, PostalCode, DateOfBirth, BankAccount, Passport, DriversLicense}
