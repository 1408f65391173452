package extract

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
)

const latinSample = "Name: José Müller\nAdresse: Königstraße 12, 50667 Köln\nRemarque: très déçu, à rappeler « vite » – merci\n"

func TestDetectCharsets(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want Encoding
	}{
		{"latin-1 french and german", encode(t, charmap.ISO8859_1, "Né à Besançon, élève de l'école; Grüße aus München\n"), Windows1252},
		{"windows-1252 quotes and dashes", encode(t, charmap.Windows1252, latinSample), Windows1252},
		{"latin-1 one accent", encode(t, charmap.ISO8859_1, "name,city\nRenée,Paris\n"), Windows1252},
		{"shift_jis", encode(t, japanese.ShiftJIS, sample), ShiftJIS},
		{"shift_jis short", encode(t, japanese.ShiftJIS, "山田様\n"), ShiftJIS},
		{"shift_jis kana only", encode(t, japanese.ShiftJIS, "ヤマダ タロウ\n"), ShiftJIS},
		{"euc-jp", encode(t, japanese.EUCJP, sample), EUCJP},
		{"euc-jp short", encode(t, japanese.EUCJP, "東京都千代田区\n"), EUCJP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := Detect(tc.data); got != tc.want {
				t.Errorf("Detect = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDecodeLatin1(t *testing.T) {
	d := decode(encode(t, charmap.Windows1252, latinSample))
	if d.text != latinSample || d.bad != 0 {
		t.Errorf("decoded %q (%d bad), want %q", d.text, d.bad, latinSample)
	}
}

// A part that declares UTF-8 but holds Shift_JIS is read as Shift_JIS,
// with an error record saying so.
func TestEMLWrongCharset(t *testing.T) {
	body := encode(t, japanese.ShiftJIS, "山田太郎様\nお電話ありがとうございました。\n電話 090-1234-5678\n")
	msg := "From: a@example.jp\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + string(body)
	recs, errs := readAll(t, "m.eml", []byte(msg))
	text := flat(recs)
	if !strings.Contains(strings.Join(text, "\n"), "山田太郎様") {
		t.Errorf("records do not hold the Shift_JIS text: %v", text)
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{"line 5: e-mail: part declared utf-8 reads as Shift_JIS; decoded as Shift_JIS"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("errors (-got +want):\n%s", diff)
	}
}
