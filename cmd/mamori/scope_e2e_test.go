package main

import (
	"archive/zip"
	"bytes"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/japanese"
)

// scopeCorpus writes three "hosts" holding the same customers in several
// encodings and formats, and returns their directories.
func scopeCorpus(t *testing.T) (hosts map[string]string, master, exposure string) {
	t.Helper()
	root := t.TempDir()
	hosts = map[string]string{}
	for _, h := range []string{"web01", "db01", "pc01"} {
		hosts[h] = filepath.Join(root, h)
	}
	csvText := "顧客番号,氏名,フリガナ,メールアドレス,電話番号,住所,生年月日,カード番号\n" +
		"1001,山田 太郎,ヤマダ タロウ,taro.yamada@example.co.jp,090-1234-5678,東京都千代田区丸の内1丁目2番3号,1985-04-12,4111 1111 1111 1111\n" +
		"1002,山田 太郎,ヤマダ タロウ,yamada.t@example.net,070-9999-0000,福岡県福岡市中央区天神3-3-3,1972-11-30,\n" +
		"1003,佐藤 花子,サトウ ハナコ,hanako.sato+shop@gmail.com,080-2222-3333,大阪府大阪市北区梅田2-4-9,1990-01-05,\n" +
		"1005,髙橋 美咲,タカハシ ミサキ,misaki@example.org,090-5555-6666,神奈川県横浜市西区みなとみらい2-2-1,1988-08-08,\n"
	writeFile(t, filepath.Join(hosts["web01"], "exports", "customers.csv"), csvText)

	// Shift_JIS, full-width digits.
	sjis := "氏名,メールアドレス,電話番号\n山田 太郎,taro.yamada@example.co.jp,０９０－１２３４－５６７８\n佐藤 花子,HanakoSato@gmail.com,０８０－２２２２－３３３３\n"
	b, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte(sjis))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(hosts["web01"], "exports", "customers_sjis.csv"), string(b))

	// UTF-16LE with BOM inside a zip, +81 phone forms.
	tsv := "氏名\t電話番号\t生年月日\r\n山田 太郎\t+81 90-1234-5678\t1985/04/12\r\n山田 太郎\t+81-70-9999-0000\t1972/11/30\r\n佐藤 花子\t+81 80 2222 3333\t1990/01/05\r\n"
	u := utf16.Encode([]rune(tsv))
	var u16 bytes.Buffer
	u16.Write([]byte{0xFF, 0xFE})
	for _, c := range u {
		u16.Write([]byte{byte(c), byte(c >> 8)})
	}
	writeZip(t, filepath.Join(hosts["web01"], "backup", "dump.zip"), map[string][]byte{"export/customers_utf16.tsv": u16.Bytes()})

	// A SQLite database, and a workbook.
	db, err := sql.Open("sqlite", filepath.Join(hosts["db01"], "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(hosts["db01"], 0o755); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, tel TEXT, address TEXT)`,
		`INSERT INTO customers (name, email, tel, address) VALUES
			('山田 太郎', 'Taro.Yamada@Example.co.jp', '09012345678', NULL),
			('Hanako Sato', 'hanakosato@googlemail.com', NULL, NULL),
			('John Smith', 'john.smith@example.com', '+1 415-555-0100', '500 Market St, San Francisco, CA 94105')`,
		`CREATE TABLE orders (id INTEGER PRIMARY KEY, sku TEXT, amount INTEGER)`,
		`INSERT INTO orders (sku, amount) VALUES ('A-100', 3000)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	writeXLSX(t, filepath.Join(hosts["db01"], "report.xlsx"), [][]string{
		{"氏名", "メールアドレス", "電話番号"},
		{"高橋 美咲", "misaki@example.org", "090-5555-6666"},
		{"鈴木 一郎", "ichiro@example.com", "03-1234-5678"},
	})

	// Special-care data, and a letter with name and address only.
	writeFile(t, filepath.Join(hosts["pc01"], "health.csv"), "氏名,メールアドレス,病歴\n鈴木 一郎,ichiro@example.com,高血圧\n")
	writeFile(t, filepath.Join(hosts["pc01"], "letter.txt"), "山田 太郎 様\n\n〒100-0005\n東京都千代田区丸の内１－２－３\n\nこのたびはご注文ありがとうございました。\n")

	// A name alone: one of the two 山田 太郎, or someone else of that name.
	writeFile(t, filepath.Join(hosts["pc01"], "memo.txt"), "お名前: 山田 太郎\n")

	master = filepath.Join(root, "master.csv")
	writeFile(t, master, "顧客番号,氏名,メールアドレス,電話番号,郵便番号,住所,言語\n"+
		"1001,山田 太郎,taro.yamada@example.co.jp,090-1234-5678,100-0005,東京都千代田区丸の内1-2-3,ja\n"+
		"1003,佐藤 花子,hanakosato@gmail.com,080-2222-3333,530-0001,大阪府大阪市北区梅田2-4-9,ja\n"+
		"1006,John Smith,john.smith@example.com,,94105,\"500 Market St, San Francisco, CA 94105\",en\n"+
		"1007,伊藤 健,ken.ito@example.jp,090-7777-8888,060-0001,北海道札幌市中央区北1条西2丁目,ja\n")
	exposure = filepath.Join(root, "exposure.txt")
	writeFile(t, exposure, "# the attacker took the backup archive\nexfiltrated,web01:"+filepath.Join(hosts["web01"], "backup", "dump.zip")+"\naccessed pc01:"+hosts["pc01"]+"/\n")
	return hosts, master, exposure
}

func writeZip(t *testing.T, path string, files map[string][]byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
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
	writeFile(t, path, buf.String())
}

// writeXLSX writes a one-sheet workbook, text cells as shared strings.
func writeXLSX(t *testing.T, path string, rows [][]string) {
	t.Helper()
	var shared []string
	var sheet strings.Builder
	sheet.WriteString(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	for i, row := range rows {
		sheet.WriteString(`<row r="` + strconv.Itoa(i+1) + `">`)
		for j, v := range row {
			ref := string(rune('A'+j)) + strconv.Itoa(i+1)
			sheet.WriteString(`<c r="` + ref + `" t="s"><v>` + strconv.Itoa(len(shared)) + `</v></c>`)
			shared = append(shared, v)
		}
		sheet.WriteString(`</row>`)
	}
	sheet.WriteString(`</sheetData></worksheet>`)
	var sst strings.Builder
	sst.WriteString(`<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
	for _, s := range shared {
		sst.WriteString(`<si><t>` + s + `</t></si>`)
	}
	sst.WriteString(`</sst>`)
	writeZip(t, path, map[string][]byte{
		"[Content_Types].xml":      []byte(`<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"></Types>`),
		"xl/workbook.xml":          []byte(`<workbook/>`),
		"xl/sharedStrings.xml":     []byte(sst.String()),
		"xl/worksheets/sheet1.xml": []byte(sheet.String()),
	})
}

func TestScopeEndToEnd(t *testing.T) {
	hosts, master, exposure := scopeCorpus(t)
	dir := t.TempDir()
	args := []string{"scope", "--master", master, "--exposure", exposure, "--out", filepath.Join(dir, "out")}
	for _, h := range []string{"web01", "db01", "pc01"} {
		out, errOut, code := mamori(t, "scan", "--pii", "--reveal", "--format", "ndjson", "--no-progress", hosts[h])
		if code != 1 {
			t.Fatalf("scan %s: exit %d: %s", h, code, errOut)
		}
		f := filepath.Join(dir, h+".ndjson")
		if err := os.WriteFile(f, []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--pii-results", h+"="+f)
	}
	out, errOut, code := mamori(t, args...)
	if code != 0 {
		t.Fatalf("scope: exit %d: %s", code, errOut)
	}
	if errOut != "" {
		t.Errorf("scope stderr: %s", errOut)
	}
	if !strings.HasPrefix(out, "6 people ") || !strings.Contains(out, "(1 name-only mentions)") {
		t.Errorf("scope stdout: %s", out)
	}
	people := readPeople(t, filepath.Join(dir, "out", "people.csv"))

	type row struct{ Name, Email, Categories, Exposure, Special, Financial, Master, Country, Hosts string }
	var got []row
	for _, p := range people {
		got = append(got, row{p["name"], p["email"], p["categories"], p["exposure"], p["special_care"], p["financial_risk"], p["matched_master"], p["country"], p["hosts"]})
	}
	slices.SortFunc(got, func(a, b row) int { return strings.Compare(a.Name+a.Email, b.Name+b.Email) })
	want := []row{
		{"John Smith", "john.smith@example.com", "email:present;phone:present;person_name:present;address:present", "present", "", "false", "true", "US", "db01"},
		{"佐藤 花子", "hanakosato@gmail.com", "email:present;phone:exfiltrated;person_name:exfiltrated;address:present;date_of_birth:exfiltrated", "exfiltrated", "", "false", "true", "JP", "db01;web01"},
		{"山田 太郎", "taro.yamada@example.co.jp", "email:present;phone:exfiltrated;credit_card:present;person_name:exfiltrated;address:accessed;postal_code:accessed;date_of_birth:exfiltrated", "exfiltrated", "", "true", "true", "JP", "db01;pc01;web01"},
		{"山田 太郎", "yamada.t@example.net", "email:present;phone:exfiltrated;person_name:exfiltrated;address:present;date_of_birth:exfiltrated", "exfiltrated", "", "false", "false", "JP", "web01"},
		{"鈴木 一郎", "ichiro@example.com", "email:accessed;phone:present;person_name:accessed", "accessed", "health;病歴", "false", "false", "JP", "db01;pc01"},
		{"高橋 美咲", "misaki@example.org", "email:present;phone:present;person_name:present;address:present;date_of_birth:present", "present", "", "false", "false", "JP", "db01;web01"},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("register (-got +want):\n%s", diff)
	}
	var sum struct {
		People     int            `json:"people"`
		ByExposure map[string]int `json:"by_exposure"`
		ByCountry  map[string]int `json:"by_country"`
		NoContact  int            `json:"no_contact"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "out", "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.People != 6 || sum.ByExposure["exfiltrated"] != 3 || sum.ByCountry["US"] != 1 || sum.ByCountry["JP"] != 5 || sum.NoContact != 0 {
		t.Errorf("summary: %s", b)
	}

	// A rerun agrees on every id.
	out2 := filepath.Join(dir, "again")
	args[len(args)-len(hosts)*2-1] = out2
	if _, errOut, code := mamori(t, args...); code != 0 {
		t.Fatalf("rerun: %s", errOut)
	}
	again := readPeople(t, filepath.Join(out2, "people.csv"))
	if diff := cmp.Diff(again, people); diff != "" {
		t.Errorf("rerun differs (-got +want):\n%s", diff)
	}
}

func readPeople(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
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

func TestScopeDecisions(t *testing.T) {
	dir := t.TempDir()
	results := filepath.Join(dir, "r.ndjson")
	writeFile(t, results, `{"type":"pii","path":"/a.csv","category":"person_name","record":0,"value":"斉藤 健"}
{"type":"pii","path":"/a.csv","category":"phone","record":0,"value":"090-1111-2222"}
{"type":"pii","path":"/b.csv","category":"person_name","record":0,"value":"斎藤 健"}
{"type":"pii","path":"/b.csv","category":"phone","record":0,"value":"+81 90 1111 2222"}
`)
	out := filepath.Join(dir, "out")
	stdout, errOut, code := mamori(t, "scope", "--pii-results", results, "--out", out)
	if code != 0 || !strings.HasPrefix(stdout, "2 people ") || !strings.Contains(stdout, "1 proposals") {
		t.Fatalf("first run: exit %d: %s%s", code, stdout, errOut)
	}
	b, err := os.ReadFile(filepath.Join(out, "proposals.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[1], ",") {
		t.Fatalf("proposals.csv:\n%s", b)
	}
	decisions := filepath.Join(dir, "decisions.csv")
	writeFile(t, decisions, lines[0]+"\n"+lines[1]+"confirm\n")
	stdout, errOut, code = mamori(t, "scope", "--pii-results", results, "--decisions", decisions, "--out", out)
	if code != 0 || !strings.HasPrefix(stdout, "1 people ") || !strings.Contains(stdout, "0 proposals") {
		t.Errorf("confirmed: exit %d: %s%s", code, stdout, errOut)
	}
	merges, _ := os.ReadFile(filepath.Join(out, "merges.csv"))
	if !strings.Contains(string(merges), ",confirmed,/a.csv#0,/b.csv#0") && !strings.Contains(string(merges), ",confirmed,/b.csv#0,/a.csv#0") {
		t.Errorf("merges.csv:\n%s", merges)
	}

	// Bad input names the file and line, exit 2.
	writeFile(t, decisions, "proposal_id,decision\nm-1,perhaps\n")
	if _, errOut, code := mamori(t, "scope", "--pii-results", results, "--decisions", decisions, "--out", out); code != 2 || !strings.Contains(errOut, "decisions.csv:2") {
		t.Errorf("bad decision: exit %d: %s", code, errOut)
	}
	if _, errOut, code := mamori(t, "scope", "--out", out); code != 2 || !strings.Contains(errOut, "no --pii-results") {
		t.Errorf("no results: exit %d: %s", code, errOut)
	}
	masked := filepath.Join(dir, "masked.ndjson")
	writeFile(t, masked, `{"type":"pii","path":"/a.csv","category":"email","record":0,"masked":"a***@b.jp"}`+"\n")
	if _, errOut, code := mamori(t, "scope", "--pii-results", masked, "--out", out); code != 2 || !strings.Contains(errOut, "--reveal") {
		t.Errorf("masked results: exit %d: %s", code, errOut)
	}
}
