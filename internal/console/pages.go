package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/mamori-dev/mamori/internal/audit"
	"github.com/mamori-dev/mamori/internal/incident"
	"github.com/mamori-dev/mamori/internal/obligation"
)

// The JSON shapes of the fleet's API answers the pages show. They are the
// server package's types, read back by field name: a capability does not
// import the server.
type hostJSON struct {
	ID                 string            `json:"id"`
	Name               string            `json:"name"`
	OS                 string            `json:"os"`
	Arch               string            `json:"arch"`
	OSVersion          string            `json:"os_version"`
	IPs                []string          `json:"ips"`
	AgentVersion       string            `json:"agent_version"`
	Labels             map[string]string `json:"labels"`
	Online             bool              `json:"online"`
	LastSeen           *time.Time        `json:"last_seen"`
	Monitoring         string            `json:"monitoring"`
	MonitoringReported string            `json:"monitoring_reported"`
	Isolation          string            `json:"isolation"`
	IsolationReason    string            `json:"isolation_reason"`
	IsolationError     string            `json:"isolation_error"`
	BundleVersion      int64             `json:"bundle_version"`
	BundleError        string            `json:"bundle_error"`
}

type detectionJSON struct {
	ID     int64     `json:"id"`
	Type   string    `json:"type"`
	Source string    `json:"source"`
	Rule   string    `json:"rule"`
	Path   string    `json:"path"`
	SeenAt time.Time `json:"seen_at"`
}

type auditJSON struct {
	Index  int64     `json:"index"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Role   string    `json:"role"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Reason string    `json:"reason"`
	Result string    `json:"result"`
	Prev   string    `json:"prev"`
	Hash   string    `json:"hash"`
}

type checkpointJSON struct {
	Size      int64     `json:"size"`
	Root      string    `json:"root"`
	Time      time.Time `json:"time"`
	Note      string    `json:"note"`
	PublicKey string    `json:"public_key"`
}

type bundleJSON struct {
	Version   int64     `json:"version"`
	Name      string    `json:"name"`
	YARA      string    `json:"yara"`
	Hashes    []string  `json:"hashes"`
	SHA256    string    `json:"sha256"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

type sweepJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	State     string    `json:"state"`
	Paths     []string  `json:"paths"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Findings  int64     `json:"findings"`
	Progress  struct {
		Done  int `json:"done"`
		Total int `json:"total"`
	} `json:"progress"`
}

type statsJSON struct {
	ConnectedAgents  int     `json:"connected_agents"`
	FindingsIngested int64   `json:"findings_ingested"`
	UptimeSeconds    float64 `json:"uptime_seconds"`
	Store            string  `json:"store"`
}

// pageSize is the rows per page of every list.
const pageSize = 100

// paging is embedded in the data of every paged page.
type paging struct {
	Next, First string
	Paged       bool
}

// pageLinks makes the links to the first page and, when this page is
// full, to the next one, after the id of its last item.
func pageLinks[T any](r *http.Request, items []T, id func(T) string) paging {
	q := r.URL.Query()
	p := paging{Paged: q.Get("after") != ""}
	q.Del("after")
	first := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	p.First = first.String()
	if len(items) >= pageSize {
		q.Set("after", id(items[len(items)-1]))
		next := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
		p.Next = next.String()
	}
	return p
}

// page registers a page that shows the API route named by route: users
// whose role may not call it get 403 before anything is read.
func (c *Console) page(mux *http.ServeMux, pattern, route string, h func(http.ResponseWriter, *http.Request, *session)) {
	mux.HandleFunc(pattern, c.authed(func(w http.ResponseWriter, r *http.Request, s *session) {
		if !c.allowed(s, route) {
			c.fail(w, r, s, http.StatusForbidden, "forbidden")
			return
		}
		h(w, r, s)
	}))
}

