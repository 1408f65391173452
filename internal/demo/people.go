package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// person is one generated customer.
type person struct {
	ID                    string
	Family, Given         string // kanji
	FamilyKana, GivenKana string
	Email                 string // "" for customers who gave none
	Phone                 string
	Postal, Address       string
	Birth                 string
	// Country is where the customer lives (ISO 3166-1), Language the
	// notice language the master list gives.
	Country, Language string
}

// Name is the name as the customer files write it: family name first in
// kanji, given name first in Latin script, as a Japanese company's CRM
// keeps a foreign customer's name as they gave it.
func (p person) Name() string {
	if p.Country != "JP" {
		return p.Given + " " + p.Family
	}
	return p.Family + " " + p.Given
}

// Kana is the reading; foreign customers' Latin names have none.
func (p person) Kana() string {
	if p.FamilyKana == "" {
		return ""
	}
	return p.FamilyKana + " " + p.GivenKana
}

var families = [][3]string{
	{"佐藤", "サトウ", "sato"}, {"鈴木", "スズキ", "suzuki"}, {"高橋", "タカハシ", "takahashi"}, {"田中", "タナカ", "tanaka"},
	{"伊藤", "イトウ", "ito"}, {"渡辺", "ワタナベ", "watanabe"}, {"山本", "ヤマモト", "yamamoto"}, {"中村", "ナカムラ", "nakamura"},
	{"小林", "コバヤシ", "kobayashi"}, {"加藤", "カトウ", "kato"}, {"吉田", "ヨシダ", "yoshida"}, {"山田", "ヤマダ", "yamada"},
	{"佐々木", "ササキ", "sasaki"}, {"山口", "ヤマグチ", "yamaguchi"}, {"松本", "マツモト", "matsumoto"}, {"井上", "イノウエ", "inoue"},
	{"木村", "キムラ", "kimura"}, {"林", "ハヤシ", "hayashi"}, {"斎藤", "サイトウ", "saito"}, {"清水", "シミズ", "shimizu"},
	{"山崎", "ヤマザキ", "yamazaki"}, {"森", "モリ", "mori"}, {"池田", "イケダ", "ikeda"}, {"橋本", "ハシモト", "hashimoto"},
	{"阿部", "アベ", "abe"}, {"石川", "イシカワ", "ishikawa"}, {"山下", "ヤマシタ", "yamashita"}, {"中島", "ナカジマ", "nakajima"},
	{"石井", "イシイ", "ishii"}, {"小川", "オガワ", "ogawa"}, {"前田", "マエダ", "maeda"}, {"岡田", "オカダ", "okada"},
}

var givens = [][3]string{
	{"太郎", "タロウ", "taro"}, {"花子", "ハナコ", "hanako"}, {"翔太", "ショウタ", "shota"}, {"陽菜", "ヒナ", "hina"},
	{"大輔", "ダイスケ", "daisuke"}, {"美咲", "ミサキ", "misaki"}, {"健太", "ケンタ", "kenta"}, {"結衣", "ユイ", "yui"},
	{"拓也", "タクヤ", "takuya"}, {"彩", "アヤ", "aya"}, {"直樹", "ナオキ", "naoki"}, {"さくら", "サクラ", "sakura"},
	{"優斗", "ユウト", "yuto"}, {"葵", "アオイ", "aoi"}, {"和也", "カズヤ", "kazuya"}, {"真由美", "マユミ", "mayumi"},
	{"隆", "タカシ", "takashi"}, {"恵子", "ケイコ", "keiko"}, {"誠", "マコト", "makoto"}, {"裕子", "ユウコ", "yuko"},
	{"悠真", "ユウマ", "yuma"}, {"凛", "リン", "rin"}, {"剛", "ツヨシ", "tsuyoshi"}, {"愛", "アイ", "ai"},
}

var places = []struct{ pref, city, postal string }{
	{"東京都", "千代田区丸の内", "100-0005"}, {"東京都", "新宿区西新宿", "160-0023"}, {"神奈川県", "横浜市西区みなとみらい", "220-0012"},
	{"大阪府", "大阪市北区梅田", "530-0001"}, {"愛知県", "名古屋市中村区名駅", "450-0002"}, {"福岡県", "福岡市博多区博多駅前", "812-0011"},
	{"北海道", "札幌市中央区北五条西", "060-0005"}, {"宮城県", "仙台市青葉区中央", "980-0021"}, {"京都府", "京都市下京区烏丸通", "600-8216"},
	{"広島県", "広島市中区基町", "730-0011"},
}

var mailDomains = []string{"example.jp", "example.com", "mail.example.ne.jp", "example.co.jp"}

