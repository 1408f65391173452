package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/wire"
)

// handleEnroll issues an agent its identity: POST wire.EnrollPath with the
// enrolment token.
func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			if ok, retry := s.enrolLimit.allow(host); !ok {
				w.Header().Set("Retry-After", strconv.Itoa(int(retry/time.Second)+1))
				httpapi.Error(w, http.StatusTooManyRequests, "too many enrolments from "+host+"; retry later")
				return
			}
		}
	}
	if subtle.ConstantTimeCompare([]byte(httpapi.BearerToken(r)), []byte(s.EnrollToken())) != 1 {
		httpapi.Error(w, http.StatusUnauthorized, "missing or wrong enrolment token")
		return
	}
	var req wire.EnrollRequest
	if err := httpapi.DecodeBody(r, 64<<10, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if err := checkEnrollRequest(&req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	csr, err := parseCSR([]byte(req.CSR))
	if err != nil {
		httpapi.Fail(w, r, httpapi.BadInput("csr", "%v", err))
		return
	}
	sum := sha256.Sum256(csr.RawSubjectPublicKeyInfo)
	key := hex.EncodeToString(sum[:])
	name := req.Name
	if name == "" {
		name = req.Hostname
	}
	ctx := WithActor(r.Context(), "enrolment")
	var resp wire.EnrollResponse
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		// The same key again (a retry whose answer was lost, or a
		// replay) gets the host it already has, not a second one.
		id, certPEM, revoked, err := tx.HostByKey(ctx, key)
		switch {
		case err == nil && !revoked.IsZero():
			return httpapi.Conflict("host %s enrolled with this key is revoked; enrol with a new key", id)
		case err == nil:
			resp = wire.EnrollResponse{AgentID: id, Certificate: certPEM, CA: string(s.ca.pem)}
			return nil
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		// New hosts start at the fleet's level; if it cannot be read,
		// enrolment fails rather than silently starting at normal.
		level, err := tx.Setting(ctx, settingFleetMonitoring)
		if errors.Is(err, store.ErrNotFound) {
			level, err = wire.MonitoringNormal, nil
		}
		if err != nil {
			return fmt.Errorf("reading the fleet's monitoring level: %w", err)
		}
		id = newAgentID()
		cert, certPEMBytes, err := s.ca.signAgent(csr, id)
		if err != nil {
			return err
		}
		h := &store.Host{ID: id, Name: name, Hostname: req.Hostname, Labels: req.Labels,
			CertSerial: cert.SerialNumber.Text(16), EnrolledAt: s.now(), Monitoring: level,
			KeySHA256: key, CertPEM: string(certPEMBytes)}
		if err := tx.CreateHost(ctx, h); err != nil {
			return err
		}
		resp = wire.EnrollResponse{AgentID: id, Certificate: string(certPEMBytes), CA: string(s.ca.pem)}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.now(), "enroll", id, "", "name="+name))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, resp)
}

// maxNameBytes bounds host names, hostnames and labels.
const maxNameBytes = 255

// checkEnrollRequest refuses names and labels that are not printable UTF-8
// of at most 255 bytes: no control characters, NULs or bidirectional
// overrides that would make a host look like another in a list.
func checkEnrollRequest(req *wire.EnrollRequest) error {
	if err := errors.Join(checkText("name", req.Name), checkText("hostname", req.Hostname)); err != nil {
		return err
	}
	if req.Name == "" && req.Hostname == "" {
		return httpapi.BadInput("name", "empty, and so is hostname")
	}
	if len(req.Labels) > 64 {
		return httpapi.BadInput("labels", "%d labels, at most 64", len(req.Labels))
	}
	for k, v := range req.Labels {
		if k == "" {
			return httpapi.BadInput("labels", "empty key")
		}
		if err := errors.Join(checkText("labels key", k), checkText("labels["+k+"]", v)); err != nil {
			return err
		}
	}
	return nil
}