func (c *Console) pageRoutes(mux *http.ServeMux) {
	c.page(mux, "GET /incidents", "GET /incidents", c.incidents)
	c.page(mux, "GET /incidents/{id}", "GET /incidents/{id}", c.incident)
	c.page(mux, "GET /incidents/{id}/live", "GET /incidents/{id}/hosts", c.incidentHosts)
	c.page(mux, "GET /hosts", "GET /hosts", c.hosts)
	c.page(mux, "GET /hosts/{id}", "GET /hosts/{id}", c.host)
	c.page(mux, "GET /hosts/{id}/state", "GET /hosts/{id}", c.hostState)
	c.page(mux, "GET /hosts/{id}/confirm/{action}", "POST /hosts/{id}/isolate", c.confirm)
	c.page(mux, "POST /hosts/{id}/{action}", "POST /hosts/{id}/isolate", c.act)
	c.page(mux, "GET /incidents/{id}/drafts", "GET /incidents/{id}/obligations/drafts", c.drafts)
	c.page(mux, "GET /incidents/{id}/drafts/{name}", "GET /incidents/{id}/obligations/drafts/{name}", c.draft)
	c.page(mux, "GET /incidents/{id}/timeline", "GET /incidents/{id}/timeline", c.timeline)
	c.page(mux, "GET /incidents/{id}/campaigns", "GET /incidents/{id}/campaigns", c.campaigns)
	c.page(mux, "POST /incidents/{id}/campaigns/{cid}/approve", "POST /incidents/{id}/campaigns/{cid}/approve", c.approve)
	c.page(mux, "POST /incidents/{id}/campaigns/{cid}/letters", "GET /incidents/{id}/campaigns/{cid}/letters.pdf", c.letters)
	c.page(mux, "POST /incidents/{id}/campaigns/{cid}/letters/posted", "POST /incidents/{id}/campaigns/{cid}/letters/posted", c.lettersPosted)
	c.page(mux, "GET /incidents/{id}/people", "GET /incidents/{id}/people/summary", c.people)
	c.page(mux, "GET /incidents/{id}/people/{pid}/reveal", "POST /incidents/{id}/people/{pid}/reveal", c.revealForm)
	c.page(mux, "POST /incidents/{id}/people/{pid}/reveal", "POST /incidents/{id}/people/{pid}/reveal", c.reveal)
	c.page(mux, "GET /incidents/{id}/people/export", "GET /incidents/{id}/people/export", c.exportMasked)
	c.page(mux, "POST /incidents/{id}/people/export", "POST /incidents/{id}/people/export", c.exportRevealed)
	c.page(mux, "GET /incidents/{id}/people/proposals", "GET /incidents/{id}/people/proposals", c.proposals)
	c.page(mux, "POST /incidents/{id}/people/proposals/{pid}/decision", "POST /incidents/{id}/people/proposals/{pid}/decision", c.decide)
	c.page(mux, "GET /incidents/{id}/pii-files", "GET /incidents/{id}/pii-files", c.piiFiles)
	c.page(mux, "POST /incidents/{id}/exposure", "POST /incidents/{id}/exposure", c.setExposure)
	c.page(mux, "GET /audit", "GET /audit", c.audit)
	c.page(mux, "GET /rules", "GET /rules", c.rules)
	c.page(mux, "GET /sweeps", "GET /sweeps", c.sweeps)
}

// apiFail renders the error of an in-process API call.
func (c *Console) apiFail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		key := messageKey("error")
		switch ae.Code {
		case http.StatusForbidden:
			key = "forbidden"
		case http.StatusNotFound:
			key = "not_found"
		}
		c.fail(w, r, s, ae.Code, key, ae.Msg)
		return
	}
	c.log.Error("console", "path", r.URL.Path, "err", err)
	c.fail(w, r, s, http.StatusInternalServerError, "error")
}

type incidentsPage struct {
	Items []incident.Incident
	paging
}

