package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/audit"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
)

// Service is the incident workspace capability of the server.
type Service struct {
	st  *store.Store
	now func() time.Time
	log *slog.Logger
}

// Capability builds the service and registers its hooks: the auto-incident
// policy on new detections, and the record of isolation and monitoring
// changes of linked hosts, each in the transaction of what triggers it.
func Capability(env httpapi.Env) (httpapi.Capability, error) {
	s := &Service{st: env.Store, now: env.Now, log: env.Log}
	env.Store.OnDetections(s.onDetections)
	env.Store.OnAudit(s.onAudit)
	return s, nil
}

var (
	readers    = []httpapi.Role{httpapi.RoleResponder, httpapi.RolePrivacy, httpapi.RoleAuditor, httpapi.RoleViewer}
	responders = []httpapi.Role{httpapi.RoleResponder}
)

// Routes of the incident workspace.
func (s *Service) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "GET", Pattern: "/incidents", Summary: "List incidents by id.", Response: []Incident(nil),
			Query: append([]httpapi.Param{{Name: "state", Description: "only incidents in this state"}}, httpapi.PageParams...),
			Roles: readers, Handler: s.list},
		{Method: "POST", Pattern: "/incidents", Summary: "Open an incident by hand, optionally with hosts linked.",
			Request: OpenRequest{}, Response: IncidentView{}, Roles: responders, Handler: s.open},
		{Method: "GET", Pattern: "/incidents/{id}", Summary: "An incident with its counts (hosts, isolated hosts, detections, notes), state history and allowed next states.",
			Response: IncidentView{}, Roles: readers, Handler: s.get},
		{Method: "POST", Pattern: "/incidents/{id}/state", Summary: "StateMove an incident to another state; 409 names the allowed next states.",
			Request: StateChange{}, Response: IncidentView{}, Roles: responders, Handler: s.state},
		{Method: "GET", Pattern: "/incidents/{id}/hosts", Summary: "The hosts linked to an incident, by host id: every one without after or limit, else a page.",
			Response: []IncidentHost(nil), Query: httpapi.PageParams, Roles: readers, Handler: s.hosts},
		{Method: "POST", Pattern: "/incidents/{id}/hosts", Summary: "Link a host to an incident.",
			Request: HostLinkRequest{}, Response: IncidentView{}, Roles: responders, Handler: s.linkHost},
		{Method: "DELETE", Pattern: "/incidents/{id}/hosts/{host}", Summary: "Unlink a host from an incident (the history keeps that it was linked).",
			Request: UnlinkRequest{}, Response: IncidentView{}, Roles: responders, Handler: s.unlinkHost},
		{Method: "GET", Pattern: "/incidents/{id}/detections", Summary: "The detections linked to an incident, by detection id.",
			Response: []IncidentDetection(nil), Query: httpapi.PageParams, Roles: readers, Handler: s.detections},
		{Method: "POST", Pattern: "/incidents/{id}/detections", Summary: "Link a detection (and its host) to an incident.",
			Request: DetectionLinkRequest{}, Response: IncidentView{}, Roles: responders, Handler: s.linkDetection},
		{Method: "DELETE", Pattern: "/incidents/{id}/detections/{detection}", Summary: "Unlink a detection from an incident.",
			Request: UnlinkRequest{}, Response: IncidentView{}, Roles: responders, Handler: s.unlinkDetection},
		{Method: "GET", Pattern: "/incidents/{id}/notes", Summary: "An incident's notes and decisions, oldest first.",
			Response: []IncidentNote(nil), Query: httpapi.PageParams, Roles: readers, Handler: s.notes},
		{Method: "POST", Pattern: "/incidents/{id}/notes", Summary: "Add a note or a decision (append-only).",
			Request: NoteRequest{}, Response: IncidentNote{}, Roles: responders, Handler: s.addNote},
		{Method: "GET", Pattern: "/policy/auto-incident", Summary: "The auto-incident policy.",
			Response: AutoPolicy{}, Roles: []httpapi.Role{httpapi.RoleResponder, httpapi.RoleAuditor}, Handler: s.getPolicy},
		{Method: "PUT", Pattern: "/policy/auto-incident", Summary: "Set the auto-incident policy.",
			Request: AutoPolicy{}, Response: AutoPolicy{}, Handler: s.putPolicy},
	}
}

