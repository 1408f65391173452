package console

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/mamori-dev/mamori/internal/pii"
	"github.com/mamori-dev/mamori/internal/scope/scopeapi"
)

// exposures are the exposure levels, lowest first.
var exposures = []string{"present", "accessed", "exfiltrated"}

// countRow is one line of a count table: a key, its count and, for a
// category, its people per exposure level.
type countRow struct {
	Key     string
	N       int
	ByLevel []int
}

func countRows(m map[string]int) []countRow {
	rows := make([]countRow, 0, len(m))
	for k, n := range m {
		rows = append(rows, countRow{Key: k, N: n})
	}
	slices.SortFunc(rows, func(a, b countRow) int { return cmp.Or(b.N-a.N, cmp.Compare(a.Key, b.Key)) })
	return rows
}

type peoplePage struct {
	IncidentID string
	Summary    scopeapi.SummaryView
	Categories []countRow
	Exposures  []countRow
	Countries  []countRow
	Channels   []countRow

	// List is true for the roles that may see the (masked) people; the
	// others get the counts alone.
	List                        bool
	People                      []scopeapi.PersonView
	Category, Exposure, Host    string
	CategoryOptions, ExpOptions []string
	CanReveal, CanExportReveal  bool
	CanProposals                bool
	paging
}

// people shows an incident's register: the report's counts to every
// reader, the masked people to the roles the API lets list them.
func (c *Console) people(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	base := "/incidents/" + url.PathEscape(id)
	in := r.URL.Query()
	p := peoplePage{IncidentID: id, Category: in.Get("category"), Exposure: in.Get("exposure"), Host: in.Get("host"),
		CategoryOptions: pii.Categories, ExpOptions: exposures,
		List:            c.allowed(s, "GET /incidents/{id}/people"),
		CanReveal:       c.allowed(s, "POST /incidents/{id}/people/{pid}/reveal"),
		CanExportReveal: c.allowed(s, "POST /incidents/{id}/people/export"),
		CanProposals:    c.allowed(s, "GET /incidents/{id}/people/proposals")}
	if err := c.call(r, s, "GET", base+"/people/summary", nil, &p.Summary); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	sum := p.Summary
	p.Categories = countRows(sum.ByCategory)
	for i := range p.Categories {
		for _, e := range exposures {
			p.Categories[i].ByLevel = append(p.Categories[i].ByLevel, sum.CategoryLevel[p.Categories[i].Key][e])
		}
	}
	for _, e := range exposures {
		p.Exposures = append(p.Exposures, countRow{Key: e, N: sum.ByExposure[e]})
	}
	p.Countries, p.Channels = countRows(sum.ByCountry), countRows(sum.ByChannel)
	if p.List {
		q := url.Values{"limit": {strconv.Itoa(pageSize)}}
		for k, v := range map[string]string{"category": p.Category, "exposure": p.Exposure, "host": p.Host, "after": in.Get("after")} {
			if v != "" {
				q.Set(k, v)
			}
		}
		if err := c.call(r, s, "GET", base+"/people?"+q.Encode(), nil, &p.People); err != nil {
			c.apiFail(w, r, s, err)
			return
		}
		p.paging = pageLinks(r, p.People, func(v scopeapi.PersonView) string { return v.ID })
	}
	c.render(w, r, s, http.StatusOK, "people", p)
}

// revealForm is the reveal's reason form: in a dialog on the people page
// (Action empty: the script takes it from the button's link) or as a page.
type revealForm struct {
	Action, PersonID, CancelHref, CSRF, Title, Question, ReasonLabel, Cancel string
}

type revealPage struct {
	IncidentID, PersonID string
	// Person is set once revealed: the answer to the form's post.
	Person *scopeapi.RevealView
}

// revealForm asks for the reason of a reveal, as a page of its own for
// browsers without script (with script it opens as a dialog).
func (c *Console) revealForm(w http.ResponseWriter, r *http.Request, s *session) {
	c.render(w, r, s, http.StatusOK, "reveal", revealPage{IncidentID: r.PathValue("id"), PersonID: r.PathValue("pid")})
}

// reveal reveals one person through the API as the user, with the reason
// given: the API writes the audit entry before it answers. The values
// are the answer to the post, never in a URL, and not cached.
func (c *Console) reveal(w http.ResponseWriter, r *http.Request, s *session) {
	p := revealPage{IncidentID: r.PathValue("id"), PersonID: r.PathValue("pid"), Person: &scopeapi.RevealView{}}
	path := "/incidents/" + url.PathEscape(p.IncidentID) + "/people/" + url.PathEscape(p.PersonID) + "/reveal"
	if err := c.call(r, s, "POST", path, scopeapi.ReasonRequest{Reason: r.PostForm.Get("reason")}, p.Person); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "reveal", p)
}