func (c *Console) incidents(w http.ResponseWriter, r *http.Request, s *session) {
	q := url.Values{"limit": {strconv.Itoa(pageSize)}}
	if a := r.URL.Query().Get("after"); a != "" {
		q.Set("after", a)
	}
	var items []incident.Incident
	if err := c.call(r, s, "GET", "/incidents?"+q.Encode(), nil, &items); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "incidents", incidentsPage{Items: items, paging: pageLinks(r, items, func(v incident.Incident) string { return v.ID })})
}

// hostList is a page of hosts with their live state; LiveURL is what
// htmx polls to refresh it.
type hostList struct {
	Hosts   []hostJSON
	IDsOnly bool
	LiveURL string
	paging
}

type incidentPage struct {
	Incident       incident.IncidentView
	Obligations    *obligation.Countdown
	Timeline       bool
	Campaigns      bool
	People         bool
	Detections     []incident.IncidentDetection
	MoreDetections bool
	hostList
}

// incidentHostList is one page (by position, ?after=N) of an incident's
// linked hosts with each host's state from GET /hosts/{id}.
func (c *Console) incidentHostList(r *http.Request, s *session, id string) (hostList, error) {
	// The list of links is read from the store directly: through the API
	// an incident with 10,000 hosts costs most of the page in JSON. The
	// role check is the route's all the same.
	if !c.allowed(s, "GET /incidents/{id}/hosts") {
		return hostList{}, &apiError{Code: http.StatusForbidden, Msg: "GET /incidents/{id}/hosts"}
	}
	links, err := incident.Hosts(r.Context(), c.st, id)
	if err != nil {
		return hostList{}, err
	}
	from, _ := strconv.Atoi(r.URL.Query().Get("after"))
	from = min(max(from, 0), len(links))
	to := min(from+pageSize, len(links))
	hl := hostList{LiveURL: "/incidents/" + url.PathEscape(id) + "/live"}
	if from > 0 {
		hl.LiveURL += "?after=" + strconv.Itoa(from)
	}
	// A role that may see the incident but not the fleet (privacy) sees
	// which hosts are linked, not their state.
	hl.IDsOnly = !c.allowed(s, "GET /hosts/{id}")
	page := links[from:to]
	hl.Hosts = make([]hostJSON, len(page))
	for i, l := range page {
		hl.Hosts[i].ID = l.HostID
	}
	if !hl.IDsOnly {
		err := parallel(len(page), 4, func(i int) error {
			return c.call(r, s, "GET", "/hosts/"+url.PathEscape(page[i].HostID), nil, &hl.Hosts[i])
		})
		if err != nil {
			return hostList{}, err
		}
	}
	hl.paging = paging{Paged: from > 0, First: "/incidents/" + url.PathEscape(id)}
	if to < len(links) {
		hl.Next = hl.First + "?after=" + strconv.Itoa(to)
	}
	return hl, nil
}

func (c *Console) incident(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	base := "/incidents/" + url.PathEscape(id)
	var p incidentPage
	// The parts are independent reads; on a large incident each costs a
	// query over its links, so they run side by side.
	parts := []func() error{
		func() error { return c.call(r, s, "GET", base, nil, &p.Incident) },
		func() (err error) { p.hostList, err = c.incidentHostList(r, s, id); return err },
		func() error {
			return c.call(r, s, "GET", base+"/detections?limit="+strconv.Itoa(pageSize), nil, &p.Detections)
		},
	}
	if c.allowed(s, "GET /incidents/{id}/obligations") {
		p.Obligations = &obligation.Countdown{}
		parts = append(parts, func() error { return c.call(r, s, "GET", base+"/obligations", nil, p.Obligations) })
	}
	if err := parallel(len(parts), len(parts), func(i int) error { return parts[i]() }); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	p.MoreDetections = p.Incident.Counts.Detections > len(p.Detections)
	p.Timeline = c.allowed(s, "GET /incidents/{id}/timeline")
	p.Campaigns = c.allowed(s, "GET /incidents/{id}/campaigns")
	p.People = c.allowed(s, "GET /incidents/{id}/people/summary")
	c.renderTitled(w, r, s, http.StatusOK, "incident", p.Incident.Title, p)
}

