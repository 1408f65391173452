package extract

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sqliteDB builds a database file with stmts and returns its bytes.
func sqliteDB(t testing.TB, wal bool, stmts ...string) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if wal {
		stmts = append([]string{"PRAGMA journal_mode=WAL"}, stmts...)
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSQLite(t *testing.T) {
	stmts := []string{
		`CREATE TABLE "顧客" (id INTEGER PRIMARY KEY, 氏名 TEXT, email TEXT, tel INTEGER, photo BLOB, note TEXT)`,
		`INSERT INTO "顧客" (id, 氏名, email, tel, photo, note) VALUES (7, '山田　太郎', 'taro@example.jp', 312345678, x'00ff10', NULL), (9, 'ｻﾄｳ', NULL, NULL, CAST('hanako@example.jp' AS BLOB), '')`,
		`CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID`,
		`INSERT INTO kv VALUES ('mail', 'a@b.jp')`,
		`CREATE TABLE empty (x TEXT)`,
	}
	want := []string{
		"0|顧客:id|7|7",
		"0|顧客:氏名|山田 太郎|7",
		"0|顧客:email|taro@example.jp|7",
		"0|顧客:tel|312345678|7",
		"1|顧客:id|9|9",
		"1|顧客:氏名|サトウ|9",
		"1|顧客:photo|hanako@example.jp|9",
		"2|kv:k|mail|1",
		"2|kv:v|a@b.jp|1",
	}
	for _, wal := range []bool{false, true} {
		data := sqliteDB(t, wal, stmts...)
		orig := bytes.Clone(data)
		recs, errs := readAll(t, "app.db", data)
		if len(errs) > 0 {
			t.Errorf("wal=%v: errors %v", wal, errs)
		}
		if diff := cmp.Diff(flat(recs), want); diff != "" {
			t.Errorf("wal=%v: records (-got +want):\n%s", wal, diff)
		}
		if !bytes.Equal(data, orig) {
			t.Errorf("wal=%v: the database bytes changed", wal)
		}
	}

	// Inside a zip, tables are members of the member.
	db := sqliteDB(t, false, `CREATE TABLE users (name TEXT)`, `INSERT INTO users VALUES ('x')`)
	zipped := makeZip(t, zfile{name: "dump/app.sqlite", data: db})
	recs, _ := readAll(t, "dump.zip", zipped)
	if got := flat(recs); len(got) != 1 || got[0] != "0|dump/app.sqlite!users:name|x|1" {
		t.Errorf("zipped: %q", got)
	}

	// A truncated database reports an error and reads nothing.
	var gotErr error
	err := Read(context.Background(), "bad.db", db[:200], Limits{}, func(*Record) error { return nil }, func(err error) { gotErr = err })
	if err == nil && gotErr == nil {
		t.Error("truncated database: no error")
	}
}

func FuzzSQLite(f *testing.F) {
	f.Add(sqliteDB(f, false, `CREATE TABLE t (a TEXT, b INTEGER)`, `INSERT INTO t VALUES ('山田', 1)`))
	f.Add([]byte(sqliteMagic + string(make([]byte, 100))))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !isSQLite(data) {
			return
		}
		Read(context.Background(), "f.db", data, Limits{}, func(*Record) error { return nil }, func(error) {})
	})
}
