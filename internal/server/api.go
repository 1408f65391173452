package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/wire"
	"github.com/mamori-dev/mamori/internal/yara"
)

// route is one API endpoint. The table drives the mux, the OpenAPI document
// and the test that every route refuses a missing or wrong token.
type route struct {
	method, pattern, summary string
	// request and response name schemas in the OpenAPI document; "" for
	// no body.
	request, response string
	// query lists accepted query parameters.
	query   []string
	handler http.HandlerFunc
}

const apiPrefix = "/api/v1"

func (s *Server) apiRoutes() []route {
	return []route{
		{"GET", "/hosts", "List enrolled hosts with online state, monitoring level and isolation state.", "", "HostList", nil, s.listHosts},
		{"GET", "/hosts/{id}", "One host.", "", "Host", nil, s.getHost},
		{"POST", "/hosts/{id}/revoke", "Revoke a host's certificate: it is disconnected and cannot reconnect.", "Reason", "Host", nil, s.revokeHost},
		{"PUT", "/hosts/{id}/monitoring", "Set a host's monitoring level (normal or heightened); audited with the reason.", "Monitoring", "Host", nil, s.putMonitoring},
		{"PUT", "/hosts/{id}/labels", "Replace a host's labels.", "Labels", "Host", nil, s.putLabels},
		{"POST", "/hosts/{id}/isolate", "Isolate a host from the network except the server; audited with the reason.", "Reason", "Host", nil, s.isolationChange(s.requestIsolation)},
		{"POST", "/hosts/{id}/release", "Release a host from isolation; audited with the reason.", "Reason", "Host", nil, s.isolationChange(s.requestRelease)},
		{"POST", "/hosts/{id}/scan", "Scan the host's scan paths now with the current bundle.", "", "Command", nil, s.scanHost},
		{"POST", "/hosts/{id}/ping", "Send a ping command and report its round-trip time.", "", "Ping", nil, s.pingHost},
		{"PUT", "/monitoring", "Set the monitoring level of the whole fleet, a list of hosts, or hosts matching labels.", "FleetMonitoring", "HostIDs", nil, s.putFleetMonitoring},
		{"GET", "/detections", "List detections in id order: the newest limit (default 1000, at most 10000), or those after id after; filter by host_id or sweep_id.", "", "DetectionList", []string{"host_id", "sweep_id", "after", "limit"}, s.listDetections},
		{"POST", "/rules", "Publish a rule bundle (YARA text and hashes) that every agent loads.", "BundleIn", "BundleOut", nil, s.postRules},
		{"GET", "/rules", "The current rule bundle.", "", "Bundle", nil, s.getRules},
		{"POST", "/sweeps", "Launch a sweep (hunt) over paths on all hosts, a list of hosts, or hosts matching labels.", "SweepIn", "SweepID", nil, s.postSweep},
		{"GET", "/sweeps", "List sweeps, newest first, with per-host results.", "", "SweepList", nil, s.listSweeps},
		{"GET", "/sweeps/{id}", "One sweep with its state, progress and per-host results.", "", "Sweep", nil, s.getSweep},
		{"GET", "/audit", "The audit trail: who did what, when and why.", "", "AuditList", []string{"target", "after", "limit"}, s.listAudit},
		{"POST", "/enroll-token/rotate", "Replace the enrolment token; enrolled agents are unaffected.", "", "Token", nil, s.rotateEnrollToken},
		{"GET", "/policy/auto-isolation", "The automatic isolation policy.", "", "Policy", nil, s.getPolicy},
		{"PUT", "/policy/auto-isolation", "Set the automatic isolation policy.", "Policy", "Policy", nil, s.putPolicy},
		{"GET", "/stats", "Connected agents, findings ingested and server memory, for load tests and monitoring.", "", "Stats", nil, s.getStats},
		{"GET", "/openapi.json", "This API's OpenAPI 3 description.", "", "OpenAPI", nil, s.getOpenAPI},
	}
}

// authenticated refuses requests without the admin bearer token.
func (s *Server) authenticated(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !bearerMatches(r.Header.Get("Authorization"), s.admin) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mamori"`)
			writeError(w, http.StatusUnauthorized, errors.New("missing or wrong admin token"))
			return
		}
		h(w, r)
	})
}

