package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/width"

	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/scope/scopeapi"
	"github.com/mamori-dev/mamori/internal/store/storetest"
)

// A reviewer's corpus for scoping (issue 12): 41 customers on three
// hosts, written the many ways real exports write them, with the traps
// that make a register wrong: two different people of the same name, a
// household sharing a phone and an address, people linked across files by
// nothing but a plus-tagged Gmail address, phone numbers as +81, domestic
// and full-width forms, 丁目/番/号 and 1-2-3 addresses, old and new kanji.
// The truth is kept beside the data, so the register can be checked person
// by person.

// reviewPerson is one real customer: the values every file writes in its
// own way.
type reviewPerson struct {
	name    string // as most files write it
	old     string // the old-kanji form some files use, "" if none
	kana    string
	email   string
	phone   string // domestic, 090-1234-5678
	block   [3]int // 丁目, 番, 号
	town    string // prefecture, city and town
	flat    string // building and room number, "" for a house
	postal  string
	dob     [3]int
	card    string
	inFiles map[string][]string // file -> categories written there
}

// addr is the address as 1丁目2番3号, a flat's room as 101号室.
func (p *reviewPerson) addr() string {
	a := fmt.Sprintf("%s%d丁目%d番%d号", p.town, p.block[0], p.block[1], p.block[2])
	if p.flat != "" {
		a += " " + p.flat + "号室"
	}
	return a
}

// addrHyphen is the address as 1-2-3, a flat's room number bare.
func (p *reviewPerson) addrHyphen() string {
	a := fmt.Sprintf("%s%d-%d-%d", p.town, p.block[0], p.block[1], p.block[2])
	if p.flat != "" {
		a += " " + p.flat
	}
	return a
}

// phoneIntl is "+81 90-1234-5678".
func (p *reviewPerson) phoneIntl(sep string) string {
	return "+81" + sep + strings.ReplaceAll(p.phone[1:], "-", sep)
}

func (p *reviewPerson) dobISO() string {
	return fmt.Sprintf("%04d-%02d-%02d", p.dob[0], p.dob[1], p.dob[2])
}

func (p *reviewPerson) oldOrName() string {
	if p.old != "" {
		return p.old
	}
	return p.name
}

// seen records that file writes categories of p.
func (p *reviewPerson) seen(file string, cats ...string) {
	if p.inFiles == nil {
		p.inFiles = map[string][]string{}
	}
	for _, c := range cats {
		if !slices.Contains(p.inFiles[file], c) {
			p.inFiles[file] = append(p.inFiles[file], c)
		}
	}
}

// linked reports whether the person's files are joined by keys: each
// file shares a key category with another (every value of a person is the
// same value written differently, and a name alone is no key).
func (p *reviewPerson) linked() bool {
	keys := []string{cEmail, cPhone, cDOB, cAddr, cCard}
	var files []string
	for f := range p.inFiles {
		files = append(files, f)
	}
	reached := map[string]bool{files[0]: true}
	for grew := true; grew; {
		grew = false
		for _, a := range files {
			for _, b := range files {
				if reached[a] && !reached[b] && slices.ContainsFunc(keys, func(k string) bool {
					return slices.Contains(p.inFiles[a], k) && slices.Contains(p.inFiles[b], k)
				}) {
					reached[b], grew = true, true
				}
			}
		}
	}
	return len(reached) == len(files)
}

var reviewNames = []struct{ name, old, kana, romaji string }{
	{"佐藤 花子", "", "サトウ ハナコ", "hanako.sato"},
	{"鈴木 一郎", "", "スズキ イチロウ", "ichiro.suzuki"},
	{"高橋 美咲", "髙橋 美咲", "タカハシ ミサキ", "misaki.takahashi"},
	{"田中 一郎", "", "タナカ イチロウ", "ichiro.tanaka"},
	{"伊藤 健", "", "イトウ ケン", "ken.ito"},
	{"渡辺 陽子", "渡邊 陽子", "ワタナベ ヨウコ", "yoko.watanabe"},
	{"山本 大輔", "", "ヤマモト ダイスケ", "daisuke.yamamoto"},
	{"中村 恵", "", "ナカムラ メグミ", "megumi.nakamura"},
	{"小林 翔太", "", "コバヤシ ショウタ", "shota.kobayashi"},
	{"加藤 真由美", "", "カトウ マユミ", "mayumi.kato"},
	{"吉田 誠", "", "ヨシダ マコト", "makoto.yoshida"},
	{"山田 太郎", "", "ヤマダ タロウ", "taro.yamada"},
	{"佐々木 直樹", "", "ササキ ナオキ", "naoki.sasaki"},
	{"山口 由美", "", "ヤマグチ ユミ", "yumi.yamaguchi"},
	{"松本 拓也", "", "マツモト タクヤ", "takuya.matsumoto"},
	{"井上 愛", "", "イノウエ アイ", "ai.inoue"},
	{"山崎 浩", "山﨑 浩", "ヤマザキ ヒロシ", "hiroshi.yamazaki"},
	{"木村 明美", "", "キムラ アケミ", "akemi.kimura"},
	{"斎藤 亮", "齋藤 亮", "サイトウ リョウ", "ryo.saito"},
	{"清水 智子", "", "シミズ トモコ", "tomoko.shimizu"},
	{"森 悠斗", "", "モリ ユウト", "yuto.mori"},
	{"沢田 聡子", "澤田 聡子", "サワダ サトコ", "satoko.sawada"},
	{"池田 修", "", "イケダ オサム", "osamu.ikeda"},
	{"橋本 さくら", "", "ハシモト サクラ", "sakura.hashimoto"},
	{"阿部 隆", "", "アベ タカシ", "takashi.abe"},
	{"石川 舞", "", "イシカワ マイ", "mai.ishikawa"},
	{"山下 和也", "", "ヤマシタ カズヤ", "kazuya.yamashita"},
	{"中島 涼子", "中嶋 涼子", "ナカジマ リョウコ", "ryoko.nakajima"},
	{"石井 剛", "", "イシイ ツヨシ", "tsuyoshi.ishii"},
	{"小川 彩", "", "オガワ アヤ", "aya.ogawa"},
	{"前田 学", "", "マエダ マナブ", "manabu.maeda"},
	{"岡田 千尋", "", "オカダ チヒロ", "chihiro.okada"},
	{"長谷川 勇気", "", "ハセガワ ユウキ", "yuki.hasegawa"},
	{"藤田 奈々", "", "フジタ ナナ", "nana.fujita"},
	{"後藤 大地", "", "ゴトウ ダイチ", "daichi.goto"},
	{"近藤 麻衣", "", "コンドウ マイ", "mai.kondo"},
	{"村上 俊介", "", "ムラカミ シュンスケ", "shunsuke.murakami"},
	{"遠藤 香織", "", "エンドウ カオリ", "kaori.endo"},
	{"田中 花子", "", "タナカ ハナコ", "hanako.tanaka"},
	{"山田 太郎", "", "ヤマダ タロウ", "yamada.t"},
	{"西田 美穂", "", "ニシダ ミホ", "miho.nishida"},
}