// exportTypes are the export formats and their media types.
var exportTypes = map[string]string{
	"csv":  "text/csv; charset=utf-8",
	"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

func (c *Console) download(w http.ResponseWriter, name, format string, body []byte) {
	w.Header().Set("Content-Type", exportTypes[format])
	w.Header().Set("Content-Disposition", `attachment; filename="`+safeFileName(name)+"."+format+`"`)
	w.Write(body)
}

// exportMasked downloads the register with masked values.
func (c *Console) exportMasked(w http.ResponseWriter, r *http.Request, s *session) {
	id, format := r.PathValue("id"), cmp.Or(r.URL.Query().Get("format"), "csv")
	if _, ok := exportTypes[format]; !ok {
		c.fail(w, r, s, http.StatusBadRequest, "error", "format: want csv or xlsx")
		return
	}
	body, err := c.callRaw(r, s, "GET", "/incidents/"+url.PathEscape(id)+"/people/export?format="+format)
	if err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	c.download(w, "people-"+id, format, body)
}

// exportRevealed downloads the register with raw values; the API audits
// it with the reason given.
func (c *Console) exportRevealed(w http.ResponseWriter, r *http.Request, s *session) {
	id, format := r.PathValue("id"), cmp.Or(r.PostForm.Get("format"), "csv")
	if _, ok := exportTypes[format]; !ok {
		c.fail(w, r, s, http.StatusBadRequest, "error", "format: want csv or xlsx")
		return
	}
	body, err := c.do(r, s, "POST", "/incidents/"+url.PathEscape(id)+"/people/export",
		scopeapi.ExportRequest{Format: format, Reason: r.PostForm.Get("reason")})
	if err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	c.download(w, "people-"+id+"-revealed", format, body)
}

type proposalsPage struct {
	IncidentID string
	Items      []scopeapi.ProposalView
	CanDecide  bool
}

// proposals lists the near matches a person must confirm or reject.
func (c *Console) proposals(w http.ResponseWriter, r *http.Request, s *session) {
	p := proposalsPage{IncidentID: r.PathValue("id"), CanDecide: c.allowed(s, "POST /incidents/{id}/people/proposals/{pid}/decision")}
	if err := c.call(r, s, "GET", "/incidents/"+url.PathEscape(p.IncidentID)+"/people/proposals", nil, &p.Items); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "proposals", p)
}

// decide confirms or rejects a proposal through the API, with the reason
// given.
func (c *Console) decide(w http.ResponseWriter, r *http.Request, s *session) {
	id, pid := r.PathValue("id"), r.PathValue("pid")
	path := "/incidents/" + url.PathEscape(id) + "/people/proposals/" + url.PathEscape(pid) + "/decision"
	body := scopeapi.DecisionRequest{Decision: r.PostForm.Get("decision"), Reason: r.PostForm.Get("reason")}
	if err := c.call(r, s, "POST", path, body, nil); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/incidents/"+url.PathEscape(id)+"/people/proposals", http.StatusSeeOther)
}

type filesPage struct {
	IncidentID, Host string
	Items            []scopeapi.FileView
	Levels           []string
	CanSet           bool
	paging
}

// piiFiles lists the files with personal data on the incident's hosts
// (counts, never values), each with a form to set its exposure for the
// roles that may.
func (c *Console) piiFiles(w http.ResponseWriter, r *http.Request, s *session) {
	in := r.URL.Query()
	p := filesPage{IncidentID: r.PathValue("id"), Host: in.Get("host"), Levels: exposures,
		CanSet: c.allowed(s, "POST /incidents/{id}/exposure")}
	q := url.Values{"limit": {strconv.Itoa(pageSize)}}
	for k, v := range map[string]string{"host": p.Host, "after": in.Get("after")} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if err := c.call(r, s, "GET", "/incidents/"+url.PathEscape(p.IncidentID)+"/pii-files?"+q.Encode(), nil, &p.Items); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	p.paging = pageLinks(r, p.Items, func(v scopeapi.FileView) string { return v.ID })
	c.render(w, r, s, http.StatusOK, "piifiles", p)
}

// setExposure sets one file's exposure through the API, with the reason
// given.
func (c *Console) setExposure(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	f := r.PostForm
	body := scopeapi.ExposureRequest{Host: f.Get("host"), Path: f.Get("path"), Level: f.Get("level"), Reason: f.Get("reason")}
	if err := c.call(r, s, "POST", "/incidents/"+url.PathEscape(id)+"/exposure", body, nil); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/incidents/"+url.PathEscape(id)+"/pii-files", http.StatusSeeOther)
}
