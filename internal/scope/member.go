package scope

import (
	"path"
	"strconv"
	"strings"
)

// memberNamer gives an occurrence its scoping member: the member of the
// file whose records are data subjects. The cells of a spreadsheet row
// name their sheet part ("dir/book.xlsx!xl/worksheets/sheet2.xml"), which
// scopes as "dir/book.xlsx!sheet2"; the other parts of an Office file (a
// document's body) scope as the Office file itself; any other member is
// its own.
//
// Scans made before shared-string cells were named by their sheet name
// them "xl/sharedStrings.xml". Such a cell belongs to the sheet of the
// workbook's last cell, or to the next sheet when its row number went back:
// rows are numbered per sheet.
//
// ReadResults and FileMatcher both name members through it, so that saved
// scan output and an agent's results scope alike.
type memberNamer struct {
	books map[string]*bookState
}

type bookState struct {
	sheet   int // number of the sheet last seen, from 1
	lastRec int
}

// name returns the scoping member of member, an occurrence's member in the
// file identified by file (host and path); rec is the occurrence's record,
// or -1 for a member named outside any record (a flag).
func (n *memberNamer) name(file, member string, rec int) string {
	if member == "" {
		return ""
	}
	c, part, ok := ooxmlPart(member)
	if !ok {
		return member
	}
	if !strings.HasPrefix(part, "xl/") {
		return c
	}
	if n.books == nil {
		n.books = map[string]*bookState{}
	}
	k := file + "\x00" + c
	b := n.books[k]
	if b == nil {
		b = &bookState{sheet: 1}
		n.books[k] = b
	}
	if sheet, ok := sheetNumber(part); ok {
		if rec >= 0 {
			b.sheet, b.lastRec = sheet, rec
		}
		return joinMember(c, "sheet"+strconv.Itoa(sheet))
	}
	if rec >= 0 {
		if rec < b.lastRec {
			b.sheet++
		}
		b.lastRec = rec
	}
	return joinMember(c, "sheet"+strconv.Itoa(b.sheet))
}

// sheetNumber reads N from "xl/worksheets/sheetN.xml".
func sheetNumber(part string) (int, bool) {
	dir, file := path.Split(part)
	if dir != "xl/worksheets/" {
		return 0, false
	}
	s, ok := strings.CutPrefix(strings.TrimSuffix(file, ".xml"), "sheet")
	if !ok {
		return 0, false
	}
	v, err := strconv.Atoi(s)
	return v, err == nil && v > 0
}
