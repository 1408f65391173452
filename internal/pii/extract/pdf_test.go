package extract

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
)

// buildPDF writes a small PDF as office software does: a Type0 font with
// Identity-H two-byte codes and a ToUnicode CMap for the Japanese text, a
// simple font for ASCII, Flate-compressed streams, and with objStm the
// fonts packed into an object stream.
func buildPDF(t testing.TB, objStm bool) []byte {
	t.Helper()
	jp := []rune("氏名：山田 太郎様")
	var codes, bfchar bytes.Buffer
	for i, r := range jp {
		fmt.Fprintf(&codes, "%04X", i+1)
		u := utf16.Encode([]rune{r})
		fmt.Fprintf(&bfchar, "<%04X> <%04X>\n", i+1, u[0])
	}
	cmapText := fmt.Sprintf("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n%d beginbfchar\n%sendbfchar\nendcmap\nend end\n", len(jp), bfchar.String())
	content := fmt.Sprintf("BT\n/F1 12 Tf\n72 720 Td\n<%s> Tj\n/F2 10 Tf\n0 -14 Td\n(TEL: 090-1234-5678) Tj\n0 -14 Td\n[(Mail: taro@ex) -10 (ample.jp)] TJ\nT*\n(\\(card\\) 4111 1111 1111 1111) Tj\nET\n", codes.String())
	flate := func(s string) []byte {
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	var out bytes.Buffer
	out.WriteString("%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
	obj := func(n int, dict string, stream []byte) {
		fmt.Fprintf(&out, "%d 0 obj\n%s", n, dict)
		if stream != nil {
			fmt.Fprintf(&out, "\nstream\n%s\nendstream", stream)
		}
		out.WriteString("\nendobj\n")
	}
	obj(1, "<< /Type /Catalog /Pages 2 0 R >>", nil)
	obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", nil)
	obj(3, "<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 4 0 R /F2 7 0 R >> >> /Contents 5 0 R >>", nil)
	c := flate(content)
	obj(5, fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>", len(c)), c)
	cm := flate(cmapText)
	obj(6, fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>", len(cm)), cm)
	f1 := "<< /Type /Font /Subtype /Type0 /BaseFont /IPAexGothic /Encoding /Identity-H /ToUnicode 6 0 R >>"
	f2 := "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
	if objStm {
		head := fmt.Sprintf("4 0 7 %d ", len(f1)+1)
		body := head + f1 + " " + f2
		s := flate(body)
		obj(8, fmt.Sprintf("<< /Type /ObjStm /N 2 /First %d /Length %d /Filter /FlateDecode >>", len(head), len(s)), s)
	} else {
		obj(4, f1, nil)
		obj(7, f2, nil)
	}
	out.WriteString("trailer\n<< /Root 1 0 R >>\n%%EOF\n")
	return out.Bytes()
}

func TestPDF(t *testing.T) {
	want := []string{
		"0|氏名|山田 太郎様|1",
		"0|TEL|090-1234-5678|2",
		"0|Mail|taro@example.jp|3",
		"0||(card) 4111 1111 1111 1111|4",
	}
	for _, objStm := range []bool{false, true} {
		recs, errs := readAll(t, "list.pdf", buildPDF(t, objStm))
		if len(errs) > 0 {
			t.Errorf("objStm=%v: errors %v", objStm, errs)
		}
		if diff := cmp.Diff(flat(recs), want); diff != "" {
			t.Errorf("objStm=%v: records (-got +want):\n%s", objStm, diff)
		}
	}
}

func TestPDFBrokenStream(t *testing.T) {
	data := []byte("%PDF-1.4\n1 0 obj\n<< /Filter /FlateDecode /Length 4 >>\nstream\nxxxx\nendstream\nendobj\n")
	_, errs := readAll(t, "bad.pdf", data)
	if len(errs) != 1 {
		t.Fatalf("errors %v, want one naming the object", errs)
	}
	if got := errs[0].Error(); got != "pdf: object 1 at offset 9: flate stream: zlib: invalid header" {
		t.Errorf("error %q", got)
	}
}

func FuzzPDF(f *testing.F) {
	f.Add(buildPDF(f, false))
	f.Add(buildPDF(f, true))
	f.Add([]byte("%PDF-1.4\n1 0 obj\n<< /Type /ObjStm /N 5 /First 2 >>\nstream\n1 2\nendstream\nendobj\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRead(t, "f.pdf", data)
	})
}
