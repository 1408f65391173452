package scope

import (
	"testing"
)

func TestNormalizeEmail(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Taro.Yamada@Example.co.jp", "taro.yamada@example.co.jp"},
		{"taro.yamada+news@example.co.jp", "taro.yamada+news@example.co.jp"}, // unknown provider: tags kept
		{"Hanako.Sato+shop@gmail.com", "hanakosato@gmail.com"},
		{"hanakosato@googlemail.com", "hanakosato@gmail.com"},
		{"ｈａｎａｋｏ＠ｇｍａｉｌ．ｃｏｍ", "hanako@gmail.com"},
		{"k.ito+x@outlook.com", "k.ito@outlook.com"},
		{"me+a@me.com", "me@icloud.com"},
		{"<a@b.jp>", "a@b.jp"},
		{"not an email", ""},
		{"@example.com", ""},
		{"+tag@gmail.com", ""},
	} {
		if got := NormalizeEmail(tc.in); got != tc.want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct{ in, country, want string }{
		{"090-1234-5678", "", "+819012345678"},
		{"０９０－１２３４－５６７８", "JP", "+819012345678"},
		{"+81 90-1234-5678", "", "+819012345678"},
		{"+81 (0)90 1234 5678", "", "+819012345678"},
		{"0081-90-1234-5678", "", "+819012345678"},
		{"010-81-90-1234-5678", "JP", "+819012345678"},
		{"03-1234-5678 内線12", "", "+81312345678"},
		{"(415) 555-0100", "US", "+14155550100"},
		{"1-415-555-0100", "US", "+14155550100"},
		{"+1 415-555-0100", "JP", "+14155550100"},
		{"020 7946 0018", "GB", "+442079460018"},
		{"12345", "", ""},
		{"1234-5678", "JP", ""}, // no trunk prefix: not a domestic number
	} {
		if got := NormalizePhone(tc.in, tc.country); got != tc.want {
			t.Errorf("NormalizePhone(%q, %q) = %q, want %q", tc.in, tc.country, got, tc.want)
		}
	}
	for e164, want := range map[string]string{"+819012345678": "JP", "+14155550100": "US", "+886212345678": "TW", "+999": ""} {
		if got := PhoneCountry(e164); got != want {
			t.Errorf("PhoneCountry(%q) = %q, want %q", e164, got, want)
		}
	}
}

