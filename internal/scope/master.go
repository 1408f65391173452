package scope

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"

	"github.com/mamori-dev/mamori/internal/pii/extract"
)

// Master fields a column can map to.
const (
	MName     = "name"
	MKana     = "kana"
	MLastName = "last_name"
	MFirst    = "first_name"
	MEmail    = "email"
	MPhone    = "phone"
	MAddress  = "address"
	MPostal   = "postal_code"
	MDOB      = "date_of_birth"
	MLanguage = "language"
	MCountry  = "country"
	MID       = "id"
)

var masterFields = []string{MName, MKana, MLastName, MFirst, MEmail, MPhone, MAddress, MPostal, MDOB, MLanguage, MCountry, MID}

// headerWords propose a mapping from column headers, Japanese and English;
// the first field whose words match wins, so more specific words come
// first (フリガナ before 名, メールアドレス before アドレス).
var headerWords = []struct {
	field string
	words []string
}{
	{MKana, []string{"フリガナ", "ふりがな", "カナ", "kana", "furigana", "よみ"}},
	{MEmail, []string{"メール", "mail", "e-mail", "email"}},
	{MPhone, []string{"電話", "携帯", "tel", "phone", "mobile"}},
	{MPostal, []string{"郵便番号", "〒", "zip", "postal", "postcode"}},
	{MAddress, []string{"住所", "所在地", "address", "addr", "送付先"}},
	{MDOB, []string{"生年月日", "誕生日", "birth", "dob"}},
	{MLanguage, []string{"言語", "language", "lang", "locale"}},
	{MCountry, []string{"居住国", "国", "country"}},
	{MID, []string{"顧客番号", "顧客id", "会員番号", "customer_id", "customerid", "id"}},
	{MLastName, []string{"姓", "last_name", "lastname", "family_name", "surname"}},
	{MFirst, []string{"名", "first_name", "firstname", "given_name"}},
	{MName, []string{"氏名", "名前", "お名前", "顧客名", "name", "full_name", "fullname"}},
}

// ProposeMapping maps each header to a master field ("" for none); every
// field is taken by its first matching column.
func ProposeMapping(headers []string) map[string]string {
	m := map[string]string{}
	taken := map[string]bool{}
	for _, h := range headers {
		k := strings.ToLower(norm.NFKC.String(strings.TrimSpace(h)))
		for _, hw := range headerWords {
			if taken[hw.field] {
				continue
			}
			if slices.ContainsFunc(hw.words, func(w string) bool { return headerMatch(k, w, hw.field) }) {
				m[h] = hw.field
				taken[hw.field] = true
				break
			}
		}
	}
	return m
}

// headerMatch matches one-character words (姓, 名, 国) and "id" only as
// the whole header; longer words anywhere in it.
func headerMatch(k, w, field string) bool {
	if len([]rune(w)) == 1 || w == "id" || field == MFirst || field == MLastName {
		return k == w || strings.TrimSuffix(k, "名") == w && field == MLastName
	}
	return strings.Contains(k, w)
}

// ParseMapping reads an explicit mapping "field=header,field=header".
func ParseMapping(s string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		f, h, ok := strings.Cut(kv, "=")
		f = strings.TrimSpace(f)
		if !ok || !slices.Contains(masterFields, f) {
			return nil, fmt.Errorf("master mapping %q: want FIELD=HEADER with FIELD one of %s", kv, strings.Join(masterFields, ", "))
		}
		m[strings.TrimSpace(h)] = f
	}
	return m, nil
}

// MasterRow is one customer of the master data, by field.
type MasterRow map[string]string

// AddMaster adds a master row as a node of the master source src. Master
// rows identify people; they expose no category.
func (r *Resolver) AddMaster(src int32, row int, m MasterRow) {
	n := r.newNode(node{src: src, record: int32(row)})
	name := m[MName]
	if name == "" && (m[MLastName] != "" || m[MFirst] != "") {
		name = strings.TrimSpace(m[MLastName] + " " + m[MFirst])
	}
	if name != "" {
		r.addValue(n, opName, name, "")
		r.addValue(n, opMasterDisp, name, "")
	}
	if m[MKana] != "" {
		r.addValue(n, opMasterKana, m[MKana], "")
	}
	for _, fc := range masterCats {
		if v := m[fc[0]]; v != "" {
			r.addValue(n, valueOp(fc[1]), v, "")
		}
	}
	nd := &r.nodes[n]
	nd.lang = r.str(strings.TrimSpace(m[MLanguage]))
	nd.country = r.str(strings.ToUpper(strings.TrimSpace(m[MCountry])))
}

