package pii

import (
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/mamori-dev/mamori/internal/ascii"
)

// Category names are part of the output contract.
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

// Categories lists every category in output order.
var Categories = []string{Email, Phone, CreditCard, MyNumber, PersonName, Address,
	PostalCode, DateOfBirth, BankAccount, Passport, DriversLicense}

// hint is what a column header, JSON key or nearby keyword says about a
// value: one of the categories, nonPersonal, or "" when it says nothing.
type hint = string

// nonPersonal marks order numbers, serials, SKUs and the like: digits there
// are never personal data, however valid they look.
const nonPersonal = "-"

// keyword is a context word. ASCII keywords match whole words only, so that
// "tel" does not fire inside "hotel" nor "id" inside "valid".
type keyword struct {
	word string
	cat  hint
}

// contextWords are matched, lower-cased, in the text just before a number
// and in keys. Order matters for keys only: the first match wins, so
// compound headers such as 注文者電話番号 resolve to the personal part.
var contextWords = []keyword{
	{"이메일", Email}, {"邮箱", Email}, {"电子邮件", Email}, {"电子邮箱", Email},
	{"휴대폰", Phone}, {"휴대전화", Phone}, {"전화번호", Phone}, {"전화", Phone}, {"연락처", Phone},
	{"联系电话", Phone}, {"电话", Phone}, {"手机", Phone},
	{"우편번호", PostalCode}, {"邮编", PostalCode}, {"邮政编码", PostalCode},
	{"생년월일", DateOfBirth}, {"출생", DateOfBirth}, {"出生日期", DateOfBirth},
	{"주소", Address}, {"地址", Address}, {"住址", Address},
	{"이름", PersonName}, {"성명", PersonName}, {"고객명", PersonName}, {"客户名", PersonName}, {"联系人", PersonName},
	{"メールアドレス", Email}, {"メール", Email}, {"email", Email}, {"e-mail", Email}, {"mail", Email},
	{"マイナンバー", MyNumber}, {"個人番号", MyNumber}, {"mynumber", MyNumber}, {"my number", MyNumber},
	{"my_number", MyNumber}, {"my-number", MyNumber}, {"individual number", MyNumber}, {"individual_number", MyNumber},
	{"運転免許", DriversLicense}, {"免許証", DriversLicense}, {"免許", DriversLicense},
	{"driver's license", DriversLicense}, {"drivers license", DriversLicense}, {"driver license", DriversLicense},
	{"driving licence", DriversLicense}, {"driving license", DriversLicense}, {"drivers_license", DriversLicense},
	{"driver_license", DriversLicense}, {"license number", DriversLicense}, {"license_number", DriversLicense},
	{"licence", DriversLicense}, {"license", DriversLicense},
	{"旅券", Passport}, {"パスポート", Passport}, {"passport", Passport},
	{"口座番号", BankAccount}, {"口座", BankAccount}, {"普通預金", BankAccount}, {"当座預金", BankAccount},
	{"普通", BankAccount}, {"当座", BankAccount}, {"account number", BankAccount}, {"account_number", BankAccount},
	{"account no", BankAccount}, {"bank account", BankAccount}, {"bank_account", BankAccount}, {"acct", BankAccount},
	{"クレジットカード", CreditCard}, {"カード番号", CreditCard}, {"card number", CreditCard}, {"card_number", CreditCard},
	{"credit card", CreditCard}, {"credit_card", CreditCard}, {"card no", CreditCard}, {"cc_number", CreditCard},
	{"card", CreditCard}, {"カード", CreditCard}, {"visa", CreditCard}, {"mastercard", CreditCard},
	{"amex", CreditCard}, {"discover", CreditCard}, {"jcb", CreditCard}, {"unionpay", CreditCard},
	{"maestro", CreditCard}, {"diners", CreditCard}, {"신용카드", CreditCard}, {"信用卡", CreditCard}, {"银行卡", CreditCard},
	{"電話番号", Phone}, {"電話", Phone}, {"携帯", Phone}, {"連絡先", Phone}, {"fax", Phone}, {"tel", Phone},
	{"phone", Phone}, {"mobile", Phone}, {"cell", Phone}, {"telephone", Phone}, {"sms", Phone},
	{"郵便番号", PostalCode}, {"〒", PostalCode}, {"郵便", PostalCode}, {"zip", PostalCode}, {"zipcode", PostalCode},
	{"zip_code", PostalCode}, {"postal", PostalCode}, {"postcode", PostalCode}, {"post code", PostalCode}, {"postal_code", PostalCode}, {"eircode", PostalCode},
	{"生年月日", DateOfBirth}, {"誕生日", DateOfBirth}, {"生まれ", DateOfBirth}, {"date of birth", DateOfBirth},
	{"date_of_birth", DateOfBirth}, {"birth_date", DateOfBirth}, {"birthdate", DateOfBirth}, {"birthday", DateOfBirth},
	{"birth", DateOfBirth}, {"dob", DateOfBirth}, {"born", DateOfBirth},
	{"住所", Address}, {"所在地", Address}, {"送付先", Address}, {"お届け先", Address}, {"届け先", Address},
	{"address", Address}, {"addr", Address}, {"street", Address}, {"都道府県", Address}, {"市区町村", Address},
	{"番地", Address}, {"建物名", Address},
	{"氏名", PersonName}, {"お名前", PersonName}, {"名前", PersonName}, {"顧客名", PersonName}, {"フリガナ", PersonName},
	{"ふりがな", PersonName}, {"宛名", PersonName}, {"契約者", PersonName}, {"申込者", PersonName}, {"担当者", PersonName},
	{"姓名", PersonName}, {"full name", PersonName}, {"full_name", PersonName}, {"fullname", PersonName},
	{"customer_name", PersonName}, {"customer name", PersonName}, {"first_name", PersonName}, {"last_name", PersonName},
	{"given_name", PersonName}, {"family_name", PersonName}, {"surname", PersonName}, {"contact_name", PersonName},
	{"name_kana", PersonName}, {"kana", PersonName},
	{"注文番号", nonPersonal}, {"注文", nonPersonal}, {"受注", nonPersonal}, {"発注", nonPersonal}, {"伝票", nonPersonal},
	{"商品", nonPersonal}, {"品番", nonPersonal}, {"型番", nonPersonal}, {"製造番号", nonPersonal}, {"製品", nonPersonal},
	{"シリアル", nonPersonal}, {"管理番号", nonPersonal}, {"受付番号", nonPersonal}, {"請求", nonPersonal},
	{"問い合わせ番号", nonPersonal}, {"問合せ番号", nonPersonal}, {"お問い合わせ番号", nonPersonal}, {"追跡", nonPersonal},
	{"会員番号", nonPersonal}, {"予約番号", nonPersonal}, {"取引", nonPersonal}, {"ロット", nonPersonal},
	{"コード", nonPersonal}, {"型式", nonPersonal}, {"部品", nonPersonal}, {"出荷", nonPersonal}, {"配送", nonPersonal},
	{"発送", nonPersonal}, {"入荷", nonPersonal}, {"レシート", nonPersonal}, {"チケット", nonPersonal}, {"ポイント", nonPersonal}, {"ビルド", nonPersonal}, {"バージョン", nonPersonal},
	{"金額", nonPersonal}, {"価格", nonPersonal}, {"数量", nonPersonal}, {"在庫", nonPersonal},
	{"order", nonPersonal}, {"sku", nonPersonal}, {"serial", nonPersonal}, {"s/n", nonPersonal}, {"sn", nonPersonal},
	{"build", nonPersonal}, {"version", nonPersonal}, {"ver", nonPersonal}, {"tracking", nonPersonal},
	{"invoice", nonPersonal}, {"ticket", nonPersonal}, {"transaction", nonPersonal}, {"txn", nonPersonal},
	{"trace", nonPersonal}, {"request", nonPersonal}, {"req", nonPersonal}, {"session", nonPersonal},
	{"pid", nonPersonal}, {"id", nonPersonal}, {"uuid", nonPersonal}, {"jan", nonPersonal}, {"isbn", nonPersonal},
	{"item", nonPersonal}, {"product", nonPersonal}, {"part", nonPersonal}, {"model", nonPersonal},
	{"amount", nonPersonal}, {"price", nonPersonal}, {"total", nonPersonal}, {"qty", nonPersonal},
	{"quantity", nonPersonal}, {"count", nonPersonal}, {"bytes", nonPersonal}, {"size", nonPersonal},
	{"timestamp", nonPersonal}, {"epoch", nonPersonal}, {"checksum", nonPersonal}, {"hash", nonPersonal},
	{"port", nonPersonal}, {"seq", nonPersonal}, {"batch", nonPersonal}, {"lot", nonPersonal},
	{"reference", nonPersonal}, {"ref", nonPersonal}, {"confirmation", nonPersonal}, {"reservation", nonPersonal},
	{"shipment", nonPersonal}, {"barcode", nonPersonal}, {"ean", nonPersonal}, {"upc", nonPersonal},
	{"imei", nonPersonal}, {"code", nonPersonal}, {"span", nonPersonal}, {"nonce", nonPersonal},
	{"token", nonPersonal}, {"crc", nonPersonal}, {"offset", nonPersonal}, {"index", nonPersonal},
	{"idx", nonPersonal}, {"inode", nonPersonal}, {"sector", nonPersonal}, {"block", nonPersonal},
	{"job", nonPersonal}, {"task", nonPersonal}, {"thread", nonPersonal}, {"tid", nonPersonal},
	{"uid", nonPersonal}, {"gid", nonPersonal}, {"msgid", nonPersonal}, {"event", nonPersonal},
	{"counter", nonPersonal}, {"duration", nonPersonal}, {"elapsed", nonPersonal}, {"latency", nonPersonal},
	{"message-id", nonPersonal}, {"in-reply-to", nonPersonal}, {"references", nonPersonal},
}