// actor names who made an API call, for the audit trail. There is one admin
// token, so it is "admin"; a client may add who it acts for.
func actor(r *http.Request) string {
	if on := strings.TrimSpace(r.Header.Get("X-Mamori-Actor")); on != "" && len(on) <= 64 {
		return "admin:" + on
	}
	return "admin"
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, wire.ErrorResponse{Error: err.Error()})
}

// fail maps an error to its status: unknown ids 404, state conflicts 409,
// bad input 400, anything else 500.
func fail(w http.ResponseWriter, err error) {
	var bad badRequest
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, err)
	case errors.Is(err, errConflict):
		writeError(w, http.StatusConflict, err)
	case errors.As(err, &bad):
		writeError(w, http.StatusBadRequest, err)
	default:
		writeError(w, http.StatusInternalServerError, err)
	}
}

type badRequest struct{ error }

func badf(format string, args ...any) error { return badRequest{fmt.Errorf(format, args...)} }

const maxBody = 16 << 20

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badf("request body: %v", err)
	}
	return nil
}

// hostJSON is a host as the API shows it.
type hostJSON struct {
	ID                 string            `json:"id"`
	Name               string            `json:"name"`
	Hostname           string            `json:"hostname"`
	OS                 string            `json:"os"`
	Arch               string            `json:"arch"`
	OSVersion          string            `json:"os_version"`
	IPs                []string          `json:"ips"`
	AgentVersion       string            `json:"agent_version"`
	Labels             map[string]string `json:"labels"`
	Online             bool              `json:"online"`
	LastSeen           *time.Time        `json:"last_seen"`
	EnrolledAt         time.Time         `json:"enrolled_at"`
	Monitoring         string            `json:"monitoring"`
	MonitoringReported string            `json:"monitoring_reported"`
	Isolation          string            `json:"isolation"`
	IsolationReason    string            `json:"isolation_reason"`
	IsolationError     string            `json:"isolation_error"`
	BundleVersion      int64             `json:"bundle_version"`
	BundleError        string            `json:"bundle_error"`
	Revoked            bool              `json:"revoked"`
}

func (s *Server) hostView(h *store.Host) hostJSON {
	seen := h.LastSeen
	if p := s.seen.get(h.ID); p.After(seen) {
		seen = p
	}
	online := s.hub.online(h.ID)
	var last *time.Time
	if !seen.IsZero() {
		last = &seen
	}
	return hostJSON{ID: h.ID, Name: h.Name, Hostname: h.Hostname, OS: h.OS, Arch: h.Arch, OSVersion: h.OSVersion,
		IPs: nonNil(h.IPs), AgentVersion: h.AgentVersion, Labels: h.Labels, Online: online, LastSeen: last,
		EnrolledAt: h.EnrolledAt, Monitoring: h.Monitoring, MonitoringReported: h.MonitoringReported,
		Isolation: h.Isolation, IsolationReason: h.IsolationReason, IsolationError: h.IsolationError,
		BundleVersion: h.BundleVersion, BundleError: h.BundleError, Revoked: !h.RevokedAt.IsZero()}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Server) listHosts(w http.ResponseWriter, r *http.Request) {
	hs, err := s.st.Hosts(r.Context())
	if err != nil {
		fail(w, err)
		return
	}
	out := make([]hostJSON, len(hs))
	for i, h := range hs {
		out[i] = s.hostView(h)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) writeHost(w http.ResponseWriter, r *http.Request, id string) {
	h, err := s.st.Host(r.Context(), id)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.hostView(h))
}

func (s *Server) getHost(w http.ResponseWriter, r *http.Request) {
	s.writeHost(w, r, r.PathValue("id"))
}

type reasonJSON struct {
	Reason string `json:"reason"`
}

// optionalBody decodes a JSON body if there is one.
func optionalBody(r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	err := decodeBody(r, v)
	var bad badRequest
	if errors.As(err, &bad) && errors.Is(bad.error, io.EOF) {
		return nil
	}
	return err
}