// masterCats maps master fields to the categories they hold.
var masterCats = [][2]string{{MEmail, "email"}, {MPhone, "phone"}, {MAddress, "address"}, {MPostal, "postal_code"}, {MDOB, "date_of_birth"}}

// Master is master data read from a file or a query.
type Master struct {
	Headers []string
	Mapping map[string]string
	Rows    []MasterRow
}

// ReadMasterFile reads customer master data from CSV, TSV or xlsx (any
// encoding extract reads). mapping nil proposes one from the headers.
func ReadMasterFile(ctx context.Context, path string, mapping map[string]string) (*Master, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("master data: %w", err)
	}
	return ReadMaster(ctx, path, data, mapping)
}

// ReadMaster reads master data from data, a file named path (whose
// extension tells the format), as ReadMasterFile does.
func ReadMaster(ctx context.Context, path string, data []byte, mapping map[string]string) (*Master, error) {
	var recs [][]extract.Field
	var problems []error
	err := extract.Read(ctx, filepath.Base(path), data, extract.Limits{MaxDepth: 1}, func(rec *extract.Record) error {
		recs = append(recs, slices.Clone(rec.Fields))
		return nil
	}, func(err error) { problems = append(problems, err) })
	if err != nil {
		return nil, fmt.Errorf("master data %s: %w", path, err)
	}
	var headers []string
	for _, rec := range recs {
		for _, f := range rec {
			if f.Key != "" && !slices.Contains(headers, f.Key) {
				headers = append(headers, f.Key)
			}
		}
	}
	if len(headers) == 0 {
		if len(problems) > 0 {
			return nil, fmt.Errorf("master data %s: %w", path, errors.Join(problems...))
		}
		return nil, fmt.Errorf("master data %s: no header row naming the columns (氏名, メールアドレス, name, email, ...)", path)
	}
	m := &Master{Headers: headers, Mapping: mapping}
	if m.Mapping == nil {
		m.Mapping = ProposeMapping(headers)
	}
	if err := m.check(path); err != nil {
		return nil, err
	}
	for _, rec := range recs {
		row := MasterRow{}
		for _, f := range rec {
			if field := m.Mapping[f.Key]; field != "" {
				row[field] = f.Text
			}
		}
		if len(row) > 0 {
			m.Rows = append(m.Rows, row)
		}
	}
	return m, nil
}

func (m *Master) check(where string) error {
	for h := range m.Mapping {
		if !slices.Contains(m.Headers, h) {
			return fmt.Errorf("master data %s: mapped column %q is not among the headers %q", where, h, m.Headers)
		}
	}
	for _, f := range m.Mapping {
		switch f {
		case MName, MLastName, MEmail, MPhone:
			return nil
		}
	}
	return fmt.Errorf("master data %s: no column maps to a name, e-mail or phone (headers %q); give --master-map", where, m.Headers)
}

// ReadMasterQuery runs query on the PostgreSQL database at url and reads
// its rows as master data; column names are the headers.
func ReadMasterQuery(ctx context.Context, url, query string, mapping map[string]string) (*Master, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("master database: %w", err)
	}
	defer conn.Close(context.Background())
	// Read-only: the customer database is the company's, not ours to change.
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("master database: %w", err)
	}
	defer tx.Rollback(context.Background())
	rows, err := tx.Query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("master query: %w", err)
	}
	defer rows.Close()
	if len(rows.FieldDescriptions()) == 0 {
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("master query: %w", err)
		}
		return nil, errors.New("master query: no columns")
	}
	m := &Master{Mapping: mapping}
	for _, fd := range rows.FieldDescriptions() {
		m.Headers = append(m.Headers, fd.Name)
	}
	if m.Mapping == nil {
		m.Mapping = ProposeMapping(m.Headers)
	}
	if err := m.check("query"); err != nil {
		return nil, err
	}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, fmt.Errorf("master query: %w", err)
		}
		row := MasterRow{}
		for i, v := range vals {
			f := m.Mapping[m.Headers[i]]
			if f == "" || v == nil {
				continue
			}
			switch t := v.(type) {
			case time.Time:
				row[f] = t.Format("2006-01-02")
			default:
				row[f] = fmt.Sprint(v)
			}
		}
		if len(row) > 0 {
			m.Rows = append(m.Rows, row)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("master query: %w", err)
	}
	return m, nil
}
