package investigate

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/incident"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/timeline"
)

// Service is the investigation capability.
type Service struct {
	st  *store.Store
	now func() time.Time
	log *slog.Logger
}

// Capability builds the service.
func Capability(env httpapi.Env) (httpapi.Capability, error) {
	return &Service{st: env.Store, now: env.Now, log: env.Log}, nil
}

var (
	readers    = []httpapi.Role{httpapi.RoleResponder, httpapi.RoleAuditor, httpapi.RoleViewer}
	responders = []httpapi.Role{httpapi.RoleResponder}
)

// Routes of the investigation.
func (s *Service) Routes() []httpapi.Route {
	filters := []httpapi.Param{
		{Name: "host", Description: "only this host id"},
		{Name: "kind", Description: "only this event kind (logon, process, archive, sigma, ...)"},
		{Name: "level", Description: "only Sigma hits at this level or above (low, medium, high, critical)"},
		{Name: "from", Description: "RFC 3339; events at or after"},
		{Name: "to", Description: "RFC 3339; events at or before"},
		{Name: "after", Description: "cursor: the next value of the previous page"},
		{Name: "limit", Description: "page size, default 1000, at most 10000"},
	}
	return []httpapi.Route{
		{Method: "GET", Pattern: "/incidents/{id}/timeline", Summary: "The incident's timeline in time order (UTC), filtered and paged by cursor.",
			Query: filters, Response: Page{}, Roles: readers, Handler: s.timeline},
		{Method: "GET", Pattern: "/incidents/{id}/timeline/export", Summary: "The whole timeline as Timesketch CSV (format=csv, default) or JSONL (format=jsonl), with the same filters.",
			Query: append([]httpapi.Param{{Name: "format", Description: "csv or jsonl"}}, filters[:5]...), Roles: readers, Handler: s.export},
		{Method: "POST", Pattern: "/incidents/{id}/analyze", Summary: "Run the analysis (entry vector, lateral movement, exfiltration) over the timeline; new findings are proposed, decisions already taken are kept; audited.",
			Request: ReasonIn{}, Response: []FindingView(nil), Roles: responders, Handler: s.analyze},
		{Method: "GET", Pattern: "/incidents/{id}/findings", Summary: "The analysis' findings with their state (proposed, confirmed, rejected).",
			Response: []FindingView(nil), Roles: readers, Handler: s.findings},
		{Method: "POST", Pattern: "/incidents/{id}/findings/{finding}", Summary: "Confirm or reject a finding, with a reason; audited.",
			Request: DecisionIn{}, Response: FindingView{}, Roles: responders, Handler: s.decide},
	}
}

// EventView is a timeline event on the wire.
type EventView struct {
	ID        int64             `json:"id"`
	Time      time.Time         `json:"time"`
	Host      string            `json:"host"`
	Source    string            `json:"source" enum:"log,collector,detection,isolation,person"`
	Kind      string            `json:"kind"`
	Summary   string            `json:"summary"`
	Level     string            `json:"level,omitempty"`
	Technique string            `json:"technique,omitempty"`
	Rule      string            `json:"rule,omitempty"`
	Ref       string            `json:"ref,omitempty" doc:"the raw record: file#record, or a collector's key"`
	Fields    map[string]string `json:"fields,omitempty"`
}

// Page is one page of the timeline.
type Page struct {
	Events []EventView `json:"events"`
	Next   string      `json:"next,omitempty" doc:"pass as after for the next page; absent on the last"`
}

// ReasonIn carries the reason of a change.
type ReasonIn struct {
	Reason string `json:"reason" required:"true"`
}

// DecisionIn confirms or rejects a finding.
type DecisionIn struct {
	State  string `json:"state" enum:"confirmed,rejected,proposed" required:"true"`
	Reason string `json:"reason" required:"true"`
}

