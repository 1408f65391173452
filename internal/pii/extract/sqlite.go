package extract

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// SQLite databases are read through their tables: each table is a member
// named after it ("customers", or "dir/app.db!customers" inside an
// archive), each row a record whose fields are keyed by their column name,
// each field's Line the row's rowid where the table has one.
//
// The database is never opened from its file: the bytes already read are
// deserialized into an in-memory copy, so the file on the host is not
// touched (no journal, no WAL checkpoint, no lock) and what is read is
// exactly what was hashed. A WAL-mode header is switched to rollback mode
// in the copy because in-memory databases cannot use WAL; frames still in
// a -wal file next to the database are not part of these bytes.

const sqliteMagic = "SQLite format 3\x00"

func isSQLite(data []byte) bool {
	return bytes.HasPrefix(data, []byte(sqliteMagic)) && len(data) >= 100
}

// maxSQLiteTables bounds the tables read from one database.
const maxSQLiteTables = 1000

func (r *reader) readSQLite(member string, data []byte) error {
	buf := bytes.Clone(data)
	if buf[18] == 2 || buf[19] == 2 { // WAL read/write versions
		buf[18], buf[19] = 1, 1
	}
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(r.ctx)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		d, ok := dc.(interface{ Deserialize([]byte) error })
		if !ok {
			return errors.New("driver cannot load a database image")
		}
		return d.Deserialize(buf)
	})
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	// Nothing below may write, not even to the copy.
	if _, err := conn.ExecContext(r.ctx, "PRAGMA query_only = 1"); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	tables, err := sqliteTables(r.ctx, conn)
	if err != nil {
		if member == "" {
			return fmt.Errorf("sqlite: %w", err)
		}
		r.report(member, 0, fmt.Errorf("sqlite: %w", err))
		return nil
	}
	if len(tables) > maxSQLiteTables {
		r.report(member, 0, fmt.Errorf("sqlite: %d tables, only the first %d read", len(tables), maxSQLiteTables))
		tables = tables[:maxSQLiteTables]
	}
	for _, t := range tables {
		if err := r.readSQLiteTable(conn, joinMember(member, t.name), t); err != nil {
			var stop errStop
			if errors.As(err, &stop) {
				return err
			}
			r.report(joinMember(member, t.name), 0, err)
		}
	}
	return nil
}

type sqliteTable struct {
	name  string
	rowid bool
}

func sqliteTables(ctx context.Context, conn *sql.Conn) ([]sqliteTable, error) {
	rows, err := conn.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY rowid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sqliteTable
	for rows.Next() {
		var name string
		var ddl sql.NullString
		if err := rows.Scan(&name, &ddl); err != nil {
			return nil, err
		}
		// Virtual tables need modules that may be missing (fts5 works,
		// others fail at query time and are reported then).
		out = append(out, sqliteTable{name, !strings.Contains(strings.ToUpper(ddl.String), "WITHOUT ROWID") &&
			!strings.HasPrefix(strings.ToUpper(strings.TrimSpace(ddl.String)), "CREATE VIRTUAL")})
	}
	return out, rows.Err()
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func (r *reader) readSQLiteTable(conn *sql.Conn, member string, t sqliteTable) error {
	q := "SELECT * FROM " + quoteIdent(t.name)
	if t.rowid {
		q = "SELECT _rowid_, * FROM " + quoteIdent(t.name)
	}
	rows, err := conn.QueryContext(r.ctx, q)
	if err != nil && t.rowid {
		// A column named _rowid_ or a view-like table: read without it.
		t.rowid = false
		rows, err = conn.QueryContext(r.ctx, "SELECT * FROM "+quoteIdent(t.name))
	}
	if err != nil {
		return fmt.Errorf("sqlite table %s: %w", t.name, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("sqlite table %s: %w", t.name, err)
	}
	keys := cols
	if t.rowid {
		keys = cols[1:]
	}
	for i, k := range keys {
		keys[i] = foldKey(k)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	rec := Record{}
	for n := 0; rows.Next(); n++ {
		if err := r.ctx.Err(); err != nil {
			return errStop{err}
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("sqlite table %s: row %d: %w", t.name, n+1, err)
		}
		line := n + 1
		vs := vals
		if t.rowid {
			if id, ok := vals[0].(int64); ok && id > 0 && id < 1<<31 {
				line = int(id)
			}
			vs = vals[1:]
		}
		rec.Index = n
		rec.Fields = rec.Fields[:0]
		for i, v := range vs {
			text := sqliteText(v)
			if text == "" {
				continue
			}
			f := NewField(text, keys[i], line, 0)
			f.Member = member
			rec.Fields = append(rec.Fields, f)
		}
		if len(rec.Fields) == 0 {
			continue
		}
		if err := r.visit(&rec); err != nil {
			return errStop{err}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite table %s: %w", t.name, err)
	}
	return nil
}

// sqliteText renders a column value as folded text; BLOBs count only when
// they hold UTF-8 text.
func sqliteText(v any) string {
	var s string
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		s = x
	case []byte:
		if !utf8.Valid(x) || bytes.IndexByte(x, 0) >= 0 {
			return ""
		}
		s = string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		s = fmt.Sprint(x)
	}
	return foldKey(s)
}
