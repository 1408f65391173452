package server

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mamori-dev/mamori/internal/audit"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
)

// auditLog keeps the audit log's Merkle tree in memory, following the
// store, answers proofs from it and signs checkpoints.
type auditLog struct {
	st  *store.Store
	key *audit.Key
	log *slog.Logger
	now func() time.Time

	// mu serialises syncing the tree and signing.
	mu   sync.Mutex
	tree audit.Tree
	// signed is the size of the latest checkpoint; any says there is one.
	signed int64
	any    bool
}

func newAuditLog(ctx context.Context, st *store.Store, dir string, log *slog.Logger, now func() time.Time) (*auditLog, error) {
	name := "mamori-audit"
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " +") {
		name += "/" + h
	}
	key, err := audit.LoadOrCreateKey(dir, name)
	if err != nil {
		return nil, err
	}
	a := &auditLog{st: st, key: key, log: log, now: now}
	if err := a.sync(ctx); err != nil {
		return nil, err
	}
	// A log that no longer extends its latest checkpoint was altered
	// while the server was down; say so loudly, and keep serving: the
	// old checkpoint stays and mamori audit verify names the damage.
	if msg, err := st.LatestCheckpoint(ctx); err == nil {
		c, err := audit.Open(msg, key.Verifier)
		switch {
		case err != nil:
			log.Error("audit log: latest checkpoint does not verify with audit.pub; run mamori audit verify", "err", err)
		case c.Size > a.tree.Size():
			log.Error("audit log: entries covered by the latest checkpoint are missing; run mamori audit verify", "checkpoint_size", c.Size, "log_size", a.tree.Size())
		default:
			if root, _ := a.tree.Root(c.Size); root != c.Root {
				log.Error("audit log: the log does not match its latest checkpoint; run mamori audit verify", "checkpoint_size", c.Size)
			}
			a.signed, a.any = c.Size, true
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return a, nil
}

// sync appends the leaves committed since the last sync to the tree.
// Appends commit in index order (one writer at a time), so what the store
// shows is always a prefix of the log.
func (a *auditLog) sync(ctx context.Context) error {
	const chunk = 10000
	for {
		hs, err := a.st.AuditHashes(ctx, a.tree.Size(), chunk)
		if err != nil {
			return err
		}
		for _, h := range hs {
			a.tree.Append(h)
		}
		if len(hs) < chunk {
			return nil
		}
	}
}

// checkpoint signs and stores a checkpoint of the whole log when it grew
// since the last one, or, when asked for one (force) and there is none
// yet, of the empty log.
func (a *auditLog) checkpoint(ctx context.Context, force bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.sync(ctx); err != nil {
		return err
	}
	n := a.tree.Size()
	if n == a.signed && (a.any || !force) {
		return nil
	}
	root, err := a.tree.Root(n)
	if err != nil {
		return err
	}
	c := audit.Checkpoint{Origin: a.key.Signer.Name(), Size: n, Root: root, Time: a.now()}
	msg, err := audit.Sign(c, a.key.Signer)
	if err != nil {
		return err
	}
	if err := a.st.AddCheckpoint(ctx, c, msg); err != nil {
		return err
	}
	a.signed, a.any = n, true
	return nil
}

// run signs a checkpoint every interval while entries arrive, and a last
// one when ctx ends.
func (a *auditLog) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := a.checkpoint(ctx, false); err != nil && ctx.Err() == nil {
				a.log.Error("audit checkpoint", "err", err)
			}
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if err := a.checkpoint(fctx, false); err != nil {
				a.log.Error("audit checkpoint at shutdown", "err", err)
			}
			cancel()
			return
		}
	}
}