// FindingView is a finding with its decision.
type FindingView struct {
	ID string `json:"id" doc:"f- and 16 hex digits, stable across re-analysis"`
	timeline.Finding
	State     string    `json:"state" enum:"proposed,confirmed,rejected"`
	DecidedBy string    `json:"decided_by,omitempty"`
	DecidedAt time.Time `json:"decided_at,omitempty"`
	Decision  string    `json:"decision_reason,omitempty"`
}

func view(e store.TimelineEvent) EventView {
	return EventView{ID: e.ID, Time: e.At, Host: e.HostID, Source: e.Source, Kind: e.Kind, Summary: e.Summary, Level: e.Level,
		Technique: e.Technique, Rule: e.Rule, Ref: e.Ref, Fields: e.Fields}
}

func filterOf(r *http.Request) (store.TimelineFilter, error) {
	q := r.URL.Query()
	f := store.TimelineFilter{HostID: q.Get("host"), Kind: q.Get("kind"), MinLevel: q.Get("level")}
	if f.MinLevel != "" && store.LevelRank(f.MinLevel) == 0 && f.MinLevel != "informational" {
		return f, httpapi.BadInput("level", "%q, want informational, low, medium, high or critical", f.MinLevel)
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, httpapi.BadInput(p.name, "%q is not an RFC 3339 time", v)
			}
			*p.dst = t
		}
	}
	if v := q.Get("after"); v != "" {
		ms, id, ok := strings.Cut(v, "-")
		a, err1 := strconv.ParseInt(ms, 10, 64)
		b, err2 := strconv.ParseInt(id, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return f, httpapi.BadInput("after", "%q is not a cursor from a previous page", v)
		}
		f.AfterAt, f.AfterID = store.FromMS(a), b
	}
	limit, err := httpapi.QueryInt(r, "limit", 1000)
	if err != nil {
		return f, err
	}
	if limit < 1 || limit > 10000 {
		return f, httpapi.BadInput("limit", "%d, want 1 to 10000", limit)
	}
	f.Limit = int(limit)
	return f, nil
}

func (s *Service) timeline(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	f, err := filterOf(r)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if _, err := incident.Get(r.Context(), s.st, id); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	evs, err := s.st.Timeline(r.Context(), id, f)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	p := Page{Events: make([]EventView, 0, len(evs))}
	for _, e := range evs {
		p.Events = append(p.Events, view(e))
	}
	if len(evs) == f.Limit {
		last := evs[len(evs)-1]
		p.Next = fmt.Sprintf("%d-%d", store.ToMS(last.At), last.ID)
	}
	httpapi.WriteJSON(w, http.StatusOK, p)
}

// each calls fn with every event of the incident matching f, page by page.
func (s *Service) each(ctx context.Context, id string, f store.TimelineFilter, fn func(store.TimelineEvent) error) error {
	f.Limit = 10000
	for {
		evs, err := s.st.Timeline(ctx, id, f)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(evs) < f.Limit {
			return nil
		}
		last := evs[len(evs)-1]
		f.AfterAt, f.AfterID = last.At, last.ID
	}
}

// timesketchFields are the CSV columns after Timesketch's three.
var timesketchFields = []string{"host", "source", "kind", "level", "technique", "rule", "ref", "fields"}

func (s *Service) export(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	f, err := filterOf(r)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "jsonl" {
		httpapi.Fail(w, r, httpapi.BadInput("format", "%q, want csv or jsonl", format))
		return
	}
	if _, err := incident.Get(r.Context(), s.st, id); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if format == "jsonl" {
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		err = s.each(r.Context(), id, f, func(e store.TimelineEvent) error { return enc.Encode(view(e)) })
	} else {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", id+"-timeline.csv"))
		cw := csv.NewWriter(w)
		cw.Write(append([]string{"datetime", "timestamp_desc", "message"}, timesketchFields...))
		err = s.each(r.Context(), id, f, func(e store.TimelineEvent) error {
			fields, _ := json.Marshal(e.Fields)
			return cw.Write([]string{e.At.UTC().Format("2006-01-02T15:04:05.000Z"), "Event Time", e.Summary,
				e.HostID, e.Source, e.Kind, e.Level, e.Technique, e.Rule, e.Ref, string(fields)})
		})
		cw.Flush()
	}
	if err != nil {
		// Headers are gone; the truncated body and the log say it.
		s.log.Error("timeline export", "incident", id, "err", err)
	}
}