// checkText refuses v unless it is printable UTF-8 of at most maxNameBytes.
func checkText(field, v string) error {
	if len(v) > maxNameBytes {
		return httpapi.BadInput(field, "%d bytes, at most %d", len(v), maxNameBytes)
	}
	if !utf8.ValidString(v) {
		return httpapi.BadInput(field, "not valid UTF-8")
	}
	for i, r := range v {
		if !unicode.IsPrint(r) {
			return httpapi.BadInput(field, "character %U at byte %d is not printable", r, i)
		}
	}
	return nil
}

func newAgentID() string {
	var b [8]byte
	rand.Read(b[:])
	return "h-" + hex.EncodeToString(b[:])
}

// handleAgent serves one agent's WebSocket for as long as it stays open.
func (s *Server) handleAgent(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		httpapi.Error(w, http.StatusUnauthorized, "client certificate required")
		return
	}
	cert := r.TLS.PeerCertificates[0]
	id := cert.Subject.CommonName
	h, err := s.st.Host(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		httpapi.Error(w, http.StatusForbidden, fmt.Sprintf("unknown agent %s", id))
		return
	case err != nil:
		s.log.Error("agent connection: reading host", "agent", id, "err", err)
		httpapi.Error(w, http.StatusServiceUnavailable, "server cannot read its database; retry later")
		return
	case !h.RevokedAt.IsZero():
		httpapi.Error(w, http.StatusForbidden, fmt.Sprintf("agent %s is revoked", id))
		return
	case h.CertSerial != cert.SerialNumber.Text(16):
		// A certificate the CA issued for this id but not the current
		// one: refused like a revoked one.
		httpapi.Error(w, http.StatusForbidden, fmt.Sprintf("agent %s: certificate serial %s is not the current one", id, cert.SerialNumber.Text(16)))
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return // Accept has answered the client
	}
	ws.SetReadLimit(wire.MaxMessageBytes)
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	c := &conn{id: id, ws: ws, local: local, since: time.Now()}
	// The connection is hijacked, so this handler can return at once:
	// that frees net/http's per-request state (request, headers, TLS
	// chains, response) for the connection's whole life. The connection
	// lives on in a goroutine of its own, still one per agent. (With
	// 2,000 simulated agents, RSS went from 163 to 141 MB.)
	started := s.agents.Go(func() {
		defer ws.CloseNow()
		if err := s.serveAgent(s.ctx, c); err != nil && !isClosed(err) {
			s.log.Info("agent connection ended", "agent", id, "err", err)
		}
	})
	if !started {
		ws.Close(websocket.StatusGoingAway, "server shutting down")
	}
}

func isClosed(err error) bool {
	return errors.Is(err, context.Canceled) || websocket.CloseStatus(err) != -1
}

func (s *Server) readMessage(ctx context.Context, c *conn, timeout time.Duration) (*wire.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			return nil, err
		}
		m, err := wire.Decode(b)
		if errors.Is(err, wire.ErrUnknownType) {
			continue // a newer agent's message this server does not know
		}
		return m, err
	}
}