func TestNormalizeName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"山田 太郎", "山田太郎"},
		{"山田　太郎 様", "山田太郎"},
		{"ヤマダ タロウ", "やまだたろう"},
		{"ﾔﾏﾀﾞ ﾀﾛｳ", "やまだたろう"},
		{"髙橋 美咲", "高橋美咲"},
		{"渡邊・澤", "渡辺沢"},
		{"Taro Yamada", "taro yamada"},
		{"YAMADA, Taro", "taro yamada"},
		{"Mr. John Smith", "john smith"},
	} {
		if got := NormalizeName(tc.in); got != tc.want {
			t.Errorf("NormalizeName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormalizeAddress(t *testing.T) {
	same := [][]string{
		{"東京都千代田区丸の内1丁目2番3号", "東京都千代田区丸の内1-2-3", "〒100-0005 東京都千代田区丸の内１－２－３", "東京都 千代田区 丸の内 一丁目二番三号", "1000005東京都千代田区丸の内1‐2‐3"},
		{"大阪府大阪市北区梅田2-4-9 梅田ビル101", "大阪府大阪市北区梅田二丁目4番9号 梅田ビル101", "大阪府大阪市北区梅田2丁目4番9号 梅田ビル101号室"},
		{"北海道札幌市中央区北1条西十二丁目", "北海道札幌市中央区北1条西12丁目"},
	}
	for _, group := range same {
		want := NormalizeAddress(group[0])
		for _, a := range group[1:] {
			if got := NormalizeAddress(a); got != want {
				t.Errorf("NormalizeAddress(%q) = %q, want %q (as %q)", a, got, want, group[0])
			}
		}
	}
	for _, pair := range [][2]string{{"東京都千代田区丸の内1-2-3", "東京都千代田区丸の内1-2-4"}, {"梅田2-4-9 梅田ビル101号室", "梅田2-4-9 梅田ビル102号室"}} {
		if a, b := NormalizeAddress(pair[0]), NormalizeAddress(pair[1]); a == b {
			t.Errorf("different addresses agree: %q", a)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"東京都千代田区丸の内1-2-3", "JP"},
		{"500 Market St, San Francisco, CA 94105", "US"},
		{"10 Downing Street, London, United Kingdom", "GB"},
		{"somewhere", ""},
		// Foreign customers as a Japanese company's CRM holds them.
		{"Kastanienallee 12, 10435 Berlin, Germany", "DE"},
		{"Königstraße 12, 50667 Köln, Deutschland", "DE"},
		{"12 rue de Rivoli, 75004 Paris, France.", "FR"},
		{"15 Teheran-ro, Gangnam-gu, Seoul 06236, Republic of Korea", "KR"},
		{"221 Baker Street, London NW1 6XE, UK", "GB"},
		{"Donegall Square, Belfast BT1 5GS, Northern Ireland", "GB"},
		{"1 Grafton Street, Dublin 2, Ireland", "IE"},
		{"Stephansplatz 1, 1010 Wien, Austria", "AT"},
		{"Drottninggatan 71, 111 36 Stockholm, Sweden", "SE"},
		{"1 Raffles Place, Singapore 048616", "SG"},
		{"Hauptstrasse 5, 12345 Bukuk", ""}, // "uk" only as a word
		{"東京都港区六本木1-1-1 Japan", "JP"},
	} {
		if got := AddressCountry(tc.in); got != tc.want {
			t.Errorf("AddressCountry(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormalizeDate(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"1985-04-12", "1985-04-12"},
		{"1985/4/12", "1985-04-12"},
		{"1985年4月12日", "1985-04-12"},
		{"昭和60年4月12日", "1985-04-12"},
		{"S60.4.12", "1985-04-12"},
		{"平成元年1月8日", "1989-01-08"},
		{"04/12/1985", "1985-04-12"},
		{"19850412", "1985-04-12"},
		{"１９８５－０４－１２", "1985-04-12"},
		{"1985-13-01", ""},
		{"tomorrow", ""},
	} {
		if got := NormalizeDate(tc.in); got != tc.want {
			t.Errorf("NormalizeDate(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormalizeNumbers(t *testing.T) {
	if got := NormalizeMyNumber("1234 5678 9012"); got != "123456789012" {
		t.Errorf("my number: %q", got)
	}
	if got := NormalizeCard("４１１１-1111-1111-1111"); got != "4111111111111111" {
		t.Errorf("card: %q", got)
	}
	if got := NormalizePostal("〒100-0005"); got != "1000005" {
		t.Errorf("postal: %q", got)
	}
	if got := NormalizeID("tk 1234567"); got != "TK1234567" {
		t.Errorf("id: %q", got)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"東京都千代田区丸の内一丁目2番3号", "昭和60年4月12日", "+81 (0)90-1234-5678", "a+b@gmail.com", "十十十丁目", "S元.1.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		NormalizeAddress(s)
		NormalizeName(s)
		NormalizeEmail(s)
		AddressCountry(s)
		if d := NormalizeDate(s); d != "" && NormalizeDate(d) != d {
			t.Errorf("NormalizeDate(%q) = %q, not a fixed point", s, d)
		}
		if p := NormalizePhone(s, "JP"); p != "" && NormalizePhone(p, "JP") != p {
			t.Errorf("NormalizePhone(%q) = %q, not a fixed point", s, p)
		}
	})
}

func TestAddressCountry(t *testing.T) {
	for in, want := range map[string]string{
		"東京都千代田区丸の内1-2-3":                           "JP",
		"〒100-0005 東京都千代田区":                         "JP",
		"丸の内1-2-3 北海道札幌市":                           "JP",
		"京都府京都市":                                    "JP",
		"都道府県":                                      "JP", // Japanese letters, no prefecture
		"1 Main St, Springfield, IL 62701":          "US",
		"10 Downing Street, London, United Kingdom": "GB",
		"Somewhere": "",
		"":          "",
	} {
		if got := AddressCountry(in); got != want {
			t.Errorf("AddressCountry(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewKanji(t *testing.T) {
	for r := rune(0); r < 0x30000; r++ {
		want, ok := kanjiNew[r]
		if !ok {
			want = r
		}
		if got := newKanji(r); got != want {
			t.Errorf("newKanji(%q) = %q, want %q", r, got, want)
		}
	}
}
