package notify

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
	"time"
)

// Data is everything a notice template can refer to. It is a struct, not a
// map, so that a reference to a field that does not exist is found by
// walking the template against this type (see Validate).
type Data struct {
	Person   PersonData
	Incident Facts
	// Date is the notice date in the recipient's language and the sender's
	// zone (Asia/Tokyo unless configured).
	Date string
}

// PersonData is the person as a template sees them: no contact details,
// and every exposed item masked.
type PersonData struct {
	ID    string
	Name  string
	Items []ItemData
}

// ItemData is one exposed item with its category named in the notice's
// language.
type ItemData struct {
	Category string
	Label    string
	Masked   string
}

// Languages are the notice languages with default templates.
var Languages = []string{"ja", "en"}

var categoryLabels = map[string][2]string{ // ja, en
	"email":           {"メールアドレス", "E-mail address"},
	"phone":           {"電話番号", "Telephone number"},
	"credit_card":     {"クレジットカード番号", "Credit card number"},
	"my_number":       {"個人番号（マイナンバー）", "Individual Number (My Number)"},
	"person_name":     {"氏名", "Name"},
	"address":         {"住所", "Address"},
	"postal_code":     {"郵便番号", "Postal code"},
	"date_of_birth":   {"生年月日", "Date of birth"},
	"bank_account":    {"銀行口座番号", "Bank account number"},
	"passport":        {"旅券番号", "Passport number"},
	"drivers_license": {"運転免許証番号", "Driver's licence number"},
}

// CategoryLabel names a personal-data category in lang; unknown categories
// keep their identifier so nothing is silently dropped from a notice.
func CategoryLabel(category, lang string) string {
	l, ok := categoryLabels[category]
	if !ok {
		return category
	}
	if lang == "ja" {
		return l[0]
	}
	return l[1]
}

// FormatDate writes t as a notice date in lang.
func FormatDate(t time.Time, lang string) string {
	if lang == "ja" {
		return fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
	}
	return t.Format("2 January 2006")
}

// NewData builds the template data for one person.
func NewData(p Person, f Facts, lang string, date time.Time) Data {
	d := Data{Person: PersonData{ID: p.ID, Name: p.Name}, Incident: f, Date: FormatDate(date, lang)}
	for _, it := range p.Items {
		d.Person.Items = append(d.Person.Items, ItemData{Category: it.Category, Label: CategoryLabel(it.Category, lang), Masked: it.Masked})
	}
	return d
}

// TemplateSource is one language's template text: a subject line, a plain
// text body (also used for letters) and an HTML body.
type TemplateSource struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
}

// Templates holds the parsed templates of a campaign, by language.
type Templates struct {
	Source  map[string]TemplateSource
	Default string // the campaign's default language: every campaign has its template
	subject map[string]*texttemplate.Template
	text    map[string]*texttemplate.Template
	html    map[string]*htmltemplate.Template
}

//go:embed templates
var defaultTemplates embed.FS

// DefaultTemplates returns mamori's Japanese and English notice templates.
func DefaultTemplates() map[string]TemplateSource {
	src, err := readTemplates(defaultTemplates, "templates")
	if err != nil {
		panic(err) // embedded files: a failure here is a build defect
	}
	return src
}

// LoadTemplates reads templates from dir, laid out as dir/LANG/subject.tmpl,
// text.tmpl and html.tmpl.
func LoadTemplates(dir string) (map[string]TemplateSource, error) {
	return readTemplates(os.DirFS(dir), ".")
}

func readTemplates(fsys fs.FS, root string) (map[string]TemplateSource, error) {
	entries, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	out := map[string]TemplateSource{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		var ts TemplateSource
		for name, dst := range map[string]*string{"subject.tmpl": &ts.Subject, "text.tmpl": &ts.Text, "html.tmpl": &ts.HTML} {
			b, err := fs.ReadFile(fsys, filepath.Join(root, e.Name(), name))
			if err != nil {
				return nil, fmt.Errorf("templates: %w", err)
			}
			*dst = string(b)
		}
		ts.Subject = strings.TrimSpace(ts.Subject)
		out[e.Name()] = ts
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("templates: no language directories under %s", root)
	}
	return out, nil
}