// nameKeys are whole keys that mean a person's name; "name" alone is too
// common (file_name, product_name) to match by containment.
var nameKeys = map[string]bool{
	"name": true, "名": true, "姓": true, "氏": true, "first": true, "last": true,
	"firstname": true, "lastname": true, "givenname": true, "familyname": true,
	"customername": true, "contactname": true, "username_kana": true, "namekana": true,
	"furigana": true, "holder": true, "cardholder": true, "cardholdername": true,
	"recipient": true, "recipientname": true, "customer": true, "sender": true, "sendername": true,
}

// headerNameKeys are e-mail header names whose display names are people.
var headerNameKeys = map[string]bool{"from": true, "to": true, "cc": true, "reply-to": true, "sender": true, "bcc": true}

// classifyKey says what a column header or JSON key means. Unknown keys say
// nothing ("").
func classifyKey(key string) hint {
	if key == "" {
		return ""
	}
	k := strings.ToLower(splitCamel(strings.TrimSpace(keyLeaf(key))))
	if k == "" {
		return ""
	}
	compact := strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', ' ', '.', '　', '（', '）', '(', ')':
			return -1
		}
		return r
	}, k)
	if nameKeys[compact] {
		return PersonName
	}
	switch compact {
	case "ipaddress", "macaddress", "remoteaddr", "remoteaddress", "ip", "host", "hostname", "url", "uri", "path", "filename", "productname", "companyname", "itemname", "会社名", "商品名", "店舗名":
		return nonPersonal
	case "emailaddress", "mailaddress":
		return Email
	}
	if c := headKeyword(k); c != "" {
		return c
	}
	if i := firstKeyword(k); i >= 0 {
		return contextWords[i].cat
	}
	return ""
}