var reviewTowns = []string{
	"東京都千代田区丸の内", "東京都新宿区西新宿", "東京都渋谷区神宮前", "東京都世田谷区太子堂", "神奈川県横浜市西区みなとみらい",
	"神奈川県川崎市中原区小杉町", "埼玉県さいたま市浦和区高砂", "千葉県千葉市中央区富士見", "大阪府大阪市北区梅田", "大阪府堺市堺区南瓦町",
	"京都府京都市中京区烏丸通", "兵庫県神戸市中央区三宮町", "愛知県名古屋市中村区名駅", "福岡県福岡市中央区天神", "北海道札幌市中央区大通西",
	"宮城県仙台市青葉区一番町", "広島県広島市中区紙屋町", "静岡県静岡市葵区追手町", "新潟県新潟市中央区古町通", "岡山県岡山市北区本町",
}

// reviewPeople builds the 41 customers. Index 11 and 39 share the name
// 山田 太郎 and nothing else; 3 and 38 are a household (one landline, one
// address); 40 is only in a CRM export with family and given names apart.
func reviewPeople() []*reviewPerson {
	ps := make([]*reviewPerson, len(reviewNames))
	domains := []string{"example.co.jp", "example.ne.jp", "example.com", "example.jp"}
	for i, n := range reviewNames {
		ps[i] = &reviewPerson{name: n.name, old: n.old, kana: n.kana,
			email: n.romaji + "@" + domains[i%len(domains)],
			phone: fmt.Sprintf("0%d0-%04d-%04d", 7+i%3, 2000+i*37, 5000+i*113),
			town:  reviewTowns[i%len(reviewTowns)] + []string{"", "北", "南"}[i/len(reviewTowns)],
			block: [3]int{1 + i%4, 2 + i%9, 3 + i%17}, postal: fmt.Sprintf("%03d-%04d", 100+i*17, 1000+i*31),
			dob: [3]int{1950 + i, 1 + i%12, 1 + (i*7)%28}}
	}
	ps[0].email = "hanako.sato+shop@gmail.com"
	ps[39].email, ps[39].town, ps[39].block, ps[39].dob = "yamada.t@example.net", "福岡県福岡市中央区天神", [3]int{3, 3, 3}, [3]int{1972, 11, 30}
	ps[11].email, ps[11].town, ps[11].block, ps[11].dob = "taro.yamada@example.co.jp", "東京都千代田区丸の内", [3]int{1, 2, 3}, [3]int{1985, 4, 12}
	ps[38].phone, ps[38].town, ps[38].block = "03-3456-7890", ps[3].town, ps[3].block
	ps[3].phone = ps[38].phone
	ps[1].flat, ps[24].flat = "メゾン青葉203", "サンハイツ101"
	ps[12].card, ps[36].card = "4111 1111 1111 1111", "5555-5555-5555-4444"
	return ps
}

// The corpus files, relative to their host's directory.
const (
	fUTF8    = "web01/exports/customers.csv"
	fSJIS    = "web01/exports/customers_sjis.csv"
	fZip     = "web01/backup/export.zip"
	fSQLite  = "db01/var/lib/app/app.db"
	fUTF16   = "db01/export/customers_utf16.tsv"
	fBook    = "db01/report.xlsx"
	fOldZip  = "pc01/Documents/old_backup.zip"
	fLetterA = "pc01/letters/letter_ito.txt"
	fLetterB = "pc01/letters/letter_yamada.txt"
	fMemo    = "pc01/memo.txt"
	fSplit   = "db01/export/members.csv"
	fCopy    = "db01/backup/export.zip"
	fNews    = "pc01/newsletter.csv"
	fEnglish = "pc01/web/en_orders.csv"
	fCalls   = "pc01/calls/callcenter.csv"
	fGift    = "pc01/web/gift_orders.csv"
	fNoHead  = "pc01/legacy/export.csv"
	fJSON    = "pc01/web/customers.json"
	fBig     = "db01/export/members_all.csv"
	fAgain   = "web01/exports/mobile.tsv"
)

// family is the household's shared mailbox.
const family = "tanaka.family@example.jp"

const (
	cName  = "person_name"
	cEmail = "email"
	cPhone = "phone"
	cAddr  = "address"
	cDOB   = "date_of_birth"
	cPost  = "postal_code"
	cCard  = "credit_card"
)

func rng(a, b int) []int {
	var out []int
	for i := a; i <= b; i++ {
		out = append(out, i)
	}
	return out
}

func fullWidth(s string) string { return width.Widen.String(s) }

