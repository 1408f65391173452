package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/wire"
)

func (s *Server) sweepRoutes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "POST", Pattern: "/sweeps", Summary: "Launch a sweep (hunt) over paths on all hosts, a list of hosts, or hosts matching labels; with pii, the agents also search the paths for personal data and send one pii_file result per file holding any.",
			Request: SweepIn{}, Response: SweepCreated{}, Roles: responders, Handler: s.postSweep},
		{Method: "GET", Pattern: "/sweeps", Summary: "List sweeps in id order with per-host results.",
			Response: []Sweep(nil), Query: httpapi.PageParams, Roles: []httpapi.Role{httpapi.RoleResponder, httpapi.RoleAuditor}, Handler: s.listSweeps},
		{Method: "GET", Pattern: "/sweeps/{id}", Summary: "One sweep with its state, progress and per-host results.",
			Response: Sweep{}, Roles: []httpapi.Role{httpapi.RoleResponder, httpapi.RoleAuditor}, Handler: s.getSweep},
		{Method: "DELETE", Pattern: "/sweeps/{id}", Summary: "Cancel a sweep: connected hosts stop its scan at once, hosts away learn it when they reconnect, the rest are no longer sent it; audited with the reason.",
			Request: ReasonBody{}, Response: Sweep{}, Roles: responders, Handler: s.cancelSweep},
	}
}

// SweepIn launches a sweep.
type SweepIn struct {
	Name             string            `json:"name"`
	YARA             string            `json:"yara"`
	Hashes           []string          `json:"hashes"`
	Paths            []string          `json:"paths" doc:"absolute paths" required:"true"`
	Hosts            HostSelector      `json:"hosts"`
	Labels           map[string]string `json:"labels" doc:"only hosts with all these labels"`
	Reason           string            `json:"reason" doc:"why, for the audit trail; required when hosts is \"all\""`
	ExpiresInSeconds int64             `json:"expires_in_seconds" doc:"how long offline hosts may still pick it up (default 24 h, at most 30 days)"`
	PII              bool              `json:"pii" doc:"also discover personal data in the paths: each agent sends a pii_file finding per file holding any (values normalised, inside the mutual TLS channel), and counts in its host error the files it could not search; yara and hashes may then be empty"`
}

// maxSweepTTL bounds expires_in_seconds, far below where a duration
// overflows.
const maxSweepTTL = 30 * 24 * time.Hour

// SweepCreated names a new sweep.
type SweepCreated struct {
	ID string `json:"id" doc:"sweep id"`
}

// Sweep is a sweep with its hosts' results.
type Sweep struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	State     string        `json:"state" enum:"running,done,done_with_errors,expired,cancelled" doc:"done_with_errors: every host finished, and some failed or reported errors"`
	Paths     []string      `json:"paths"`
	PII       bool          `json:"pii" doc:"personal-data discovery asked for"`
	CreatedAt time.Time     `json:"created_at"`
	ExpiresAt time.Time     `json:"expires_at"`
	CreatedBy string        `json:"created_by"`
	Progress  SweepProgress `json:"progress"`
	Findings  int64         `json:"findings" doc:"detections from this sweep"`
	Hosts     []SweepHost   `json:"hosts"`
}

// SweepProgress counts a sweep's finished hosts.
type SweepProgress struct {
	Done  int `json:"done" doc:"hosts done or failed"`
	Total int `json:"total" doc:"hosts in the sweep"`
}