// headKeyword is the category of the CJK keyword a compound key ends with,
// the longest if several do: the last noun of such a compound is its head,
// so お届け先氏名 (the recipient's name) is a name and お届け先住所 an
// address. Keys ending otherwise say "".
func headKeyword(k string) hint {
	if k == "" || k[len(k)-1] < utf8.RuneSelf {
		return ""
	}
	best := -1
	for i, w := range contextWords {
		if w.word[0] >= utf8.RuneSelf && strings.HasSuffix(k, w.word) && (best < 0 || len(w.word) > len(contextWords[best].word)) {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return contextWords[best].cat
}

// firstKeyword returns the index in contextWords of the first keyword
// (in that order) occurring in the lower-case k, or -1: one pass over k
// with the keywords indexed by their first rune.
func firstKeyword(k string) int {
	best := -1
	for p := 0; p < len(k); {
		c := k[p]
		size := 1
		var cands []int
		if c < 0x80 {
			if !isWordByte(k, p-1) {
				cands = asciiIndex[c]
			}
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(k[p:])
			cands = otherIndex[r]
		}
		for _, i := range cands {
			if best >= 0 && i >= best {
				break // indexes are ascending
			}
			w := contextWords[i].word
			if strings.HasPrefix(k[p:], w) && (w[0] >= 0x80 || !isWordByte(k, p+len(w))) {
				best = i
			}
		}
		p += size
	}
	return best
}

// weakKeys name a person or an address only in a person's record.
var weakKeys = map[string]bool{"name": true, "address": true, "addr": true, "first": true, "last": true,
	"holder": true, "customer": true, "sender": true, "recipient": true, "street": true, "location": true}

// weakKey reports a key that says "name" or "address" without saying whose.
func weakKey(key string) bool {
	k := strings.ToLower(strings.TrimSpace(keyLeaf(key)))
	return weakKeys[strings.Trim(k, "_-. ")]
}

// splitCamel turns phoneNumber into phone_Number so that the words of
// camel-case JSON keys match.
func splitCamel(k string) string {
	for i := 1; i < len(k); i++ {
		if isUpper(k[i]) && k[i-1] >= 'a' && k[i-1] <= 'z' {
			var b strings.Builder
			b.WriteString(k[:i])
			for j := i; j < len(k); j++ {
				if isUpper(k[j]) && k[j-1] >= 'a' && k[j-1] <= 'z' {
					b.WriteByte('_')
				}
				b.WriteByte(k[j])
			}
			return b.String()
		}
	}
	return k
}

// keyLeaf returns the last component of a JSON path such as
// "customer.contact[0].email".
func keyLeaf(key string) string {
	for {
		i := strings.LastIndexAny(key, "./[]")
		if i < 0 {
			return key
		}
		leaf := key[i+1:]
		if leaf != "" && !allDigits(leaf) {
			return leaf
		}
		key = key[:i]
	}
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// findWord returns the index of the first occurrence of w in s at or after
// from, lower-case s assumed; ASCII words must stand alone.
func findWord(s, w string, from int) int {
	ascii := w[0] < 0x80
	for from <= len(s) {
		i := strings.Index(s[from:], w)
		if i < 0 {
			return -1
		}
		i += from
		if !ascii || (!isWordByte(s, i-1) && !isWordByte(s, i+len(w))) {
			return i
		}
		from = i + 1
	}
	return -1
}

// isWordByte reports whether s[i] is an ASCII letter; digits and
// underscores count as boundaries so that "tel1" and "email_2" still match.
func isWordByte(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	c := s[i]
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// Context words indexed by their first rune, so that a window is scanned
// once instead of once per word.
var (
	asciiWords [128][]keyword
	otherWords = map[rune][]keyword{}
	asciiIndex [128][]int
	otherIndex = map[rune][]int{}
)

func init() {
	for i, kw := range contextWords {
		r, _ := utf8.DecodeRuneInString(kw.word)
		if r < 128 {
			asciiWords[r] = append(asciiWords[r], kw)
			asciiIndex[r] = append(asciiIndex[r], i)
		} else {
			otherWords[r] = append(otherWords[r], kw)
			otherIndex[r] = append(otherIndex[r], i)
		}
	}
}

// nearestContext returns the category of the context keyword that ends
// closest to the end of window, or "" when there is none.
func nearestContext(window string) hint {
	var buf [96]byte
	w := window
	if len(window) <= len(buf) {
		// Lower-case into the stack: this runs for every candidate number.
		b := buf[:len(window)]
		copy(b, window)
		for i, c := range b {
			if c >= 'A' && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		w = unsafeString(b)
	} else {
		w = ascii.Lower(window)
	}
	best, bestEnd := "", -1
	for p := 0; p < len(w); {
		c := w[p]
		var cands []keyword
		size := 1
		if c < 0x80 {
			cands = asciiWords[c]
			if len(cands) > 0 && isWordByte(w, p-1) {
				cands = nil // ASCII words start at a word boundary
			}
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(w[p:])
			cands = otherWords[r]
		}
		for _, kw := range cands {
			if !strings.HasPrefix(w[p:], kw.word) {
				continue
			}
			end := p + len(kw.word)
			if kw.word[0] < 0x80 && isWordByte(w, end) {
				continue
			}
			if end > bestEnd {
				best, bestEnd = kw.cat, end
			}
		}
		p += size
	}
	return best
}

// unsafeString views b as a string; b must not change while it is used.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