// IncidentView is an incident as GET /incidents/{id} shows it.
type IncidentView struct {
	Incident
	Counts  IncidentCounts  `json:"counts"`
	History []IncidentEvent `json:"history" doc:"the first 1000 entries of its history, oldest first"`
	Next    []StateMove     `json:"next" doc:"the states it may move to"`
}

// OpenRequest opens an incident by hand.
type OpenRequest struct {
	Title    string    `json:"title"`
	Summary  string    `json:"summary"`
	Severity string    `json:"severity" doc:"low, medium (default), high or critical"`
	AwareAt  time.Time `json:"aware_at" doc:"when the organisation became aware (default: now)"`
	Hosts    []string  `json:"hosts" doc:"host ids to link"`
	Reason   string    `json:"reason"`
}

// StateChange moves an incident.
type StateChange struct {
	State  string `json:"state"`
	Reason string `json:"reason"`
}

// HostLinkRequest links a host.
type HostLinkRequest struct {
	HostID string `json:"host_id"`
	Reason string `json:"reason"`
}

// DetectionLinkRequest links a detection.
type DetectionLinkRequest struct {
	DetectionID int64  `json:"detection_id"`
	Reason      string `json:"reason"`
}

// UnlinkRequest is the body of a change that needs only its reason.
type UnlinkRequest struct {
	Reason string `json:"reason"`
}

// NoteRequest adds a note.
type NoteRequest struct {
	Kind string `json:"kind" doc:"note (default) or decision"`
	Text string `json:"text"`
}

// apiError turns this package's errors into the toolkit's.
func apiError(err error) error {
	var te *TransitionError
	var fe *FieldError
	switch {
	case errors.As(err, &te):
		return &httpapi.ConflictError{Msg: te.Msg, Allowed: te.AllowedNames()}
	case errors.As(err, &fe):
		return &httpapi.InputError{Field: fe.Field, Msg: fe.Msg}
	}
	return err
}

func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	httpapi.Fail(w, r, apiError(err))
}

func (s *Service) list(w http.ResponseWriter, r *http.Request) {
	p, err := httpapi.ParsePage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var state State
	if v := r.URL.Query().Get("state"); v != "" {
		if state, err = ParseState(v); err != nil {
			s.fail(w, r, httpapi.BadInput("query parameter state", "%v", err))
			return
		}
	}
	ins, err := List(r.Context(), s.st, state, p.After, p.Limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, ins)
}

func (s *Service) view(ctx context.Context, id string) (IncidentView, error) {
	in, err := Get(ctx, s.st, id)
	if err != nil {
		return IncidentView{}, err
	}
	v := IncidentView{Incident: in, Next: Next(in.State)}
	if v.Counts, err = CountsOf(ctx, s.st, id); err != nil {
		return IncidentView{}, err
	}
	if v.History, err = History(ctx, s.st, id, 0, 1000); err != nil {
		return IncidentView{}, err
	}
	return v, nil
}

func (s *Service) get(w http.ResponseWriter, r *http.Request) {
	v, err := s.view(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, v)
}

// change runs f and the audit entry in one transaction and answers with
// the incident's view.
func (s *Service) change(w http.ResponseWriter, r *http.Request, code int, action, reason string, f func(ctx context.Context, tx *store.Tx, now time.Time) (id, detail string, err error)) {
	ctx := r.Context()
	now := s.now().UTC().Truncate(time.Millisecond)
	var id string
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var detail string
		var err error
		if id, detail, err = f(ctx, tx, now); err != nil {
			return err
		}
		if err := touch(ctx, tx, id, now); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, now, action, id, reason, detail))
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.view(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, code, v)
}

func actor(ctx context.Context) string {
	p, _ := httpapi.PrincipalFrom(ctx)
	return p.Actor()
}