func (s *Server) revokeHost(w http.ResponseWriter, r *http.Request) {
	var body reasonJSON
	if err := optionalBody(r, &body); err != nil {
		fail(w, err)
		return
	}
	id := r.PathValue("id")
	if err := s.st.RevokeHost(r.Context(), id, time.Now()); err != nil {
		fail(w, err)
		return
	}
	s.hub.disconnect(id, "revoked")
	s.audit(r.Context(), actor(r), "revoke", id, body.Reason, "")
	s.writeHost(w, r, id)
}

type monitoringJSON struct {
	Level  string `json:"level"`
	Reason string `json:"reason"`
}

func (s *Server) putMonitoring(w http.ResponseWriter, r *http.Request) {
	var body monitoringJSON
	if err := decodeBody(r, &body); err != nil {
		fail(w, err)
		return
	}
	id := r.PathValue("id")
	if err := s.setMonitoring(r.Context(), id, body.Level, actor(r), body.Reason); err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			err = badRequest{err}
		}
		fail(w, err)
		return
	}
	s.writeHost(w, r, id)
}

type fleetMonitoringJSON struct {
	Level  string            `json:"level"`
	Reason string            `json:"reason"`
	Hosts  json.RawMessage   `json:"hosts"`
	Labels map[string]string `json:"labels"`
}

// selectHosts resolves a host selector: "all" or a list of ids, narrowed by
// labels. Revoked hosts are never selected.
func (s *Server) selectHosts(ctx context.Context, sel json.RawMessage, labels map[string]string) ([]*store.Host, error) {
	all, err := s.st.Hosts(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	var word string
	switch {
	case len(sel) == 0 || string(sel) == "null":
		word = "all"
	case json.Unmarshal(sel, &word) == nil:
		if word != "all" {
			return nil, badf(`field hosts: %q, want "all" or a list of host ids`, word)
		}
	default:
		if err := json.Unmarshal(sel, &ids); err != nil {
			return nil, badf(`field hosts: want "all" or a list of host ids`)
		}
		if len(ids) == 0 {
			return nil, badf("field hosts: empty list")
		}
	}
	byID := map[string]*store.Host{}
	for _, h := range all {
		byID[h.ID] = h
	}
	for _, id := range ids {
		if byID[id] == nil {
			return nil, badf("field hosts: no host %s", id)
		}
	}
	var out []*store.Host
	for _, h := range all {
		if !h.RevokedAt.IsZero() || (word == "" && !slices.Contains(ids, h.ID)) {
			continue
		}
		match := true
		for k, v := range labels {
			if h.Labels[k] != v {
				match = false
			}
		}
		if match {
			out = append(out, h)
		}
	}
	return out, nil
}

func (s *Server) putFleetMonitoring(w http.ResponseWriter, r *http.Request) {
	var body fleetMonitoringJSON
	if err := decodeBody(r, &body); err != nil {
		fail(w, err)
		return
	}
	if body.Level != wire.MonitoringNormal && body.Level != wire.MonitoringHeightened {
		fail(w, badf("field level: %q, want normal or heightened", body.Level))
		return
	}
	hosts, err := s.selectHosts(r.Context(), body.Hosts, body.Labels)
	if err != nil {
		fail(w, err)
		return
	}
	var word string
	if json.Unmarshal(body.Hosts, &word) == nil || len(body.Hosts) == 0 {
		if len(body.Labels) == 0 {
			// Fleet-wide: hosts enrolled later start at this level too.
			if err := s.st.PutSetting(r.Context(), settingFleetMonitoring, body.Level); err != nil {
				fail(w, err)
				return
			}
			s.audit(r.Context(), actor(r), "monitoring", "fleet", body.Reason, body.Level)
		}
	}
	ids := []string{}
	for _, h := range hosts {
		if err := s.setMonitoring(r.Context(), h.ID, body.Level, actor(r), body.Reason); err != nil {
			fail(w, err)
			return
		}
		ids = append(ids, h.ID)
	}
	writeJSON(w, http.StatusOK, map[string][]string{"hosts": ids})
}

type labelsJSON struct {
	Labels map[string]string `json:"labels"`
}

func (s *Server) putLabels(w http.ResponseWriter, r *http.Request) {
	var body labelsJSON
	if err := decodeBody(r, &body); err != nil {
		fail(w, err)
		return
	}
	id := r.PathValue("id")
	if err := s.st.SetLabels(r.Context(), id, body.Labels); err != nil {
		fail(w, err)
		return
	}
	b, _ := json.Marshal(body.Labels)
	s.audit(r.Context(), actor(r), "labels", id, "", string(b))
	s.writeHost(w, r, id)
}

// isolationChange serves isolate and release: both take an optional
// reason and answer with the host.
func (s *Server) isolationChange(change func(ctx context.Context, id, actor, reason string) (*store.Host, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body reasonJSON
		if err := optionalBody(r, &body); err != nil {
			fail(w, err)
			return
		}
		h, err := change(r.Context(), r.PathValue("id"), actor(r), body.Reason)
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, s.hostView(h))
	}
}