func (s *Server) auditRoutes() []httpapi.Route {
	auditors := []httpapi.Role{httpapi.RoleAuditor}
	return []httpapi.Route{
		{Method: "GET", Pattern: "/audit", Summary: "The audit log in index order: who did what, under which role, when, why and with which result.",
			Response: []AuditLeaf(nil), Roles: auditors, Handler: s.listAudit,
			Query: []httpapi.Param{{Name: "target", Description: "only entries about this target (host id, incident id, user name, fleet)"},
				{Name: "after", Description: "only entries with a greater index"}, {Name: "limit", Description: "at most this many (default 100, at most 1000)"}}},
		{Method: "GET", Pattern: "/audit/checkpoint", Summary: "The latest signed checkpoint of the audit log's Merkle tree, signed now if the log grew since.",
			Response: AuditCheckpoint{}, Roles: auditors, Handler: s.getCheckpoint},
		{Method: "GET", Pattern: "/audit/checkpoints", Summary: "Every signed checkpoint, smallest tree first.",
			Response: []AuditCheckpoint(nil), Roles: auditors, Handler: s.listCheckpoints},
		{Method: "GET", Pattern: "/audit/proof/inclusion", Summary: "Proof that an entry is in the tree of a given size (RFC 6962 audit path).",
			Response: InclusionProof{}, Roles: auditors, Handler: s.getInclusionProof,
			Query: []httpapi.Param{{Name: "index", Description: "the entry's index"}, {Name: "size", Description: "the tree size (default: the whole log)"}}},
		{Method: "GET", Pattern: "/audit/proof/consistency", Summary: "Proof that the tree of one size is a prefix of the tree of a larger size (RFC 6962).",
			Response: ConsistencyProof{}, Roles: auditors, Handler: s.getConsistencyProof,
			Query: []httpapi.Param{{Name: "from", Description: "the smaller tree size"}, {Name: "to", Description: "the larger tree size (default: the whole log)"}}},
	}
}

// AuditLeaf is one entry of the audit log, as in the JSONL export.
type AuditLeaf struct {
	Index     int64     `json:"index" doc:"position in the log, from 0"`
	ID        string    `json:"id" doc:"a- and 16 hex digits"`
	Time      time.Time `json:"time"`
	Actor     string    `json:"actor" doc:"a user's name, agent:ID, policy:..., enrolment"`
	Role      string    `json:"role" doc:"the role the call was made under; agent or system for those"`
	Action    string    `json:"action"`
	Target    string    `json:"target" doc:"host id, incident id, user name, sweep id or fleet"`
	Reason    string    `json:"reason"`
	RequestID string    `json:"request_id" doc:"the API request's id (its X-Request-Id answer header)"`
	Result    string    `json:"result" doc:"ok, or the HTTP status and error of a refused call"`
	Detail    string    `json:"detail,omitempty"`
	Prev      string    `json:"prev" doc:"base64 leaf hash of the previous entry"`
	Hash      string    `json:"hash" doc:"base64 RFC 6962 leaf hash of this entry"`
}

func leafOf(e *audit.Entry) AuditLeaf {
	return AuditLeaf{Index: e.Index, ID: e.ID, Time: e.Time, Actor: e.Actor, Role: e.Role, Action: e.Action,
		Target: e.Target, Reason: e.Reason, RequestID: e.RequestID, Result: e.Result, Detail: e.Detail,
		Prev: b64(e.Prev), Hash: b64(e.Hash)}
}

