package demo

import (
	"fmt"
	"math/rand/v2"
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
}

func (p person) Name() string { return p.Family + " " + p.Given }
func (p person) Kana() string { return p.FamilyKana + " " + p.GivenKana }

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

// people generates n distinct customers, the same for the same seed. A
// tenth have no e-mail address: they get a letter. No two share a name and
// an address, or a name and a birth date: the register takes either pair
// for one person (as a family's records are), so such a draw is made
// again.
func people(n int, seed uint64) []person {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]person, 0, n)
	taken := map[string]bool{}
	for i := range n {
		var p person
		for {
			f := families[rng.IntN(len(families))]
			g := givens[rng.IntN(len(givens))]
			pl := places[rng.IntN(len(places))]
			p = person{
				ID: fmt.Sprintf("C%06d", 100000+i), Family: f[0], Given: g[0], FamilyKana: f[1], GivenKana: g[1],
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
