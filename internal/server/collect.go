package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"time"

	"github.com/mamori-dev/mamori/internal/incident"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/wire"
)

// Collections are sweeps whose agents gather evidence for an incident
// instead of scanning: the fleet machinery (queued for offline hosts,
// re-run after a restart with findings de-duplicated, per-host progress)
// is the sweep's.
func (s *Server) collectRoutes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "POST", Pattern: "/incidents/{id}/collect", Summary: "Collect evidence on the incident's hosts (or the hosts given) for a time window: logs, processes, connections, persistence, file activity and archives, evaluated by Sigma on the agent and sent as timeline events; with pii, also discover personal data (pii_file findings) in the paths given or the agents' scan paths; audited.",
			Request: CollectIn{}, Response: CollectionView{}, Roles: responders, Handler: s.postCollect},
		{Method: "GET", Pattern: "/incidents/{id}/collections", Summary: "The incident's collections with per-host progress.",
			Response: []CollectionView(nil), Roles: []httpapi.Role{httpapi.RoleResponder, httpapi.RoleAuditor, httpapi.RoleViewer}, Handler: s.listCollections},
	}
}

// CollectIn starts a collection.
type CollectIn struct {
	Hosts     []string  `json:"hosts,omitempty" doc:"host ids; default: the hosts linked to the incident"`
	From      time.Time `json:"from" required:"true"`
	To        time.Time `json:"to" doc:"default: now"`
	Kinds     []string  `json:"kinds,omitempty" doc:"logs, processes, connections, persistence, files, archives; default all"`
	MaxEvents int       `json:"max_events,omitempty" doc:"cap on log and file events per host (hits are always sent); default 200000"`
	PII       bool      `json:"pii,omitempty" doc:"also discover personal data: each agent sends a pii_file finding per file holding any, over paths or, when none are given, its configured scan paths"`
	Paths     []string  `json:"paths,omitempty" doc:"absolute paths personal-data discovery searches; only with pii"`
	Reason    string    `json:"reason" required:"true"`
}

// CollectionView is a collection with its progress.
type CollectionView struct {
	ID         string        `json:"id" doc:"the collection's sweep id"`
	IncidentID string        `json:"incident_id"`
	From       time.Time     `json:"from"`
	To         time.Time     `json:"to"`
	Kinds      []string      `json:"kinds"`
	PII        bool          `json:"pii" doc:"personal-data discovery asked for"`
	Paths      []string      `json:"paths" doc:"paths personal-data discovery searches; empty: each agent's scan paths"`
	State      string        `json:"state"`
	Progress   SweepProgress `json:"progress"`
	Hosts      []SweepHost   `json:"hosts"`
	CreatedAt  time.Time     `json:"created_at"`
}

var collectKinds = []string{wire.CollectLogs, wire.CollectProcesses, wire.CollectConnections, wire.CollectPersistence, wire.CollectFiles, wire.CollectArchives}

