package scopeapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mamori-dev/mamori/internal/incident"
	"github.com/mamori-dev/mamori/internal/pii"
	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
)

// Service is the scoping capability.
type Service struct {
	st      *store.Store
	log     *slog.Logger
	now     func() time.Time
	keys    *keys
	country string
	cache   cache
}

// Capability builds the service and registers its sink for the agents'
// pii_file findings; cmd/mamori lists it.
func Capability(env httpapi.Env) (httpapi.Capability, error) {
	return New(env)
}

// New builds the service with the key in env.DataDir.
func New(env httpapi.Env) (*Service, error) {
	if env.DataDir == "" {
		return nil, errors.New("scope: no data directory for " + KeyFile)
	}
	k, err := loadKeys(env.DataDir)
	if err != nil {
		return nil, err
	}
	s := &Service{st: env.Store, log: env.Log, now: env.Now, keys: k, country: "JP",
		cache: cache{building: map[string]*sync.Mutex{}, regs: map[string]*built{}}}
	env.Store.OnPIIFiles(s.ingest)
	return s, nil
}

var (
	privacy    = []httpapi.Role{httpapi.RolePrivacy}
	peopleRead = []httpapi.Role{httpapi.RolePrivacy, httpapi.RoleResponder}
	setters    = []httpapi.Role{httpapi.RoleResponder, httpapi.RolePrivacy}
	readers    = []httpapi.Role{httpapi.RoleResponder, httpapi.RolePrivacy, httpapi.RoleAuditor, httpapi.RoleViewer}
	fileRead   = []httpapi.Role{httpapi.RoleResponder, httpapi.RolePrivacy, httpapi.RoleAuditor}
)

// PeopleParams are the people list's filters.
var PeopleParams = append(slices.Clone(httpapi.PageParams),
	httpapi.Param{Name: "category", Description: "only people with this category exposed (email, phone, credit_card, ...)"},
	httpapi.Param{Name: "exposure", Description: "only people whose highest exposure is this (present, accessed, exfiltrated)"},
	httpapi.Param{Name: "host", Description: "only people found on this host id"},
	httpapi.Param{Name: "matched", Description: "true: only people in the master data; false: only people not in it"},
	httpapi.Param{Name: "special_care", Description: "true or false: people with special-care data (要配慮個人情報)"},
	httpapi.Param{Name: "financial_risk", Description: "true or false: people at risk of financial damage"},
	httpapi.Param{Name: "no_contact", Description: "true: only people without a contact channel; false: only people with one"},
)

// Routes implements httpapi.Capability.
func (s *Service) Routes() []httpapi.Route {
	base := "/incidents/{id}"
	return []httpapi.Route{
		{Method: "GET", Pattern: base + "/people", Summary: "The incident's affected people, de-duplicated across files and hosts; values masked.",
			Response: []PersonView(nil), Query: PeopleParams, Roles: peopleRead, Handler: s.people},
		{Method: "GET", Pattern: base + "/people/summary", Summary: "The register's counts for the report: people per category, exposure, country and channel (no personal data).",
			Response: SummaryView{}, Roles: readers, Handler: s.summary},
		{Method: "POST", Pattern: base + "/people/{pid}/reveal", Summary: "A person's raw values per category with their sources; audited.",
			Request: ReasonRequest{}, Response: RevealView{}, Roles: privacy, Handler: s.reveal},
		{Method: "GET", Pattern: base + "/people/export", Summary: "The register as CSV or xlsx (the columns of people.csv), values masked.",
			Query: []httpapi.Param{{Name: "format", Description: "csv (default) or xlsx"}}, Roles: peopleRead, Handler: s.exportMasked},
		{Method: "POST", Pattern: base + "/people/export", Summary: "The register as CSV or xlsx with values revealed; audited.",
			Request: ExportRequest{}, Roles: privacy, Handler: s.exportRevealed},
		{Method: "GET", Pattern: base + "/people/proposals", Summary: "Near matches a person must confirm or reject before they merge.",
			Response: []ProposalView(nil), Roles: privacy, Handler: s.proposals},
		{Method: "POST", Pattern: base + "/people/proposals/{pid}/decision", Summary: "Confirm or reject a proposed merge; audited, applied at the next build.",
			Request: DecisionRequest{}, Response: ProposalView{}, Roles: privacy, Handler: s.decide},
		{Method: "GET", Pattern: base + "/pii-files", Summary: "Files with personal data on the incident's hosts: hash, size, categories, subjects, exposure (no values).",
			Response: []FileView(nil), Query: append(slices.Clone(httpapi.PageParams), httpapi.Param{Name: "host", Description: "only this host id"}),
			Roles: fileRead, Handler: s.files},
		{Method: "POST", Pattern: base + "/exposure", Summary: "Set the exposure of files (a path or a glob) on the incident's hosts; a person's setting wins over the investigation's; audited.",
			Request: ExposureRequest{}, Response: ExposureResult{}, Roles: setters, Handler: s.setExposure},
		{Method: "POST", Pattern: base + "/master", Summary: "Upload the customer master data (CSV, TSV or xlsx body; mapping auto-proposed or given with map); stored sealed; audited.",
			Query: []httpapi.Param{{Name: "map", Description: "field=header,... (fields: name, kana, last_name, first_name, email, phone, address, postal_code, date_of_birth, language, country, id)"},
				{Name: "name", Description: "the file name (its extension tells the format: .csv, .tsv, .xlsx)"}, {Name: "reason", Description: "why (required)"}},
			Response: MasterView{}, Roles: privacy, Handler: s.uploadMaster},
	}
}