// abroad are the countries foreign residents live in, in the order they
// are drawn: each falls under a different data-protection law than
// Japan's APPI (the EU GDPR, Korea's PIPA, the UK GDPR). Names,
// addresses and phone numbers are written as a Japanese company's CRM
// holds them: Latin script, the country's name ending the address, the
// number in international form. The Shift_JIS export holds them too, so
// they keep to ASCII.
var abroad = []struct {
	country, domain  string
	families, givens []string
	places           []struct{ street, postal string } // street with %d for the house number
	// phone writes the number from two 4-digit parts.
	phone func(a, b int) string
}{
	{"DE", "example.de", []string{"Schmidt", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann"}, []string{"Anna", "Lukas", "Jonas", "Laura", "Felix", "Julia"},
		[]struct{ street, postal string }{{"Kastanienallee %d, 10435 Berlin, Germany", "10435"}, {"Leopoldstrasse %d, 80802 Munich, Germany", "80802"}, {"Schillerstrasse %d, 60313 Frankfurt am Main, Germany", "60313"}},
		func(a, b int) string { return fmt.Sprintf("+49 151 %04d %04d", a, b) }},
	{"KR", "example.co.kr", []string{"Kim", "Lee", "Park", "Choi", "Jung", "Kang"}, []string{"Minjun", "Seoyeon", "Jiho", "Hayoon", "Dohyun", "Jiwoo"},
		[]struct{ street, postal string }{{"%d Teheran-ro, Gangnam-gu, Seoul 06236, Republic of Korea", "06236"}, {"%d Haeundae-ro, Haeundae-gu, Busan 48094, Republic of Korea", "48094"}},
		func(a, b int) string { return fmt.Sprintf("+82 10-%04d-%04d", a, b) }},
	{"FR", "example.fr", []string{"Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Girard"}, []string{"Claire", "Louis", "Camille", "Hugo", "Chloe", "Lucas"},
		[]struct{ street, postal string }{{"%d rue de Rivoli, 75004 Paris, France", "75004"}, {"%d rue de la Republique, 69002 Lyon, France", "69002"}},
		func(a, b int) string { return fmt.Sprintf("+33 6 %02d %02d %02d %02d", a/100, a%100, b/100, b%100) }},
	{"GB", "example.co.uk", []string{"Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans"}, []string{"Oliver", "Amelia", "George", "Isla", "Harry", "Emily"},
		[]struct{ street, postal string }{{"%d Baker Street, London NW1 6XE, United Kingdom", "NW1 6XE"}, {"%d Deansgate, Manchester M3 4LQ, United Kingdom", "M3 4LQ"}},
		func(a, b int) string { return fmt.Sprintf("+44 7%04d %05d", a, b) }},
}

// foreigners is how many of n customers live abroad: about 2 %, at least
// one from 50 customers on.
func foreigners(n int) int {
	if n < 50 {
		return 0
	}
	return (n*2 + 99) / 100
}

// people generates n distinct customers, the same for the same seed. A
// tenth have no e-mail address: they get a letter. About 2 % live abroad,
// spread evenly through the list (so through every customer file), each
// with an e-mail address. No two share a name and
// an address, or a name and a birth date: the register takes either pair
// for one person (as a family's records are), so such a draw is made
// again.
func people(n int, seed uint64) []person {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]person, 0, n)
	taken := map[string]bool{}
	abroadEvery, drawn := 0, 0
	if k := foreigners(n); k > 0 {
		abroadEvery = n / k
	}
	for i := range n {
		var p person
		if abroadEvery > 0 && i%abroadEvery == abroadEvery/2 && drawn < foreigners(n) {
			for {
				p = foreigner(i, drawn, rng)
				byAddress, byBirth := p.Name()+"\x00"+p.Address, p.Name()+"\x00"+p.Birth
				if !taken[byAddress] && !taken[byBirth] {
					taken[byAddress], taken[byBirth] = true, true
					break
				}
			}
			drawn++
			out = append(out, p)
			continue
		}
		for {
			f := families[rng.IntN(len(families))]
			g := givens[rng.IntN(len(givens))]
			pl := places[rng.IntN(len(places))]
			p = person{
				ID: fmt.Sprintf("C%06d", 100000+i), Family: f[0], Given: g[0], FamilyKana: f[1], GivenKana: g[1], Country: "JP", Language: "ja",
				// Unique by construction: the index is in every number.
				Phone:   fmt.Sprintf("090-%04d-%04d", 1000+i/10000*100+rng.IntN(100), i%10000),
				Postal:  pl.postal,
				Address: fmt.Sprintf("%s%s%d丁目%d番%d号", pl.pref, pl.city, 1+rng.IntN(5), 1+rng.IntN(20), 1+i%30),
				Birth:   fmt.Sprintf("%04d-%02d-%02d", 1950+rng.IntN(50), 1+rng.IntN(12), 1+rng.IntN(28)),
			}
			byAddress, byBirth := p.Name()+"\x00"+p.Address, p.Name()+"\x00"+p.Birth
			if !taken[byAddress] && !taken[byBirth] {
				taken[byAddress], taken[byBirth] = true, true
				if i%10 != 9 {
					p.Email = fmt.Sprintf("%s.%s.%d@%s", g[2], f[2], i, mailDomains[rng.IntN(len(mailDomains))])
				}
				break
			}
		}
		out = append(out, p)
	}
	return out
}

// foreigner is customer i, the k-th to live abroad.
func foreigner(i, k int, rng *rand.Rand) person {
	a := abroad[k%len(abroad)]
	f, g := a.families[rng.IntN(len(a.families))], a.givens[rng.IntN(len(a.givens))]
	pl := a.places[rng.IntN(len(a.places))]
	return person{
		ID: fmt.Sprintf("C%06d", 100000+i), Family: f, Given: g, Country: a.country, Language: "en",
		// Unique by construction, as the Japanese numbers are.
		Phone:   a.phone(1000+i/10000*100+rng.IntN(100), i%10000),
		Postal:  pl.postal,
		Address: fmt.Sprintf(pl.street, 1+rng.IntN(120)),
		Birth:   fmt.Sprintf("%04d-%02d-%02d", 1950+rng.IntN(50), 1+rng.IntN(12), 1+rng.IntN(28)),
		Email:   fmt.Sprintf("%s.%s.%d@%s", strings.ToLower(g), strings.ToLower(f), i, a.domain),
	}
}
