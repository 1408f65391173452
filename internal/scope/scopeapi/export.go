package scopeapi

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"

	"github.com/mamori-dev/mamori/internal/pii"
	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
)

// masked returns a copy of p with its contact values masked; an empty
// value stays empty, so that a missing channel still shows.
func masked(p *scope.Person) *scope.Person {
	mask := func(category, v string) string {
		if v == "" {
			return ""
		}
		return pii.Mask(category, v)
	}
	m := *p
	m.Name, m.Email, m.Phone = mask(pii.PersonName, p.Name), mask(pii.Email, p.Email), mask(pii.Phone, p.Phone)
	m.Address, m.PostalCode = mask(pii.Address, p.Address), mask(pii.PostalCode, p.PostalCode)
	return &m
}

func checkFormat(f string) (string, error) {
	switch f {
	case "", "csv":
		return "csv", nil
	case "xlsx":
		return "xlsx", nil
	}
	return "", httpapi.BadInput("format", "%q, want csv or xlsx", f)
}

// writeExport answers with the register in format: people.csv's columns.
func writeExport(w http.ResponseWriter, format, name string, people []*scope.Person) {
	var buf bytes.Buffer
	if err := scope.WritePeopleCSV(&buf, people); err != nil {
		httpapi.Error(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		w.Write(buf.Bytes())
		return
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		httpapi.Error(w, http.StatusInternalServerError, err.Error())
		return
	}
	var x bytes.Buffer
	if err := WriteXLSX(&x, "people", rows); err != nil {
		httpapi.Error(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
	w.Write(x.Bytes())
}

func (s *Service) exportMasked(w http.ResponseWriter, r *http.Request) {
	format, err := checkFormat(r.URL.Query().Get("format"))
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	b, err := s.incidentRegister(r.Context(), r.PathValue("id"))
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	people := make([]*scope.Person, len(b.reg.People))
	for i, p := range b.reg.People {
		people[i] = masked(p)
	}
	writeExport(w, format, "people-"+r.PathValue("id"), people)
}

func (s *Service) exportRevealed(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	var body ExportRequest
	if err := httpapi.DecodeBody(r, 1<<16, &body); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	format, err := checkFormat(body.Format)
	if err == nil {
		err = needReason(body.Reason)
	}
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	b, err := s.incidentRegister(ctx, id)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	now := s.now()
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, now, "scope.export_revealed", id, body.Reason,
			fmt.Sprintf("%s, %d people", format, len(b.reg.People))))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	writeExport(w, format, "people-"+id+"-revealed", b.reg.People)
}

// WriteXLSX writes rows as a workbook of one sheet, every cell an inline
// string: the smallest SpreadsheetML that Excel, LibreOffice and
// mamori's own reader open.
func WriteXLSX(w io.Writer, sheet string, rows [][]string) error {
	z := zip.NewWriter(w)
	part := func(name, body string) error {
		f, err := z.Create(name)
		if err != nil {
			return err
		}
		_, err = io.WriteString(f, xml.Header+body)
		return err
	}
	esc := func(s string) string {
		var b bytes.Buffer
		xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	var sb bytes.Buffer
	sb.WriteString(`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	for i, row := range rows {
		fmt.Fprintf(&sb, `<row r="%d">`, i+1)
		for j, c := range row {
			fmt.Fprintf(&sb, `<c r="%s%d" t="inlineStr"><is><t xml:space="preserve">%s</t></is></c>`, colName(j), i+1, esc(c))
		}
		sb.WriteString(`</row>`)
	}
	sb.WriteString(`</sheetData></worksheet>`)
	err := part("[Content_Types].xml", `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">`+
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>`+
		`<Default Extension="xml" ContentType="application/xml"/>`+
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>`+
		`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`+
		`</Types>`)
	if err == nil {
		err = part("_rels/.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>`+
			`</Relationships>`)
	}
	if err == nil {
		err = part("xl/workbook.xml", `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" `+
			`xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>`+
			`<sheet name="`+esc(sheet)+`" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	}
	if err == nil {
		err = part("xl/_rels/workbook.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>`+
			`</Relationships>`)
	}
	if err == nil {
		err = part("xl/worksheets/sheet1.xml", sb.String())
	}
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return z.Close()
}

// colName is a column's letters: 0 is A, 26 is AA.
func colName(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}