func (s *Server) postCollect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	var body CollectIn
	if err := httpapi.DecodeBody(r, 1<<20, &body); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if body.Reason == "" {
		httpapi.Fail(w, r, httpapi.BadInput("reason", "required"))
		return
	}
	now := s.now()
	if body.To.IsZero() {
		body.To = now
	}
	if body.From.IsZero() || !body.From.Before(body.To) {
		httpapi.Fail(w, r, httpapi.BadInput("from", "want a time before to (%s)", body.To.Format(time.RFC3339)))
		return
	}
	for i, k := range body.Kinds {
		if !slices.Contains(collectKinds, k) {
			httpapi.Fail(w, r, httpapi.BadInput(fmt.Sprintf("kinds[%d]", i), "%q, want one of %v", k, collectKinds))
			return
		}
	}
	if body.MaxEvents < 0 || body.MaxEvents > 10_000_000 {
		httpapi.Fail(w, r, httpapi.BadInput("max_events", "%d, want 0 (default) to 10000000", body.MaxEvents))
		return
	}
	if len(body.Paths) > 0 && !body.PII {
		httpapi.Fail(w, r, httpapi.BadInput("paths", "given without pii: a collection reads the agents' own logs and scan paths"))
		return
	}
	for i, p := range body.Paths {
		if !filepath.IsAbs(p) {
			httpapi.Fail(w, r, httpapi.BadInput(fmt.Sprintf("paths[%d]", i), "%q is not absolute", p))
			return
		}
	}
	if _, err := incident.Get(ctx, s.st, id); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	hostIDs := body.Hosts
	if len(hostIDs) == 0 {
		linked, err := incident.Hosts(ctx, s.st, id)
		if err != nil {
			httpapi.Fail(w, r, err)
			return
		}
		for _, h := range linked {
			hostIDs = append(hostIDs, h.HostID)
		}
		if len(hostIDs) == 0 {
			httpapi.Fail(w, r, httpapi.BadInput("hosts", "the incident has no linked hosts; link some or name them"))
			return
		}
	}
	hosts, err := s.selectHosts(ctx, HostSelector{IDs: hostIDs, set: true}, nil)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	spec := wire.Collect{IncidentID: id, From: body.From.UTC(), To: body.To.UTC(), Kinds: body.Kinds, MaxEvents: body.MaxEvents}
	raw, _ := json.Marshal(spec)
	p, _ := httpapi.PrincipalFrom(ctx)
	sw := &store.Sweep{ID: newSweepID(), Name: "collect " + id, Hashes: []string{}, SHA256: wire.BundleDigest("", nil),
		Paths: nonNil(body.Paths), CreatedAt: now, ExpiresAt: now.Add(s.cfg.SweepTTL), CreatedBy: p.Actor(), Collect: raw, PII: body.PII}
	states := map[string]string{}
	for _, h := range hosts {
		states[h.ID] = wire.SweepOffline
		if s.hub.online(h.ID) {
			states[h.ID] = wire.SweepQueued
		}
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateSweep(ctx, sw, states); err != nil {
			return err
		}
		if err := tx.CreateCollection(ctx, store.Collection{SweepID: sw.ID, IncidentID: id, Spec: raw, CreatedAt: now}); err != nil {
			return err
		}
		detail := fmt.Sprintf("collection %s on %d hosts, %s to %s", sw.ID, len(states), spec.From.Format(time.RFC3339), spec.To.Format(time.RFC3339))
		if sw.PII {
			detail += ", with personal-data discovery"
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, now, "collect", id, body.Reason, detail))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	var online []string
	for h, st := range states {
		if st == wire.SweepQueued {
			online = append(online, h)
		}
	}
	s.broadcast(ctx, online, func() *wire.Message { return sweepMessage(sw, s.nextCommandID()) })
	v, err := s.collectionView(r, store.Collection{SweepID: sw.ID, IncidentID: id, Spec: raw, CreatedAt: now})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, v)
}

func (s *Server) collectionView(r *http.Request, c store.Collection) (CollectionView, error) {
	sw, err := s.st.Sweep(r.Context(), c.SweepID)
	if err != nil {
		return CollectionView{}, err
	}
	sv, err := s.sweepView(r.Context(), sw)
	if err != nil {
		return CollectionView{}, err
	}
	var spec wire.Collect
	if err := json.Unmarshal(c.Spec, &spec); err != nil {
		return CollectionView{}, fmt.Errorf("collection %s: %w", c.SweepID, err)
	}
	kinds := spec.Kinds
	if len(kinds) == 0 {
		kinds = collectKinds
	}
	return CollectionView{ID: c.SweepID, IncidentID: c.IncidentID, From: spec.From, To: spec.To, Kinds: kinds,
		PII: sw.PII, Paths: sw.Paths, State: sv.State, Progress: sv.Progress, Hosts: sv.Hosts, CreatedAt: c.CreatedAt}, nil
}

func (s *Server) listCollections(w http.ResponseWriter, r *http.Request) {
	cs, err := s.st.Collections(r.Context(), r.PathValue("id"))
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	out := []CollectionView{}
	for _, c := range cs {
		v, err := s.collectionView(r, c)
		if err != nil {
			httpapi.Fail(w, r, err)
			return
		}
		out = append(out, v)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}
