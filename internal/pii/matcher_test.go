package pii_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/pii"
	"github.com/mamori-dev/mamori/internal/scan"
)

var update = flag.Bool("update", false, "rewrite golden files")

// matchAll runs the matcher on one file and returns its records as ndjson.
func matchAll(t *testing.T, m *pii.Matcher, path string, data []byte) (string, []scan.Record) {
	t.Helper()
	var (
		mu   sync.Mutex
		recs []scan.Record
	)
	err := m.Match(context.Background(), &scan.File{Path: path, Size: int64(len(data)), Data: data}, func(r scan.Record) {
		mu.Lock()
		recs = append(recs, r)
		mu.Unlock()
	})
	if err != nil {
		t.Fatalf("Match(%s): %v", path, err)
	}
	var b strings.Builder
	for _, r := range recs {
		j, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String(), recs
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if diff := cmp.Diff(got, string(want)); diff != "" {
		t.Errorf("%s mismatch (-got +want):\n%s", name, diff)
	}
}

const customersCSV = "\xEF\xBB\xBF氏名,メールアドレス,電話番号,注文番号,個人番号\r\n" +
	"山田 太郎,taro.yamada@example.co.jp,090-1234-5678,4111111111111111,123456789018\r\n" +
	"佐藤 花子,hanako@example.jp,+81 3 1234 5678,4012888888881881,\r\n" +
	"山田 太郎,TARO.YAMADA@example.co.jp,,,\r\n"

func TestMatcherRecords(t *testing.T) {
	for _, tt := range []struct {
		name   string
		reveal bool
	}{{"customers_masked.golden", false}, {"customers_reveal.golden", true}} {
		t.Run(tt.name, func(t *testing.T) {
			got, recs := matchAll(t, pii.NewMatcher(pii.Options{Reveal: tt.reveal}), "/data/customers.csv", []byte(customersCSV))
			golden(t, tt.name, got)
			for _, r := range recs {
				switch r := r.(type) {
				case *pii.Occurrence:
					if !r.Finding() || r.Text() != "" || r.Kind() != "pii" {
						t.Errorf("occurrence %+v: Finding %v, Text %q, Kind %q", r, r.Finding(), r.Text(), r.Kind())
					}
					if tt.reveal != (r.Value != "") || tt.reveal == (r.Masked != "") {
						t.Errorf("reveal=%v but occurrence has value %q, masked %q", tt.reveal, r.Value, r.Masked)
					}
				case *pii.Summary:
					if r.Finding() || r.Kind() != "pii_summary" {
						t.Errorf("summary: Finding %v, Kind %q", r.Finding(), r.Kind())
					}
					// The third row repeats the first person's e-mail.
					if want := "pii  /data/customers.csv  subjects=2 email=2 phone=2 my_number=1 person_name=2"; r.Text() != want {
						t.Errorf("summary text %q, want %q", r.Text(), want)
					}
				default:
					t.Errorf("unexpected record %T", r)
				}
			}
		})
	}
}

func TestMatcherSkipsUnreadFiles(t *testing.T) {
	m := pii.NewMatcher(pii.Options{})
	err := m.Match(context.Background(), &scan.File{Path: "/big", Size: 1 << 40}, func(r scan.Record) {
		t.Errorf("record for a file without data: %+v", r)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMatcherArchiveAndErrors(t *testing.T) {
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("export/list.csv")
	w.Write([]byte("name,email\nJane Doe,jane@example.com\n"))
	zw.Close()
	m := pii.NewMatcher(pii.Options{Reveal: true})

	_, recs := matchAll(t, m, "/x/a.zip", zb.Bytes())
	var occ []pii.Occurrence
	for _, r := range recs {
		if o, ok := r.(*pii.Occurrence); ok {
			occ = append(occ, *o)
		}
	}
	want := []pii.Occurrence{
		{Type: "pii", Path: "/x/a.zip", Category: pii.PersonName, Offset: 11, Line: 2, Record: 0, Member: "export/list.csv", Value: "Jane Doe",
			Confidence: 0.9, Reason: "key:name"},
		{Type: "pii", Path: "/x/a.zip", Category: pii.Email, Offset: 20, Line: 2, Record: 0, Member: "export/list.csv", Value: "jane@example.com",
			Confidence: 0.9, Reason: "key:email"},
	}
	if diff := cmp.Diff(occ, want); diff != "" {
		t.Errorf("archive occurrences (-got +want):\n%s", diff)
	}

	// A truncated archive and undecodable bytes give error records, never
	// a panic.
	for name, data := range map[string][]byte{
		"/x/broken.zip": zb.Bytes()[:len(zb.Bytes())/2],
		"/x/bad.json":   []byte("{\"email\": \"a@example.com\", \xff\xfe"),
	} {
		_, recs := matchAll(t, m, name, data)
		errs := 0
		for _, r := range recs {
			if e, ok := r.(*scan.ErrorRecord); ok {
				errs++
				if !strings.HasPrefix(e.Path, name) {
					t.Errorf("%s: error record path %q", name, e.Path)
				}
			}
		}
		if errs == 0 {
			t.Errorf("%s: no error record in %v", name, recs)
		}
	}
}

func TestMask(t *testing.T) {
	for _, tt := range []struct{ cat, in, want string }{
		{pii.Email, "taro@example.jp", "ta***@example.jp"},
		{pii.Email, "t@example.jp", "t***@example.jp"},
		{pii.Phone, "090-1234-5678", "***-****-5678"},
		{pii.CreditCard, "4111 1111 1111 1111", "**** **** **** 1111"},
		{pii.MyNumber, "1234 5678 9018", "**** **** ****"},
		{pii.PostalCode, "100-0001", "100-****"},
		{pii.PersonName, "山田 太郎", "山* 太*"},
		{pii.Address, "東京都千代田区千代田1-1", "東京都千***"},
		{pii.DateOfBirth, "1985-04-12", "19**-**-**"},
		{pii.BankAccount, "1234567", "*****67"},
	} {
		if got := pii.Mask(tt.cat, tt.in); got != tt.want {
			t.Errorf("Mask(%s, %q) = %q, want %q", tt.cat, tt.in, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	for _, tt := range []struct{ cat, in, want string }{
		{pii.Email, "Taro@Example.JP", "taro@example.jp"},
		{pii.Phone, "+81-90-1234-5678", "09012345678"},
		{pii.Phone, "+81(0)3-1234-5678", "0312345678"},
		{pii.Phone, "+1 415 555 0100", "14155550100"},
		{pii.CreditCard, "4111-1111-1111-1111", "4111111111111111"},
		{pii.PersonName, "山田 太郎", "山田太郎"},
	} {
		if got := pii.Normalize(tt.cat, tt.in); got != tt.want {
			t.Errorf("Normalize(%s, %q) = %q, want %q", tt.cat, tt.in, got, tt.want)
		}
	}
}

func TestMatcherSkipped(t *testing.T) {
	m := pii.NewMatcher(pii.Options{})
	_, recs := matchAll(t, m, "/x/logo.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	var got []pii.Skipped
	for _, r := range recs {
		if s, ok := r.(*pii.Skipped); ok {
			got = append(got, *s)
		}
	}
	want := []pii.Skipped{{Type: "skipped", Path: "/x/logo.png", FileType: "image",
		Reason: "images have no text layer; text in them needs OCR, which mamori does not do"}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("skipped records (-got +want):\n%s", diff)
	}
}

// A name written in two columns is one name of one person; two whole
// names in a record stay two.
func TestNameColumnsJoin(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       []string
	}{
		{"ja.csv", "姓,名,メールアドレス\n山田,太郎,taro@example.jp\n", []string{"person_name=山田 太郎", "email=taro@example.jp"}},
		{"apart.csv", "姓,メールアドレス,名\n山田,taro@example.jp,太郎\n", []string{"email=taro@example.jp", "person_name=山田 太郎"}},
		{"en.csv", "first_name,last_name,email\nTaro,Yamada,taro@example.com\n", []string{"person_name=Yamada Taro", "email=taro@example.com"}},
		{"family.csv", "姓,メールアドレス\n山田,taro@example.jp\n", []string{"person_name=山田", "email=taro@example.jp"}},
		{"gift.csv", "注文者氏名,お届け先氏名\n山田 太郎,佐藤 花子\n", []string{"person_name=山田 太郎", "person_name=佐藤 花子"}},
		{"rows.csv", "姓,名\n山田,太郎\n佐藤,花子\n", []string{"person_name=山田 太郎", "person_name=佐藤 花子"}},
	} {
		occ, sum, errs := pii.ScanBytes(context.Background(), tc.name, []byte(tc.data), pii.Options{Reveal: true})
		if len(errs) > 0 {
			t.Fatalf("%s: %v", tc.name, errs)
		}
		var got []string
		names := 0
		for _, o := range occ {
			got = append(got, o.Category+"="+o.Value)
			if o.Category == pii.PersonName {
				names++
			}
		}
		if sum.Categories[pii.PersonName] != names {
			t.Errorf("%s: the summary counts %d names, the records hold %d", tc.name, sum.Categories[pii.PersonName], names)
		}
		if diff := cmp.Diff(got, tc.want); diff != "" {
			t.Errorf("%s (-got +want):\n%s", tc.name, diff)
		}
	}
	occ, _, _ := pii.ScanBytes(context.Background(), "m.csv", []byte("姓,名\n山田,太郎\n"), pii.Options{})
	if len(occ) != 1 || occ[0].Masked != pii.Mask(pii.PersonName, "山田 太郎") || occ[0].Value != "" || occ[0].Offset != 8 {
		t.Errorf("masked: %+v", occ)
	}
}