// parallel runs f(0..n-1) on at most width goroutines and returns the
// first error.
func parallel(n, width int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for range min(n, width) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

func (c *Console) incidentHosts(w http.ResponseWriter, r *http.Request, s *session) {
	hl, err := c.incidentHostList(r, s, r.PathValue("id"))
	if err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "hosttable", hl)
}

type hostsPage struct {
	Stats *statsJSON
	hostList
}

func (c *Console) hosts(w http.ResponseWriter, r *http.Request, s *session) {
	q := url.Values{"limit": {strconv.Itoa(pageSize)}}
	if a := r.URL.Query().Get("after"); a != "" {
		q.Set("after", a)
	}
	var p hostsPage
	if err := c.call(r, s, "GET", "/hosts?"+q.Encode(), nil, &p.Hosts); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	p.paging = pageLinks(r, p.Hosts, func(v hostJSON) string { return v.ID })
	p.LiveURL = r.URL.RequestURI()
	if c.allowed(s, "GET /stats") {
		p.Stats = &statsJSON{}
		if err := c.call(r, s, "GET", "/stats", nil, p.Stats); err != nil {
			c.apiFail(w, r, s, err)
			return
		}
	}
	if r.Header.Get("HX-Request") != "" {
		c.render(w, r, s, http.StatusOK, "hosttable", p.hostList)
		return
	}
	c.render(w, r, s, http.StatusOK, "hosts", p)
}

type hostPage struct {
	Host       hostJSON
	Detections []detectionJSON
	CanAct     bool
	Actions    []string
}

// actions are what a host's buttons may do, each an API call.
var actions = map[string]struct {
	method, path string
	body         func(reason string) any
}{
	"isolate":  {"POST", "/isolate", func(r string) any { return map[string]string{"reason": r} }},
	"release":  {"POST", "/release", func(r string) any { return map[string]string{"reason": r} }},
	"heighten": {"PUT", "/monitoring", func(r string) any { return map[string]string{"level": "heightened", "reason": r} }},
	"normal":   {"PUT", "/monitoring", func(r string) any { return map[string]string{"level": "normal", "reason": r} }},
}

// available lists the actions that make sense in the host's state.
func available(h hostJSON) []string {
	var out []string
	switch h.Isolation {
	case "isolated", "requested":
		out = append(out, "release")
	case "failed":
		out = append(out, "isolate", "release")
	default:
		out = append(out, "isolate")
	}
	if h.Monitoring == "heightened" {
		return append(out, "normal")
	}
	return append(out, "heighten")
}

func (c *Console) hostData(r *http.Request, s *session) (hostPage, error) {
	var p hostPage
	err := c.call(r, s, "GET", "/hosts/"+url.PathEscape(r.PathValue("id")), nil, &p.Host)
	return p, err
}

func (c *Console) host(w http.ResponseWriter, r *http.Request, s *session) {
	p, err := c.hostData(r, s)
	if err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	if c.allowed(s, "GET /detections") {
		q := url.Values{"host_id": {p.Host.ID}, "limit": {"50"}}
		if err := c.call(r, s, "GET", "/detections?"+q.Encode(), nil, &p.Detections); err != nil {
			c.apiFail(w, r, s, err)
			return
		}
	}
	p.CanAct = c.allowed(s, "POST /hosts/{id}/isolate")
	p.Actions = available(p.Host)
	c.renderTitled(w, r, s, http.StatusOK, "host", p.Host.Name, p)
}

func (c *Console) hostState(w http.ResponseWriter, r *http.Request, s *session) {
	p, err := c.hostData(r, s)
	if err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "hoststate", p)
}

type actionForm struct {
	HostID, Action, Title, Question, CSRF, ReasonLabel, Confirm, Cancel string
	Dialog                                                              bool
}

func newActionForm(v *view, action string, dialog bool) actionForm {
	id := ""
	if p, ok := v.Data.(hostPage); ok {
		id = p.Host.ID
	}
	return actionForm{HostID: id, Action: action, Title: v.L[action], Question: v.L["confirm_"+action], CSRF: v.CSRF,
		ReasonLabel: v.L["reason_help"], Confirm: v.L["confirm"], Cancel: v.L["cancel"], Dialog: dialog}
}

