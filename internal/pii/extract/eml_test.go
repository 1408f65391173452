package extract

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/japanese"
)

func TestEML(t *testing.T) {
	iso := string(encode(t, japanese.ISO2022JP, "山田太郎様\n電話：090-1234-5678\n"))
	csv := base64.StdEncoding.EncodeToString(encode(t, japanese.ShiftJIS, "氏名,メール\n佐藤花子,hanako@example.jp\n"))
	msg := "Received: from mx.example.jp\r\n" +
		"From: =?UTF-8?B?5bGx55Sw?= =?UTF-8?B?5aSq6YOO?= <taro@example.jp>\r\n" +
		"To: \"Shop\" <shop@example.com>,\r\n hanako@example.jp\r\n" +
		"Subject: =?ISO-2022-JP?B?" + base64.StdEncoding.EncodeToString(encode(t, japanese.ISO2022JP, "お問合せの件")) + "?=\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n" +
		"\r\n" +
		"preamble\r\n" +
		"--XYZ\r\n" +
		"Content-Type: text/plain; charset=ISO-2022-JP\r\n" +
		"Content-Transfer-Encoding: 7bit\r\n" +
		"\r\n" +
		strings.ReplaceAll(iso, "\n", "\r\n") +
		"--XYZ\r\n" +
		"Content-Type: text/html; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n" +
		"\r\n" +
		"<p>=E4=BD=8F=E6=89=80=EF=BC=9A=E6=9D=B1=E4=BA=AC=E9=83=BD</p><script>x=3D1</script>=\r\n" +
		"<b>card</b>\r\n" +
		"--XYZ\r\n" +
		"Content-Type: text/csv; name=\"list.csv\"\r\n" +
		"Content-Disposition: attachment; filename=\"list.csv\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"\r\n" +
		csv + "\r\n" +
		"--XYZ--\r\n"
	recs, errs := readAll(t, "m.eml", []byte(msg))
	if len(errs) > 0 {
		t.Errorf("errors: %v", errs)
	}
	want := []string{
		"0|list.csv:氏名|佐藤花子|2", "0|list.csv:メール|hanako@example.jp|2",
		"1|From|山田太郎 <taro@example.jp>|2",
		"1|To|\"Shop\" <shop@example.com>, hanako@example.jp|3",
		"1|Subject|お問合せの件|5",
		"1||山田太郎様|14", "1|電話|090-1234-5678|15",
		"1|住所|東京都|20", "1||card|21",
	}
	if diff := cmp.Diff(flat(recs), want); diff != "" {
		t.Errorf("records (-got +want):\n%s", diff)
	}
	// Offsets of plain and 7bit text are exact.
	for _, f := range recs[1] {
		o := f.Offset(0)
		switch f.Text {
		case "山田太郎 <taro@example.jp>":
			if !strings.HasPrefix(msg[o:], "=?UTF-8?B?5bGx") {
				t.Errorf("From at %d: %q", o, msg[o:o+10])
			}
		case "090-1234-5678":
			if !strings.HasPrefix(msg[o:], "090-1234-5678") {
				t.Errorf("phone at %d: %q", o, msg[o:o+10])
			}
		case "東京都":
			if !strings.HasPrefix(msg[o:], "=E6=9D=B1") {
				t.Errorf("address at %d: %q", o, msg[o:o+10])
			}
		}
	}
}

func TestEMLSniffed(t *testing.T) {
	msg := "From: a@example.jp\nSubject: hi\n\nTEL 03-1234-5678\n"
	recs, _ := readAll(t, "noext", []byte(msg))
	want := []string{"0|From|a@example.jp|1", "0|Subject|hi|2", "0||TEL 03-1234-5678|4"}
	if diff := cmp.Diff(flat(recs), want); diff != "" {
		t.Errorf("records (-got +want):\n%s", diff)
	}
}

func TestMbox(t *testing.T) {
	mbox := "From a@example.jp Mon Jan  1 00:00:00 2024\n" +
		"From: Taro <a@example.jp>\nSubject: one\n\nTEL 03-1234-5678\nFrom here on, a body line.\n\n" +
		"From b@example.jp Mon Jan  1 00:00:01 2024\n" +
		"From: Hanako <b@example.jp>\nSubject: two\n\nbye\n"
	recs, errs := readAll(t, "inbox", []byte(mbox))
	if len(errs) > 0 {
		t.Errorf("errors: %v", errs)
	}
	want := []string{
		"0|From|Taro <a@example.jp>|2", "0|Subject|one|3", "0||TEL 03-1234-5678|5", "0||From here on, a body line.|6",
		"1|From|Hanako <b@example.jp>|9", "1|Subject|two|10", "1||bye|12",
	}
	if diff := cmp.Diff(flat(recs), want); diff != "" {
		t.Errorf("records (-got +want):\n%s", diff)
	}
	checkOffsets(t, []byte(mbox), UTF8, recs)
}