func (s *Service) open(w http.ResponseWriter, r *http.Request) {
	var body OpenRequest
	if err := httpapi.DecodeBody(r, 0, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	sev, err := ParseSeverity(body.Severity)
	if err != nil {
		s.fail(w, r, fieldErr("severity", "%v", err))
		return
	}
	s.change(w, r, http.StatusCreated, "incident.open", body.Reason, func(ctx context.Context, tx *store.Tx, now time.Time) (string, string, error) {
		in, err := New(body.Title, body.Summary, sev, body.AwareAt, actor(ctx), now)
		if err != nil {
			return "", "", err
		}
		if err := insertIncident(ctx, tx, in); err != nil {
			return "", "", err
		}
		if err := addEvent(ctx, tx, IncidentEvent{IncidentID: in.ID, At: now, Actor: in.OpenedBy, Kind: EventOpened, To: string(Open), Reason: body.Reason}); err != nil {
			return "", "", err
		}
		for i, h := range body.Hosts {
			if _, err := hostName(ctx, tx, h); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					err = fieldErr(fmt.Sprintf("hosts[%d]", i), "no host %s", h)
				}
				return "", "", err
			}
			if err := s.linkHostTx(ctx, tx, in.ID, h, in.OpenedBy, body.Reason, now); err != nil {
				return "", "", err
			}
		}
		return in.ID, fmt.Sprintf("title=%q severity=%s aware_at=%s hosts=%s", in.Title, in.Severity,
			in.AwareAt.Format(time.RFC3339Nano), strings.Join(body.Hosts, ",")), nil
	})
}

