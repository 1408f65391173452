package pii

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

type cv struct{ Cat, Value string }

func hitsOf(text, key string) []cv {
	var out []cv
	for _, h := range DetectText(text, key, "") {
		if text[h.Start:h.End] != h.Value {
			panic("hit range does not match value")
		}
		out = append(out, cv{h.Category, h.Value})
	}
	return out
}

func TestDetectText(t *testing.T) {
	tests := []struct {
		name, text, key string
		want            []cv
	}{
		{"mobile and email", "お問い合わせ: 090-1234-5678 または taro.yamada@example.co.jp まで", "",
			[]cv{{Phone, "090-1234-5678"}, {Email, "taro.yamada@example.co.jp"}}},
		{"phone forms", "TEL 03(1234)5678 / +81 90 1234 5678 / +1 415 555 0100 / (0120)123-456 / 0466-12-3456", "",
			[]cv{{Phone, "03(1234)5678"}, {Phone, "+81 90 1234 5678"}, {Phone, "+1 415 555 0100"}, {Phone, "(0120)123-456"}, {Phone, "0466-12-3456"}}},
		{"plus81 zero", "+81(0)3-1234-5678", "", []cv{{Phone, "+81(0)3-1234-5678"}}},
		{"nanp forms", "Call (212) 555-0123\nor 212.555.0199 x204\nor 1-800-555-0100", "",
			[]cv{{Phone, "(212) 555-0123"}, {Phone, "212.555.0199 x204"}, {Phone, "1-800-555-0100"}}},
		{"nanp invalid area", "phone 123-555-0123, 911-555-0123", "", nil},
		{"world phones", "Tel 020 7946 0958, 07700 900123, 010-1234-5678, 138 0013 8000, +44 20 7946 0958, +82 10 1234 5678", "",
			[]cv{{Phone, "020 7946 0958"}, {Phone, "07700 900123"}, {Phone, "010-1234-5678"}, {Phone, "138 0013 8000"},
				{Phone, "+44 20 7946 0958"}, {Phone, "+82 10 1234 5678"}}},
		{"more world phones", "TEL 212-555-0123x1234\nTEL 001-212-555-0123\nTEL 02-312-3456\nTEL 031-1234-5678\n" +
			"TEL 0808 157 0123\nTEL 07700 900 123\n请拨打13800138000", "",
			[]cv{{Phone, "212-555-0123x1234"}, {Phone, "001-212-555-0123"}, {Phone, "02-312-3456"}, {Phone, "031-1234-5678"},
				{Phone, "0808 157 0123"}, {Phone, "07700 900 123"}, {Phone, "13800138000"}}},
		{"e164 wrong length", "+44 20 7946 09581, +1 415 555 01", "", nil},
		{"tz coordinates", "JP\t+353916+1394441\tAsia/Tokyo\nMX\t+2048-10515\tAmerica/Mexico_City", "", nil},
		{"card brands", "card 6011 0009 9013 9424\ncard 4222 2222 2222 2\ncard 1800 000000 00002\ncard 6304 0000 0000 0000 00", "",
			[]cv{{CreditCard, "6011 0009 9013 9424"}, {CreditCard, "4222 2222 2222 2"}, {CreditCard, "1800 000000 00002"},
				{CreditCard, "6304 0000 0000 0000 00"}}},
		{"numeric table is not a card", "4615 4646 4677 4708 4740 4771 4802", "", nil},
		{"birthday heading", "3.1.0 \"Happy Birthday Lina\" (2009-02-28)", "", nil},
		{"prose names", "I spoke with Jane Doe today. Robert Miller called back.", "",
			[]cv{{PersonName, "Jane Doe"}, {PersonName, "Robert Miller"}}},
		{"shi honorific", "担当の山田太郎氏によれば、同氏は不在。氏名欄は空欄。", "", []cv{{PersonName, "山田太郎"}}},
		{"korean name label", "성명 김민준\n", "", []cv{{PersonName, "김민준"}}},
		{"furigana before honorific", "原田 桃子（ハラダ モモコ）様", "", []cv{{PersonName, "原田 桃子"}}},
		{"british street", "Send it to 221 Baker Street, London NW1 6XE please", "",
			[]cv{{Address, "221 Baker Street, London NW1 6XE"}, {PostalCode, "NW1 6XE"}}},
		{"korean road address", "주소 서울특별시 강남구 테헤란로 152 강남파이낸스센터 10층", "",
			[]cv{{Address, "서울특별시 강남구 테헤란로 152 강남파이낸스센터 10층"}}},
		{"chinese address", "地址北京市朝阳区建国路88号SOHO现代城5号楼1201室", "",
			[]cv{{Address, "北京市朝阳区建国路88号SOHO现代城5号楼1201室"}}},
		{"japanese room", "神奈川県横浜市港北区新横浜3-7-18 コーポ青葉 203号", "",
			[]cv{{Address, "神奈川県横浜市港北区新横浜3-7-18 コーポ青葉 203号"}}},
		{"postal keyword", "邮编 100020", "", []cv{{PostalCode, "100020"}}},
		{"gb postcode cell", "SW1A 2AA", "Postcode", []cv{{PostalCode, "SW1A 2AA"}}},
		{"dotted phone", "TEL 03.1234.5678 / 090.1234.5678", "", []cv{{Phone, "03.1234.5678"}, {Phone, "090.1234.5678"}}},
		{"dotted non-phones", "v0.1234.5678 10.0.12.34 3.14159265 0312.345678 4111.1111.1111.1111", "", nil},
		{"katakana dash", "090ー1234ー5678", "", []cv{{Phone, "090ー1234ー5678"}}},
		{"bare landline needs context", "ID 0312345678 / id=0312345678", "", nil},
		{"bare landline in prose", "担当窓口(0312345678)まで", "", []cv{{Phone, "0312345678"}}},
		{"bare landline in phone column", "0312345678", "電話番号", []cv{{Phone, "0312345678"}}},
		{"bare mobile", "連絡 09012345678", "", []cv{{Phone, "09012345678"}}},
		{"card spaced", "カード番号 4111 1111 1111 1111 有効期限 12/28", "", []cv{{CreditCard, "4111 1111 1111 1111"}}},
		{"card amex", "amex 3782-822463-10005", "", []cv{{CreditCard, "3782-822463-10005"}}},
		{"card jcb", "3530111333300000", "", []cv{{CreditCard, "3530111333300000"}}},
		{"card diners", "30569309025904", "", []cv{{CreditCard, "30569309025904"}}},
		{"card luhn invalid", "4111 1111 1111 1112", "", nil},
		{"card mixed separators", "4111-1111 1111-1111", "", nil},
		{"card in order column", "4111111111111111", "order_id", nil},
		{"card after order word", "order=4111111111111111 status=ok", "", nil},
		{"my number", "マイナンバー: 1234 5678 9018", "", []cv{{MyNumber, "1234 5678 9018"}}},
		{"my number bad check digit", "個人番号 123456789012", "", nil},
		{"my number without context", "123456789018", "", nil},
		{"my number column", "123456789018", "マイナンバー", []cv{{MyNumber, "123456789018"}}},
		{"honorific", "山田 太郎 様", "", []cv{{PersonName, "山田 太郎"}}},
		{"honorific hiragana given", "拝啓 この度は山田さくら様にご連絡", "", []cv{{PersonName, "山田さくら"}}},
		{"not names", "お客様各位、皆様、仕様書、ご担当者様、お父さん", "", nil},
		{"address with postal code", "〒100-0001 東京都千代田区千代田1-1 皇居ビル 3F にお住まい", "",
			[]cv{{PostalCode, "100-0001"}, {Address, "東京都千代田区千代田1-1 皇居ビル 3F"}}},
		{"prefecture alone", "東京都内の天気", "", nil},
		{"western", "Dear Mr. John Smith, you live at 1600 Pennsylvania Ave NW, Washington, DC 20500", "",
			[]cv{{PersonName, "John Smith"}, {Address, "1600 Pennsylvania Ave NW, Washington, DC 20500"}}},
		{"dear customer", "Dear Valued Customer,", "", nil},
		{"era dob", "生年月日：昭和60年4月12日", "", []cv{{DateOfBirth, "昭和60年4月12日"}}},
		{"dob english", "DOB: 04/12/1985", "", []cv{{DateOfBirth, "04/12/1985"}}},
		{"date without context", "2024-03-12 に出荷", "", nil},
		{"labels", "氏名: 佐藤 花子\n住所: 大阪府大阪市北区梅田1-2-3", "",
			[]cv{{PersonName, "佐藤 花子"}, {Address, "大阪府大阪市北区梅田1-2-3"}}},
		{"name column", "山田太郎", "氏名", []cv{{PersonName, "山田太郎"}}},
		{"address label with postal code", "住所: 〒100-0001 東京都千代田区千代田1-1", "",
			[]cv{{Address, "東京都千代田区千代田1-1"}, {PostalCode, "100-0001"}}},
		{"kana column", "ヤマダ タロウ", "フリガナ", []cv{{PersonName, "ヤマダ タロウ"}}},
		{"product name is not a person", "ボールペン", "product_name", nil},
		{"order column", "0312345678", "注文番号", nil},
		{"decoys", "2024-03-12T10:23:45.123Z build 20240312.1 ip 192.168.10.200 v1.2.3 1,234,567円 pid=4111111111111111", "", nil},
		{"passport", "旅券番号 TK1234567", "", []cv{{Passport, "TK1234567"}}},
		{"passport without context", "model TK1234567", "", nil},
		{"bank", "三菱UFJ銀行 新宿支店 普通 1234567", "", []cv{{BankAccount, "1234567"}}},
		{"license", "運転免許証番号 123456789012", "", []cv{{DriversLicense, "123456789012"}}},
		{"not emails", "icon@2x.png user@localhost a@b", "", nil},
		{"email in message-id", "<abc.123@mail.example.com>", "Message-ID", nil},
		{"display name", "山田 太郎 <taro@example.jp>, \"Jane Doe\" <jane@example.com>", "From",
			[]cv{{PersonName, "山田 太郎"}, {PersonName, "Jane Doe"}, {Email, "taro@example.jp"}, {Email, "jane@example.com"}}},
		{"email with digits before at", "09012345678@docomo.ne.jp", "", []cv{{Email, "09012345678@docomo.ne.jp"}}},
		{"json path key", "taro@example.jp", "customer.contact[0].email", []cv{{Email, "taro@example.jp"}}},
		{"postal code column", "1500001", "郵便番号", []cv{{PostalCode, "1500001"}}},
		{"zip column", "94105-1234", "zip", []cv{{PostalCode, "94105-1234"}}},
		{"five digits elsewhere", "94105", "qty", nil},
		// Foreign customers in a Japanese CRM's address column: the house
		// number after the street (German, Dutch, Nordic, Italian,
		// Spanish) or before a Romance street word.
		{"german address column", "Kastanienallee 12, 10435 Berlin, Germany", "住所",
			[]cv{{Address, "Kastanienallee 12, 10435 Berlin, Germany"}}},
		{"german address abbreviated", "Hauptstr. 5a, 80331 München", "address", []cv{{Address, "Hauptstr. 5a, 80331 München"}}},
		{"german eszett", "Königstraße 12, 50667 Köln", "住所", []cv{{Address, "Königstraße 12, 50667 Köln"}}},
		{"dutch address column", "Prinsengracht 263, 1016 GV Amsterdam, Netherlands", "住所",
			[]cv{{Address, "Prinsengracht 263, 1016 GV Amsterdam, Netherlands"}}},
		{"french address column", "12 rue de Rivoli, 75004 Paris, France", "住所", []cv{{Address, "12 rue de Rivoli, 75004 Paris, France"}}},
		{"italian address column", "Via Roma 10, 00184 Roma, Italy", "住所", []cv{{Address, "Via Roma 10, 00184 Roma, Italy"}}},
		{"street suffix without a house number", "Leopoldstrasse", "住所", nil},
		{"street suffix alone is no street", "Weg 12, Berlin", "住所", nil},
		{"context from previous line", "個人番号\n1234 5678 9018", "", []cv{{MyNumber, "1234 5678 9018"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hitsOf(tt.text, tt.key)
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("DetectText(%q, %q) mismatch (-got +want):\n%s", tt.text, tt.key, diff)
			}
		})
	}
}

