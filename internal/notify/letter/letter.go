// Package letter lays out printed notices: A4 pages for a window envelope,
// the address block in Japanese postal order (〒, address, name 様), the
// date, and the notice text broken into lines by Japanese rules (kinsoku);
// plus the CSV a printing contractor works from.
package letter

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/signintech/gopdf"
)

// Letter is one printed notice.
type Letter struct {
	PersonID   string
	PostalCode string
	Address    string
	Name       string
	Date       string // already in the sender's zone and the reader's language
	Sender     string
	Body       string // the same text as the e-mail's text part
}

// Fonts are TrueType files with Japanese glyphs. IPAex (Debian's
// fonts-ipaexfont-mincho and -gothic) embeds; TrueType collections (.ttc)
// do not load.
type Fonts struct {
	Mincho string // body text
	Gothic string // address block and headings
}

// ErrNoFonts is returned (wrapped) when no Japanese font is installed.
var ErrNoFonts = errors.New("no IPAex fonts (apt-get install fonts-ipaexfont-mincho fonts-ipaexfont-gothic)")

// FindFonts looks for the IPAex fonts where Debian installs them.
func FindFonts() (Fonts, error) {
	find := func(name string) string {
		for _, dir := range []string{"/usr/share/fonts/opentype/ipaexfont-", "/usr/share/fonts/truetype/ipaexfont-"} {
			for _, kind := range []string{"mincho/", "gothic/"} {
				p := dir + kind + name
				if _, err := os.Stat(p); err == nil {
					return p
				}
			}
		}
		return ""
	}
	f := Fonts{Mincho: find("ipaexm.ttf"), Gothic: find("ipaexg.ttf")}
	if f.Mincho == "" || f.Gothic == "" {
		return f, ErrNoFonts
	}
	return f, nil
}

// Page geometry in millimetres. The address block sits where the window
// of a 長形3号 window envelope shows it when the A4 sheet is folded in three.
const (
	pageW, pageH       = 210.0, 297.0
	marginX            = 25.0
	addrX, addrY       = 25.0, 22.0
	addrW              = 85.0
	bodyTop, bodyBot   = 85.0, 280.0
	bodySize, bodyLine = 10.5, 6.0
)

// Sheet says where a letter starts in the PDF and how many pages it has.
type Sheet struct {
	Letter
	FirstPage, Pages int
}

// Write writes one PDF with every letter starting on a new page, and
// returns where each one is.
func Write(w io.Writer, letters []Letter, fonts Fonts) ([]Sheet, error) {
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitMM})
	if err := pdf.AddTTFFont("mincho", fonts.Mincho); err != nil {
		return nil, fmt.Errorf("letter: font %s: %w", fonts.Mincho, err)
	}
	if err := pdf.AddTTFFont("gothic", fonts.Gothic); err != nil {
		return nil, fmt.Errorf("letter: font %s: %w", fonts.Gothic, err)
	}
	pdf.SetInfo(gopdf.PdfInfo{Title: "mamori notices", Creator: "mamori"})
	var sheets []Sheet
	page := 0
	for _, l := range letters {
		first := page + 1
		n, err := writeLetter(pdf, l)
		if err != nil {
			return nil, fmt.Errorf("letter %s: %w", l.PersonID, err)
		}
		page += n
		sheets = append(sheets, Sheet{Letter: l, FirstPage: first, Pages: n})
	}
	if _, err := pdf.WriteTo(w); err != nil {
		return nil, fmt.Errorf("letter: %w", err)
	}
	return sheets, nil
}

func text(pdf *gopdf.GoPdf, family string, size, x, y float64, s string) error {
	if err := pdf.SetFont(family, "", size); err != nil {
		return err
	}
	pdf.SetXY(x, y)
	return pdf.Cell(nil, s)
}

func measurer(pdf *gopdf.GoPdf) func(string) float64 {
	cache := map[string]float64{}
	return func(s string) float64 {
		if w, ok := cache[s]; ok {
			return w
		}
		w, err := pdf.MeasureTextWidth(s)
		if err != nil {
			w = float64(len(s)) * bodySize * 0.35 // a glyph the font lacks: reserve room rather than fail
		}
		cache[s] = w
		return w
	}
}

func writeLetter(pdf *gopdf.GoPdf, l Letter) (int, error) {
	pdf.AddPage()
	pages := 1
	// Address block: 〒 and postal code, the address (wrapped), then the
	// name with 様, larger.
	y := addrY
	if l.PostalCode != "" {
		if err := text(pdf, "gothic", 11, addrX, y, "〒"+l.PostalCode); err != nil {
			return 0, err
		}
		y += 6.5
	}
	if err := pdf.SetFont("gothic", "", 11); err != nil {
		return 0, err
	}
	for _, line := range Break(l.Address, addrW, measurer(pdf)) {
		if err := text(pdf, "gothic", 11, addrX+3, y, line); err != nil {
			return 0, err
		}
		y += 5.5
	}
	y += 3
	if err := text(pdf, "gothic", 14, addrX+8, y, l.Name+" 様"); err != nil {
		return 0, err
	}
	// Date and sender, right-aligned.
	if err := pdf.SetFont("mincho", "", 10.5); err != nil {
		return 0, err
	}
	for i, s := range []string{l.Date, l.Sender} {
		wd, _ := pdf.MeasureTextWidth(s)
		if err := text(pdf, "mincho", 10.5, pageW-marginX-wd, 62+float64(i)*6, s); err != nil {
			return 0, err
		}
	}
	// Body.
	if err := pdf.SetFont("mincho", "", bodySize); err != nil {
		return 0, err
	}
	m := measurer(pdf)
	y = bodyTop
	for _, para := range strings.Split(strings.ReplaceAll(l.Body, "\r\n", "\n"), "\n") {
		lines := Break(para, pageW-2*marginX, m)
		if len(lines) == 0 {
			lines = []string{""}
		}
		for _, line := range lines {
			if y > bodyBot {
				pdf.AddPage()
				pages++
				y = 25
			}
			if line != "" {
				if err := text(pdf, "mincho", bodySize, marginX, y, line); err != nil {
					return 0, err
				}
			}
			y += bodyLine
		}
	}
	return pages, nil
}

// CSVHeader is the header of the contractor's CSV.
var CSVHeader = []string{"batch", "first_page", "pages", "person_id", "postal_code", "address", "name"}

// WriteCSV writes the contractor's list: which pages go in which envelope,
// addressed to whom.
func WriteCSV(w io.Writer, batch string, sheets []Sheet) error {
	cw := csv.NewWriter(w)
	cw.Write(CSVHeader)
	for _, s := range sheets {
		cw.Write([]string{batch, strconv.Itoa(s.FirstPage), strconv.Itoa(s.Pages), s.PersonID, s.PostalCode, s.Address, s.Name + " 様"})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("letter csv: %w", err)
	}
	return nil
}