func (s *Service) state(w http.ResponseWriter, r *http.Request) {
	var body StateChange
	if err := httpapi.DecodeBody(r, 0, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	s.change(w, r, http.StatusOK, "incident.state", body.Reason, func(ctx context.Context, tx *store.Tx, now time.Time) (string, string, error) {
		id := r.PathValue("id")
		in, err := getTx(ctx, tx, id)
		if err != nil {
			return "", "", err
		}
		to := State(body.State)
		if err := Check(in.State, to, body.Reason); err != nil {
			return "", "", err
		}
		res, err := tx.Exec(ctx, "incident-set-state", id, string(in.State), string(to), ms(now))
		if err != nil {
			return "", "", err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return "", "", httpapi.Conflict("incident %s changed state meanwhile; read it again", id)
		}
		if err := addEvent(ctx, tx, IncidentEvent{IncidentID: id, At: now, Actor: actor(ctx), Kind: EventState, From: string(in.State), To: string(to), Reason: body.Reason}); err != nil {
			return "", "", err
		}
		return id, string(in.State) + " -> " + string(to), nil
	})
}

func (s *Service) linkHostTx(ctx context.Context, tx *store.Tx, id, host, by, reason string, now time.Time) error {
	added, err := linkHost(ctx, tx, id, IncidentHost{HostID: host, LinkedAt: now, LinkedBy: by, Reason: reason})
	if err != nil || !added {
		return err
	}
	return addEvent(ctx, tx, IncidentEvent{IncidentID: id, At: now, Actor: by, Kind: EventHostLinked, Target: host, Reason: reason})
}

func (s *Service) linkHost(w http.ResponseWriter, r *http.Request) {
	var body HostLinkRequest
	if err := httpapi.DecodeBody(r, 0, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	s.change(w, r, http.StatusOK, "incident.link_host", body.Reason, func(ctx context.Context, tx *store.Tx, now time.Time) (string, string, error) {
		id := r.PathValue("id")
		if _, err := getTx(ctx, tx, id); err != nil {
			return "", "", err
		}
		if err := CheckReason(body.Reason); err != nil {
			return "", "", err
		}
		if _, err := hostName(ctx, tx, body.HostID); err != nil {
			return "", "", err
		}
		return id, "host=" + body.HostID, s.linkHostTx(ctx, tx, id, body.HostID, actor(ctx), body.Reason, now)
	})
}

func (s *Service) unlinkHost(w http.ResponseWriter, r *http.Request) {
	var body UnlinkRequest
	if err := httpapi.DecodeOptionalBody(r, 0, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	s.change(w, r, http.StatusOK, "incident.unlink_host", body.Reason, func(ctx context.Context, tx *store.Tx, now time.Time) (string, string, error) {
		id, host := r.PathValue("id"), r.PathValue("host")
		err := unlink(ctx, tx, "incident-unlink-host", host, "host "+host, IncidentEvent{IncidentID: id, At: now, Actor: actor(ctx), Kind: EventHostUnlinked, Target: host, Reason: body.Reason})
		return id, "host=" + host, err
	})
}

func (s *Service) linkDetection(w http.ResponseWriter, r *http.Request) {
	var body DetectionLinkRequest
	if err := httpapi.DecodeBody(r, 0, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	s.change(w, r, http.StatusOK, "incident.link_detection", body.Reason, func(ctx context.Context, tx *store.Tx, now time.Time) (string, string, error) {
		id := r.PathValue("id")
		if _, err := getTx(ctx, tx, id); err != nil {
			return "", "", err
		}
		if err := CheckReason(body.Reason); err != nil {
			return "", "", err
		}
		var host string
		if err := tx.QueryRow(ctx, "incident-detection-host", body.DetectionID).Scan(&host); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return "", "", fmt.Errorf("detection %d: %w", body.DetectionID, store.ErrNotFound)
			}
			return "", "", fmt.Errorf("detection %d: %w", body.DetectionID, err)
		}
		by := actor(ctx)
		added, err := linkDetection(ctx, tx, id, IncidentDetection{DetectionID: body.DetectionID, HostID: host, LinkedAt: now, LinkedBy: by, Reason: body.Reason})
		if err != nil {
			return "", "", err
		}
		target := strconv.FormatInt(body.DetectionID, 10)
		if added {
			if err := addEvent(ctx, tx, IncidentEvent{IncidentID: id, At: now, Actor: by, Kind: EventDetectionLinked, Target: target, Reason: body.Reason}); err != nil {
				return "", "", err
			}
		}
		return id, "detection=" + target + " host=" + host, s.linkHostTx(ctx, tx, id, host, by, body.Reason, now)
	})
}

func (s *Service) unlinkDetection(w http.ResponseWriter, r *http.Request) {
	var body UnlinkRequest
	if err := httpapi.DecodeOptionalBody(r, 0, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	s.change(w, r, http.StatusOK, "incident.unlink_detection", body.Reason, func(ctx context.Context, tx *store.Tx, now time.Time) (string, string, error) {
		id, det := r.PathValue("id"), r.PathValue("detection")
		d, err := strconv.ParseInt(det, 10, 64)
		if err != nil {
			return "", "", fieldErr("detection", "%q is not a detection id", det)
		}
		err = unlink(ctx, tx, "incident-unlink-detection", d, "detection "+det, IncidentEvent{IncidentID: id, At: now, Actor: actor(ctx), Kind: EventDetectionUnlinked, Target: det, Reason: body.Reason})
		return id, "detection=" + det, err
	})
}

// unlink removes one link of incident ev.IncidentID (what names it in the
// not-found error) with the named query, and records ev in its history.
func unlink(ctx context.Context, tx *store.Tx, query string, key any, what string, ev IncidentEvent) error {
	if _, err := getTx(ctx, tx, ev.IncidentID); err != nil {
		return err
	}
	if err := CheckReason(ev.Reason); err != nil {
		return err
	}
	res, err := tx.Exec(ctx, query, ev.IncidentID, key)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%s in incident %s: %w", what, ev.IncidentID, store.ErrNotFound)
	}
	return addEvent(ctx, tx, ev)
}

func (s *Service) hosts(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), r.PathValue("id")
	if _, err := Get(ctx, s.st, id); err != nil {
		s.fail(w, r, err)
		return
	}
	var (
		hs  []IncidentHost
		p   httpapi.Page
		err error
	)
	if q := r.URL.Query(); !q.Has("after") && !q.Has("limit") {
		// Without paging parameters the answer stays what it was before
		// paging: every linked host.
		hs, err = Hosts(ctx, s.st, id)
	} else if p, err = httpapi.ParsePage(r); err == nil {
		hs, err = HostsPage(ctx, s.st, id, p.After, p.Limit)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, hs)
}

func (s *Service) detections(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), r.PathValue("id")
	p, err := httpapi.ParsePage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	after, err := httpapi.QueryInt(r, "after", 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := Get(ctx, s.st, id); err != nil {
		s.fail(w, r, err)
		return
	}
	ds, err := Detections(ctx, s.st, id, after, p.Limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, ds)
}

func (s *Service) notes(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), r.PathValue("id")
	p, err := httpapi.ParsePage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := Get(ctx, s.st, id); err != nil {
		s.fail(w, r, err)
		return
	}
	ns, err := Notes(ctx, s.st, id, p.After, p.Limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, ns)
}

