package letter

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func fontsOrSkip(t *testing.T) Fonts {
	f, err := FindFonts()
	if err != nil {
		t.Skip(err)
	}
	return f
}

const body = `山田 太郎 様

株式会社サンプルでございます。
このたび、お客様の個人情報の漏えい等が発生し、又はそのおそれがあることが判明いたしました。多大なるご迷惑とご心配をおかけいたしますことを、深くお詫び申し上げます。当社は、外部の専門機関の協力を得て調査を進め、再発防止に全力で取り組んでまいります。お客様におかれましては、不審なメールや電話（「当社の担当者」を名乗るもの）にご注意ください。ご不明な点は、下記窓口までお問い合わせください。

1. 概要
2026年11月20日、当社の顧客管理サーバーが第三者による不正アクセスを受け、保存されていた情報の一部が外部に送信された可能性があることが判明しました。

2. 漏えい等が発生し、又はそのおそれがあるお客様の個人データの項目
・メールアドレス：y***@example.com
・クレジットカード番号：****-****-****-1234

3. 原因
VPN装置の既知の脆弱性を悪用されたことによるものです。

本件に関するお問い合わせ先
個人情報お問い合わせ窓口 0120-000-000（平日9時〜18時）
`

// TestPDFRendersEveryCharacter writes letters, opens the PDF with poppler
// and checks that pdftotext gives back every character and that no line
// starts with 。 or 、.
func TestPDFRendersEveryCharacter(t *testing.T) {
	fonts := fontsOrSkip(t)
	for _, tool := range []string{"pdftoppm", "pdftotext"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (poppler-utils)", tool)
		}
	}
	letters := []Letter{
		{PersonID: "p-1", PostalCode: "100-0001", Address: "東京都千代田区千代田1-1 サンプルマンション101号室", Name: "山田 太郎", Date: "2026年11月30日", Sender: "株式会社サンプル", Body: body},
		{PersonID: "p-2", PostalCode: "530-0001", Address: "大阪府大阪市北区梅田1-1-1", Name: "佐藤 花子", Date: "2026年11月30日", Sender: "株式会社サンプル", Body: strings.Repeat(body, 3)},
	}
	dir := t.TempDir()
	var pdf bytes.Buffer
	sheets, err := Write(&pdf, letters, fonts)
	if err != nil {
		t.Fatal(err)
	}
	if sheets[0].FirstPage != 1 || sheets[1].FirstPage != 1+sheets[0].Pages || sheets[1].Pages < 2 {
		t.Errorf("sheets: %+v", sheets)
	}
	file := filepath.Join(dir, "letters.pdf")
	os.WriteFile(file, pdf.Bytes(), 0o644)
	if out, err := exec.Command("pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "1", file, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	strip := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == ' ' || r == '\n' || r == '\f' || r == '\r' || r == '\t' {
				return -1
			}
			return r
		}, s)
	}
	got := strip(string(out))
	for _, l := range letters {
		for _, want := range []string{"〒" + l.PostalCode, l.Address, l.Name + "様", l.Date, strip(l.Body)} {
			if !strings.Contains(got, strip(want)) {
				t.Errorf("pdftotext lacks %q", want)
			}
		}
	}
	for i, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "。") || strings.HasPrefix(line, "、") {
			t.Errorf("line %d starts with punctuation: %q", i+1, line)
		}
	}
	var csvOut bytes.Buffer
	if err := WriteCSV(&csvOut, "b-1", sheets); err != nil {
		t.Fatal(err)
	}
	wantCSV := "batch,first_page,pages,person_id,postal_code,address,name\n" +
		"b-1,1,1,p-1,100-0001,東京都千代田区千代田1-1 サンプルマンション101号室,山田 太郎 様\n"
	if !strings.HasPrefix(csvOut.String(), wantCSV) {
		t.Errorf("csv:\n%s\nwant prefix:\n%s", csvOut.String(), wantCSV)
	}
}