// confirm is the confirmation form as a page of its own, for browsers
// without script (with script it opens as a dialog on the host page).
func (c *Console) confirm(w http.ResponseWriter, r *http.Request, s *session) {
	action := r.PathValue("action")
	if _, ok := actions[action]; !ok {
		c.fail(w, r, s, http.StatusNotFound, "not_found")
		return
	}
	p, err := c.hostData(r, s)
	if err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	v := c.newView(r, s, action, p)
	c.renderTitled(w, r, s, http.StatusOK, "confirm", action, newActionForm(v, action, false))
}

// act runs a host action through its API route as the user, with the
// reason given; the API validates, audits and answers 4xx as it would a
// token holder.
func (c *Console) act(w http.ResponseWriter, r *http.Request, s *session) {
	a, ok := actions[r.PathValue("action")]
	if !ok {
		c.fail(w, r, s, http.StatusNotFound, "not_found")
		return
	}
	id := r.PathValue("id")
	if err := c.call(r, s, a.method, "/hosts/"+url.PathEscape(id)+a.path, a.body(r.PostForm.Get("reason")), nil); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/hosts/"+url.PathEscape(id), http.StatusSeeOther)
}

type auditPage struct {
	Items                      []auditJSON
	Target                     string
	Checkpoint                 *checkpointJSON
	SignatureOK, ChainOK       bool
	SignatureError, ChainError string
	paging
}

func (c *Console) audit(w http.ResponseWriter, r *http.Request, s *session) {
	p := auditPage{Target: r.URL.Query().Get("target")}
	q := url.Values{"limit": {strconv.Itoa(pageSize)}}
	if a := r.URL.Query().Get("after"); a != "" {
		q.Set("after", a)
	}
	if p.Target != "" {
		q.Set("target", p.Target)
	}
	if err := c.call(r, s, "GET", "/audit?"+q.Encode(), nil, &p.Items); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	p.paging = pageLinks(r, p.Items, func(v auditJSON) string { return strconv.FormatInt(v.Index, 10) })
	var cp checkpointJSON
	if err := c.call(r, s, "GET", "/audit/checkpoint", nil, &cp); err == nil {
		p.Checkpoint = &cp
		p.SignatureOK, p.SignatureError = checkSignature(cp)
	}
	// Consecutive entries (an unfiltered page) must chain by hash.
	p.ChainOK = true
	for i := 1; i < len(p.Items) && p.Target == ""; i++ {
		if p.Items[i].Prev != p.Items[i-1].Hash {
			p.ChainOK, p.ChainError = false, "entry "+strconv.FormatInt(p.Items[i].Index, 10)
			break
		}
	}
	c.render(w, r, s, http.StatusOK, "audit", p)
}

// checkSignature opens the checkpoint's signed note with the key it
// names and checks it vouches for the size and root shown.
func checkSignature(cp checkpointJSON) (bool, string) {
	key, err := audit.ParsePublicKey(cp.PublicKey)
	if err != nil {
		return false, err.Error()
	}
	got, err := audit.Open([]byte(cp.Note), key)
	if err != nil {
		return false, err.Error()
	}
	if got.Size != cp.Size {
		return false, "signed size differs"
	}
	return true, ""
}

type rulesPage struct{ Bundle *bundleJSON }

func (c *Console) rules(w http.ResponseWriter, r *http.Request, s *session) {
	var b bundleJSON
	err := c.call(r, s, "GET", "/rules", nil, &b)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.Code == http.StatusNotFound:
		c.render(w, r, s, http.StatusOK, "rules", rulesPage{})
	case err != nil:
		c.apiFail(w, r, s, err)
	default:
		c.render(w, r, s, http.StatusOK, "rules", rulesPage{Bundle: &b})
	}
}

type sweepsPage struct {
	Items []sweepJSON
	paging
}