func (s *Service) addNote(w http.ResponseWriter, r *http.Request) {
	var body NoteRequest
	if err := httpapi.DecodeBody(r, 0, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	now := s.now().UTC().Truncate(time.Millisecond)
	n, err := NewNote(id, NoteKind(body.Kind), actor(ctx), body.Text, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getTx(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "incident-note-insert", n.ID, id, string(n.Kind), n.Author, n.Text, ms(now)); err != nil {
			return err
		}
		if err := touch(ctx, tx, id, now); err != nil {
			return err
		}
		// The entry carries the note's id; the text stays in the
		// incident, where it may be personal.
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, now, "incident.note", id, "", string(n.Kind)+" "+n.ID))
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, n)
}

// settingPolicy is where the auto-incident policy is stored.
const settingPolicy = "auto_incident_policy"

func (s *Service) policy(ctx context.Context, tx *store.Tx) (AutoPolicy, error) {
	v, err := tx.Setting(ctx, settingPolicy)
	if errors.Is(err, store.ErrNotFound) {
		return DefaultAutoPolicy, nil
	}
	if err != nil {
		return AutoPolicy{}, err
	}
	// A policy stored before a field existed keeps that field's default.
	p := DefaultAutoPolicy
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return AutoPolicy{}, fmt.Errorf("setting %s: %w", settingPolicy, err)
	}
	return p, nil
}

func (s *Service) getPolicy(w http.ResponseWriter, r *http.Request) {
	var p AutoPolicy
	err := s.st.InTx(r.Context(), func(tx *store.Tx) error {
		var err error
		p, err = s.policy(r.Context(), tx)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, p)
}

func (s *Service) putPolicy(w http.ResponseWriter, r *http.Request) {
	// A field left out keeps its default, so a client written before the
	// join window does not turn it off.
	p := DefaultAutoPolicy
	if err := httpapi.DecodeBody(r, 0, &p); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := p.Check(); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	b, _ := json.Marshal(p)
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.PutSetting(ctx, settingPolicy, string(b)); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.now(), "auto_incident_policy", "fleet", "", string(b)))
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, p)
}