func (s *Server) serveAgent(ctx context.Context, c *conn) error {
	ctx = httpapi.WithPrincipal(ctx, httpapi.Principal{Kind: httpapi.KindAgent, Name: c.id})
	m, err := s.readMessage(ctx, c, 30*time.Second)
	if err != nil {
		return fmt.Errorf("waiting for hello: %w", err)
	}
	if m.Type != wire.TypeHello {
		c.ws.Close(websocket.StatusPolicyViolation, "first message must be hello")
		return fmt.Errorf("first message %s, want hello", m.Type)
	}
	if m.Hello.AgentID != c.id {
		c.ws.Close(websocket.StatusPolicyViolation, "agent id does not match certificate")
		return fmt.Errorf("hello for %s on %s's certificate", m.Hello.AgentID, c.id)
	}
	now := s.now()
	if err := s.st.UpdateInventory(ctx, c.id, inventory(m.Hello.Inventory), now); err != nil {
		return err
	}
	s.hub.add(c)
	defer func() {
		s.hub.remove(c)
		s.seen.mark(c.id, s.now())
	}()
	cancelled, err := s.cancelledSweeps(ctx, c.id, m.Hello.Sweeps)
	if err != nil {
		return err
	}
	welcome := &wire.Message{Type: wire.TypeWelcome, Welcome: &wire.Welcome{
		AgentID: c.id, ServerTime: now, HeartbeatSeconds: int(s.cfg.Heartbeat / time.Second), CancelledSweeps: cancelled}}
	if err := c.send(ctx, welcome); err != nil {
		return err
	}
	if err := s.reconcile(ctx, c, m.Hello); err != nil {
		return fmt.Errorf("bringing agent up to date: %w", err)
	}
	// Four missed beats and the agent is gone, whatever TCP thinks. Not
	// fewer: a busy agent or a starved simulator may beat late, and a
	// dropped connection costs a reconnect and a handshake on both sides.
	timeout := 4 * s.cfg.Heartbeat
	for {
		m, err := s.readMessage(ctx, c, timeout)
		if err != nil {
			return err
		}
		if err := s.handleMessage(ctx, c, m); err != nil {
			return fmt.Errorf("%s: %w", m.Type, err)
		}
	}
}

// reconcile sends a (re)connected agent whatever it lacks: the current
// bundle, unfinished sweeps, its monitoring level and its isolation.
func (s *Server) reconcile(ctx context.Context, c *conn, hello *wire.Hello) error {
	h, err := s.st.Host(ctx, c.id)
	if err != nil {
		return err
	}
	if !h.RevokedAt.IsZero() {
		// Revoked between the certificate check and registration.
		c.ws.Close(websocket.StatusPolicyViolation, "revoked")
		return fmt.Errorf("agent %s is revoked", c.id)
	}
	inv := hello.Inventory
	b, err := s.st.LatestBundle(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	case b.Version != inv.BundleVersion:
		if err := c.send(ctx, s.bundleMessage(b)); err != nil {
			return err
		}
	}
	if inv.Monitoring != h.Monitoring {
		if err := c.send(ctx, s.monitoringMessage(h.Monitoring, "")); err != nil {
			return err
		}
	}
	switch {
	case (h.Isolation == wire.IsolationRequested || h.Isolation == wire.IsolationIsolated) && inv.Isolation != wire.IsolationIsolated:
		if err := c.send(ctx, s.isolateMessage(c, h.IsolationReason)); err != nil {
			return err
		}
	case (h.Isolation == wire.IsolationNone || h.Isolation == wire.IsolationReleaseRequested) && inv.Isolation == wire.IsolationIsolated:
		if err := c.send(ctx, &wire.Message{Type: wire.TypeRelease, ID: s.nextCommandID(), Release: &wire.Release{Reason: h.IsolationReason}}); err != nil {
			return err
		}
	case h.Isolation == wire.IsolationRequested && inv.Isolation == wire.IsolationIsolated:
		s.isolationReported(ctx, c.id, wire.IsolationStatus{State: wire.IsolationIsolated})
	}
	sweeps, err := s.st.PendingSweeps(ctx, c.id, s.now())
	if err != nil {
		return err
	}
	for _, sw := range sweeps {
		if slices.Contains(hello.Sweeps, sw.ID) {
			continue // the agent has it and re-sends its status
		}
		if _, err := s.st.SetSweepHost(ctx, sw.ID, c.id, wire.SweepQueued, 0, "", s.now()); err != nil {
			return err
		}
		if err := c.send(ctx, sweepMessage(sw, s.nextCommandID())); err != nil {
			return err
		}
	}
	return nil
}

