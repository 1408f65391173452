package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/wire"
)

var (
	readers    = []httpapi.Role{httpapi.RoleResponder, httpapi.RoleAuditor, httpapi.RoleViewer}
	responders = []httpapi.Role{httpapi.RoleResponder}
)

func (s *Server) hostRoutes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "GET", Pattern: "/hosts", Summary: "List enrolled hosts in id order with online state, monitoring level and isolation state.",
			Response: []Host(nil), Query: httpapi.PageParams, Roles: readers, Handler: s.listHosts},
		{Method: "GET", Pattern: "/hosts/{id}", Summary: "One host.", Response: Host{}, Roles: readers, Handler: s.getHost},
		{Method: "DELETE", Pattern: "/hosts/{id}", Summary: "Delete a revoked host with its detections; audited with the reason. Revoke it first.",
			Request: ReasonBody{}, Response: HostIDs{}, Roles: responders, Handler: s.deleteHost},
		{Method: "POST", Pattern: "/hosts/{id}/revoke", Summary: "Revoke a host's certificate: it is disconnected and cannot reconnect.",
			Request: ReasonBody{}, Response: Host{}, Roles: responders, Handler: s.revokeHost},
		{Method: "PUT", Pattern: "/hosts/{id}/monitoring", Summary: "Set a host's monitoring level (normal or heightened); audited with the reason.",
			Request: MonitoringChange{}, Response: Host{}, Roles: responders, Handler: s.putMonitoring},
		{Method: "PUT", Pattern: "/hosts/{id}/labels", Summary: "Replace a host's labels.",
			Request: LabelsBody{}, Response: Host{}, Roles: responders, Handler: s.putLabels},
		{Method: "POST", Pattern: "/hosts/{id}/isolate", Summary: "Isolate a host from the network except the server; audited with the reason.",
			Request: ReasonBody{}, Response: Host{}, Roles: responders, Handler: s.isolationChange(s.requestIsolation)},
		{Method: "POST", Pattern: "/hosts/{id}/release", Summary: "Release a host from isolation; audited with the reason.",
			Request: ReasonBody{}, Response: Host{}, Roles: responders, Handler: s.isolationChange(s.requestRelease)},
		{Method: "POST", Pattern: "/hosts/{id}/scan", Summary: "Scan the host's scan paths now with the current bundle.",
			Response: CommandSent{}, Roles: responders, Handler: s.scanHost},
		{Method: "POST", Pattern: "/hosts/{id}/ping", Summary: "Send a ping command and report its round-trip time.",
			Response: PingResult{}, Roles: responders, Handler: s.pingHost},
		{Method: "PUT", Pattern: "/monitoring", Summary: "Set the monitoring level of the whole fleet, a list of hosts, or hosts matching labels.",
			Request: FleetMonitoringChange{}, Response: HostIDs{}, Roles: responders, Handler: s.putFleetMonitoring},
	}
}

// Host is a host as the API shows it.
type Host struct {
	ID                 string            `json:"id" doc:"agent id, also the client certificate's common name"`
	Name               string            `json:"name" doc:"--name or hostname"`
	Hostname           string            `json:"hostname"`
	OS                 string            `json:"os"`
	Arch               string            `json:"arch"`
	OSVersion          string            `json:"os_version"`
	IPs                []string          `json:"ips"`
	AgentVersion       string            `json:"agent_version"`
	Labels             map[string]string `json:"labels"`
	Online             bool              `json:"online" doc:"the agent's connection is open"`
	LastSeen           *time.Time        `json:"last_seen"`
	EnrolledAt         time.Time         `json:"enrolled_at"`
	Monitoring         string            `json:"monitoring" doc:"level the server wants" enum:"normal,heightened"`
	MonitoringReported string            `json:"monitoring_reported" doc:"level the agent last reported"`
	Isolation          string            `json:"isolation" enum:"none,requested,isolated,release_requested,failed"`
	IsolationReason    string            `json:"isolation_reason" doc:"reason of the last isolate or release"`
	IsolationError     string            `json:"isolation_error" doc:"agent's error when failed"`
	BundleVersion      int64             `json:"bundle_version" doc:"rule bundle the agent loaded"`
	BundleError        string            `json:"bundle_error" doc:"agent's last bundle load error"`
	Revoked            bool              `json:"revoked"`
}