// reviewCorpus writes the hosts' files under root and returns the people
// with the files each is in.
func reviewCorpus(t *testing.T, root string) []*reviewPerson {
	t.Helper()
	ps := reviewPeople()
	put := func(rel string, b []byte) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	csvOf := func(rows [][]string, comma rune, crlf bool) string {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Comma, w.UseCRLF = comma, crlf
		w.WriteAll(rows)
		return b.String()
	}

	// UTF-8 CSV with a customer number and a reading: 1..24.
	rows := [][]string{{"顧客番号", "氏名", "フリガナ", "メールアドレス", "電話番号", "住所", "生年月日"}}
	for _, i := range rng(1, 24) {
		p := ps[i]
		name, phone := p.name, p.phone
		if i%3 == 0 {
			name = strings.ReplaceAll(name, " ", "")
		}
		if i%4 == 3 {
			phone = strings.ReplaceAll(phone, "-", " ")
		}
		rows = append(rows, []string{strconv.Itoa(10000 + i), name, p.kana, p.email, phone, p.addr(), p.dobISO()})
		p.seen(fUTF8, cName, cEmail, cPhone, cAddr, cDOB)
	}
	// Excel's "CSV UTF-8": a byte-order mark and CRLF.
	put(fUTF8, []byte("\uFEFF"+csvOf(rows, ',', true)))

	// Shift_JIS: old kanji, full-width phones, upper-case addresses; the
	// Gmail customer with her plus tag and no phone.
	rows = [][]string{{"氏名", "ﾌﾘｶﾞﾅ", "メールアドレス", "電話番号"}}
	for _, i := range append(rng(16, 31), 39, 0) {
		p := ps[i]
		phone := fullWidth(strings.ReplaceAll(p.phone, "-", "－"))
		email := p.email
		if i%2 == 0 {
			email = strings.ToUpper(email)
		}
		if i == 22 {
			email = fullWidth(email)
		}
		p.seen(fSJIS, cName, cEmail)
		if i == 0 {
			phone = ""
		} else {
			p.seen(fSJIS, cPhone)
		}
		rows = append(rows, []string{strings.ReplaceAll(p.oldOrName(), " ", "\u3000"), width.Narrow.String(p.kana), email, phone})
	}
	sjis, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte(csvOf(rows, ',', true)))
	if err != nil {
		t.Fatal(err)
	}
	put(fSJIS, sjis)

	// The archive the attacker took: a nested CSV (+81 phones, slashed
	// dates) and a workbook.
	rows = [][]string{{"氏名", "電話番号", "生年月日"}}
	for _, i := range append(rng(5, 11), 35) {
		p := ps[i]
		rows = append(rows, []string{p.oldOrName(), p.phoneIntl("-"), fmt.Sprintf("%d/%d/%d", p.dob[0], p.dob[1], p.dob[2])})
		p.seen(fZip, cName, cPhone, cDOB)
	}
	book := [][]string{{"氏名", "メールアドレス"}}
	for _, i := range rng(32, 34) {
		book = append(book, []string{ps[i].name, ps[i].email})
		ps[i].seen(fZip, cName, cEmail)
	}
	inner := [][]string{{"name", "email"}}
	for _, i := range []int{31, 37} {
		inner = append(inner, []string{ps[i].name, ps[i].email})
		ps[i].seen(fZip, cName, cEmail)
	}
	taken := zipOf(t, map[string][]byte{
		"export/db/customers_2025.csv": []byte(csvOf(rows, ',', false)),
		"export/reports/list.xlsx":     xlsxOf(t, map[string][][]string{"一覧": book}),
		"export/old/2019.zip":          zipOf(t, map[string][]byte{"members.csv": []byte(csvOf(inner, ',', false))}),
	})
	put(fZip, taken)
	// The same archive, byte for byte, copied to another host.
	put(fCopy, taken)
	for _, p := range ps {
		if cs, ok := p.inFiles[fZip]; ok {
			p.seen(fCopy, cs...)
		}
	}

	// SQLite: a customers table (+81 phones without separators, cards), an
	// orders table with no personal data.
	dbPath := filepath.Join(root, fSQLite)
	os.MkdirAll(filepath.Dir(dbPath), 0o755)
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, kana TEXT, email TEXT, tel TEXT, address TEXT, birthday TEXT, card_no TEXT)`,
		`CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, sku TEXT, amount INTEGER)`,
		`INSERT INTO orders (customer_id, sku, amount) VALUES (1, 'A-100', 3000), (2, 'B-200', 12000)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range append(append(rng(12, 15), rng(25, 30)...), 32, 33, 36, 37, 38, 39) {
		p := ps[i]
		var card any
		p.seen(fSQLite, cName, cEmail, cPhone, cAddr, cDOB)
		if p.card != "" {
			card = p.card
			p.seen(fSQLite, cCard)
		}
		addr := p.addrHyphen()
		if i%2 == 0 {
			addr = fmt.Sprintf("%s%d丁目%d番地%d", p.town, p.block[0], p.block[1], p.block[2])
		}
		if _, err := db.Exec(`INSERT INTO customers (name, kana, email, tel, address, birthday, card_no) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			p.name, p.kana, p.email, strings.ReplaceAll(p.phoneIntl(""), " ", ""), addr, p.dobISO(), card); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`CREATE TABLE 会員 (会員番号 INTEGER PRIMARY KEY, 氏名 TEXT, メールアドレス TEXT)`); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{30, 31} {
		if _, err := db.Exec(`INSERT INTO 会員 (氏名, メールアドレス) VALUES (?, ?)`, ps[i].name, ps[i].email); err != nil {
			t.Fatal(err)
		}
		ps[i].seen(fSQLite, cName, cEmail)
	}
	db.Close()

	// UTF-16LE with a BOM: the household's landline, +81 with spaces,
	// dates in 年月日.
	rows = [][]string{{"氏名", "電話番号", "生年月日"}}
	for _, i := range []int{2, 3, 4, 17, 18, 33, 38} {
		p := ps[i]
		dob := fmt.Sprintf("%d年%d月%d日", p.dob[0], p.dob[1], p.dob[2])
		if i%2 == 1 {
			dob = fmt.Sprintf("昭和%d年%d月%d日", p.dob[0]-1925, p.dob[1], p.dob[2])
		}
		rows = append(rows, []string{p.oldOrName(), p.phoneIntl(" "), dob})
		p.seen(fUTF16, cName, cPhone, cDOB)
	}
	u := utf16.Encode([]rune(csvOf(rows, '\t', true)))
	u16 := []byte{0xFF, 0xFE}
	for _, c := range u {
		u16 = append(u16, byte(c), byte(c>>8))
	}
	put(fUTF16, u16)

	// A workbook of two sheets sharing strings: e-mails on one, 1-2-3
	// addresses on the other.
	mails := [][]string{{"氏名", "メールアドレス"}}
	for _, i := range []int{6, 20, 21, 36} {
		name := ps[i].oldOrName()
		if i == 20 {
			// The reading in brackets, as some order systems write it.
			name += "（" + ps[i].kana + "）"
		}
		mails = append(mails, []string{name, ps[i].email})
		ps[i].seen(fBook, cName, cEmail)
	}
	ship := [][]string{{"お名前", "住所"}}
	for _, i := range []int{1, 2, 21, 24, 36, 38} {
		ship = append(ship, []string{ps[i].oldOrName(), ps[i].addrHyphen()})
		ps[i].seen(fBook, cName, cAddr)
	}
	// Numbers as Excel keeps them: a phone without its leading 0, a birth
	// date as a serial day.
	serial := func(p *reviewPerson) string {
		d := time.Date(p.dob[0], time.Month(p.dob[1]), p.dob[2], 0, 0, 0, 0, time.UTC)
		return "=" + strconv.Itoa(int(d.Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)).Hours()/24))
	}
	nums := [][]string{{"氏名", "電話番号", "生年月日"},
		{ps[23].name, "=" + strings.ReplaceAll(ps[23].phone, "-", "")[1:], ""},
		{ps[19].name, "", serial(ps[19])}}
	ps[23].seen(fBook, cName, cPhone)
	ps[19].seen(fBook, cName, cDOB)
	put(fBook, xlsxOf(t, map[string][][]string{"顧客": mails, "配送先": ship, "電話": nums}))

	// An older archive on another host, not taken: the Gmail customer
	// without her tag, with her birthday.
	rows = [][]string{{"氏名", "メールアドレス", "生年月日"}}
	for _, i := range []int{0, 7, 37, 3, 38} {
		p := ps[i]
		email := p.email
		switch i {
		case 0:
			email = "hanakosato@gmail.com"
		case 3, 38:
			email = family
		}
		rows = append(rows, []string{p.name, email, p.dobISO()})
		p.seen(fOldZip, cName, cEmail, cDOB)
	}
	put(fOldZip, zipOf(t, map[string][]byte{"members/list.csv": []byte("\uFEFF" + csvOf(rows, ',', false))}))

	// A family-name / given-name split, as many CRMs export.
	rows = [][]string{{"姓", "名", "セイ", "メイ", "メールアドレス", "携帯電話"}}
	for _, i := range []int{8, 9, 26, 40} {
		p := ps[i]
		n, k := strings.Fields(p.name), strings.Fields(p.kana)
		rows = append(rows, []string{n[0], n[1], k[0], k[1], p.email, p.phone})
		p.seen(fSplit, cName, cEmail, cPhone)
	}
	put(fSplit, []byte(csvOf(rows, ',', false)))

	// A mailing list without names: each address belongs to one customer.
	rows = [][]string{{"email", "subscribed"}}
	for _, i := range []int{13, 14, 29} {
		rows = append(rows, []string{ps[i].email, "2024-01-01"})
		ps[i].seen(fNews, cEmail)
	}
	rows = append(rows, []string{"Hanako.Sato@googlemail.com", "2024-02-01"})
	ps[0].seen(fNews, cEmail)
	put(fNews, []byte(csvOf(rows, ',', false)))

	// An English web form: the name in romaji.
	put(fEnglish, []byte("Name,Email\nMisaki Takahashi,"+ps[2].email+"\n"))
	ps[2].seen(fEnglish, cName, cEmail)
	// A call list: the reading only, and a phone.
	put(fCalls, []byte("フリガナ,電話番号\n"+ps[10].kana+","+ps[10].phone+"\n"))
	ps[10].seen(fCalls, cName, cPhone)
	// A gift order names two people in one row: who ordered (with the
	// e-mail) and who receives (with the address and phone).
	put(fGift, []byte(csvOf([][]string{{"注文番号", "注文者氏名", "注文者メールアドレス", "お届け先氏名", "お届け先住所", "お届け先電話番号"},
		{"A-0001", ps[15].name, ps[15].email, ps[14].name, ps[14].addr(), ps[14].phone}}, ',', false)))
	ps[15].seen(fGift, cName, cEmail)
	ps[14].seen(fGift, cName, cAddr, cPhone)
	// A legacy export without a header row, and a JSON one.
	put(fNoHead, []byte(csvOf([][]string{{ps[28].name, ps[28].email, ps[28].phone}, {ps[29].name, ps[29].email, ps[29].phone}}, ',', false)))
	ps[28].seen(fNoHead, cName, cEmail, cPhone)
	ps[29].seen(fNoHead, cName, cEmail, cPhone)
	put(fJSON, []byte(fmt.Sprintf(`[{"name":%q,"email":%q,"tel":%q},{"name":%q,"email":%q,"tel":%q}]`,
		ps[17].name, ps[17].email, ps[17].phone, ps[18].name, ps[18].email, ps[18].phone)))
	ps[17].seen(fJSON, cName, cEmail, cPhone)
	ps[18].seen(fJSON, cName, cEmail, cPhone)

	// Letters: a postal code, a full-width 1-2-3 address, the name with 様.
	for _, l := range []struct {
		file string
		i    int
	}{{fLetterA, 4}, {fLetterB, 39}} {
		p := ps[l.i]
		put(l.file, []byte(fmt.Sprintf("〒%s\n%s%s\n\n%s 様\n\nいつも当店をご利用いただきありがとうございます。\n",
			p.postal, p.town, fullWidth(fmt.Sprintf("%d-%d-%d", p.block[0], p.block[1], p.block[2])), p.name)))
		p.seen(l.file, cPost, cAddr, cName)
	}
	// A name alone: a mention of one of the two 山田 太郎, not a third.
	put(fMemo, []byte("お名前: 山田 太郎\n"))

	// The bulk of the customer base: thousands more, in a table large
	// enough to travel in several parts, half of them again in a Shift_JIS
	// TSV on another host. Names repeat (about two people per name), so
	// most have a namesake who shares nothing else.
	families := []string{"佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田", "佐々木",
		"山口", "松本", "井上", "木村", "林", "斎藤", "清水", "山崎", "森", "池田", "橋本", "阿部", "石川", "山下", "中島", "石井",
		"小川", "前田", "岡田", "長谷川", "藤田", "後藤", "近藤", "村上", "遠藤", "青木", "坂本"}
	givens := []string{"太郎", "花子", "一郎", "美咲", "健", "陽子", "大輔", "恵", "翔太", "真由美", "誠", "直樹", "由美", "拓也",
		"愛", "浩", "明美", "亮", "智子", "悠斗", "蓮", "陽翔", "結衣", "葵", "湊", "凛", "樹", "さくら", "大和", "美月",
		"颯太", "結菜", "悠真", "芽依", "陸", "莉子", "奏", "心春", "朝陽", "楓"}
	big := [][]string{{"会員ID", "氏名", "メールアドレス", "電話番号", "住所", "生年月日"}}
	again := [][]string{{"氏名", "携帯番号"}}
	for j := range reviewCrowd {
		p := &reviewPerson{name: families[j%len(families)] + " " + givens[(j/len(families)+j)%len(givens)],
			email: fmt.Sprintf("member%05d@example.org", j), phone: fmt.Sprintf("0%d0-9%03d-%04d", 7+j%3, j/10000, j%10000),
			town: reviewTowns[j%len(reviewTowns)], block: [3]int{1 + j%50, 1 + j/50%50, 1 + j/2500},
			dob: [3]int{1940 + j%60, 1 + j/60%12, 1 + j/720%28}}
		big = append(big, []string{fmt.Sprintf("M%06d", j), p.name, p.email, p.phone, p.addr(), p.dobISO()})
		p.seen(fBig, cName, cEmail, cPhone, cAddr, cDOB)
		if j%2 == 0 {
			again = append(again, []string{strings.ReplaceAll(p.name, " ", "\u3000"), fullWidth(p.phone)})
			p.seen(fAgain, cName, cPhone)
		}
		ps = append(ps, p)
	}
	put(fBig, []byte(csvOf(big, ',', false)))
	sjisTSV, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte(csvOf(again, '\t', true)))
	if err != nil {
		t.Fatal(err)
	}
	put(fAgain, sjisTSV)
	return ps
}

// reviewCrowd is how many more customers the corpus holds in bulk.
const reviewCrowd = 3000

func zipOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range files {
			if !yield(n) {
				return
			}
		}
	})
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// xlsxOf writes a workbook with one sheet per entry (in name order), text
// cells as shared strings used across sheets, as Excel writes them; a
// value "=N" is a number cell.
func xlsxOf(t *testing.T, sheets map[string][][]string) []byte {
	t.Helper()
	var shared []string
	index := map[string]int{}
	files := map[string][]byte{}
	var wb, rels, types strings.Builder
	wb.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>`)
	rels.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	types.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>`)
	names := make([]string, 0, len(sheets))
	for n := range sheets {
		names = append(names, n)
	}
	slices.Sort(names)
	for si, name := range names {
		var sheet strings.Builder
		sheet.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
		for i, row := range sheets[name] {
			fmt.Fprintf(&sheet, `<row r="%d">`, i+1)
			for j, v := range row {
				if n, ok := strings.CutPrefix(v, "="); ok {
					fmt.Fprintf(&sheet, `<c r="%c%d"><v>%s</v></c>`, 'A'+j, i+1, n)
					continue
				}
				k, ok := index[v]
				if !ok {
					k = len(shared)
					index[v] = k
					shared = append(shared, v)
				}
				fmt.Fprintf(&sheet, `<c r="%c%d" t="s"><v>%d</v></c>`, 'A'+j, i+1, k)
			}
			sheet.WriteString(`</row>`)
		}
		sheet.WriteString(`</sheetData></worksheet>`)
		files[fmt.Sprintf("xl/worksheets/sheet%d.xml", si+1)] = []byte(sheet.String())
		fmt.Fprintf(&wb, `<sheet name="%s" sheetId="%d" r:id="rId%d"/>`, name, si+1, si+1)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, si+1, si+1)
		fmt.Fprintf(&types, `<Override PartName="/xl/worksheets/sheet%d.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`, si+1)
	}
	wb.WriteString(`</sheets></workbook>`)
	fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`, len(names)+1)
	types.WriteString(`<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`)
	var sst strings.Builder
	fmt.Fprintf(&sst, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, len(shared), len(shared))
	for _, s := range shared {
		sst.WriteString(`<si><t xml:space="preserve">` + s + `</t></si>`)
	}
	sst.WriteString(`</sst>`)
	files["[Content_Types].xml"] = []byte(types.String())
	files["xl/workbook.xml"] = []byte(wb.String())
	files["xl/_rels/workbook.xml.rels"] = []byte(rels.String())
	files["xl/sharedStrings.xml"] = []byte(sst.String())
	return zipOf(t, files)
}

// reviewMaster is the customer master data: half of the customers (one of
// the two 山田 太郎, both of the household), written as a Japanese CRM
// exports it: Shift_JIS with CRLF, family and given names apart, phones as
// +81(0), some addresses in kanji numerals, some rows without e-mail or
// phone; and two customers no host holds.
func reviewMaster(t *testing.T, ps []*reviewPerson) ([]byte, map[int]bool) {
	t.Helper()
	kanji := []string{"〇", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}
	num := func(n int) string {
		switch {
		case n <= 10:
			return kanji[n]
		case n < 20:
			return "十" + kanji[n-10]
		}
		return kanji[n/10] + "十" + strings.TrimPrefix(kanji[n%10], "〇")
	}
	in := map[int]bool{}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	w.Write([]string{"顧客ID", "姓", "名", "メールアドレス", "電話番号", "郵便番号", "住所", "言語"})
	for _, i := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 16, 20, 24, 25, 30, 32, 36, 38} {
		p := ps[i]
		in[i] = true
		email, phone, addr := p.email, "+81(0)"+p.phone[1:], p.addrHyphen()
		switch i {
		case 0:
			email = "Hanako.Sato@gmail.com"
		case 24:
			email, phone = "", ""
		case 36:
			email = ""
		}
		if i%3 == 0 {
			addr = fmt.Sprintf("%s%s丁目%s番%s号", p.town, num(p.block[0]), num(p.block[1]), num(p.block[2]))
			if p.flat != "" {
				addr += p.flat
			}
		}
		n := strings.Fields(p.oldOrName())
		w.Write([]string{fmt.Sprintf("C%05d", i), n[0], n[1], email, phone, p.postal, addr, "ja"})
	}
	w.Write([]string{"C90001", "西村", "京子", "kyoko.nishimura@example.jp", "+81-90-9999-0001", "150-0001", "東京都渋谷区神宮前5-5-5", "ja"})
	w.Write([]string{"C90002", "Clark", "Emily", "emily.clark@example.com", "+1-415-555-0142", "94105", "500 Market St, San Francisco, CA 94105", "en"})
	w.Flush()
	sjis, err := japanese.ShiftJIS.NewEncoder().Bytes(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return sjis, in
}

// hostOf is the host a corpus file is on.
func hostOf(file string) string { return file[:strings.IndexByte(file, '/')] }

// reviewWant is what the register must say of a person: categories with
// their exposure when fZip is exfiltrated (or not).
func reviewWant(p *reviewPerson, taken bool) (cats map[string]string, level string, hosts []string) {
	cats = map[string]string{}
	rank := map[string]int{"present": 0, "exfiltrated": 2}
	level = "present"
	for f, cs := range p.inFiles {
		lv := "present"
		if taken && f == fZip {
			lv = "exfiltrated"
		}
		for _, c := range cs {
			if rank[lv] >= rank[cats[c]] {
				cats[c] = lv
			}
		}
		if rank[lv] > rank[level] {
			level = lv
		}
		if !slices.Contains(hosts, hostOf(f)) {
			hosts = append(hosts, hostOf(f))
		}
	}
	slices.Sort(hosts)
	return cats, level, hosts
}

// byName indexes people by normalised name, for identify.
var byName = struct {
	sync.Mutex
	m map[*reviewPerson]map[string][]int
}{m: map[*reviewPerson]map[string][]int{}}

// identify finds the people a register row may be, by name and one
// contact or address value.
func identify(ps []*reviewPerson, name, email, phone, addr string) []int {
	byName.Lock()
	idx, ok := byName.m[ps[0]]
	if !ok {
		idx = map[string][]int{}
		for i, p := range ps {
			n := scope.NormalizeName(p.name)
			idx[n] = append(idx[n], i)
		}
		byName.m[ps[0]] = idx
	}
	byName.Unlock()
	var out []int
	for _, i := range idx[scope.NormalizeName(name)] {
		p := ps[i]
		e := scope.NormalizeEmail(email)
		if e != "" && e == scope.NormalizeEmail(p.email) || e == family && (i == 3 || i == 38) ||
			phone != "" && scope.NormalizePhone(phone, "JP") == scope.NormalizePhone(p.phone, "JP") && i != 3 && i != 38 ||
			addr != "" && scope.NormalizeAddress(addr) == scope.NormalizeAddress(p.addr()) {
			out = append(out, i)
		}
	}
	return out
}

type reviewRow struct {
	Who        string // the truth: index and name
	Categories string
	Exposure   string
	Matched    bool
	Hosts      string
	Country    string
}

func wantRows(ps []*reviewPerson, master map[int]bool, taken bool, hostName func(string) string) []reviewRow {
	var out []reviewRow
	for i, p := range ps {
		cats, level, hosts := reviewWant(p, taken)
		var cs []string
		for c, lv := range cats {
			cs = append(cs, c+":"+lv)
		}
		slices.Sort(cs)
		for j := range hosts {
			hosts[j] = hostName(hosts[j])
		}
		slices.Sort(hosts)
		// The country of residence comes from an address or a phone.
		country := ""
		if master[i] || cats[cAddr] != "" || cats[cPhone] != "" {
			country = "JP"
		}
		out = append(out, reviewRow{fmt.Sprintf("%04d %s", i, p.name), strings.Join(cs, ";"), level, master[i], strings.Join(hosts, ";"), country})
	}
	return out
}

// gotRows maps register rows (people.csv columns) to the truth.
func gotRows(t *testing.T, ps []*reviewPerson, rows []map[string]string, hostName func(string) string) []reviewRow {
	t.Helper()
	var out []reviewRow
	for _, r := range rows {
		who := "?? " + r["name"] + " " + r["email"] + " " + r["phone"]
		switch ids := identify(ps, r["name"], r["email"], r["phone"], r["address"]); len(ids) {
		case 1:
			who = fmt.Sprintf("%04d %s", ids[0], ps[ids[0]].name)
		case 0:
		default:
			who = fmt.Sprintf("?? several %v", ids)
		}
		cs := strings.Split(r["categories"], ";")
		slices.Sort(cs)
		hosts := strings.Split(r["hosts"], ";")
		for j := range hosts {
			hosts[j] = hostName(hosts[j])
		}
		slices.Sort(hosts)
		out = append(out, reviewRow{who, strings.Join(cs, ";"), r["exposure"], r["matched_master"] == "true", strings.Join(hosts, ";"), r["country"]})
	}
	slices.SortFunc(out, func(a, b reviewRow) int { return strings.Compare(a.Who+a.Categories, b.Who+b.Categories) })
	return out
}

func parseCSV(t *testing.T, b []byte) []map[string]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("csv: %v\n%s", err, b)
	}
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// TestScopeReviewCorpus is issue 12's review against the server path: three
// real agents sweep their hosts with pii over mutual TLS, the server builds
// the register, the master data is uploaded, one archive is marked
// exfiltrated; then the same hosts go through the offline path (scan
// --pii --reveal, scope --pii-results) and the two registers must agree.
func TestScopeReviewCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end fleet test")
	}
	storetest.ForEachBackend(t, scopeReview)
}

func scopeReview(t *testing.T, dsn string) {
	root := t.TempDir()
	ps := reviewCorpus(t, root)
	for i, p := range ps {
		if !p.linked() {
			t.Fatalf("corpus: the files of person %d (%s) share no key: %v", i, p.name, p.inFiles)
		}
	}
	masterCSV, inMaster := reviewMaster(t, ps)
	hostNames := []string{"web01", "db01", "pc01"}
	zipPath := filepath.Join(root, fZip)

	dir := filepath.Join(t.TempDir(), "data")
	var db []string
	if strings.HasPrefix(dsn, "postgres") {
		db = []string{"--db", dsn}
	}
	srvURL, _ := startServer(t, dir, db...)
	caPath := filepath.Join(dir, "ca.pem")
	caPEM, err := os.ReadFile(caPath)
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{}
	for _, role := range []string{"admin", "responder", "privacy", "viewer"} {
		code, out, errs := runCmd(append([]string{"user", "add", "--data", dir, "--name", role + "-user", "--role", role}, db...)...)
		if code != 0 {
			t.Fatalf("user add %s: %s", role, errs)
		}
		tokens[role] = strings.TrimSpace(out)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	call := func(role, method, path string, body any) (int, []byte) {
		t.Helper()
		var rd io.Reader
		switch b := body.(type) {
		case nil:
		case []byte:
			rd = bytes.NewReader(b)
		default:
			j, _ := json.Marshal(b)
			rd = bytes.NewReader(j)
		}
		req, _ := http.NewRequest(method, srvURL+"/api/v1"+path, rd)
		req.Header.Set("Authorization", "Bearer "+tokens[role])
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	must := func(role, method, path string, body, out any) []byte {
		t.Helper()
		code, b := call(role, method, path, body)
		if code/100 != 2 {
			t.Fatalf("%s %s as %s: %d %s", method, path, role, code, b)
		}
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("%s %s: %v in %s", method, path, err, b)
			}
		}
		return b
	}

	// Three real agents, one per host directory.
	enroll, err := os.ReadFile(filepath.Join(dir, "enroll.token"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	// A fourth host outside the incident holds one of its customers and a
	// stranger: neither may reach the incident's register.
	writeFile(t, filepath.Join(root, "hr01", "staff.csv"), "氏名,メールアドレス,電話番号\n"+ps[5].name+","+ps[5].email+","+ps[5].phone+
		"\n北村 誠司,seiji.kitamura@example.jp,090-8888-7777\n")
	for _, h := range append(hostNames, "hr01") {
		args := []string{"agent", "--server", srvURL, "--ca", caPath, "--enroll-token", strings.TrimSpace(string(enroll)),
			"--data", filepath.Join(t.TempDir(), h), "--name", h, "--scan-path", filepath.Join(root, h)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out strings.Builder
			if code := run(ctx, args, io.Discard, &out); code != 0 && ctx.Err() == nil {
				t.Errorf("agent %s: exit %d: %s", h, code, out.String())
			}
		}()
	}
	ids := map[string]string{}
	waitFor(t, "four agents online", func() bool {
		var hs []struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Online bool   `json:"online"`
		}
		must("responder", "GET", "/hosts", nil, &hs)
		for _, h := range hs {
			if h.Online {
				ids[h.Name] = h.ID
			}
		}
		return len(ids) == 4
	})
	byID := map[string]string{}
	for n, id := range ids {
		byID[id] = n
	}
	started := time.Now()
	var sweeps []string
	for _, h := range append(hostNames, "hr01") {
		var sw struct{ ID string }
		must("responder", "POST", "/sweeps", map[string]any{"paths": []string{filepath.Join(root, h)}, "hosts": []string{ids[h]}, "pii": true}, &sw)
		sweeps = append(sweeps, sw.ID)
	}
	var inc struct{ ID string }
	must("responder", "POST", "/incidents", map[string]any{"title": "customer data breach", "hosts": []string{ids["web01"], ids["db01"], ids["pc01"]}, "reason": "review"}, &inc)
	for _, id := range sweeps {
		waitFor(t, "sweep "+id, func() bool {
			var sw struct {
				State string
				Hosts []struct{ State, Error string }
			}
			must("responder", "GET", "/sweeps/"+id, nil, &sw)
			if strings.HasPrefix(sw.State, "done") {
				for _, h := range sw.Hosts {
					if h.Error != "" {
						t.Errorf("sweep %s: %s", id, h.Error)
					}
				}
				return true
			}
			return false
		})
	}
	// Every file with personal data reached the server.
	wantFiles := []string{fUTF8, fSJIS, fZip, fSQLite, fUTF16, fBook, fOldZip, fLetterA, fLetterB, fMemo, fSplit, fCopy, fNews, fEnglish, fCalls, fGift, fNoHead, fJSON, fBig, fAgain}
	var files []scopeapi.FileView
	waitFor(t, "the pii files", func() bool {
		must("responder", "GET", "/incidents/"+inc.ID+"/pii-files?limit=1000", nil, &files)
		return len(files) >= len(wantFiles) && !slices.ContainsFunc(files, func(f scopeapi.FileView) bool { return f.PartsSeen < f.Parts })
	})
	var gotFiles []string
	for _, f := range files {
		rel, _ := filepath.Rel(root, f.Path)
		gotFiles = append(gotFiles, rel)
		if want := byID[f.Host]; hostOf(rel) != want {
			t.Errorf("file %s reported by host %s", rel, want)
		}
	}
	for _, f := range files {
		if strings.HasSuffix(f.Path, fBig) && (f.Parts < 2 || f.PartsSeen != f.Parts || f.Subjects != reviewCrowd) {
			t.Errorf("%s: %d subjects in %d of %d parts, want %d subjects in several", fBig, f.Subjects, f.PartsSeen, f.Parts, reviewCrowd)
		}
	}
	slices.Sort(gotFiles)
	slices.Sort(wantFiles)
	if diff := cmp.Diff(gotFiles, wantFiles); diff != "" {
		t.Errorf("pii files (-got +want):\n%s", diff)
	}
	t.Logf("sweeps and ingest: %v", time.Since(started))

	// The fourth host's results are its own incident's: two people there.
	var other struct{ ID string }
	must("responder", "POST", "/incidents", map[string]any{"title": "HR share", "hosts": []string{ids["hr01"]}, "reason": "review"}, &other)
	var otherSum scopeapi.SummaryView
	waitFor(t, "the fourth host's file", func() bool {
		must("viewer", "GET", "/incidents/"+other.ID+"/people/summary", nil, &otherSum)
		return otherSum.Files == 1
	})
	if otherSum.People != 2 {
		t.Errorf("the fourth host's incident: %+v", otherSum)
	}

	// The master data, uploaded by privacy.
	var mv scopeapi.MasterView
	must("privacy", "POST", "/incidents/"+inc.ID+"/master?name=crm.csv&reason="+url.QueryEscape("CRM export"), masterCSV, &mv)
	if mv.Rows != 22 {
		t.Errorf("master: %+v", mv)
	}

	serverRows := func() []map[string]string {
		t.Helper()
		return parseCSV(t, must("privacy", "POST", "/incidents/"+inc.ID+"/people/export", scopeapi.ExportRequest{Format: "csv", Reason: "review the register"}, nil))
	}
	hostName := func(h string) string {
		if n, ok := byID[h]; ok {
			return n
		}
		return h
	}
	same := func(h string) string { return h }
	check := func(what string, rows []map[string]string, taken bool, hostName func(string) string) {
		t.Helper()
		got := gotRows(t, ps, rows, hostName)
		want := wantRows(ps, inMaster, taken, same)
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("%s register (-got +want):\n%s", what, diff)
		}
	}

	built := time.Now()
	before := serverRows()
	t.Logf("register build: %v", time.Since(built))
	if len(before) != len(ps) {
		t.Errorf("server register: %d people, want %d", len(before), len(ps))
	}
	check("server", before, false, hostName)

	// One archive on one host is taken: exactly its people rise.
	var er scopeapi.ExposureResult
	must("responder", "POST", "/incidents/"+inc.ID+"/exposure", scopeapi.ExposureRequest{Host: ids["web01"], Path: "*/backup/export.zip", Level: "exfiltrated", Reason: "seen in the proxy log"}, &er)
	var wantTaken []string
	for i, p := range ps {
		if _, ok := p.inFiles[fZip]; ok {
			wantTaken = append(wantTaken, fmt.Sprintf("%04d %s", i, p.name))
		}
	}
	if er.Files != 1 || er.People != len(wantTaken) {
		t.Errorf("exposure: %+v, want 1 file, %d people", er, len(wantTaken))
	}
	after := serverRows()
	check("server after the exposure", after, true, hostName)
	var gotTaken []string
	for _, r := range gotRows(t, ps, after, hostName) {
		if r.Exposure == "exfiltrated" {
			gotTaken = append(gotTaken, r.Who)
		}
	}
	if diff := cmp.Diff(gotTaken, wantTaken); diff != "" {
		t.Errorf("exfiltrated people (-got +want):\n%s", diff)
	}

	// The summary agrees, and a viewer gets the counts but no person.
	var sum scopeapi.SummaryView
	must("viewer", "GET", "/incidents/"+inc.ID+"/people/summary", nil, &sum)
	if sum.People != len(ps) || sum.MatchedMaster != len(inMaster) || sum.ByExposure["exfiltrated"] != len(wantTaken) ||
		sum.FinancialRisk != 2 || sum.ByCountry["JP"] != len(ps)-1 || sum.NoContact != 0 {
		t.Errorf("summary: %+v", sum)
	}
	raw := must("viewer", "GET", "/incidents/"+inc.ID+"/people/summary", nil, nil)
	for _, p := range ps {
		for _, v := range []string{p.name, p.email, strings.Split(p.name, " ")[0], strings.ReplaceAll(p.phone, "-", "")[1:]} {
			if bytes.Contains(raw, []byte(v)) {
				t.Errorf("viewer's summary holds %q: %s", v, raw)
			}
		}
	}
	for _, path := range []string{"/people", "/people/export"} {
		if code, b := call("viewer", "GET", "/incidents/"+inc.ID+path, nil); code != http.StatusForbidden {
			t.Errorf("viewer GET %s: %d %s", path, code, b)
		}
	}
	var masked []scopeapi.PersonView
	for after := ""; ; {
		var page []scopeapi.PersonView
		must("responder", "GET", "/incidents/"+inc.ID+"/people?limit=1000&after="+after, nil, &page)
		if len(page) == 0 {
			break
		}
		masked = append(masked, page...)
		after = page[len(page)-1].ID
	}
	if len(masked) != len(ps) {
		t.Errorf("masked people: %d", len(masked))
	}
	named := ps[:len(reviewNames)]
	for _, m := range masked {
		for _, p := range named {
			if m.Email == p.email || strings.Contains(m.Name, p.name) || strings.Contains(m.Phone, strings.ReplaceAll(p.phone, "-", "")[1:]) {
				t.Errorf("responder sees %s unmasked: %+v", p.name, m)
			}
		}
	}

	// An audited reveal (privacy) of the taken 山田 太郎.
	var yamada string
	for _, r := range after {
		if ids := identify(ps, r["name"], r["email"], r["phone"], r["address"]); len(ids) == 1 && ids[0] == 11 {
			yamada = r["person_id"]
		}
	}
	if code, _ := call("responder", "POST", "/incidents/"+inc.ID+"/people/"+yamada+"/reveal", map[string]string{"reason": "check"}); code != http.StatusForbidden {
		t.Errorf("responder reveal: %d", code)
	}
	var rv scopeapi.RevealView
	must("privacy", "POST", "/incidents/"+inc.ID+"/people/"+yamada+"/reveal", map[string]string{"reason": "notice letter for the taken archive"}, &rv)
	if rv.Name != "山田 太郎" || scope.NormalizeEmail(rv.Email) != ps[11].email {
		t.Errorf("reveal: %+v", rv)
	}
	var audit []struct{ Action, Target, Reason, Actor string }
	must("admin", "GET", "/audit?limit=1000", nil, &audit)
	if !slices.ContainsFunc(audit, func(e struct{ Action, Target, Reason, Actor string }) bool {
		return e.Action == "scope.reveal" && e.Target == inc.ID+"/"+yamada && e.Reason == "notice letter for the taken archive"
	}) {
		t.Errorf("no audited reveal of %s in %+v", yamada, audit)
	}
	for _, want := range []string{"scope.master", "scope.exposure", "scope.export_revealed"} {
		if !slices.ContainsFunc(audit, func(e struct{ Action, Target, Reason, Actor string }) bool { return e.Action == want }) {
			t.Errorf("no %s in the audit log", want)
		}
	}

	// The audit log names who saw what, never a value.
	rawAudit := must("admin", "GET", "/audit?limit=1000", nil, nil)
	for _, p := range ps {
		for _, v := range []string{p.name, p.email, p.phone} {
			if bytes.Contains(rawAudit, []byte(v)) {
				t.Errorf("the audit log holds %q", v)
			}
		}
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/pii-files"}, {"POST", "/people/" + yamada + "/reveal"}, {"GET", "/people/proposals"}, {"POST", "/exposure"}, {"POST", "/master?reason=x"},
	} {
		if code, b := call("viewer", c.method, "/incidents/"+inc.ID+c.path, map[string]string{"reason": "curious"}); code != http.StatusForbidden {
			t.Errorf("viewer %s %s: %d %s", c.method, c.path, code, b)
		}
	}

	// A second sweep of a host changes nobody.
	var sw struct{ ID string }
	must("responder", "POST", "/sweeps", map[string]any{"paths": []string{filepath.Join(root, "web01")}, "hosts": []string{ids["web01"]}, "pii": true}, &sw)
	waitFor(t, "the second sweep", func() bool {
		var v struct{ State string }
		must("responder", "GET", "/sweeps/"+sw.ID, nil, &v)
		return strings.HasPrefix(v.State, "done")
	})
	waitFor(t, "the second sweep's files", func() bool {
		var fs []scopeapi.FileView
		must("responder", "GET", "/incidents/"+inc.ID+"/pii-files?limit=1000", nil, &fs)
		n := 0
		for _, f := range fs {
			if f.SweepID == sw.ID {
				n++
			}
		}
		want := 0
		for _, f := range wantFiles {
			if hostOf(f) == "web01" {
				want++
			}
		}
		return n == want
	})
	again := serverRows()
	if diff := cmp.Diff(gotRows(t, ps, again, hostName), gotRows(t, ps, after, hostName)); diff != "" {
		t.Errorf("after a second sweep (-got +want):\n%s", diff)
	}
	// Person ids are stable: the same people keep their ids.
	idsOf := func(rows []map[string]string) map[string]string {
		out := map[string]string{}
		for _, r := range rows {
			ids := identify(ps, r["name"], r["email"], r["phone"], r["address"])
			out[fmt.Sprint(ids)] = r["person_id"] + " " + r["key"]
		}
		return out
	}
	if diff := cmp.Diff(idsOf(again), idsOf(after)); diff != "" {
		t.Errorf("person ids after a second sweep (-got +want):\n%s", diff)
	}
	must("responder", "GET", "/incidents/"+inc.ID+"/pii-files?limit=1000", nil, &files)
	if len(files) != len(wantFiles) {
		t.Errorf("%d files after a second sweep, want %d", len(files), len(wantFiles))
	}
	for _, f := range files {
		rel, _ := filepath.Rel(root, f.Path)
		if want := map[bool]string{true: "exfiltrated", false: "present"}[rel == fZip]; f.Exposure != want {
			t.Errorf("%s on %s: %s, want %s", rel, byID[f.Host], f.Exposure, want)
		}
	}

	// No value reaches the server's disk in the clear.
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		for _, p := range named {
			for _, v := range []string{p.name, p.email, strings.ReplaceAll(p.phoneIntl(""), " ", "")} {
				if bytes.Contains(b, []byte(v)) {
					t.Errorf("%s holds %q in the clear", path, v)
				}
			}
		}
		return nil
	})

	// The offline path over the same hosts: the same register.
	work := t.TempDir()
	master := filepath.Join(work, "crm.csv")
	writeFile(t, master, string(masterCSV))
	exposure := filepath.Join(work, "exposure.txt")
	writeFile(t, exposure, "exfiltrated,web01:"+zipPath+"\n")
	args := []string{"scope", "--key-file", filepath.Join(work, "scope.key"), "--master", master, "--exposure", exposure, "--out", filepath.Join(work, "out")}
	for _, h := range hostNames {
		out, errOut, code := mamori(t, "scan", "--pii", "--reveal", "--format", "ndjson", "--no-progress", filepath.Join(root, h))
		if code != 1 {
			t.Fatalf("scan %s: exit %d: %s", h, code, errOut)
		}
		f := filepath.Join(work, h+".ndjson")
		writeFile(t, f, out)
		args = append(args, "--pii-results", h+"="+f)
	}
	if out, errOut, code := mamori(t, args...); code != 0 {
		t.Fatalf("scope: exit %d: %s%s", code, out, errOut)
	}
	b, err := os.ReadFile(filepath.Join(work, "out", "people.csv"))
	if err != nil {
		t.Fatal(err)
	}
	offline := parseCSV(t, b)
	check("offline", offline, true, same)
	if diff := cmp.Diff(gotRows(t, ps, offline, same), gotRows(t, ps, after, hostName)); diff != "" {
		t.Errorf("offline and server registers differ (-offline +server):\n%s", diff)
	}
	var offSum scope.Summary
	b, _ = os.ReadFile(filepath.Join(work, "out", "summary.json"))
	if err := json.Unmarshal(b, &offSum); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what          string
		offline, serv int
	}{
		{"people", offSum.People, sum.People}, {"matched", offSum.MatchedMaster, sum.MatchedMaster},
		{"exfiltrated", offSum.ByExposure["exfiltrated"], sum.ByExposure["exfiltrated"]}, {"mentions", offSum.Mentions, sum.Mentions},
		{"proposals", offSum.Proposals, sum.Proposals}, {"no contact", offSum.NoContact, sum.NoContact},
	} {
		if c.offline != c.serv {
			t.Errorf("%s: offline %d, server %d", c.what, c.offline, c.serv)
		}
	}
	var props []scopeapi.ProposalView
	must("privacy", "GET", "/incidents/"+inc.ID+"/people/proposals", nil, &props)
	for _, p := range props {
		t.Logf("proposal %s: %s | %s (%s: %s)", p.ID, strings.ReplaceAll(p.A, root, ""), strings.ReplaceAll(p.B, root, ""), p.Key, p.Reason)
	}
	t.Logf("server summary: %d people, %d matched, %d exfiltrated, %d mentions, %d proposals", sum.People, sum.MatchedMaster,
		sum.ByExposure["exfiltrated"], sum.Mentions, sum.Proposals)
}

// TestScopeReviewSharedMailbox: a household's shared mailbox appears with
// both names in the CRM and alone, without a name, in a mailing list. The
// nameless row is one of the two, never a third person, and which one is
// for a person to decide: it is proposed for both, whichever file is read
// first.
func TestScopeReviewSharedMailbox(t *testing.T) {
	dir := t.TempDir()
	household := `{"type":"pii","path":"/m/crm/household.csv","category":"person_name","record":0,"value":"田中 一郎"}
{"type":"pii","path":"/m/crm/household.csv","category":"email","record":0,"value":"tanaka.family@example.jp"}
{"type":"pii","path":"/m/crm/household.csv","category":"phone","record":0,"value":"03-3456-7890"}
{"type":"pii","path":"/m/crm/household.csv","category":"person_name","record":1,"value":"田中 花子"}
{"type":"pii","path":"/m/crm/household.csv","category":"email","record":1,"value":"tanaka.family@example.jp"}
{"type":"pii","path":"/m/crm/household.csv","category":"phone","record":1,"value":"03-3456-7890"}
`
	for _, list := range []string{"/a/newsletter.csv", "/z/newsletter.csv"} {
		results := filepath.Join(dir, "r.ndjson")
		writeFile(t, results, household+`{"type":"pii","path":"`+list+`","category":"email","record":0,"value":"tanaka.family@example.jp"}`+"\n")
		stdout, errOut, code := mamori(t, "scope", "--key-file", filepath.Join(dir, "scope.key"), "--pii-results", results, "--out", filepath.Join(dir, "out"))
		if code != 0 {
			t.Fatalf("scope: exit %d: %s", code, errOut)
		}
		if !strings.HasPrefix(stdout, "2 people ") || !strings.Contains(stdout, " 2 proposals") {
			t.Errorf("mailing list %s: %s", list, stdout)
		}
	}
}

// TestScopeReviewStableIDs: a gift order names two people in one row; the
// row is split into one node per contact value. Two runs over the same
// results with the same key must give the same person ids.
func TestScopeReviewStableIDs(t *testing.T) {
	dir := t.TempDir()
	results := filepath.Join(dir, "r.ndjson")
	writeFile(t, results, `{"type":"pii","path":"/shop/gift.csv","category":"person_name","record":0,"value":"井上 愛"}
{"type":"pii","path":"/shop/gift.csv","category":"email","record":0,"value":"ai.inoue@example.jp"}
{"type":"pii","path":"/shop/gift.csv","category":"person_name","record":0,"value":"松本 拓也"}
{"type":"pii","path":"/shop/gift.csv","category":"phone","record":0,"value":"090-1234-5678"}
`)
	var ids [2][]string
	for i := range ids {
		out := filepath.Join(dir, fmt.Sprint("out", i))
		if _, errOut, code := mamori(t, "scope", "--key-file", filepath.Join(dir, "scope.key"), "--pii-results", results, "--out", out); code != 0 {
			t.Fatalf("scope: exit %d: %s", code, errOut)
		}
		b, err := os.ReadFile(filepath.Join(out, "people.csv"))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range parseCSV(t, b) {
			ids[i] = append(ids[i], r["person_id"]+" "+r["key"])
		}
	}
	if diff := cmp.Diff(ids[1], ids[0]); diff != "" {
		t.Errorf("person ids of a second run (-got +want):\n%s", diff)
	}
}