func sweepMessage(sw *store.Sweep, cmdID string) *wire.Message {
	m := &wire.Message{Type: wire.TypeSweep, ID: cmdID, Sweep: &wire.Sweep{
		SweepID: sw.ID, Paths: sw.Paths, ExpiresAt: sw.ExpiresAt, PII: sw.PII,
		Bundle: wire.Bundle{Name: sw.Name, YARA: sw.YARA, Hashes: sw.Hashes, SHA256: sw.SHA256},
	}}
	if len(sw.Collect) > 0 {
		var c wire.Collect
		if json.Unmarshal(sw.Collect, &c) == nil {
			m.Sweep.Collect = &c
		}
	}
	return m
}

func (s *Server) bundleMessage(b *store.Bundle) *wire.Message {
	return &wire.Message{Type: wire.TypeBundle, ID: s.nextCommandID(), Bundle: &wire.Bundle{
		Version: b.Version, Name: b.Name, YARA: b.YARA, Hashes: b.Hashes, SHA256: b.SHA256}}
}

func (s *Server) monitoringMessage(level, reason string) *wire.Message {
	interval := s.cfg.ScanInterval
	if level == wire.MonitoringHeightened {
		interval = s.cfg.HeightenedScanInterval
	}
	return &wire.Message{Type: wire.TypeSetMonitoring, ID: s.nextCommandID(), SetMonitoring: &wire.SetMonitoring{
		Level: level, ScanIntervalSeconds: int(interval / time.Second), Reason: reason}}
}

// isolateMessage lists the server addresses an isolated host must keep
// reaching: the one this agent connected to, the listen host if it is an
// address, and every IP SAN.
func (s *Server) isolateMessage(c *conn, reason string) *wire.Message {
	var addrs []string
	add := func(ip string) {
		if net.ParseIP(ip) != nil && !slices.Contains(addrs, ip) {
			addrs = append(addrs, ip)
		}
	}
	if c != nil && c.local != nil {
		host, _, _ := net.SplitHostPort(c.local.String())
		add(host)
	}
	host, portStr, _ := net.SplitHostPort(s.cfg.Listen)
	add(host)
	for _, san := range s.cfg.SANs {
		add(san)
	}
	port, _ := strconv.Atoi(portStr)
	if s.ln != nil {
		_, p, _ := net.SplitHostPort(s.ln.Addr().String())
		port, _ = strconv.Atoi(p)
	}
	return &wire.Message{Type: wire.TypeIsolate, ID: s.nextCommandID(), Isolate: &wire.Isolate{
		Reason: reason, ServerAddrs: addrs, ServerPort: port, AllowDNS: s.cfg.Isolation.AllowDNS,
		Resolvers: s.cfg.Isolation.Resolvers, AllowDHCP: s.cfg.Isolation.AllowDHCP}}
}

func (s *Server) handleMessage(ctx context.Context, c *conn, m *wire.Message) error {
	now := s.now()
	s.seen.mark(c.id, now)
	switch m.Type {
	case wire.TypeHeartbeat:
		if inv := m.Heartbeat.Inventory; inv != nil {
			return s.st.UpdateInventory(ctx, c.id, inventory(*inv), now)
		}
	case wire.TypeFindings:
		return s.handleFindings(ctx, c, m.Findings, now)
	case wire.TypeSweepStatus:
		st := m.SweepStatus
		if err := checkSweepStatus(st); err != nil {
			s.log.Warn("agent sent an invalid sweep status", "agent", c.id, "err", err)
			return nil
		}
		changed, err := s.st.SetSweepHost(ctx, st.SweepID, c.id, st.State, st.Files, st.Error, now)
		if err != nil {
			return err
		}
		if !changed {
			if _, err := s.st.SweepHostState(ctx, st.SweepID, c.id); errors.Is(err, store.ErrNotFound) {
				s.log.Warn("agent reported on a sweep that does not target it", "agent", c.id, "sweep", st.SweepID)
			}
		}
	case wire.TypeIsolationStatus:
		s.isolationReported(ctx, c.id, *m.IsolationStatus)
	case wire.TypeBundleStatus:
		bs := m.BundleStatus
		if !bs.Loaded {
			s.log.Warn("agent could not load bundle", "agent", c.id, "version", bs.Version, "err", bs.Error)
			h, err := s.st.Host(ctx, c.id)
			if err != nil {
				return err
			}
			return s.st.SetBundleStatus(ctx, c.id, h.BundleVersion, fmt.Sprintf("version %d: %s", bs.Version, bs.Error))
		}
		return s.st.SetBundleStatus(ctx, c.id, bs.Version, "")
	case wire.TypeCommandAck:
		s.hub.acked(*m.CommandAck)
	default:
		s.log.Warn("unexpected message from agent", "agent", c.id, "type", m.Type)
	}
	return nil
}