func (c *Console) sweeps(w http.ResponseWriter, r *http.Request, s *session) {
	q := url.Values{"limit": {strconv.Itoa(pageSize)}}
	if a := r.URL.Query().Get("after"); a != "" {
		q.Set("after", a)
	}
	var p sweepsPage
	if err := c.call(r, s, "GET", "/sweeps?"+q.Encode(), nil, &p.Items); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	p.paging = pageLinks(r, p.Items, func(v sweepJSON) string { return v.ID })
	c.render(w, r, s, http.StatusOK, "sweeps", p)
}

type draftsPage struct {
	IncidentID string
	Drafts     []obligation.Draft
}

func (c *Console) drafts(w http.ResponseWriter, r *http.Request, s *session) {
	p := draftsPage{IncidentID: r.PathValue("id")}
	if err := c.call(r, s, "GET", "/incidents/"+url.PathEscape(p.IncidentID)+"/obligations/drafts", nil, &p.Drafts); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "drafts", p)
}

// draft downloads one draft as Markdown, the form a person edits and
// files; the drafts page shows them all.
func (c *Console) draft(w http.ResponseWriter, r *http.Request, s *session) {
	id, name := r.PathValue("id"), r.PathValue("name")
	body, err := c.callRaw(r, s, "GET", "/incidents/"+url.PathEscape(id)+"/obligations/drafts/"+url.PathEscape(name)+"?format=markdown")
	if err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+safeFileName(id+"-"+name)+`.md"`)
	w.Write(body)
}

func safeFileName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}

// remaining says how long is left to a duty's deadline, for a person.
func remaining(secs *int64) string {
	if secs == nil {
		return "—"
	}
	d := time.Duration(*secs) * time.Second
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	return fmt.Sprintf("%s%dh %02dm", sign, int(d.Hours()), int(d.Minutes())%60)
}

type timelineEvent struct {
	ID        int64             `json:"id"`
	Time      time.Time         `json:"time"`
	Host      string            `json:"host"`
	Source    string            `json:"source"`
	Kind      string            `json:"kind"`
	Summary   string            `json:"summary"`
	Level     string            `json:"level"`
	Technique string            `json:"technique"`
	Rule      string            `json:"rule"`
	Ref       string            `json:"ref"`
	Fields    map[string]string `json:"fields"`
}

type timelinePage struct {
	IncidentID                  string
	Host, Kind, Level, From, To string
	Levels                      []string
	Events                      []timelineEvent
	paging
}

// localTime is the value of a datetime-local field.
const localTime = "2006-01-02T15:04"

// timeline shows the incident's timeline with the API's filters; times
// in the form are in the user's zone.
func (c *Console) timeline(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	in := r.URL.Query()
	p := timelinePage{IncidentID: id, Host: in.Get("host"), Kind: in.Get("kind"), Level: in.Get("level"),
		From: in.Get("from"), To: in.Get("to"), Levels: []string{"", "informational", "low", "medium", "high", "critical"}}
	q := url.Values{"limit": {strconv.Itoa(pageSize)}}
	for k, v := range map[string]string{"host": p.Host, "kind": p.Kind, "level": p.Level, "after": in.Get("after")} {
		if v != "" {
			q.Set(k, v)
		}
	}
	loc := zone(r)
	for k, v := range map[string]string{"from": p.From, "to": p.To} {
		if v == "" {
			continue
		}
		t, err := time.ParseInLocation(localTime, v, loc)
		if err != nil {
			c.fail(w, r, s, http.StatusBadRequest, "error", k+": "+err.Error())
			return
		}
		q.Set(k, t.Format(time.RFC3339))
	}
	var page struct {
		Events []timelineEvent `json:"events"`
		Next   string          `json:"next"`
	}
	if err := c.call(r, s, "GET", "/incidents/"+url.PathEscape(id)+"/timeline?"+q.Encode(), nil, &page); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	p.Events = page.Events
	p.paging = paging{Paged: in.Get("after") != ""}
	in.Del("after")
	p.First = (&url.URL{Path: r.URL.Path, RawQuery: in.Encode()}).String()
	if page.Next != "" {
		in.Set("after", page.Next)
		p.Next = (&url.URL{Path: r.URL.Path, RawQuery: in.Encode()}).String()
	}
	c.render(w, r, s, http.StatusOK, "timeline", p)
}