// ReasonBody is the optional body of an action: why, for the audit trail.
type ReasonBody struct {
	Reason string `json:"reason" doc:"why, for the audit trail"`
}

// MonitoringChange sets one host's monitoring level.
type MonitoringChange struct {
	Level  string `json:"level" enum:"normal,heightened" required:"true"`
	Reason string `json:"reason" doc:"why, for the audit trail"`
}

// FleetMonitoringChange sets the level of many hosts.
type FleetMonitoringChange struct {
	Level  string            `json:"level" enum:"normal,heightened" required:"true"`
	Reason string            `json:"reason" doc:"why, for the audit trail"`
	Hosts  HostSelector      `json:"hosts"`
	Labels map[string]string `json:"labels" doc:"only hosts with all these labels"`
}

// HostIDs lists the hosts an action applied to.
type HostIDs struct {
	Hosts []string `json:"hosts"`
}

// LabelsBody replaces a host's labels.
type LabelsBody struct {
	Labels map[string]string `json:"labels" required:"true"`
}

// CommandSent is a command an agent acknowledged.
type CommandSent struct {
	ID     string `json:"id" doc:"command id"`
	HostID string `json:"host_id"`
}

// PingResult is a ping's round trip.
type PingResult struct {
	HostID string  `json:"host_id"`
	RTTMS  float64 `json:"rtt_ms" doc:"command round-trip time"`
}

// HostSelector is "all" or a list of host ids. It must be given: a missing
// selector is bad input, never the whole fleet.
type HostSelector struct {
	All bool
	IDs []string
	set bool
}

func (h *HostSelector) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	h.set = true
	var word string
	if json.Unmarshal(b, &word) == nil {
		if word != "all" {
			return httpapi.BadInput("hosts", `%q, want "all" or a list of host ids`, word)
		}
		h.All = true
		return nil
	}
	if err := json.Unmarshal(b, &h.IDs); err != nil {
		return httpapi.BadInput("hosts", `want "all" or a list of host ids`)
	}
	if len(h.IDs) == 0 {
		return httpapi.BadInput("hosts", "empty list")
	}
	return nil
}

func (h HostSelector) MarshalJSON() ([]byte, error) {
	if h.All {
		return []byte(`"all"`), nil
	}
	return json.Marshal(h.IDs)
}

// JSONSchema describes the selector's two shapes.
func (HostSelector) JSONSchema() map[string]any {
	return map[string]any{"description": `"all" or a list of host ids`, "oneOf": []any{
		map[string]any{"type": "string", "enum": []string{"all"}},
		map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
	}}
}

// wholeFleet reports a selector naming every host with no label filter.
func wholeFleet(sel HostSelector, labels map[string]string) bool {
	return sel.All && len(labels) == 0
}

// checkSelector insists on an explicit selector (hosts, or labels to
// choose among all hosts), so that leaving "hosts" out never means the
// whole fleet, and on a reason for "all".
func checkSelector(sel HostSelector, labels map[string]string, reason string) error {
	if !sel.set && len(labels) == 0 {
		return httpapi.BadInput("hosts", `missing: "all" or a list of host ids`)
	}
	if sel.All && strings.TrimSpace(reason) == "" {
		return httpapi.BadInput("reason", `required when hosts is "all"`)
	}
	return nil
}

