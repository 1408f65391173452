package extract

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/japanese"
)

// flat renders records as "index|key|text|line" rows for comparison.
func flat(recs [][]Field) []string {
	var out []string
	for i, rec := range recs {
		for _, f := range rec {
			k := f.Key
			if f.Path != "" && f.Path != f.Key {
				k += "(" + f.Path + ")"
			}
			if f.Member != "" {
				k = f.Member + ":" + k
			}
			out = append(out, fmt.Sprintf("%d|%s|%s|%d", i, k, f.Text, f.Line))
		}
	}
	return out
}

func TestCSV(t *testing.T) {
	const customers = "氏名,電話番号,メール,備考\n" +
		"山田 太郎,０９０－１２３４－５６７８,taro@example.jp,\"複数行の\n備考\"\n" +
		"\"佐藤, 花子\",03-1234-5678,\"hana\"\"ko\"\"@example.jp\",,extra\n" +
		"\n" +
		"鈴木 一郎,080-1111-2222\r\n"
	want := []string{
		"0|氏名|山田 太郎|2", "0|電話番号|090-1234-5678|2", "0|メール|taro@example.jp|2", "0|備考|複数行の\n備考|2",
		"1|氏名|佐藤, 花子|4", "1|電話番号|03-1234-5678|4", "1|メール|hana\"ko\"@example.jp|4", "1||extra|4",
		"2|氏名|鈴木 一郎|6", "2|電話番号|080-1111-2222|6",
	}
	tests := []struct {
		name string
		file string
		data []byte
		want []string
	}{
		{"utf8", "c.csv", []byte(customers), want},
		{"cp932", "c.csv", encode(t, japanese.ShiftJIS, strings.ReplaceAll(customers, "－", "-")), want},
		{"utf16", "c.csv", utf16le(customers, true), want},
		{"tsv", "c.tsv", []byte("name\temail\nTaro Yamada\ttaro@example.jp\n"), []string{"0|name|Taro Yamada|2", "0|email|taro@example.jp|2"}},
		{"semicolon", "c.csv", []byte("name;email\nTaro;t@example.jp\n"), []string{"0|name|Taro|2", "0|email|t@example.jp|2"}},
		{"no header", "c.csv", []byte("1001,Taro,090-1234-5678\n1002,Hanako,080-1234-5678\n"),
			[]string{"0||1001|1", "0||Taro|1", "0||090-1234-5678|1", "1||1002|2", "1||Hanako|2", "1||080-1234-5678|2"}},
		{"utf16 unicode text", "export.txt", utf16le("氏名\tメール\r\n山田太郎\ttaro@example.jp\r\n", true), []string{"0|氏名|山田太郎|2", "0|メール|taro@example.jp|2"}},
		{"sniffed tsv", "export", []byte("a\tb\n1\t2\n3\t4\n"), []string{"0|a|1|2", "0|b|2|2", "1|a|3|3", "1|b|4|3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, errs := readAll(t, tt.file, tt.data)
			if len(errs) > 0 {
				t.Errorf("errors: %v", errs)
			}
			if diff := cmp.Diff(flat(recs), tt.want); diff != "" {
				t.Errorf("records (-got +want):\n%s", diff)
			}
			enc, _ := Detect(tt.data)
			checkOffsets(t, tt.data, enc, recs)
		})
	}
}

func TestCSVUnterminatedQuote(t *testing.T) {
	data := []byte("name,email\n\"Taro,taro@example.jp\nHanako,hanako@example.jp\n")
	recs, errs := readAll(t, "c.csv", data)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "line 2") {
		t.Errorf("errors = %v, want one naming line 2", errs)
	}
	want := []string{"0|name|Taro|2", "0|email|taro@example.jp|2", "1|name|Hanako|3", "1|email|hanako@example.jp|3"}
	if diff := cmp.Diff(flat(recs), want); diff != "" {
		t.Errorf("records (-got +want):\n%s", diff)
	}
}

func TestJSON(t *testing.T) {
	tests := []struct {
		name string
		file string
		data string
		want []string
		errs int
	}{
		{"object", "a.json", `{"name":"山田太郎","tel":"０３-1234-5678","age":42,"ok":true,"x":null}`,
			[]string{"0|name|山田太郎|1", "0|tel|03-1234-5678|1", "0|age|42|1"}, 0},
		{"nested", "a.json", "{\"orders\":[{\"id\":1,\"customer\":{\"name\":\"Taro\",\"email\":\"t@example.jp\"}},\n{\"id\":2}],\"shop\":\"S\"}",
			[]string{"0|id(orders.id)|1|1", "0|name(orders.customer.name)|Taro|1", "0|email(orders.customer.email)|t@example.jp|1",
				"1|id(orders.id)|2|2", "2|shop|S|2"}, 0},
		{"escapes", "a.json", `{"n":"a\"b\u5c71\u7530\ud83d\ude00\n"}`, []string{"0|n|a\"b山田😀\n|1"}, 0},
		{"array", "a.json", `[{"a":"x"},{"a":"y"}]`, []string{"0|a|x|1", "1|a|y|1"}, 0},
		{"jsonl", "a.jsonl", "{\"a\":\"x\"}\n{\"a\":\"y\"}\n", []string{"0|a|x|1", "1|a|y|2"}, 0},
		{"jsonl broken line", "a.jsonl", "{\"a\":\"x\"}\n{\"a\":\"y\" \"b\"}\n{\"a\":\"z\"}\n",
			[]string{"0|a|x|1", "1||{\"a\":\"y\" \"b\"}|2", "2|a|z|3"}, 1},
		{"truncated", "a.json", "{\"a\":\"x\",\n\"b\":\"taro@exa", []string{"0||{\"a\":\"x\",|1", "1||\"b\":\"taro@exa|2"}, 1},
		{"broken after records", "a.json", `{"owner":"o@example.jp","list":[{"a":"1"},{"a":"2"},{"a":"3`,
			[]string{"0|a(list.a)|1|1", "1|a(list.a)|2|1", "2|owner|o@example.jp|1", "3||,{\"a\":\"3|1"}, 1},
		{"sniffed", "noext", `{"email":"t@example.jp"}`, []string{"0|email|t@example.jp|1"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, errs := readAll(t, tt.file, []byte(tt.data))
			if len(errs) != tt.errs {
				t.Errorf("errors = %v, want %d", errs, tt.errs)
			}
			if diff := cmp.Diff(flat(recs), tt.want); diff != "" {
				t.Errorf("records (-got +want):\n%s", diff)
			}
			checkOffsets(t, []byte(tt.data), UTF8, recs)
		})
	}
}