// SweepHost is one host's part of a sweep.
type SweepHost struct {
	HostID    string    `json:"host_id"`
	State     string    `json:"state" enum:"queued,running,done,failed,offline,cancelled"`
	Files     int64     `json:"files" doc:"files scanned"`
	Findings  int64     `json:"findings"`
	Error     string    `json:"error,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

func newSweepID() string {
	var b [8]byte
	rand.Read(b[:])
	return "s-" + hex.EncodeToString(b[:])
}

func (s *Server) postSweep(w http.ResponseWriter, r *http.Request) {
	var body SweepIn
	if err := httpapi.DecodeBody(r, wire.MaxMessageBytes, &body); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if err := checkSelector(body.Hosts, body.Labels, body.Reason); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if body.ExpiresInSeconds < 0 || body.ExpiresInSeconds > int64(maxSweepTTL/time.Second) {
		httpapi.Fail(w, r, httpapi.BadInput("expires_in_seconds", "%d, want 1 to %d (30 days), or 0 for the default", body.ExpiresInSeconds, int64(maxSweepTTL/time.Second)))
		return
	}
	b := BundleIn{Name: body.Name, YARA: body.YARA, Hashes: body.Hashes}
	// A personal-data sweep needs no rules; any it has are checked.
	if !body.PII || strings.TrimSpace(b.YARA) != "" || len(b.Hashes) > 0 {
		if err := validateBundle(&b); err != nil {
			httpapi.Fail(w, r, err)
			return
		}
	}
	if len(body.Paths) == 0 {
		httpapi.Fail(w, r, httpapi.BadInput("paths", "empty"))
		return
	}
	for i, p := range body.Paths {
		if !filepath.IsAbs(p) {
			httpapi.Fail(w, r, httpapi.BadInput(fmt.Sprintf("paths[%d]", i), "%q is not absolute", p))
			return
		}
	}
	ctx := r.Context()
	hosts, err := s.selectHosts(ctx, body.Hosts, body.Labels)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if len(hosts) == 0 {
		field := "hosts"
		if len(body.Labels) > 0 {
			field = "labels"
		}
		httpapi.Fail(w, r, httpapi.BadInput(field, "no enrolled host matches the selection (revoked hosts are left out)"))
		return
	}
	ttl := s.cfg.SweepTTL
	if body.ExpiresInSeconds > 0 {
		ttl = time.Duration(body.ExpiresInSeconds) * time.Second
	}
	now := s.now()
	p, _ := httpapi.PrincipalFrom(ctx)
	sw := &store.Sweep{ID: newSweepID(), Name: body.Name, YARA: b.YARA, Hashes: nonNil(b.Hashes),
		SHA256: wire.BundleDigest(b.YARA, b.Hashes), Paths: body.Paths, CreatedAt: now, ExpiresAt: now.Add(ttl), CreatedBy: p.Actor(), PII: body.PII}
	if err := fitsOnWire(sweepMessage(sw, s.nextCommandID()), "sweep"); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
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
		detail := fmt.Sprintf("%s on %d hosts", body.Name, len(states))
		if sw.PII {
			detail += ", with personal-data discovery"
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, now, "sweep", sw.ID, body.Reason, detail))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	var online []string
	for id, st := range states {
		if st == wire.SweepQueued {
			online = append(online, id)
		}
	}
	s.broadcast(ctx, online, func() *wire.Message { return sweepMessage(sw, s.nextCommandID()) })
	httpapi.WriteJSON(w, http.StatusOK, SweepCreated{ID: sw.ID})
}

// sweepView computes a sweep's state: "done" when every host finished or
// failed ("done_with_errors" when some failed or reported errors), "expired" when hosts were still missing at its expiry, else
// "running". Hosts not yet reached show "offline" while disconnected.
func (s *Server) sweepView(ctx context.Context, sw *store.Sweep) (Sweep, error) {
	hosts, err := s.st.SweepHosts(ctx, sw.ID)
	if err != nil {
		return Sweep{}, err
	}
	v := Sweep{ID: sw.ID, Name: sw.Name, Paths: sw.Paths, CreatedAt: sw.CreatedAt, ExpiresAt: sw.ExpiresAt,
		CreatedBy: sw.CreatedBy, PII: sw.PII, Progress: SweepProgress{Total: len(hosts)}, Hosts: []SweepHost{}}
	hostErrors := false
	for _, h := range hosts {
		state := h.State
		if state == wire.SweepQueued && !s.hub.online(h.HostID) {
			state = wire.SweepOffline
		}
		if state == wire.SweepDone || state == wire.SweepFailed {
			v.Progress.Done++
		}
		hostErrors = hostErrors || state == wire.SweepFailed || h.Error != ""
		v.Findings += h.Findings
		v.Hosts = append(v.Hosts, SweepHost{HostID: h.HostID, State: state, Files: h.Files, Findings: h.Findings, Error: h.Error, UpdatedAt: h.UpdatedAt})
	}
	switch {
	case !sw.CancelledAt.IsZero():
		v.State = "cancelled"
	case v.Progress.Done == v.Progress.Total && hostErrors:
		v.State = "done_with_errors"
	case v.Progress.Done == v.Progress.Total:
		v.State = "done"
	case s.now().After(sw.ExpiresAt):
		v.State = "expired"
	default:
		v.State = "running"
	}
	return v, nil
}

func (s *Server) getSweep(w http.ResponseWriter, r *http.Request) {
	sw, err := s.st.Sweep(r.Context(), r.PathValue("id"))
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	v, err := s.sweepView(r.Context(), sw)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, v)
}

func (s *Server) listSweeps(w http.ResponseWriter, r *http.Request) {
	p, err := httpapi.ParsePage(r)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	sws, err := s.st.Sweeps(r.Context(), p.After, p.Limit)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	out := []Sweep{}
	for _, sw := range sws {
		v, err := s.sweepView(r.Context(), sw)
		if err != nil {
			httpapi.Fail(w, r, err)
			return
		}
		out = append(out, v)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) cancelSweep(w http.ResponseWriter, r *http.Request) {
	var body ReasonBody
	if err := httpapi.DecodeOptionalBody(r, 0, &body); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	sw, err := s.st.Sweep(ctx, id)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	v, err := s.sweepView(ctx, sw)
	if err == nil && (v.State == "done" || v.State == "done_with_errors" || v.State == "expired") {
		err = httpapi.Conflict("sweep %s is %s; only a running sweep can be cancelled", id, v.State)
	}
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	p, _ := httpapi.PrincipalFrom(ctx)
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		changed, err := tx.CancelSweep(ctx, id, p.Actor(), s.now())
		if err != nil || !changed {
			return err
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.now(), "cancel_sweep", id, body.Reason, ""))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	s.broadcast(ctx, unfinishedHosts(v), func() *wire.Message { return cancelSweepMessage(id, s.nextCommandID()) })
	s.getSweep(w, r)
}
