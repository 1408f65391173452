package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
)

//go:embed templates
var templateFS embed.FS

// templates holds one template set per page: base, shared parts and the
// page's own "content".
type templates map[string]*template.Template

var shared = []string{"templates/base.html", "templates/pager.html", "templates/hosttable.html",
	"templates/hoststate.html", "templates/actionform.html"}

var pageNames = []string{"login", "error", "incidents", "incident", "hosts", "host", "confirm", "drafts", "timeline", "campaigns", "audit", "rules", "sweeps",
	"people", "reveal", "proposals", "piifiles"}

func parseTemplates() (*templates, error) {
	funcs := template.FuncMap{
		"when": func(v *view, t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(v.Zone).Format("2006-01-02 15:04:05 MST")
		},
		"actionData": func(v *view, action string) actionForm { return newActionForm(v, action, true) },
		"whenRFC": func(v *view, s string) string {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return "—"
			}
			return t.In(v.Zone).Format("2006-01-02 15:04:05 MST")
		},
		// label is the message prefix+key, or key itself when there is
		// none (a category or level added later still shows).
		"label": func(v *view, prefix, key string) string {
			if m, ok := v.L[prefix+key]; ok {
				return m
			}
			return key
		},
		"revealData": func(v *view, action, personID, cancel string) revealForm {
			return revealForm{Action: action, PersonID: personID, CancelHref: cancel, CSRF: v.CSRF, Title: v.L["reveal"],
				Question: v.L["confirm_reveal"], ReasonLabel: v.L["reason_help"], Cancel: v.L["cancel"]}
		},
		"remaining": remaining,
	}
	t := templates{}
	for _, name := range pageNames {
		files := append(append([]string(nil), shared...), "templates/"+name+".html")
		pt, err := template.New("base.html").Funcs(funcs).ParseFS(templateFS, files...)
		if err != nil {
			return nil, fmt.Errorf("console: templates: %w", err)
		}
		t[name] = pt
	}
	// Fragments polled by htmx render a shared part alone.
	for _, name := range []string{"hosttable", "hoststate"} {
		t[name] = t["host"].Lookup(name)
	}
	return &t, nil
}

// view is what every template gets.
type view struct {
	Title, Lang, Path, User, Role, CSRF string
	L                                   map[string]string
	Zone                                *time.Location
	Nav                                 []navItem
	IncidentNav                         []navItem
	Langs, Zones                        []option
	Data                                any
}

type navItem struct {
	Label, Href string
	Current     bool
}

type option struct {
	Value, Label string
	Selected     bool
}

// messageKey names a message of the messages table.
type messageKey string

// nav lists the pages the user's role may see, keyed by the API route
// each shows.
var nav = []struct{ key, href, route string }{
	{"incidents", "/incidents", "GET /incidents"},
	{"fleet", "/hosts", "GET /hosts"},
	{"sweeps", "/sweeps", "GET /sweeps"},
	{"rules", "/rules", "GET /rules"},
	{"audit", "/audit", "GET /audit"},
}

// incidentNav lists an incident's pages, shown on each of them to the
// roles that may open them.
var incidentNav = []struct{ key, suffix, route string }{
	{"dashboard", "", "GET /incidents/{id}"},
	{"timeline", "/timeline", "GET /incidents/{id}/timeline"},
	{"people", "/people", "GET /incidents/{id}/people/summary"},
	{"pii_files", "/pii-files", "GET /incidents/{id}/pii-files"},
	{"drafts", "/drafts", "GET /incidents/{id}/obligations/drafts"},
	{"campaigns", "/campaigns", "GET /incidents/{id}/campaigns"},
}

func (c *Console) newView(r *http.Request, s *session, title string, data any) *view {
	lang := language(r)
	v := &view{Lang: lang, L: messages[lang], Zone: zone(r), Path: r.URL.RequestURI(), Data: data}
	v.Title = v.L[title]
	if v.Title == "" {
		v.Title = title
	}
	for _, l := range []option{{Value: "ja", Label: "日本語"}, {Value: "en", Label: "English"}} {
		l.Selected = l.Value == lang
		v.Langs = append(v.Langs, l)
	}
	for _, z := range zones {
		v.Zones = append(v.Zones, option{Value: z, Label: z, Selected: z == v.Zone.String()})
	}
	if s != nil {
		v.User, v.CSRF = s.principal.Name, s.csrf
		if len(s.principal.Roles) > 0 {
			v.Role = string(s.principal.Roles[0])
		}
		for _, n := range nav {
			if c.allowed(s, n.route) {
				v.Nav = append(v.Nav, navItem{Label: v.L[n.key], Href: n.href, Current: strings.HasPrefix(r.URL.Path, n.href)})
			}
		}
		if id := r.PathValue("id"); id != "" && strings.HasPrefix(r.URL.Path, "/incidents/") {
			for _, n := range incidentNav {
				href := "/incidents/" + url.PathEscape(id) + n.suffix
				if c.allowed(s, n.route) {
					v.IncidentNav = append(v.IncidentNav, navItem{Label: v.L[n.key], Href: href, Current: r.URL.Path == href})
				}
			}
		}
	}
	return v
}

// render writes page name (its title is the message of that key unless
// the data names one) with status code.
func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, code int, name string, data any) {
	c.renderTitled(w, r, s, code, name, name, data)
}

func (c *Console) renderTitled(w http.ResponseWriter, r *http.Request, s *session, code int, name, title string, data any) {
	v := c.newView(r, s, title, data)
	t := (*c.pages)[name]
	var buf bytes.Buffer
	var err error
	if name == "hosttable" || name == "hoststate" {
		err = t.Execute(&buf, v)
	} else {
		err = t.ExecuteTemplate(&buf, "base.html", v)
	}
	if err != nil {
		c.log.Error("console: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

type errorData struct {
	Code         int
	Text, Detail string
}

// fail renders an error page: text is a message key, detail the API's
// own error text when there is one.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, code int, key messageKey, detail ...string) {
	lang := language(r)
	c.renderTitled(w, r, s, code, "error", "error", errorData{Code: code, Text: messages[lang][string(key)], Detail: strings.Join(detail, " ")})
}