// command sends m to host id and waits for its acknowledgement, returning
// the round-trip time.
func (s *Server) command(ctx context.Context, id string, m *wire.Message, timeout time.Duration) (time.Duration, error) {
	if _, err := s.st.Host(ctx, id); err != nil {
		return 0, err
	}
	ack, done := s.hub.wait(m.ID)
	defer done()
	start := time.Now()
	if err := s.hub.sendTo(ctx, id, m); err != nil {
		return 0, fmt.Errorf("host %s: %w: %w", id, errConflict, err)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case a := <-ack:
		if a.Error != "" {
			return 0, fmt.Errorf("host %s: %s", id, a.Error)
		}
		return time.Since(start), nil
	case <-t.C:
		return 0, fmt.Errorf("host %s: no acknowledgement within %s", id, timeout)
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (s *Server) scanHost(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	m := &wire.Message{Type: wire.TypeScan, ID: s.nextCommandID(), Scan: &wire.Scan{}}
	if _, err := s.command(r.Context(), id, m, 10*time.Second); err != nil {
		fail(w, err)
		return
	}
	s.audit(r.Context(), actor(r), "scan", id, "", "")
	writeJSON(w, http.StatusOK, map[string]string{"id": m.ID, "host_id": id})
}

func (s *Server) pingHost(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	m := &wire.Message{Type: wire.TypePing, ID: s.nextCommandID(), Ping: &wire.Ping{SentAt: time.Now()}}
	rtt, err := s.command(r.Context(), id, m, 10*time.Second)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"host_id": id, "rtt_ms": float64(rtt.Microseconds()) / 1000})
}

type detectionJSON struct {
	ID            int64             `json:"id"`
	HostID        string            `json:"host_id"`
	FindingID     string            `json:"finding_id"`
	Type          string            `json:"type"`
	Source        string            `json:"source"`
	Rule          string            `json:"rule"`
	Indicator     string            `json:"indicator"`
	Path          string            `json:"path"`
	SHA256        string            `json:"sha256"`
	Size          int64             `json:"size"`
	SeenAt        time.Time         `json:"seen_at"`
	ReceivedAt    time.Time         `json:"received_at"`
	SweepID       string            `json:"sweep_id"`
	BundleVersion int64             `json:"bundle_version"`
	Tags          []string          `json:"tags"`
	Meta          map[string]string `json:"meta"`
	Detail        json.RawMessage   `json:"detail"`
}

func queryInt(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, badf("query parameter %s: %q is not a non-negative integer", name, v)
	}
	return n, nil
}

func (s *Server) listDetections(w http.ResponseWriter, r *http.Request) {
	after, err := queryInt(r, "after")
	if err != nil {
		fail(w, err)
		return
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		fail(w, err)
		return
	}
	q := r.URL.Query()
	ds, err := s.st.Detections(r.Context(), store.DetectionFilter{HostID: q.Get("host_id"), SweepID: q.Get("sweep_id"), AfterID: after, Limit: int(min(limit, 10000))})
	if err != nil {
		fail(w, err)
		return
	}
	out := make([]detectionJSON, len(ds))
	for i, d := range ds {
		out[i] = detectionJSON{ID: d.ID, HostID: d.HostID, FindingID: d.FindingID, Type: d.Type, Source: d.Source,
			Rule: d.Rule, Indicator: d.Indicator, Path: d.Path, SHA256: d.SHA256, Size: d.Size, SeenAt: d.SeenAt,
			ReceivedAt: d.ReceivedAt, SweepID: d.SweepID, BundleVersion: d.BundleVersion, Tags: nonNil(d.Tags),
			Meta: d.Meta, Detail: d.Detail}
	}
	writeJSON(w, http.StatusOK, out)
}

