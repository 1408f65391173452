package scope

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mamori-dev/mamori/internal/pii"
	"github.com/mamori-dev/mamori/internal/pii/extract"
	"github.com/mamori-dev/mamori/internal/scan"
)

// ScanMatcher wraps the personal-data matcher of `mamori scan --pii`. It
// gives every occurrence a subject key, and flags files whose columns,
// keywords or names make their data special-care (要配慮個人情報) or pair
// account numbers with credentials.
//
// The subject key is "s-" and a keyed hash of the record's strongest
// normalised value (My Number, passport, licence, e-mail, phone, card, name
// and birth date, name and address; else the file, member and record), so
// that one customer's rows in different files, encodings and archives
// share it while the key reveals no value.
type ScanMatcher struct {
	inner   scan.Matcher
	mac     *hashFunc
	reveal  bool
	country string
	lim     extract.Limits
}

// NewScanMatcher wraps inner, which must put raw values in its
// occurrences (pii.Options.Reveal): the key is computed from them, and they
// are masked again here unless reveal is set.
func NewScanMatcher(inner scan.Matcher, key []byte, reveal bool, country string) *ScanMatcher {
	if country == "" {
		country = "JP"
	}
	return &ScanMatcher{inner: inner, mac: &hashFunc{key: key}, reveal: reveal, country: country, lim: extract.DefaultLimits}
}

func (m *ScanMatcher) Digests() scan.Digests { return m.inner.Digests() }

// Occurrence is a personal-data occurrence with its subject key.
type Occurrence struct {
	pii.Occurrence
	Subject string `json:"subject"`
}

var _ scan.JSONAppender = (*Occurrence)(nil)

// AppendJSON writes the occurrence's fields, then "subject".
func (o *Occurrence) AppendJSON(b []byte) []byte {
	b = o.Occurrence.AppendJSON(b)
	b = append(b[:len(b)-1], `,"subject":`...)
	b = scan.AppendJSONString(b, o.Subject)
	return append(b, '}')
}

func (o *Occurrence) MarshalJSON() ([]byte, error) { return o.AppendJSON(nil), nil }

// Match runs the inner matcher, keys its occurrences record by record, and
// looks for special-care terms in files that hold personal data.
func (m *ScanMatcher) Match(ctx context.Context, f *scan.File, emit func(scan.Record)) error {
	var group []pii.Occurrence
	found := false
	flush := func() {
		if len(group) == 0 {
			return
		}
		key := m.subjectKey(group)
		for i := range group {
			o := &Occurrence{Occurrence: group[i], Subject: key}
			if !m.reveal && o.Value != "" {
				o.Masked, o.Value = pii.Mask(o.Category, o.Value), ""
			}
			emit(o)
		}
		group = group[:0]
	}
	err := m.inner.Match(ctx, f, func(r scan.Record) {
		o, ok := r.(*pii.Occurrence)
		if !ok {
			flush()
			emit(r)
			return
		}
		found = true
		// Occurrences of one record arrive together.
		if n := len(group); n > 0 && (group[n-1].Record != o.Record || group[n-1].Member != o.Member) {
			flush()
		}
		group = append(group, *o)
	})
	flush()
	if found && f.Data != nil && ctx.Err() == nil {
		for _, fl := range Flags(ctx, f.Path, f.Data, m.lim) {
			emit(fl)
		}
	}
	return err
}

// subjectKey keys one record's occurrences.
func (m *ScanMatcher) subjectKey(group []pii.Occurrence) string {
	var rank uint8
	var best string
	set := func(k uint8, v string) {
		if v != "" && (rank == 0 || k < rank || k == rank && v < best) {
			rank, best = k, v
		}
	}
	var names []string
	var dob, addr string
	for _, o := range group {
		switch o.Category {
		case "my_number":
			set(kMyNumber, NormalizeMyNumber(o.Value))
		case "passport":
			set(kPassport, NormalizeID(o.Value))
		case "drivers_license":
			set(kLicense, NormalizeID(o.Value))
		case "email":
			set(kEmail, NormalizeEmail(o.Value))
		case "phone":
			if p := NormalizePhone(o.Value, m.country); !sharedLine(p) {
				set(kPhone, p)
			}
		case "credit_card":
			if c := NormalizeCard(o.Value); c != "" {
				set(kCard, hex.EncodeToString(m.mac.sum("card:" + c)[:16]))
			}
		case "person_name":
			if n := NormalizeName(o.Value); n != "" && !IsKanaName(n) {
				names = append(names, n)
			}
		case "date_of_birth":
			dob = cmpFirst(dob, NormalizeDate(o.Value))
		case "address":
			addr = cmpFirst(addr, NormalizeAddress(o.Value))
		}
	}
	if len(names) > 0 {
		n := slices.Min(names)
		if dob != "" {
			set(kNameDOB, n+"|"+dob)
		}
		if addr != "" {
			set(kNameAddr, n+"|"+addr)
		}
	}
	if rank == 0 {
		o := group[0]
		rank, best = kRecord, fmt.Sprintf("%s!%s#%d", o.Path, o.Member, o.Record)
	}
	return "s-" + hex.EncodeToString(m.mac.sum("subject:" + kindNames[rank] + ":" + best)[:8])
}