func (s *Server) handleFindings(ctx context.Context, c *conn, f *wire.Findings, now time.Time) error {
	// Past its rate, an agent's read loop waits here: TCP pushes back and
	// the findings wait in the agent's queue, none are dropped.
	if err := wait(ctx, s.findingsLimit.take(c.id, float64(len(f.Findings)))); err != nil {
		return err
	}
	ds := make([]store.Detection, 0, len(f.Findings))
	accepted := make([]wire.Finding, 0, len(f.Findings))
	sweeps := map[string]bool{}
	refused := 0
	for i := range f.Findings {
		x := &f.Findings[i]
		err := checkFinding(x, now)
		if err == nil && x.SweepID != "" {
			var ok bool
			if ok, err = s.sweepTargets(ctx, sweeps, x.SweepID, c.id); err != nil {
				return err
			} else if !ok {
				err = fmt.Errorf("field sweep_id: sweep %.64q does not target this host", x.SweepID)
			}
		}
		if err != nil {
			// Refused, not retried: the batch is acknowledged so a
			// misbehaving agent does not send it forever.
			refused++
			s.log.Warn("agent sent an invalid finding", "agent", c.id, "finding", fmt.Sprintf("%.64q", x.ID), "err", err)
			continue
		}
		detail, err := json.Marshal(x.Detail)
		if err != nil || x.Detail == nil {
			detail = nil
		}
		accepted = append(accepted, *x)
		ds = append(ds, store.Detection{HostID: c.id, FindingID: x.ID, Type: x.Type, Source: x.Source, Rule: x.Rule,
			Indicator: x.Indicator, Path: x.Path, SHA256: x.SHA256, Size: x.Size, SeenAt: x.SeenAt, ReceivedAt: now,
			SweepID: x.SweepID, BundleVersion: x.BundleVersion, Tags: x.Tags, Meta: x.Meta, Detail: detail})
	}
	s.stats.refused.Add(int64(refused))
	// The read loop does not wait for the commit: a command
	// acknowledgement behind this batch must not queue behind the
	// database. The ack goes out once the batch is committed.
	return s.ingest.enqueue(ctx, ds, func(added int, err error) {
		// Tracked, so no policy change is written after Close; during
		// shutdown the batch goes unacknowledged and the agent re-sends it.
		s.bg.Go(func() { s.batchCommitted(c, f.Seq, accepted, added, err) })
	})
}

func (s *Server) batchCommitted(c *conn, seq uint64, fs []wire.Finding, added int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if err != nil {
		// No ack: the agent keeps the batch. Dropping the connection makes
		// it re-send after reconnecting rather than wait.
		s.log.Error("storing findings", "agent", c.id, "seq", seq, "err", err)
		c.ws.CloseNow()
		return
	}
	s.stats.batches.Add(1)
	s.stats.findings.Add(int64(added))
	s.stats.duplicates.Add(int64(len(fs) - added))
	if err := c.send(ctx, &wire.Message{Type: wire.TypeAck, Ack: &wire.Ack{Seq: seq}}); err != nil {
		s.log.Debug("acknowledging findings", "agent", c.id, "seq", seq, "err", err)
	}
	if added > 0 {
		s.applyPolicy(ctx, c.id, fs)
	}
}