type bundleJSON struct {
	Name   string   `json:"name"`
	YARA   string   `json:"yara"`
	Hashes []string `json:"hashes"`
}

// validateBundle compiles the YARA text and checks the hashes, so that a
// bundle no agent could load is refused at the API.
func validateBundle(b *bundleJSON) error {
	if strings.TrimSpace(b.YARA) == "" && len(b.Hashes) == 0 {
		return badf("fields yara and hashes: both empty")
	}
	if strings.TrimSpace(b.YARA) != "" {
		if _, err := yara.Compile(b.YARA, "yara", yara.CompileOptions{}); err != nil {
			return badf("field yara: %v", err)
		}
	}
	for i, h := range b.Hashes {
		h = strings.ToLower(strings.TrimSpace(h))
		if n := len(h); n != 32 && n != 40 && n != 64 {
			return badf("field hashes[%d]: %q is not an MD5, SHA-1 or SHA-256 hex digest", i, b.Hashes[i])
		}
		if _, err := hex.DecodeString(h); err != nil {
			return badf("field hashes[%d]: %q is not hex", i, b.Hashes[i])
		}
		b.Hashes[i] = h
	}
	return nil
}

func (s *Server) postRules(w http.ResponseWriter, r *http.Request) {
	var body bundleJSON
	if err := decodeBody(r, &body); err != nil {
		fail(w, err)
		return
	}
	if err := validateBundle(&body); err != nil {
		fail(w, err)
		return
	}
	b := &store.Bundle{Name: body.Name, YARA: body.YARA, Hashes: nonNil(body.Hashes),
		SHA256: wire.BundleDigest(body.YARA, body.Hashes), CreatedAt: time.Now(), CreatedBy: actor(r)}
	// One publication at a time, so no agent receives version n+1 before n.
	s.publishMu.Lock()
	defer s.publishMu.Unlock()
	v, err := s.st.CreateBundle(r.Context(), b)
	if err != nil {
		fail(w, err)
		return
	}
	b.Version = v
	s.audit(r.Context(), actor(r), "publish_rules", "fleet", "", fmt.Sprintf("version %d %s", v, body.Name))
	s.broadcast(r.Context(), s.hub.ids(), func() *wire.Message { return s.bundleMessage(b) })
	writeJSON(w, http.StatusOK, map[string]any{"version": v, "sha256": b.SHA256})
}

// broadcast sends a message to every connected agent from a bounded set of
// goroutines, so a slow agent does not hold up the rest.
func (s *Server) broadcast(ctx context.Context, ids []string, msg func() *wire.Message) {
	ch := make(chan string)
	done := make(chan struct{})
	workers := min(64, len(ids))
	ctx = context.WithoutCancel(ctx)
	for range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for id := range ch {
				if err := s.hub.sendTo(ctx, id, msg()); err != nil && !errors.Is(err, errOffline) {
					s.log.Warn("broadcast", "agent", id, "err", err)
				}
			}
		}()
	}
	for _, id := range ids {
		ch <- id
	}
	close(ch)
	for range workers {
		<-done
	}
}

func (s *Server) getRules(w http.ResponseWriter, r *http.Request) {
	b, err := s.st.LatestBundle(r.Context())
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": b.Version, "name": b.Name, "yara": b.YARA,
		"hashes": nonNil(b.Hashes), "sha256": b.SHA256, "created_at": b.CreatedAt, "created_by": b.CreatedBy})
}

type sweepIn struct {
	Name             string            `json:"name"`
	YARA             string            `json:"yara"`
	Hashes           []string          `json:"hashes"`
	Paths            []string          `json:"paths"`
	Hosts            json.RawMessage   `json:"hosts"`
	Labels           map[string]string `json:"labels"`
	ExpiresInSeconds int64             `json:"expires_in_seconds"`
}

func newSweepID() string {
	var b [8]byte
	rand.Read(b[:])
	return "s-" + hex.EncodeToString(b[:])
}