// CategoryView is one exposed category of a person.
type CategoryView struct {
	Category string `json:"category"`
	Exposure string `json:"exposure" enum:"present,accessed,exfiltrated"`
}

// PersonView is one person of the register, contact values masked.
type PersonView struct {
	ID            string         `json:"id"`
	Name          string         `json:"name,omitempty" doc:"masked"`
	Email         string         `json:"email,omitempty" doc:"masked"`
	Phone         string         `json:"phone,omitempty" doc:"masked"`
	Address       string         `json:"address,omitempty" doc:"masked"`
	PostalCode    string         `json:"postal_code,omitempty" doc:"masked"`
	Language      string         `json:"language,omitempty"`
	Country       string         `json:"country,omitempty" doc:"country of residence, from address or phone"`
	Categories    []CategoryView `json:"categories"`
	Exposure      string         `json:"exposure" enum:"present,accessed,exfiltrated"`
	SpecialCare   []string       `json:"special_care,omitempty" doc:"the terms that make the data 要配慮個人情報"`
	FinancialRisk bool           `json:"financial_risk"`
	MatchedMaster bool           `json:"matched_master"`
	HasContact    bool           `json:"has_contact"`
	Hosts         []string       `json:"hosts"`
	Sources       []string       `json:"sources" doc:"host:path!member"`
	Key           string         `json:"key" doc:"the strongest key the id comes from"`
}

// SummaryView is the register's counts (scope.Summary) with when it was
// built.
type SummaryView struct {
	scope.Summary
	Occurrences int    `json:"occurrences" doc:"values the register was built from"`
	Files       int    `json:"files"`
	BuiltAt     string `json:"built_at"`
	BuildMS     int64  `json:"build_ms"`
}

// ReasonRequest is the body of an action that only needs a reason.
type ReasonRequest struct {
	Reason string `json:"reason" required:"true"`
}

// RevealView is a person with raw values.
type RevealView struct {
	ID         string        `json:"id"`
	Name       string        `json:"name,omitempty"`
	Email      string        `json:"email,omitempty"`
	Phone      string        `json:"phone,omitempty"`
	Address    string        `json:"address,omitempty"`
	PostalCode string        `json:"postal_code,omitempty"`
	Values     []RevealValue `json:"values"`
}

// RevealValue is one raw value with where it was found.
type RevealValue struct {
	Category string   `json:"category"`
	Value    string   `json:"value"`
	Sources  []string `json:"sources" doc:"host:path!member#record"`
}

// ExportRequest asks for a revealed export.
type ExportRequest struct {
	Format string `json:"format" enum:"csv,xlsx"`
	Reason string `json:"reason" required:"true"`
}

// ProposalView is a near match to confirm or reject.
type ProposalView struct {
	ID        string `json:"id"`
	A         string `json:"a" doc:"one side: host:path!member#record"`
	B         string `json:"b"`
	Key       string `json:"key"`
	Reason    string `json:"reason"`
	Decision  string `json:"decision,omitempty" enum:"confirm,reject"`
	DecidedBy string `json:"decided_by,omitempty"`
}

// DecisionRequest confirms or rejects a proposal.
type DecisionRequest struct {
	Decision string `json:"decision" enum:"confirm,reject" required:"true"`
	Reason   string `json:"reason" required:"true"`
}