// ParseTemplates parses and validates every language in src (see
// Validate); def is the language for people without one.
func ParseTemplates(src map[string]TemplateSource, def string) (*Templates, error) {
	if _, ok := src[def]; !ok {
		return nil, fmt.Errorf("templates: no template for default language %q", def)
	}
	t := &Templates{Source: src, Default: def,
		subject: map[string]*texttemplate.Template{}, text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	langs := make([]string, 0, len(src))
	for l := range src {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	for _, lang := range langs {
		s := src[lang]
		var err error
		name := func(part string) string { return lang + "/" + part }
		if t.subject[lang], err = texttemplate.New(name("subject")).Option("missingkey=error").Parse(s.Subject); err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		if t.text[lang], err = texttemplate.New(name("text")).Option("missingkey=error").Parse(s.Text); err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		if t.html[lang], err = htmltemplate.New(name("html")).Option("missingkey=error").Parse(s.HTML); err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		if strings.ContainsAny(s.Subject, "\r\n") {
			return nil, fmt.Errorf("templates: %s: the subject is one line", name("subject"))
		}
		for _, tr := range []*parse.Tree{t.subject[lang].Tree, t.text[lang].Tree, t.html[lang].Tree} {
			if err := checkFields(tr, reflect.TypeOf(Data{})); err != nil {
				return nil, fmt.Errorf("templates: %w", err)
			}
		}
		// Executing against a full sample catches what the static walk
		// cannot see (a field reached through a function, say).
		if _, err := t.render(lang, SampleData(lang)); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// SampleData is a complete Data value: every field set, every list
// non-empty. Validation executes templates against it.
func SampleData(lang string) Data {
	return NewData(Person{ID: "p-sample", Name: "山田 太郎", Items: []Item{{Category: "email", Masked: "t***@example.jp"}, {Category: "credit_card", Masked: "****-****-****-1234"}}},
		Facts{Organization: "Example K.K.", Summary: "summary", Cause: "cause", SecondaryHarm: "harm", Contact: "contact", Other: "other"},
		lang, time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
}

// Rendered is one notice's content.
type Rendered struct {
	Lang    string
	Subject string
	Text    string
	HTML    string
}

// Render executes the templates of lang over d.
func (t *Templates) Render(lang string, d Data) (Rendered, error) { return t.render(lang, d) }

func (t *Templates) render(lang string, d Data) (Rendered, error) {
	r := Rendered{Lang: lang}
	var b bytes.Buffer
	if err := t.subject[lang].Execute(&b, d); err != nil {
		return r, fmt.Errorf("templates: %w", err)
	}
	r.Subject = strings.TrimSpace(b.String())
	b.Reset()
	if err := t.text[lang].Execute(&b, d); err != nil {
		return r, fmt.Errorf("templates: %w", err)
	}
	r.Text = b.String()
	b.Reset()
	if err := t.html[lang].Execute(&b, d); err != nil {
		return r, fmt.Errorf("templates: %w", err)
	}
	r.HTML = b.String()
	return r, nil
}

// checkFields walks a template tree and refuses any field that the data
// type does not have, including fields in branches that a sample would not
// execute. Where the type of dot cannot be known (after a function call),
// the walk stops checking that subtree; execution against the sample is the
// second line of defence.
func checkFields(tr *parse.Tree, root reflect.Type) error {
	c := fieldChecker{root: root, name: tr.ParseName}
	return c.list(tr.Root, root)
}

type fieldChecker struct {
	root reflect.Type
	name string
}

func (c fieldChecker) list(l *parse.ListNode, dot reflect.Type) error {
	if l == nil {
		return nil
	}
	for _, n := range l.Nodes {
		if err := c.node(n, dot); err != nil {
			return err
		}
	}
	return nil
}

func (c fieldChecker) node(n parse.Node, dot reflect.Type) error {
	switch n := n.(type) {
	case *parse.ActionNode:
		_, err := c.pipe(n.Pipe, dot)
		return err
	case *parse.IfNode:
		return c.branch(&n.BranchNode, dot, false)
	case *parse.RangeNode:
		return c.branch(&n.BranchNode, dot, true)
	case *parse.WithNode:
		return c.branch(&n.BranchNode, dot, false)
	case *parse.TemplateNode:
		if n.Pipe != nil {
			_, err := c.pipe(n.Pipe, dot)
			return err
		}
	}
	return nil
}

func (c fieldChecker) branch(b *parse.BranchNode, dot reflect.Type, isRange bool) error {
	t, err := c.pipe(b.Pipe, dot)
	if err != nil {
		return err
	}
	inner := dot // {{if}} keeps dot
	switch {
	case isRange:
		inner = nil
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map) {
			inner = t.Elem()
		}
	case b.NodeType == parse.NodeWith:
		inner = t
	}
	if err := c.list(b.List, inner); err != nil {
		return err
	}
	return c.list(b.ElseList, dot)
}

// pipe checks a pipeline and returns the type it yields, nil when unknown.
func (c fieldChecker) pipe(p *parse.PipeNode, dot reflect.Type) (reflect.Type, error) {
	if p == nil {
		return nil, nil
	}
	var last reflect.Type
	for i, cmd := range p.Cmds {
		last = nil
		for j, arg := range cmd.Args {
			t, err := c.arg(arg, dot)
			if err != nil {
				return nil, err
			}
			if i == len(p.Cmds)-1 && j == 0 && len(cmd.Args) == 1 {
				last = t
			}
		}
	}
	return last, nil
}

func (c fieldChecker) arg(n parse.Node, dot reflect.Type) (reflect.Type, error) {
	switch n := n.(type) {
	case *parse.FieldNode:
		return c.fields(dot, n.Ident, n.Position())
	case *parse.VariableNode:
		if n.Ident[0] == "$" {
			return c.fields(c.root, n.Ident[1:], n.Position())
		}
		return nil, nil
	case *parse.ChainNode:
		t, err := c.arg(n.Node, dot)
		if err != nil || t == nil {
			return nil, err
		}
		return c.fields(t, n.Field, n.Position())
	case *parse.PipeNode:
		return c.pipe(n, dot)
	case *parse.DotNode:
		return dot, nil
	}
	return nil, nil
}

func (c fieldChecker) fields(t reflect.Type, idents []string, pos parse.Pos) (reflect.Type, error) {
	for _, id := range idents {
		if t == nil {
			return nil, nil
		}
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil, nil
		}
		f, ok := t.FieldByName(id)
		if !ok || !f.IsExported() {
			return nil, fmt.Errorf("%s: offset %d: no field %q in %s (known: %s)", c.name, pos, id, t.Name(), fieldNames(t))
		}
		t = f.Type
	}
	return t, nil
}

func fieldNames(t reflect.Type) string {
	var n []string
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).IsExported() {
			n = append(n, t.Field(i).Name)
		}
	}
	return strings.Join(n, ", ")
}