func (s *Server) postSweep(w http.ResponseWriter, r *http.Request) {
	var body sweepIn
	if err := decodeBody(r, &body); err != nil {
		fail(w, err)
		return
	}
	b := bundleJSON{Name: body.Name, YARA: body.YARA, Hashes: body.Hashes}
	if err := validateBundle(&b); err != nil {
		fail(w, err)
		return
	}
	if len(body.Paths) == 0 {
		fail(w, badf("field paths: empty"))
		return
	}
	for i, p := range body.Paths {
		if !filepath.IsAbs(p) {
			fail(w, badf("field paths[%d]: %q is not absolute", i, p))
			return
		}
	}
	hosts, err := s.selectHosts(r.Context(), body.Hosts, body.Labels)
	if err != nil {
		fail(w, err)
		return
	}
	ttl := s.cfg.SweepTTL
	if body.ExpiresInSeconds > 0 {
		ttl = time.Duration(body.ExpiresInSeconds) * time.Second
	}
	now := time.Now()
	sw := &store.Sweep{ID: newSweepID(), Name: body.Name, YARA: b.YARA, Hashes: nonNil(b.Hashes),
		SHA256: wire.BundleDigest(b.YARA, b.Hashes), Paths: body.Paths, CreatedAt: now, ExpiresAt: now.Add(ttl), CreatedBy: actor(r)}
	states := map[string]string{}
	for _, h := range hosts {
		states[h.ID] = wire.SweepOffline
		if s.hub.online(h.ID) {
			states[h.ID] = wire.SweepQueued
		}
	}
	if err := s.st.CreateSweep(r.Context(), sw, states); err != nil {
		fail(w, err)
		return
	}
	s.audit(r.Context(), actor(r), "sweep", sw.ID, "", fmt.Sprintf("%s on %d hosts", body.Name, len(states)))
	var online []string
	for id, st := range states {
		if st == wire.SweepQueued {
			online = append(online, id)
		}
	}
	s.broadcast(r.Context(), online, func() *wire.Message { return sweepMessage(sw, s.nextCommandID()) })
	writeJSON(w, http.StatusOK, map[string]string{"id": sw.ID})
}

type sweepJSON struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	State     string          `json:"state"`
	Paths     []string        `json:"paths"`
	CreatedAt time.Time       `json:"created_at"`
	ExpiresAt time.Time       `json:"expires_at"`
	CreatedBy string          `json:"created_by"`
	Progress  progressJSON    `json:"progress"`
	Findings  int64           `json:"findings"`
	Hosts     []sweepHostJSON `json:"hosts"`
}

type progressJSON struct {
	Done  int `json:"done"`
	Total int `json:"total"`
}