// findingID names a finding by what it is about, so that re-analysis finds
// the same finding (and its decision) again.
func findingID(f timeline.Finding) string {
	first := int64(0)
	if len(f.Events) > 0 {
		first = f.Events[0]
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%d", f.Kind, f.Rule, f.Host, f.From, f.To, strings.ToLower(f.Account), first))
	return "f-" + hex.EncodeToString(h[:8])
}

func (s *Service) analyze(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	var body ReasonIn
	if err := httpapi.DecodeBody(r, 1<<16, &body); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if body.Reason == "" {
		httpapi.Fail(w, r, httpapi.BadInput("reason", "required"))
		return
	}
	if _, err := incident.Get(ctx, s.st, id); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if err := s.syncRecords(ctx, id); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	var evs []timeline.Event
	err := s.each(ctx, id, store.TimelineFilter{}, func(e store.TimelineEvent) error {
		evs = append(evs, timeline.Event{ID: e.ID, Time: e.At, Host: e.HostID, Source: e.Source, Kind: e.Kind, Summary: e.Summary,
			Level: e.Level, Technique: e.Technique, Rule: e.Rule, Ref: e.Ref, Fields: e.Fields})
		return nil
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	hosts, err := s.fleet(ctx)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	found := timeline.Analyze(evs, hosts)
	now := s.now()
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		for _, f := range found {
			b, _ := json.Marshal(f)
			if err := tx.SaveFinding(ctx, id, store.InvestigationFinding{ID: findingID(f), Kind: f.Kind, Rule: f.Rule, Body: b}, now); err != nil {
				return err
			}
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, now, "analyze", id, body.Reason, fmt.Sprintf("%d events, %d findings", len(evs), len(found))))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	s.findings(w, r)
}

// fleet lists the enrolled hosts with the addresses they reported.
func (s *Service) fleet(ctx context.Context) ([]timeline.Host, error) {
	all, err := s.st.Hosts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]timeline.Host, 0, len(all))
	for _, h := range all {
		th := timeline.Host{ID: h.ID, Name: h.Name}
		ips := slices.Clone(h.IPs)
		for _, a := range strings.Split(h.Labels[timeline.AddrsLabel], ",") {
			if a = strings.TrimSpace(a); a != "" {
				ips = append(ips, a)
			}
		}
		for _, ip := range ips {
			if p, err := netip.ParsePrefix(ip); err == nil {
				th.Addrs = append(th.Addrs, p.Addr())
			} else if a, err := netip.ParseAddr(ip); err == nil {
				th.Addrs = append(th.Addrs, a)
			}
		}
		out = append(out, th)
	}
	return out, nil
}