func cmpFirst(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Flag marks a file (or member) whose personal data needs more care.
type Flag struct {
	Type   string `json:"type"`
	Path   string `json:"path"`
	Member string `json:"member,omitempty"`
	// Flag is "special_care" (要配慮個人情報) or "credentials".
	Flag  string   `json:"flag"`
	Terms []string `json:"terms"`
	// Via says where the terms were seen: column, name (of the file or
	// member), text.
	Via string `json:"via"`
}

func (f *Flag) Kind() string { return "pii_flag" }

func (f *Flag) Finding() bool { return false }

func (f *Flag) Text() string {
	p := f.Path
	if f.Member != "" {
		p += "!" + f.Member
	}
	return fmt.Sprintf("pii-flag %s %s (%s: %s)", f.Flag, p, f.Via, strings.Join(f.Terms, ", "))
}

// specialCare terms name health, criminal, belief, race and the other
// kinds of 要配慮個人情報 (APPI art. 2(3)). broad ones count in column
// and document names only; the narrow ones in free text too.
var specialCareBroad = []string{"健康", "健診", "診断", "診療", "通院", "入院", "服薬", "処方", "障害", "障がい",
	"介護", "カルテ", "検査結果", "アレルギー", "医療", "疾患", "health", "medical", "diagnosis", "disease", "illness",
	"prescription", "medication", "disability", "allergy", "patient", "patients", "treatment", "religion", "belief", "race",
	"ethnicity", "criminal", "conviction", "genetic", "genome"}

// columnOnly terms say too little in a file name (race_results.csv).
var columnOnly = map[string]bool{"race": true, "belief": true, "treatment": true}

var specialCareNarrow = []string{"病歴", "既往歴", "病名", "傷病名", "診断名", "犯罪歴", "前科", "前歴", "逮捕歴",
	"犯罪被害", "宗教", "信仰", "信条", "人種", "民族", "門地", "社会的身分", "遺伝子", "ゲノム", "障害者手帳",
	"medical history", "criminal record"}

var credentialTerms = []string{"暗証番号", "パスワード", "password", "passwd", "pin", "pincode", "セキュリティコード",
	"cvv", "cvc", "secret"}

// maxFlagRecords bounds the records looked at per file: column names come
// first, and a file is flagged as a whole.
const maxFlagRecords = 2000

// flagTextBytes bounds the text read for flags.
const flagTextBytes = 1 << 20

var errEnough = errors.New("enough records")

// Flags looks at a file's column names, member names and text for
// special-care and credential terms. Each file or member with any yields
// one Flag per kind and place.
func Flags(ctx context.Context, path string, data []byte, lim extract.Limits) []*Flag {
	type at struct{ member, kind, via string }
	terms := map[at][]string{}
	var order []at
	add := func(a at, t string) {
		if _, ok := terms[a]; !ok {
			order = append(order, a)
		}
		terms[a] = appendNew(terms[a], t)
	}
	seen := map[string]bool{}
	check := func(member, via, s string, broad bool) {
		low := strings.ToLower(s)
		for _, t := range specialCareNarrow {
			if termIn(low, t) {
				add(at{member, "special_care", via}, t)
			}
		}
		if broad {
			for _, t := range specialCareBroad {
				if via == "name" && columnOnly[t] {
					continue
				}
				if termIn(low, t) {
					add(at{member, "special_care", via}, t)
				}
			}
			for _, t := range credentialTerms {
				if termIn(low, t) {
					add(at{member, "credentials", via}, t)
				}
			}
		}
	}
	check("", "name", baseName(path), true)
	// Column names come first: a text file's first MiB says enough, and a
	// second decoding of a whole large Shift_JIS export would double its
	// cost. Archives and databases need all their bytes to be read at all.
	if len(data) > flagTextBytes && !bytes.HasPrefix(data, []byte("PK")) && !bytes.HasPrefix(data, []byte("SQLite format 3\x00")) {
		cut := data[:flagTextBytes]
		if i := bytes.LastIndexByte(cut, '\n'); i > 0 {
			cut = cut[:i+1]
		}
		data = cut
	}
	n := 0
	extract.Read(ctx, path, data, lim, func(rec *extract.Record) error {
		if n++; n > maxFlagRecords {
			return errEnough
		}
		for _, f := range rec.Fields {
			if !seen["m\x00"+f.Member] {
				seen["m\x00"+f.Member] = true
				if f.Member != "" {
					check(f.Member, "name", f.Member, true)
				}
			}
			if f.Key != "" {
				if k := f.Member + "\x00" + f.Key; !seen[k] {
					seen[k] = true
					check(f.Member, "column", f.Key, true)
				}
				continue
			}
			if len(f.Text) < 4096 {
				check(f.Member, "text", f.Text, false)
			}
		}
		return nil
	}, nil)
	var out []*Flag
	for _, a := range order {
		out = append(out, &Flag{Type: "pii_flag", Path: path, Member: a.member, Flag: a.kind, Terms: terms[a], Via: a.via})
	}
	return out
}

// termIn finds t in low; ASCII terms only as whole words.
func termIn(low, t string) bool {
	if t[0] >= 0x80 {
		return strings.Contains(low, t)
	}
	for from := 0; ; {
		i := strings.Index(low[from:], t)
		if i < 0 {
			return false
		}
		i += from
		e := i + len(t)
		if (i == 0 || !isLetter(low[i-1])) && (e == len(low) || !isLetter(low[e])) {
			return true
		}
		from = i + 1
	}
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' }

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