func (s *Server) hostView(h *store.Host) Host {
	seen := h.LastSeen
	if p := s.seen.get(h.ID); p.After(seen) {
		seen = p
	}
	var last *time.Time
	if !seen.IsZero() {
		last = &seen
	}
	return Host{ID: h.ID, Name: h.Name, Hostname: h.Hostname, OS: h.OS, Arch: h.Arch, OSVersion: h.OSVersion,
		IPs: nonNil(h.IPs), AgentVersion: h.AgentVersion, Labels: h.Labels, Online: s.hub.online(h.ID), LastSeen: last,
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
	p, err := httpapi.ParsePage(r)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	hs, err := s.st.HostsPage(r.Context(), p.After, p.Limit)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	out := make([]Host, len(hs))
	for i, h := range hs {
		out[i] = s.hostView(h)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) writeHost(w http.ResponseWriter, r *http.Request, id string) {
	h, err := s.st.Host(r.Context(), id)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, s.hostView(h))
}

func (s *Server) getHost(w http.ResponseWriter, r *http.Request) {
	s.writeHost(w, r, r.PathValue("id"))
}

func (s *Server) revokeHost(w http.ResponseWriter, r *http.Request) {
	var body ReasonBody
	if err := httpapi.DecodeOptionalBody(r, 0, &body); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.RevokeHost(ctx, id, s.now()); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.now(), "revoke", id, body.Reason, ""))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	s.hub.disconnect(id, "revoked")
	s.writeHost(w, r, id)
}

func (s *Server) deleteHost(w http.ResponseWriter, r *http.Request) {
	var body ReasonBody
	if err := httpapi.DecodeOptionalBody(r, 0, &body); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		h, err := tx.Host(ctx, id)
		if err != nil {
			return err
		}
		if h.RevokedAt.IsZero() {
			return httpapi.Conflict("host %s is not revoked; revoke it first (POST %s/hosts/%s/revoke)", id, httpapi.Prefix, id)
		}
		if err := tx.DeleteHost(ctx, id); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.now(), "delete_host", id, body.Reason, "name="+h.Name))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, HostIDs{Hosts: []string{id}})
}

func (s *Server) putMonitoring(w http.ResponseWriter, r *http.Request) {
	var body MonitoringChange
	if err := httpapi.DecodeBody(r, 0, &body); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	if err := s.setMonitoring(r.Context(), []string{id}, body.Level, body.Reason); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	s.writeHost(w, r, id)
}

func checkLevel(level string) error {
	if level != wire.MonitoringNormal && level != wire.MonitoringHeightened {
		return httpapi.BadInput("level", "%q, want normal or heightened", level)
	}
	return nil
}

// selectHosts resolves a host selector narrowed by labels. Revoked hosts
// are never selected; an unknown id is bad input.
func (s *Server) selectHosts(ctx context.Context, sel HostSelector, labels map[string]string) ([]*store.Host, error) {
	all, err := s.st.Hosts(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[string]*store.Host{}
	for _, h := range all {
		byID[h.ID] = h
	}
	for i, id := range sel.IDs {
		if byID[id] == nil {
			return nil, httpapi.BadInput(fmt.Sprintf("hosts[%d]", i), "no host %s", id)
		}
	}
	var out []*store.Host
	for _, h := range all {
		if !h.RevokedAt.IsZero() || (len(sel.IDs) > 0 && !slices.Contains(sel.IDs, h.ID)) {
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
	var body FleetMonitoringChange
	if err := httpapi.DecodeBody(r, 0, &body); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if err := errors.Join(checkLevel(body.Level), checkSelector(body.Hosts, body.Labels, body.Reason)); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	ctx := r.Context()
	var ids []string
	if wholeFleet(body.Hosts, body.Labels) {
		// One statement and one audit entry: the fleet changes whole or
		// not at all, and hosts enrolled later start at this level too.
		err := s.st.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.SetMonitoringAll(ctx, body.Level); err != nil {
				return err
			}
			if err := tx.PutSetting(ctx, settingFleetMonitoring, body.Level); err != nil {
				return err
			}
			hs, err := tx.Hosts(ctx)
			if err != nil {
				return err
			}
			for _, h := range hs {
				if h.RevokedAt.IsZero() {
					ids = append(ids, h.ID)
				}
			}
			return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.now(), "monitoring", "fleet", body.Reason, body.Level))
		})
		if err != nil {
			httpapi.Fail(w, r, err)
			return
		}
		s.sendMonitoring(ctx, ids, body.Level, body.Reason)
	} else {
		hosts, err := s.selectHosts(ctx, body.Hosts, body.Labels)
		if err != nil {
			httpapi.Fail(w, r, err)
			return
		}
		if len(hosts) == 0 {
			httpapi.Fail(w, r, httpapi.BadInput("labels", "no enrolled host has all these labels"))
			return
		}
		for _, h := range hosts {
			ids = append(ids, h.ID)
		}
		if err := s.setMonitoring(ctx, ids, body.Level, body.Reason); err != nil {
			httpapi.Fail(w, r, err)
			return
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, HostIDs{Hosts: nonNil(ids)})
}