// syncRecords puts the incident's own records on its timeline: linked
// detections, isolation and monitoring changes of its hosts, and notes.
func (s *Service) syncRecords(ctx context.Context, id string) error {
	var evs []store.TimelineEvent
	dets, err := incident.Detections(ctx, s.st, id, 0, 100000)
	if err != nil {
		return err
	}
	for _, d := range dets {
		e := store.TimelineEvent{HostID: d.HostID, Key: fmt.Sprintf("detection-%d", d.DetectionID), At: d.LinkedAt, Source: timeline.SourceDetection,
			Kind: "detection", Summary: fmt.Sprintf("detection %d linked: %s", d.DetectionID, d.Reason), Ref: fmt.Sprintf("detection:%d", d.DetectionID)}
		if ds, err := s.st.Detections(ctx, store.DetectionFilter{HostID: d.HostID, AfterID: d.DetectionID - 1, Limit: 1}); err == nil && len(ds) == 1 && ds[0].ID == d.DetectionID {
			x := ds[0]
			e.At = x.SeenAt
			e.Rule = x.Rule
			e.Summary = fmt.Sprintf("%s detection %s: %s", x.Type, orElse(x.Rule, x.Indicator), x.Path)
			e.Fields = map[string]string{"path": x.Path, "sha256": x.SHA256, "type": x.Type}
		}
		evs = append(evs, e)
	}
	hist, err := incident.History(ctx, s.st, id, 0, 100000)
	if err != nil {
		return err
	}
	for _, h := range hist {
		if h.Kind != "isolation" && h.Kind != "monitoring" {
			continue
		}
		evs = append(evs, store.TimelineEvent{HostID: h.Target, Key: fmt.Sprintf("history-%d", h.ID), At: h.At, Source: timeline.SourceIsolation,
			Kind: string(h.Kind), Summary: fmt.Sprintf("%s %s → %s by %s: %s", h.Kind, h.From, h.To, h.Actor, h.Reason)})
	}
	notes, err := incident.Notes(ctx, s.st, id, "", 100000)
	if err != nil {
		return err
	}
	for _, n := range notes {
		evs = append(evs, store.TimelineEvent{Key: "note-" + n.ID, At: n.At, Source: timeline.SourcePerson, Kind: string(n.Kind),
			Summary: n.Author + ": " + n.Text})
	}
	if len(evs) == 0 {
		return nil
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.InsertTimeline(ctx, id, evs)
		return err
	})
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Service) findings(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := incident.Get(r.Context(), s.st, id); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	fs, err := s.st.InvestigationFindings(r.Context(), id)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	out := make([]FindingView, 0, len(fs))
	for _, f := range fs {
		v := FindingView{ID: f.ID, State: f.State, DecidedBy: f.DecidedBy, DecidedAt: f.DecidedAt, Decision: f.Reason}
		if err := json.Unmarshal(f.Body, &v.Finding); err != nil {
			httpapi.Fail(w, r, fmt.Errorf("finding %s: %w", f.ID, err))
			return
		}
		out = append(out, v)
	}
	order := map[string]int{timeline.EntryVector: 0, timeline.LateralMovement: 1, timeline.Exfiltration: 2}
	sort.SliceStable(out, func(i, j int) bool {
		if order[out[i].Kind] != order[out[j].Kind] {
			return order[out[i].Kind] < order[out[j].Kind]
		}
		return out[i].First.Before(out[j].First)
	})
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (s *Service) decide(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, fid := r.PathValue("id"), r.PathValue("finding")
	var body DecisionIn
	if err := httpapi.DecodeBody(r, 1<<16, &body); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if body.State != "confirmed" && body.State != "rejected" && body.State != "proposed" {
		httpapi.Fail(w, r, httpapi.BadInput("state", "%q, want confirmed, rejected or proposed", body.State))
		return
	}
	if body.Reason == "" {
		httpapi.Fail(w, r, httpapi.BadInput("reason", "required"))
		return
	}
	now := s.now()
	p, _ := httpapi.PrincipalFrom(ctx)
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DecideFinding(ctx, id, fid, body.State, p.Actor(), body.Reason, now); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, now, "finding_"+body.State, id+"/"+fid, body.Reason, ""))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	fs, err := s.st.InvestigationFindings(ctx, id)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	for _, f := range fs {
		if f.ID == fid {
			v := FindingView{ID: f.ID, State: f.State, DecidedBy: f.DecidedBy, DecidedAt: f.DecidedAt, Decision: f.Reason}
			json.Unmarshal(f.Body, &v.Finding)
			httpapi.WriteJSON(w, http.StatusOK, v)
			return
		}
	}
	httpapi.Fail(w, r, fmt.Errorf("finding %s: %w", fid, store.ErrNotFound))
}