// onDetections applies the auto-incident policy to new detections, in the
// transaction that stores them.
func (s *Service) onDetections(ctx context.Context, tx *store.Tx, ds []store.Detection) error {
	p, err := s.policy(ctx, tx)
	if err != nil {
		return err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	open := map[string][]string{}
	linked := map[string][]int64{}
	var order []string
	// latest is read once per batch and follows the incidents the batch
	// opens; one server's ingester stores batches one at a time.
	latest, err := latestAuto(ctx, tx)
	if err != nil {
		return err
	}
	for _, d := range ds {
		ids, ok := open[d.HostID]
		if !ok {
			if ids, err = openForHost(ctx, tx, d.HostID); err != nil {
				return err
			}
			open[d.HostID] = ids
		}
		name, err := hostName(ctx, tx, d.HostID)
		if err != nil {
			return err
		}
		plan := p.Plan(Detection{ID: d.ID, HostID: d.HostID, Hostname: name, Rule: d.Rule, Meta: d.Meta, SeenAt: d.SeenAt}, ids, latest, now)
		if in := plan.Open; in != nil {
			if err := s.autoOpen(ctx, tx, *in, d, plan.Reason, now); err != nil {
				return err
			}
			open[d.HostID] = []string{in.ID}
			latest = in
			continue
		}
		if plan.Join != "" {
			if err := s.autoJoin(ctx, tx, plan.Join, d, plan.Reason, now); err != nil {
				return err
			}
			open[d.HostID] = []string{plan.Join}
			continue
		}
		for _, id := range plan.Link {
			added, err := linkDetection(ctx, tx, id, IncidentDetection{DetectionID: d.ID, HostID: d.HostID, LinkedAt: now, LinkedBy: AutoActor, Reason: plan.Reason})
			if err != nil {
				return err
			}
			if added {
				if _, seen := linked[id]; !seen {
					order = append(order, id)
				}
				linked[id] = append(linked[id], d.ID)
			}
		}
	}
	// One history and audit entry per incident and batch: a busy host
	// must not bury the history under one entry per finding.
	for _, id := range order {
		dets := linked[id]
		what := fmt.Sprintf("%d..%d (%d detections)", dets[0], dets[len(dets)-1], len(dets))
		if len(dets) == 1 {
			what = strconv.FormatInt(dets[0], 10)
		}
		if err := addEvent(ctx, tx, IncidentEvent{IncidentID: id, At: now, Actor: AutoActor, Kind: EventDetectionLinked, Target: what, Reason: "new detections on its hosts"}); err != nil {
			return err
		}
		if err := touch(ctx, tx, id, now); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, store.AuditEntry{At: now, Actor: AutoActor, Role: string(httpapi.KindSystem),
			Action: "incident.link_detection", Target: id, Reason: "new detections on its hosts", Detail: what}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) autoOpen(ctx context.Context, tx *store.Tx, in Incident, d store.Detection, reason string, now time.Time) error {
	if err := insertIncident(ctx, tx, in); err != nil {
		return err
	}
	if err := addEvent(ctx, tx, IncidentEvent{IncidentID: in.ID, At: now, Actor: AutoActor, Kind: EventOpened, To: string(Open), Reason: reason}); err != nil {
		return err
	}
	if err := s.linkHostTx(ctx, tx, in.ID, d.HostID, AutoActor, reason, now); err != nil {
		return err
	}
	det := strconv.FormatInt(d.ID, 10)
	if _, err := linkDetection(ctx, tx, in.ID, IncidentDetection{DetectionID: d.ID, HostID: d.HostID, LinkedAt: now, LinkedBy: AutoActor, Reason: reason}); err != nil {
		return err
	}
	if err := addEvent(ctx, tx, IncidentEvent{IncidentID: in.ID, At: now, Actor: AutoActor, Kind: EventDetectionLinked, Target: det, Reason: reason}); err != nil {
		return err
	}
	return tx.AppendAudit(ctx, store.AuditEntry{At: now, Actor: AutoActor, Role: string(httpapi.KindSystem),
		Action: "incident.open", Target: in.ID, Reason: reason,
		Detail: fmt.Sprintf("host=%s detection=%s aware_at=%s", d.HostID, det, in.AwareAt.Format(time.RFC3339Nano))})
}

// autoJoin links a detection and its host to the outbreak's incident,
// with one audit entry naming both.
func (s *Service) autoJoin(ctx context.Context, tx *store.Tx, id string, d store.Detection, reason string, now time.Time) error {
	if err := s.linkHostTx(ctx, tx, id, d.HostID, AutoActor, reason, now); err != nil {
		return err
	}
	det := strconv.FormatInt(d.ID, 10)
	if _, err := linkDetection(ctx, tx, id, IncidentDetection{DetectionID: d.ID, HostID: d.HostID, LinkedAt: now, LinkedBy: AutoActor, Reason: reason}); err != nil {
		return err
	}
	if err := addEvent(ctx, tx, IncidentEvent{IncidentID: id, At: now, Actor: AutoActor, Kind: EventDetectionLinked, Target: det, Reason: reason}); err != nil {
		return err
	}
	if err := touch(ctx, tx, id, now); err != nil {
		return err
	}
	return tx.AppendAudit(ctx, store.AuditEntry{At: now, Actor: AutoActor, Role: string(httpapi.KindSystem),
		Action: "incident.link_host", Target: id, Reason: reason, Detail: fmt.Sprintf("host=%s detection=%s", d.HostID, det)})
}

// hostEvents maps the fleet's audited actions on a host to the history
// entry they make in the host's open incidents.
var hostEvents = map[string]EventKind{
	"isolate":          EventIsolation,
	"release":          EventIsolation,
	"isolation_status": EventIsolation,
	"monitoring":       EventMonitoring,
}

// onAudit records isolation and monitoring changes of linked hosts in
// their open incidents, in the transaction of the change.
func (s *Service) onAudit(ctx context.Context, tx *store.Tx, e audit.Entry) error {
	kind, ok := hostEvents[e.Action]
	if !ok {
		return nil
	}
	from, to, ok := strings.Cut(e.Detail, " -> ")
	if !ok {
		from, to = "", e.Detail
	}
	reason := e.Reason
	if e.Action != "isolation_status" && e.Action != "monitoring" {
		reason = strings.TrimSpace(e.Action + ": " + reason)
	}
	if e.Target == "fleet" {
		_, err := tx.Exec(ctx, "incident-record-fleet-event", ms(e.Time), e.Actor, string(kind), from, to, reason)
		return err
	}
	_, err := tx.Exec(ctx, "incident-record-host-event", e.Target, ms(e.Time), e.Actor, string(kind), from, to, reason)
	return err
}