// FileView is one file with personal data.
type FileView struct {
	ID         string         `json:"id" doc:"pass as after for the next page"`
	Host       string         `json:"host"`
	Path       string         `json:"path"`
	SHA256     string         `json:"sha256,omitempty"`
	Size       int64          `json:"size"`
	ModTime    string         `json:"mtime,omitempty"`
	Categories map[string]int `json:"categories" doc:"occurrences per category"`
	Masked     int            `json:"masked,omitempty"`
	Subjects   int            `json:"subjects"`
	Parts      int            `json:"parts" doc:"the file's part count; 0 until its last part arrived"`
	PartsSeen  int            `json:"parts_seen" doc:"parts received"`
	Complete   bool           `json:"complete" doc:"every part arrived; an incomplete file counts in the register with the values received"`
	Exposure   string         `json:"exposure" enum:"present,accessed,exfiltrated"`
	ExposureBy string         `json:"exposure_by" enum:"default,investigation,person"`
	SweepID    string         `json:"sweep_id,omitempty"`
	ReceivedAt string         `json:"received_at"`
}

// ExposureRequest sets the exposure of files.
type ExposureRequest struct {
	Host   string `json:"host,omitempty" doc:"host id; empty for every host of the incident"`
	Path   string `json:"path" required:"true" doc:"an exact path, a directory ending in /, or a glob (* and ? cross /)"`
	Level  string `json:"level" enum:"present,accessed,exfiltrated" required:"true"`
	Reason string `json:"reason" required:"true"`
}

// ExposureResult says how many files and people the setting reached.
type ExposureResult struct {
	Files  int `json:"files" doc:"files of the incident the setting matches"`
	People int `json:"people" doc:"people at this exposure after it"`
}

