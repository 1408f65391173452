package scope

import (
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/mamori-dev/mamori/internal/pii"
)

// Bounds on a FileResult from an agent. An enrolled agent may be the
// attacker's: what no real agent sends is refused before it is stored.
const (
	MaxFileParts       = 100000
	maxResultPath      = 4096
	maxResultMember    = 4096
	maxResultValue     = 1024
	maxResultKey       = 128
	maxSubjectValues   = 1000
	maxFlagTerms       = 64
	maxFlagTerm        = 256
	maxCategoryCount   = 1 << 40
	maxSubjectsPerPart = 1 << 20
)

// Check refuses a FileResult whose fields no real agent sends, naming the
// field: unknown categories or flags, negative or inconsistent counts and
// part numbers, overlong text, text that is not UTF-8. It sees one part:
// whether a file's parts agree is the store's to check as they arrive.
func (f *FileResult) Check() error {
	if f.Type != FileResultType {
		return fmt.Errorf("field type: %q, want %q", f.Type, FileResultType)
	}
	if f.Path == "" {
		return fmt.Errorf("field path: empty")
	}
	for _, c := range []struct {
		field, v string
		max      int
	}{{"path", f.Path, maxResultPath}, {"path_raw", f.PathRaw, 4 * maxResultPath}} {
		if len(c.v) > c.max {
			return fmt.Errorf("field %s: %d bytes, at most %d", c.field, len(c.v), c.max)
		}
	}
	if !utf8.ValidString(f.Path) {
		return fmt.Errorf("field path: not valid UTF-8 (the raw bytes go in path_raw)")
	}
	if f.SHA256 != "" && !isHex(f.SHA256, 64) {
		return fmt.Errorf("field sha256: %.80q is not 64 lower-case hex digits", f.SHA256)
	}
	if f.Size < 0 {
		return fmt.Errorf("field size: %d is negative", f.Size)
	}
	if f.Parts < 0 || f.Parts > MaxFileParts {
		return fmt.Errorf("field parts: %d, want 0 (more follow) to %d", f.Parts, MaxFileParts)
	}
	last := MaxFileParts - 1
	if f.Parts > 0 {
		last = f.Parts - 1
	}
	if f.Part < 0 || f.Part > last {
		return fmt.Errorf("field part: %d, want 0 to %d", f.Part, last)
	}
	if f.Parts == 0 && (len(f.Flags) > 0 || f.Masked > 0) {
		return fmt.Errorf("field parts: 0 (more follow) with flags or masked counts, which the last part carries")
	}
	if f.Masked < 0 || f.Masked > maxCategoryCount {
		return fmt.Errorf("field masked: %d out of range", f.Masked)
	}
	if len(f.Categories) == 0 {
		return fmt.Errorf("field categories: empty")
	}
	for c, n := range f.Categories {
		if !slices.Contains(pii.Categories, c) {
			return fmt.Errorf("field categories: unknown category %.40q", c)
		}
		if n < 0 || n > maxCategoryCount {
			return fmt.Errorf("field categories: %s count %d out of range", c, n)
		}
	}
	if len(f.Subjects) > maxSubjectsPerPart {
		return fmt.Errorf("field subjects: %d, at most %d in one part", len(f.Subjects), maxSubjectsPerPart)
	}
	for i := range f.Subjects {
		s := &f.Subjects[i]
		where := fmt.Sprintf("subjects[%d]", i)
		switch {
		case len(s.Member) > maxResultMember || !utf8.ValidString(s.Member):
			return fmt.Errorf("field %s.member: longer than %d bytes or not UTF-8", where, maxResultMember)
		case s.Record < 0:
			return fmt.Errorf("field %s.record: %d is negative", where, s.Record)
		case len(s.Key) > maxResultKey:
			return fmt.Errorf("field %s.key: %d bytes, at most %d", where, len(s.Key), maxResultKey)
		case len(s.Values) == 0 || len(s.Values) > maxSubjectValues:
			return fmt.Errorf("field %s.values: %d values, want 1 to %d", where, len(s.Values), maxSubjectValues)
		}
		for j, v := range s.Values {
			vw := fmt.Sprintf("%s.values[%d]", where, j)
			if _, ok := f.Categories[v.Category]; !ok {
				return fmt.Errorf("field %s.category: %.40q is not among the file's categories", vw, v.Category)
			}
			if v.Value == "" || len(v.Value) > maxResultValue || !utf8.ValidString(v.Value) {
				return fmt.Errorf("field %s.value: empty, longer than %d bytes or not UTF-8", vw, maxResultValue)
			}
			if v.Country != "" && !isUpper(v.Country, 2) {
				return fmt.Errorf("field %s.country: %.20q is not an ISO 3166 code", vw, v.Country)
			}
		}
	}
	// A part's values are some of the file's occurrences: more values of a
	// category than the file counts is a result no scan produced.
	seen := map[string]int{}
	for _, s := range f.Subjects {
		for _, v := range s.Values {
			seen[v.Category]++
		}
	}
	for c, n := range seen {
		if n > f.Categories[c] {
			return fmt.Errorf("field categories: %s counts %d occurrences, the part holds %d values", c, f.Categories[c], n)
		}
	}
	for i, fl := range f.Flags {
		where := fmt.Sprintf("flags[%d]", i)
		if fl.Flag != "special_care" && fl.Flag != "credentials" {
			return fmt.Errorf("field %s.flag: %.40q, want special_care or credentials", where, fl.Flag)
		}
		if len(fl.Member) > maxResultMember || !utf8.ValidString(fl.Member) {
			return fmt.Errorf("field %s.member: longer than %d bytes or not UTF-8", where, maxResultMember)
		}
		if len(fl.Terms) > maxFlagTerms {
			return fmt.Errorf("field %s.terms: %d terms, at most %d", where, len(fl.Terms), maxFlagTerms)
		}
		for _, t := range fl.Terms {
			if len(t) > maxFlagTerm || !utf8.ValidString(t) {
				return fmt.Errorf("field %s.terms: a term longer than %d bytes or not UTF-8", where, maxFlagTerm)
			}
		}
	}
	return nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func isUpper(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