func TestText(t *testing.T) {
	letter := "山田 太郎 様\n〒100-0001\n東京都千代田区千代田1-1\n\n拝啓 時下ますます…\n電話：03-1234-5678\n"
	var log strings.Builder
	for i := range 5 {
		fmt.Fprintf(&log, "2024-01-0%d 12:00:00 INFO user=u%d mail=u%d@example.jp\n", i+1, i, i)
	}
	var list strings.Builder
	for i := range 30 {
		fmt.Fprintf(&list, "Name %d\nphone: 090-0000-%04d\n\n", i, i)
	}
	for range 30 {
		list.WriteString("filler line\n")
	}
	tests := []struct {
		name  string
		file  string
		data  string
		nrecs int
		want  []string // the first fields
	}{
		{"letter", "a.txt", letter, 1, []string{"0||山田 太郎 様|1", "0||〒100-0001|2", "0||東京都千代田区千代田1-1|3", "0||拝啓 時下ますます…|5", "0|電話|03-1234-5678|6"}},
		{"log", "a.log", log.String(), 5, []string{"0||2024-01-01 12:00:00 INFO user=u0 mail=u0@example.jp|1"}},
		{"sniffed log", "a.txt", log.String(), 5, []string{"0||2024-01-01 12:00:00 INFO user=u0 mail=u0@example.jp|1"}},
		{"list", "a.txt", list.String(), 30 + 30, []string{"0||Name 0|1", "0|phone|090-0000-0000|2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, _ := readAll(t, tt.file, []byte(tt.data))
			if len(recs) != tt.nrecs {
				t.Errorf("%d records, want %d", len(recs), tt.nrecs)
			}
			got := flat(recs)
			if len(got) > len(tt.want) {
				got = got[:len(tt.want)]
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("records (-got +want):\n%s", diff)
			}
		})
	}
}

func TestTextLabels(t *testing.T) {
	data := "氏名：山田太郎\n山田 太郎様 TEL：090-1234-5678\nOrder ID: A-1\nhttp://example.com/x\nNote 2024: x\n"
	recs, _ := readAll(t, "a.txt", []byte(data))
	want := []string{
		"0|氏名|山田太郎|1",
		"0||山田 太郎様 TEL|2", "0|山田 太郎様 TEL|090-1234-5678|2",
		"0||Order ID|3", "0|Order ID|A-1|3",
		"0||http://example.com/x|4",
		"0||Note 2024: x|5",
	}
	if diff := cmp.Diff(flat(recs), want); diff != "" {
		t.Errorf("records (-got +want):\n%s", diff)
	}
	checkOffsets(t, []byte(data), UTF8, recs)
}

func TestCSVTitleLine(t *testing.T) {
	data := "顧客名簿 2024年4月\n\n氏名,電話番号\n山田太郎,090-1234-5678\n"
	recs, _ := readAll(t, "c.csv", []byte(data))
	want := []string{"0||顧客名簿 2024年4月|1", "1|氏名|山田太郎|4", "1|電話番号|090-1234-5678|4"}
	if diff := cmp.Diff(flat(recs), want); diff != "" {
		t.Errorf("records (-got +want):\n%s", diff)
	}
}

func TestTextList(t *testing.T) {
	data := "山田太郎 taro@example.jp\n佐藤花子 090-1234-5678\n鈴木一郎 ichiro@example.jp\n高橋美咲 03-1234-5678\n"
	recs, _ := readAll(t, "people.txt", []byte(data))
	if len(recs) != 4 {
		t.Errorf("%d records, want one a line: %v", len(recs), flat(recs))
	}
}

func TestReadStops(t *testing.T) {
	data := []byte("name,email\na,a@example.jp\nb,b@example.jp\nc,c@example.jp\n")
	stop := errors.New("stop")
	n := 0
	err := Read(context.Background(), "c.csv", data, DefaultLimits, func(*Record) error { n++; return stop }, nil)
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("visit error: Read = %v after %d records, want stop after 1", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n = 0
	zipped := makeZip(t, zfile{name: "c.csv", data: data})
	for _, in := range []struct {
		name string
		data []byte
	}{{"c.csv", data}, {"a.zip", zipped}, {"a.json", []byte(`[{"a":"b"},{"a":"c"}]`)}} {
		err = Read(ctx, in.name, in.data, DefaultLimits, func(*Record) error { n++; return nil }, nil)
		if !errors.Is(err, context.Canceled) || n != 0 {
			t.Errorf("%s: cancelled: Read = %v after %d records", in.name, err, n)
		}
	}
}