// MasterView describes stored master data.
type MasterView struct {
	Name    string            `json:"name"`
	Rows    int               `json:"rows"`
	Mapping map[string]string `json:"mapping" doc:"header -> field"`
	Headers []string          `json:"headers"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() || t.UnixMilli() == 0 {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func needReason(reason string) error {
	if strings.TrimSpace(reason) == "" {
		return httpapi.BadInput("reason", "required")
	}
	return incident.CheckReason(reason)
}

// incidentRegister checks the incident exists and returns its register.
func (s *Service) incidentRegister(ctx context.Context, id string) (*built, error) {
	if _, err := incident.Get(ctx, s.st, id); err != nil {
		return nil, err
	}
	return s.register(ctx, id)
}

func maskedView(p *scope.Person) PersonView {
	m := masked(p)
	v := PersonView{ID: p.ID, Name: m.Name, Email: m.Email, Phone: m.Phone, Address: m.Address, PostalCode: m.PostalCode, Language: p.Language,
		Country: p.Country, Exposure: p.Exposure.String(), SpecialCare: p.SpecialCare, FinancialRisk: p.FinancialRisk,
		MatchedMaster: p.MatchedMaster, HasContact: p.HasContact(), Hosts: nonNil(p.Hosts), Sources: nonNil(p.Sources), Key: p.Key}
	v.Categories = make([]CategoryView, len(p.Categories))
	for i, c := range p.Categories {
		v.Categories[i] = CategoryView{c.Category, c.Exposure.String()}
	}
	return v
}

// personFilter reads the people list's filters.
func personFilter(r *http.Request) (func(*scope.Person) bool, error) {
	q := r.URL.Query()
	var checks []func(*scope.Person) bool
	boolParam := func(name string, f func(*scope.Person) bool) error {
		v := q.Get(name)
		if v == "" {
			return nil
		}
		want, err := strconv.ParseBool(v)
		if err != nil {
			return httpapi.BadInput("query parameter "+name, "%q, want true or false", v)
		}
		checks = append(checks, func(p *scope.Person) bool { return f(p) == want })
		return nil
	}
	if c := q.Get("category"); c != "" {
		if !slices.Contains(pii.Categories, c) {
			return nil, httpapi.BadInput("query parameter category", "%q, want one of %s", c, strings.Join(pii.Categories, ", "))
		}
		checks = append(checks, func(p *scope.Person) bool { return slices.Contains(p.CategoryList(), c) })
	}
	if e := q.Get("exposure"); e != "" {
		lv, err := scope.ParseExposure(e)
		if err != nil {
			return nil, httpapi.BadInput("query parameter exposure", "%v", err)
		}
		checks = append(checks, func(p *scope.Person) bool { return p.Exposure == lv })
	}
	if h := q.Get("host"); h != "" {
		checks = append(checks, func(p *scope.Person) bool { return slices.Contains(p.Hosts, h) })
	}
	for _, b := range []struct {
		name string
		f    func(*scope.Person) bool
	}{
		{"matched", func(p *scope.Person) bool { return p.MatchedMaster }},
		{"special_care", func(p *scope.Person) bool { return len(p.SpecialCare) > 0 }},
		{"financial_risk", func(p *scope.Person) bool { return p.FinancialRisk }},
		{"no_contact", func(p *scope.Person) bool { return !p.HasContact() }},
	} {
		if err := boolParam(b.name, b.f); err != nil {
			return nil, err
		}
	}
	return func(p *scope.Person) bool {
		for _, c := range checks {
			if !c(p) {
				return false
			}
		}
		return true
	}, nil
}

func (s *Service) people(w http.ResponseWriter, r *http.Request) {
	page, err := httpapi.ParsePage(r)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	keep, err := personFilter(r)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	b, err := s.incidentRegister(r.Context(), r.PathValue("id"))
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	people := b.reg.People
	// People are sorted by id: the page starts after the last id seen.
	i, _ := slices.BinarySearchFunc(people, page.After, func(p *scope.Person, id string) int { return strings.Compare(p.ID, id) })
	if i < len(people) && people[i].ID == page.After {
		i++
	}
	out := []PersonView{}
	for ; i < len(people) && len(out) < page.Limit; i++ {
		if keep(people[i]) {
			out = append(out, maskedView(people[i]))
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (s *Service) summary(w http.ResponseWriter, r *http.Request) {
	b, err := s.incidentRegister(r.Context(), r.PathValue("id"))
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, SummaryView{Summary: *b.sum, Occurrences: b.occurrences, Files: len(b.files),
		BuiltAt: rfc3339(b.at), BuildMS: b.took.Milliseconds()})
}

func (s *Service) files(w http.ResponseWriter, r *http.Request) {
	page, err := httpapi.ParsePage(r)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	var after int64
	if page.After != "" {
		if after, err = strconv.ParseInt(page.After, 10, 64); err != nil {
			httpapi.Fail(w, r, httpapi.BadInput("query parameter after", "%q is not a file id", page.After))
			return
		}
	}
	host := r.URL.Query().Get("host")
	b, err := s.incidentRegister(r.Context(), r.PathValue("id"))
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	out := []FileView{}
	for _, f := range b.files {
		if f.ID <= after || host != "" && f.HostID != host {
			continue
		}
		if len(out) == page.Limit {
			break
		}
		v := FileView{ID: strconv.FormatInt(f.ID, 10), Host: f.HostID, Path: f.Path, SHA256: f.SHA256, Size: f.Size, ModTime: rfc3339(f.ModTime),
			Masked: f.Masked, Subjects: f.Subjects, Parts: f.Parts, PartsSeen: f.PartsSeen, Complete: f.Complete(), Exposure: f.Exposure.String(), ExposureBy: f.By,
			SweepID: f.SweepID, ReceivedAt: rfc3339(f.ReceivedAt)}
		if err := jsonUnmarshal(f.Categories, &v.Categories); err != nil {
			httpapi.Fail(w, r, err)
			return
		}
		out = append(out, v)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (s *Service) setExposure(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	var body ExposureRequest
	if err := httpapi.DecodeBody(r, 1<<16, &body); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	lv, err := scope.ParseExposure(body.Level)
	switch {
	case err != nil:
		err = httpapi.BadInput("level", "%q, want present, accessed or exfiltrated", body.Level)
	case body.Path == "" || len(body.Path) > 4096:
		err = httpapi.BadInput("path", "want a path or glob of 1 to 4096 bytes")
	case len(body.Host) > 128:
		err = httpapi.BadInput("host", "longer than 128 bytes")
	default:
		if strings.ContainsAny(body.Path, "*?[") && !strings.HasSuffix(body.Path, "/") {
			if _, err = globRegexp(body.Path); err != nil {
				err = httpapi.BadInput("path", "%v", err)
			}
		}
	}
	if err == nil {
		err = needReason(body.Reason)
	}
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	before, err := s.incidentRegister(ctx, id)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	rule := exposureRule{host: body.Host, pattern: body.Path, level: lv}
	matched := 0
	for _, f := range before.files {
		if rule.matches(f.HostID, f.Path, "") {
			matched++
		}
	}
	now := s.now()
	p, _ := httpapi.PrincipalFrom(ctx)
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "pii-exposure-insert", id, body.Host, body.Path, lv.String(), p.Actor(), body.Reason, store.ToMS(now)); err != nil {
			return err
		}
		target := cmp.Or(body.Host, "*") + ":" + body.Path
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, now, "scope.exposure", id+"/"+target, body.Reason,
			fmt.Sprintf("%s; %d files", lv, matched)))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	b, err := s.register(ctx, id)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, ExposureResult{Files: matched, People: b.sum.ByExposure[lv.String()]})
}