func TestMyNumberCheckDigit(t *testing.T) {
	// Worked by hand: the weighted sum of 12345678901 is 212, 212 mod 11 = 3,
	// so the check digit is 11 - 3 = 8.
	if !myNumberValid([]byte("123456789018")) {
		t.Error("123456789018 rejected")
	}
	// Exactly one check digit fits any 11 digits.
	for _, d11 := range []string{"12345678901", "00000000000", "99999999999", "31415926535", "27182818284"} {
		n := 0
		for c := byte('0'); c <= '9'; c++ {
			if myNumberValid(append([]byte(d11), c)) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d check digits accepted, want 1", d11, n)
		}
	}
}

func TestPrevFieldContext(t *testing.T) {
	got := DetectText("1234 5678 9018", "", "お客様のマイナンバーは")
	if len(got) != 1 || got[0].Category != MyNumber {
		t.Errorf("got %v, want one my_number from the previous field's keyword", got)
	}
}

func TestLineLabels(t *testing.T) {
	tests := []struct {
		text string
		want []cv
	}{
		{"氏名 山田 太郎\n", []cv{{PersonName, "山田 太郎"}}},
		{"【お名前】佐藤花子", []cv{{PersonName, "佐藤花子"}}},
		{"お名前 を入力してください", nil},
		{"住所 変更しました", nil},
		{"住所 東京都港区芝公園4-2-8", []cv{{Address, "東京都港区芝公園4-2-8"}}},
		{"phoneNumber", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(hitsOf(tt.text, ""), tt.want); diff != "" {
			t.Errorf("DetectText(%q) mismatch (-got +want):\n%s", tt.text, diff)
		}
	}
	for key, want := range map[string]string{"phoneNumber": Phone, "mailAddress": Email, "zipCode": PostalCode,
		"birthDate": DateOfBirth, "customerName": PersonName, "order_id": nonPersonal, "取引ID": nonPersonal, "file_name": nonPersonal} {
		if got := classifyKey(key); got != want {
			t.Errorf("classifyKey(%q) = %q, want %q", key, got, want)
		}
	}
}

// TestNoNumbersInNonPersonalKey covers a hang found by FuzzScanBytes: a
// '+' after a digit in a field whose key rules numbers out.
func TestNoNumbersInNonPersonalKey(t *testing.T) {
	if got := hitsOf("5+3 (4) a@b.example.com", "amount"); len(got) != 0 {
		t.Errorf("got %v, want nothing in an amount field", got)
	}
}

func TestSurnamesLikeSuffixes(t *testing.T) {
	for _, name := range []string{"田中", "阿部", "田所", "緒方", "河合"} {
		want := []cv{{PersonName, name}}
		if diff := cmp.Diff(hitsOf(name+"様", ""), want); diff != "" {
			t.Errorf("%s様 (-got +want):\n%s", name, diff)
		}
	}
	for _, org := range []string{"営業部様", "株式会社サンプル様", "ご担当者様", "御中"} {
		if got := hitsOf(org, ""); len(got) != 0 {
			t.Errorf("%s: got %v, want no name", org, got)
		}
	}
}

func TestMyNumberInTextTable(t *testing.T) {
	text := "氏名        マイナンバー    電話\n山田太郎    123456789018    090-1234-5678\n佐藤花子    123456789012    03-1234-5678\n"
	want := []cv{{MyNumber, "123456789018"}, {Phone, "090-1234-5678"}, {Phone, "03-1234-5678"}}
	if diff := cmp.Diff(hitsOf(text, ""), want); diff != "" {
		t.Errorf("(-got +want):\n%s", diff)
	}
}

// TestPrevFieldContextOnlyAtLineStart: a keyword on the previous line must
// not reach a number in the middle of the next one.
func TestPrevFieldContextOnlyAtLineStart(t *testing.T) {
	got := DetectText("ご不明な点は担当窓口(090-1234-5678)まで", "", "ご注文番号1234567890の商品は発送しました。")
	if len(got) != 1 || got[0].Category != Phone {
		t.Errorf("got %v, want the phone number", got)
	}
}

// TestHonorificAfterSpaceOnly covers a slice-bounds panic: an honorific
// preceded by nothing but white space.
func TestHonorificAfterSpaceOnly(t *testing.T) {
	for _, s := range []string{" 様", "  様", "\n 様", " さん"} {
		if got := hitsOf(s, ""); len(got) != 0 {
			t.Errorf("%q: got %v", s, got)
		}
	}
}