type campaignJSON struct {
	ID         string                    `json:"id"`
	State      string                    `json:"state"`
	Language   string                    `json:"language"`
	Recipients int                       `json:"recipients"`
	ApprovedBy string                    `json:"approved_by"`
	ApprovedAt string                    `json:"approved_at"`
	TestSentAt string                    `json:"test_sent_at"`
	Counts     map[string]map[string]int `json:"counts"`
}

// Letters is how many of the campaign's letters wait to be printed or
// posted; Printed how many of them were printed.
func (c campaignJSON) Letters() int { return c.Counts["letter"]["queued"] + c.Printed() }
func (c campaignJSON) Printed() int { return c.Counts["letter"]["sending"] }

type campaignsPage struct {
	IncidentID string
	Items      []campaignJSON
	CanApprove bool
	CanLetters bool
	paging
}

// campaigns lists an incident's notice campaigns with their progress;
// counts only, never a recipient.
func (c *Console) campaigns(w http.ResponseWriter, r *http.Request, s *session) {
	p := campaignsPage{IncidentID: r.PathValue("id"), CanApprove: c.allowed(s, "POST /incidents/{id}/campaigns/{cid}/approve"),
		CanLetters: c.allowed(s, "GET /incidents/{id}/campaigns/{cid}/letters.pdf")}
	q := url.Values{"limit": {strconv.Itoa(pageSize)}}
	if a := r.URL.Query().Get("after"); a != "" {
		q.Set("after", a)
	}
	if err := c.call(r, s, "GET", "/incidents/"+url.PathEscape(p.IncidentID)+"/campaigns?"+q.Encode(), nil, &p.Items); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	p.paging = pageLinks(r, p.Items, func(v campaignJSON) string { return v.ID })
	c.render(w, r, s, http.StatusOK, "campaigns", p)
}

// approve approves a draft campaign through its API route, with the
// reason given.
func (c *Console) approve(w http.ResponseWriter, r *http.Request, s *session) {
	id, cid := r.PathValue("id"), r.PathValue("cid")
	path := "/incidents/" + url.PathEscape(id) + "/campaigns/" + url.PathEscape(cid) + "/approve"
	if err := c.call(r, s, "POST", path, map[string]string{"reason": r.PostForm.Get("reason")}, nil); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/incidents/"+url.PathEscape(id)+"/campaigns", http.StatusSeeOther)
}

// letters downloads a campaign's letters to print through the API route,
// with the reason given. A form posts here rather than a link: the
// download marks queued letters printed and is audited.
func (c *Console) letters(w http.ResponseWriter, r *http.Request, s *session) {
	id, cid := r.PathValue("id"), r.PathValue("cid")
	path := "/incidents/" + url.PathEscape(id) + "/campaigns/" + url.PathEscape(cid) + "/letters.pdf?" + url.Values{"reason": {r.PostForm.Get("reason")}}.Encode()
	pdf, err := c.callRaw(r, s, "GET", path)
	if err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="`+safeFileName(cid)+`-letters.pdf"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(pdf)
}

// lettersPosted marks a campaign's printed letters posted today.
func (c *Console) lettersPosted(w http.ResponseWriter, r *http.Request, s *session) {
	id, cid := r.PathValue("id"), r.PathValue("cid")
	path := "/incidents/" + url.PathEscape(id) + "/campaigns/" + url.PathEscape(cid) + "/letters/posted"
	if err := c.call(r, s, "POST", path, map[string]string{"reason": r.PostForm.Get("reason")}, nil); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/incidents/"+url.PathEscape(id)+"/campaigns", http.StatusSeeOther)
}