type sweepHostJSON struct {
	HostID    string    `json:"host_id"`
	State     string    `json:"state"`
	Files     int64     `json:"files"`
	Findings  int64     `json:"findings"`
	Error     string    `json:"error,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// sweepView computes a sweep's state: "done" when every host finished or
// failed, "expired" when hosts were still missing at its expiry, else
// "running". Hosts not yet reached show "offline" while disconnected.
func (s *Server) sweepView(ctx context.Context, sw *store.Sweep) (sweepJSON, error) {
	hosts, err := s.st.SweepHosts(ctx, sw.ID)
	if err != nil {
		return sweepJSON{}, err
	}
	v := sweepJSON{ID: sw.ID, Name: sw.Name, Paths: sw.Paths, CreatedAt: sw.CreatedAt, ExpiresAt: sw.ExpiresAt,
		CreatedBy: sw.CreatedBy, Progress: progressJSON{Total: len(hosts)}, Hosts: []sweepHostJSON{}}
	for _, h := range hosts {
		state := h.State
		if state == wire.SweepQueued && !s.hub.online(h.HostID) {
			state = wire.SweepOffline
		}
		if state == wire.SweepDone || state == wire.SweepFailed {
			v.Progress.Done++
		}
		v.Findings += h.Findings
		v.Hosts = append(v.Hosts, sweepHostJSON{HostID: h.HostID, State: state, Files: h.Files, Findings: h.Findings, Error: h.Error, UpdatedAt: h.UpdatedAt})
	}
	switch {
	case v.Progress.Done == v.Progress.Total:
		v.State = "done"
	case time.Now().After(sw.ExpiresAt):
		v.State = "expired"
	default:
		v.State = "running"
	}
	return v, nil
}

func (s *Server) getSweep(w http.ResponseWriter, r *http.Request) {
	sw, err := s.st.Sweep(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	v, err := s.sweepView(r.Context(), sw)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) listSweeps(w http.ResponseWriter, r *http.Request) {
	sws, err := s.st.Sweeps(r.Context())
	if err != nil {
		fail(w, err)
		return
	}
	out := []sweepJSON{}
	for _, sw := range sws {
		v, err := s.sweepView(r.Context(), sw)
		if err != nil {
			fail(w, err)
			return
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, out)
}

type auditJSON struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Reason string    `json:"reason"`
	Detail string    `json:"detail"`
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	after, err := queryInt(r, "after")
	if err != nil {
		fail(w, err)
		return
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		fail(w, err)
		return
	}
	as, err := s.st.AuditLog(r.Context(), r.URL.Query().Get("target"), after, int(min(limit, 10000)))
	if err != nil {
		fail(w, err)
		return
	}
	out := make([]auditJSON, len(as))
	for i, a := range as {
		out[i] = auditJSON(a)
	}
	writeJSON(w, http.StatusOK, out)
}

// RotateEnrollToken replaces the enrolment token in memory and on disk and
// returns the new one.
func (s *Server) RotateEnrollToken(ctx context.Context, actor string) (string, error) {
	tok := newToken()
	if err := writeFileAtomic(filepath.Join(s.cfg.DataDir, enrollTokenFile), []byte(tok+"\n"), 0o600); err != nil {
		return "", err
	}
	s.enroll.Store(&tok)
	s.audit(ctx, actor, "rotate_enroll_token", "fleet", "", "")
	return tok, nil
}

func (s *Server) rotateEnrollToken(w http.ResponseWriter, r *http.Request) {
	tok, err := s.RotateEnrollToken(r.Context(), actor(r))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": tok})
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := s.policy(r.Context())
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) putPolicy(w http.ResponseWriter, r *http.Request) {
	var p Policy
	if err := decodeBody(r, &p); err != nil {
		fail(w, err)
		return
	}
	if p.Threshold < 0 {
		fail(w, badf("field threshold: %g is negative", p.Threshold))
		return
	}
	if err := s.SetPolicy(r.Context(), p, actor(r)); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// Stats is what GET /api/v1/stats reports.
type Stats struct {
	ConnectedAgents  int     `json:"connected_agents"`
	FindingsIngested int64   `json:"findings_ingested"`
	FindingBatches   int64   `json:"finding_batches"`
	Duplicates       int64   `json:"duplicate_findings"`
	Goroutines       int     `json:"goroutines"`
	HeapBytes        uint64  `json:"heap_bytes"`
	HeapInuseBytes   uint64  `json:"heap_inuse_bytes"`
	StackBytes       uint64  `json:"stack_bytes"`
	SysBytes         uint64  `json:"sys_bytes"`
	RSSBytes         int64   `json:"rss_bytes"`
	CPUSeconds       float64 `json:"cpu_seconds"`
	UptimeSeconds    float64 `json:"uptime_seconds"`
	Store            string  `json:"store"`
}

func (s *Server) getStats(w http.ResponseWriter, r *http.Request) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	writeJSON(w, http.StatusOK, Stats{
		ConnectedAgents: s.hub.count(), FindingsIngested: s.stats.findings.Load(), FindingBatches: s.stats.batches.Load(),
		Duplicates: s.stats.duplicates.Load(), Goroutines: runtime.NumGoroutine(), HeapBytes: ms.HeapAlloc,
		HeapInuseBytes: ms.HeapInuse, StackBytes: ms.StackInuse, SysBytes: ms.Sys, RSSBytes: rss(), CPUSeconds: cpuSeconds(), UptimeSeconds: time.Since(s.started).Seconds(), Store: string(s.st.Dialect()),
	})
}

// cpuSeconds is the user and system CPU time the process has used, so a
// load test can compute the server's CPU share between two samples.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// rss reads the resident set size from /proc; 0 where there is none.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}