func b64(h audit.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

// AuditCheckpoint is a signed tree head.
type AuditCheckpoint struct {
	Size int64     `json:"size"`
	Root string    `json:"root" doc:"base64 root hash"`
	Time time.Time `json:"time"`
	// Note is the signed note itself, what a verifier checks.
	Note      string `json:"note" doc:"the signed checkpoint (golang.org/x/mod/sumdb/note)"`
	PublicKey string `json:"public_key" doc:"the server's verifier key, as in DIR/audit.pub"`
}

// InclusionProof proves an entry is in a tree.
type InclusionProof struct {
	Index int64    `json:"index"`
	Size  int64    `json:"size"`
	Leaf  string   `json:"leaf" doc:"base64 leaf hash of the entry"`
	Root  string   `json:"root" doc:"base64 root of the tree of that size"`
	Proof []string `json:"proof" doc:"base64 hashes of the audit path"`
}

// ConsistencyProof proves one tree extends another.
type ConsistencyProof struct {
	From     int64    `json:"from"`
	To       int64    `json:"to"`
	FromRoot string   `json:"from_root"`
	ToRoot   string   `json:"to_root"`
	Proof    []string `json:"proof"`
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	p, err := httpapi.ParsePage(r)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	from := int64(0)
	if p.After != "" {
		after, err := httpapi.QueryInt(r, "after", 0)
		if err != nil {
			httpapi.Fail(w, r, err)
			return
		}
		from = after + 1
	}
	es, err := s.st.AuditEntries(r.Context(), r.URL.Query().Get("target"), from, p.Limit)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	out := make([]AuditLeaf, len(es))
	for i := range es {
		out[i] = leafOf(&es[i])
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) checkpointView(msg []byte) (AuditCheckpoint, error) {
	c, err := audit.Open(msg, s.alog.key.Verifier)
	if err != nil {
		return AuditCheckpoint{}, err
	}
	return AuditCheckpoint{Size: c.Size, Root: b64(c.Root), Time: c.Time, Note: string(msg), PublicKey: s.alog.key.Public}, nil
}

func (s *Server) getCheckpoint(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := s.alog.checkpoint(ctx, true); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	msg, err := s.st.LatestCheckpoint(ctx)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	v, err := s.checkpointView(msg)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, v)
}

func (s *Server) listCheckpoints(w http.ResponseWriter, r *http.Request) {
	msgs, err := s.st.Checkpoints(r.Context())
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	out := make([]AuditCheckpoint, 0, len(msgs))
	for i, m := range msgs {
		v, err := s.checkpointView(m)
		if err != nil {
			// An auditor must see a bad checkpoint, not a gap: serve the
			// note as stored and let the verifier name it.
			s.log.Error("audit checkpoint does not verify", "position", i, "err", err)
			v = AuditCheckpoint{Note: string(m), PublicKey: s.alog.key.Public}
		}
		out = append(out, v)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// treeSize reads a tree size query parameter, defaulting to the whole log
// (after syncing with the store).
func (s *Server) treeSize(r *http.Request, name string) (int64, error) {
	s.alog.mu.Lock()
	err := s.alog.sync(r.Context())
	n := s.alog.tree.Size()
	s.alog.mu.Unlock()
	if err != nil {
		return 0, err
	}
	v, err := httpapi.QueryInt(r, name, n)
	if err != nil {
		return 0, err
	}
	if v > n {
		return 0, httpapi.BadInput("query parameter "+name, "%d is larger than the log (%d entries)", v, n)
	}
	return v, nil
}

func b64s(hs []audit.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = b64(h)
	}
	return out
}

func (s *Server) getInclusionProof(w http.ResponseWriter, r *http.Request) {
	n, err := s.treeSize(r, "size")
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if r.URL.Query().Get("index") == "" {
		httpapi.Fail(w, r, httpapi.BadInput("query parameter index", "required"))
		return
	}
	i, err := httpapi.QueryInt(r, "index", 0)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if i >= n {
		httpapi.Fail(w, r, httpapi.BadInput("query parameter index", "%d is not below the tree size %d", i, n))
		return
	}
	proof, err := s.alog.tree.InclusionProof(i, n)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	leaf, _ := s.alog.tree.Leaf(i)
	root, _ := s.alog.tree.Root(n)
	httpapi.WriteJSON(w, http.StatusOK, InclusionProof{Index: i, Size: n, Leaf: b64(leaf), Root: b64(root), Proof: b64s(proof)})
}

func (s *Server) getConsistencyProof(w http.ResponseWriter, r *http.Request) {
	to, err := s.treeSize(r, "to")
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	from, err := httpapi.QueryInt(r, "from", 0)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if from < 1 || from > to {
		httpapi.Fail(w, r, httpapi.BadInput("query parameter from", "%d, want 1 to %d", from, to))
		return
	}
	proof, err := s.alog.tree.ConsistencyProof(from, to)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	r1, _ := s.alog.tree.Root(from)
	r2, _ := s.alog.tree.Root(to)
	httpapi.WriteJSON(w, http.StatusOK, ConsistencyProof{From: from, To: to, FromRoot: b64(r1), ToRoot: b64(r2), Proof: b64s(proof)})
}