// setMonitoring changes the monitoring level of hosts in one transaction,
// one audit entry per host, and tells their agents.
func (s *Server) setMonitoring(ctx context.Context, ids []string, level, reason string) error {
	if err := checkLevel(level); err != nil {
		return err
	}
	s.stateMu.Lock()
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		for _, id := range ids {
			h, err := tx.Host(ctx, id)
			if err != nil {
				return err
			}
			if err := tx.SetMonitoring(ctx, id, level); err != nil {
				return err
			}
			if err := tx.AppendAudit(ctx, httpapi.Audit(ctx, s.now(), "monitoring", id, reason, h.Monitoring+" -> "+level)); err != nil {
				return err
			}
		}
		return nil
	})
	s.stateMu.Unlock()
	if err != nil {
		return err
	}
	s.sendMonitoring(ctx, ids, level, reason)
	return nil
}

func (s *Server) sendMonitoring(ctx context.Context, ids []string, level, reason string) {
	s.broadcast(ctx, ids, func() *wire.Message { return s.monitoringMessage(level, reason) })
}

func (s *Server) putLabels(w http.ResponseWriter, r *http.Request) {
	var body LabelsBody
	if err := httpapi.DecodeBody(r, 0, &body); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	b, err := json.Marshal(body.Labels)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetLabels(ctx, id, body.Labels); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.now(), "labels", id, "", string(b)))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	s.writeHost(w, r, id)
}

// isolationChange serves isolate and release: both take an optional
// reason and answer with the host.
func (s *Server) isolationChange(change func(ctx context.Context, id, reason string) (*store.Host, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body ReasonBody
		if err := httpapi.DecodeOptionalBody(r, 0, &body); err != nil {
			httpapi.Fail(w, r, err)
			return
		}
		h, err := change(r.Context(), r.PathValue("id"), body.Reason)
		if err != nil {
			httpapi.Fail(w, r, err)
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, s.hostView(h))
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
		return 0, &httpapi.ConflictError{Msg: fmt.Sprintf("host %s: %v", id, err)}
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case a := <-ack:
		if a.Error != "" {
			return 0, &httpapi.ConflictError{Msg: fmt.Sprintf("host %s: %s", id, a.Error)}
		}
		return time.Since(start), nil
	case <-t.C:
		return 0, &httpapi.ConflictError{Msg: fmt.Sprintf("host %s: no acknowledgement within %s", id, timeout)}
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (s *Server) scanHost(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), r.PathValue("id")
	m := &wire.Message{Type: wire.TypeScan, ID: s.nextCommandID(), Scan: &wire.Scan{}}
	if _, err := s.command(ctx, id, m, 10*time.Second); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if err := s.st.AppendAudit(ctx, httpapi.Audit(ctx, s.now(), "scan", id, "", "")); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, CommandSent{ID: m.ID, HostID: id})
}

func (s *Server) pingHost(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	m := &wire.Message{Type: wire.TypePing, ID: s.nextCommandID(), Ping: &wire.Ping{SentAt: time.Now()}}
	rtt, err := s.command(r.Context(), id, m, 10*time.Second)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, PingResult{HostID: id, RTTMS: float64(rtt.Microseconds()) / 1000})
}

// broadcast sends a message to every connected agent of ids from a bounded
// set of goroutines, so a slow agent does not hold up the rest.
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
