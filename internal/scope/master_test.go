package scope

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"golang.org/x/text/encoding/japanese"
)

func TestReadMasterFile(t *testing.T) {
	dir := t.TempDir()
	text := "顧客番号,氏名,メールアドレス,電話番号,郵便番号,住所,言語\n" +
		"1001,山田 太郎,taro@example.jp,090-1234-5678,100-0005,東京都千代田区丸の内1-2-3,ja\n" +
		"1002,John Smith,john@example.com,,94105,\"500 Market St, San Francisco, CA 94105\",en\n"
	sjis, err := japanese.ShiftJIS.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "master.csv")
	if err := os.WriteFile(path, []byte(sjis), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := ReadMasterFile(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []MasterRow{
		{MID: "1001", MName: "山田 太郎", MEmail: "taro@example.jp", MPhone: "090-1234-5678", MPostal: "100-0005", MAddress: "東京都千代田区丸の内1-2-3", MLanguage: "ja"},
		{MID: "1002", MName: "John Smith", MEmail: "john@example.com", MPostal: "94105", MAddress: "500 Market St, San Francisco, CA 94105", MLanguage: "en"},
	}
	if diff := cmp.Diff(m.Rows, want); diff != "" {
		t.Errorf("rows (-got +want):\n%s", diff)
	}

	// An explicit mapping naming a missing column, and one mapping nothing
	// that identifies anyone, are errors.
	if _, err := ReadMasterFile(context.Background(), path, map[string]string{"Mail": MEmail}); err == nil || !strings.Contains(err.Error(), `"Mail"`) {
		t.Errorf("missing column: %v", err)
	}
	if _, err := ReadMasterFile(context.Background(), path, map[string]string{"言語": MLanguage}); err == nil || !strings.Contains(err.Error(), "--master-map") {
		t.Errorf("no identifying column: %v", err)
	}
}

func TestReadMasterQuery(t *testing.T) {
	url := os.Getenv("MAMORI_TEST_POSTGRES")
	if url == "" {
		t.Skip("MAMORI_TEST_POSTGRES not set")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		`DROP SCHEMA IF EXISTS mamori_scope_test CASCADE`,
		`CREATE SCHEMA mamori_scope_test`,
		`CREATE TABLE mamori_scope_test.customers (id int, full_name text, mail text, birthday date, lang text)`,
		`INSERT INTO mamori_scope_test.customers VALUES (1, '山田 太郎', 'taro@example.jp', '1985-04-12', 'ja'), (2, '佐藤 花子', NULL, NULL, 'ja')`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	defer conn.Exec(ctx, `DROP SCHEMA mamori_scope_test CASCADE`)
	m, err := ReadMasterQuery(ctx, url, `SELECT id, full_name, mail, birthday, lang FROM mamori_scope_test.customers ORDER BY id`, map[string]string{"full_name": MName, "mail": MEmail, "birthday": MDOB, "lang": MLanguage})
	if err != nil {
		t.Fatal(err)
	}
	want := []MasterRow{
		{MName: "山田 太郎", MEmail: "taro@example.jp", MDOB: "1985-04-12", MLanguage: "ja"},
		{MName: "佐藤 花子", MLanguage: "ja"},
	}
	if diff := cmp.Diff(m.Rows, want); diff != "" {
		t.Errorf("rows (-got +want):\n%s", diff)
	}
	// The query runs read-only.
	if _, err := ReadMasterQuery(ctx, url, `DELETE FROM mamori_scope_test.customers RETURNING full_name`, map[string]string{"full_name": MName}); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("a writing query: %v", err)
	}
}
