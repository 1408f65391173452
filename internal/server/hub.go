package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/wire"
)

// errOffline is returned when a command is for a host with no connection.
var errOffline = errors.New("host is not connected")

// conn is one agent's live connection.
type conn struct {
	id    string
	ws    *websocket.Conn
	local net.Addr // the server address the agent reached
	since time.Time
}

// hub tracks live connections and commands awaiting acknowledgement.
type hub struct {
	mu      sync.RWMutex
	conns   map[string]*conn
	waiters map[string]chan wire.CommandAck
}

func newHub() *hub {
	return &hub{conns: map[string]*conn{}, waiters: map[string]chan wire.CommandAck{}}
}

// add registers c, closing any older connection of the same agent: an agent
// that reconnects before the server noticed the old socket die must not be
// served twice.
func (h *hub) add(c *conn) {
	h.mu.Lock()
	old := h.conns[c.id]
	h.conns[c.id] = c
	h.mu.Unlock()
	if old != nil {
		old.ws.Close(websocket.StatusPolicyViolation, "replaced by a newer connection")
	}
}

// remove unregisters c if it is still the agent's current connection.
func (h *hub) remove(c *conn) {
	h.mu.Lock()
	if h.conns[c.id] == c {
		delete(h.conns, c.id)
	}
	h.mu.Unlock()
}

func (h *hub) get(id string) *conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.conns[id]
}

func (h *hub) online(id string) bool { return h.get(id) != nil }

func (h *hub) count() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.conns)
}

func (h *hub) ids() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]string, 0, len(h.conns))
	for id := range h.conns {
		out = append(out, id)
	}
	return out
}

// disconnect closes an agent's connection, e.g. after revocation.
func (h *hub) disconnect(id, reason string) {
	if c := h.get(id); c != nil {
		c.ws.Close(websocket.StatusPolicyViolation, reason)
	}
}

func (h *hub) closeAll() {
	h.mu.RLock()
	cs := make([]*conn, 0, len(h.conns))
	for _, c := range h.conns {
		cs = append(cs, c)
	}
	h.mu.RUnlock()
	for _, c := range cs {
		c.ws.CloseNow()
	}
}

// writeTimeout bounds one write to an agent; a peer that cannot take a
// message in this long is dropped and will reconnect.
const writeTimeout = 10 * time.Second

// send writes m to c. websocket.Conn writes are safe for concurrent use, so
// whoever has something to say writes directly: no writer goroutine or
// queue per connection.
func (c *conn) send(ctx context.Context, m *wire.Message) error {
	b, err := wire.Encode(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.ws.CloseNow()
		return err
	}
	return nil
}

// sendTo writes m to host id's connection, or returns errOffline.
func (h *hub) sendTo(ctx context.Context, id string, m *wire.Message) error {
	c := h.get(id)
	if c == nil {
		return errOffline
	}
	return c.send(ctx, m)
}

// wait registers interest in the acknowledgement of command cmdID; call the
// returned cancel when done waiting.
func (h *hub) wait(cmdID string) (<-chan wire.CommandAck, func()) {
	ch := make(chan wire.CommandAck, 1)
	h.mu.Lock()
	h.waiters[cmdID] = ch
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.waiters, cmdID)
		h.mu.Unlock()
	}
}

func (h *hub) acked(a wire.CommandAck) {
	h.mu.Lock()
	ch := h.waiters[a.ID]
	delete(h.waiters, a.ID)
	h.mu.Unlock()
	if ch != nil {
		ch <- a
	}
}

// lastSeen collects heartbeat times in memory and flushes them to the store
// in one transaction, so 20,000 agents beating cost one commit per flush.
type lastSeen struct {
	mu sync.Mutex
	m  map[string]time.Time
}

func newLastSeen() *lastSeen { return &lastSeen{m: map[string]time.Time{}} }

func (l *lastSeen) mark(id string, at time.Time) {
	l.mu.Lock()
	l.m[id] = at
	l.mu.Unlock()
}

// get returns the pending (not yet flushed) time for id.
func (l *lastSeen) get(id string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[id]
}

func (l *lastSeen) take() map[string]time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.m
	l.m = make(map[string]time.Time, len(m))
	return m
}

const lastSeenFlush = 2 * time.Second

func (l *lastSeen) run(ctx context.Context, st *store.Store, log *slog.Logger) {
	t := time.NewTicker(lastSeenFlush)
	defer t.Stop()
	flush := func(ctx context.Context) {
		m := l.take()
		if err := st.TouchHosts(ctx, m); err != nil {
			log.Error("flushing last-seen times", "hosts", len(m), "err", err)
			// Put them back unless a newer beat arrived meanwhile.
			l.mu.Lock()
			for id, at := range m {
				if l.m[id].Before(at) {
					l.m[id] = at
				}
			}
			l.mu.Unlock()
		}
	}
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			flush(fctx)
			cancel()
			return
		case <-t.C:
			flush(ctx)
		}
	}
}

// ingester group-commits finding batches: batches arriving from many agents
// while a commit runs are stored together in the next transaction, so
// throughput does not hinge on one fsync per agent batch.
type ingester struct {
	st  *store.Store
	req chan *ingestReq
}

type ingestReq struct {
	ds []store.Detection
	// done runs on the ingest goroutine once the batch is committed (or
	// failed); it must not block.
	done func(added int, err error)
}

// maxGroupRows caps one group commit. ingestQueue bounds the batches
// waiting for one: when it is full, agents' read loops wait, TCP pushes
// back, and findings stay in the agents' on-disk queues rather than in
// server memory.
const (
	maxGroupRows = 5000
	ingestQueue  = 64
)

func newIngester(st *store.Store) *ingester {
	return &ingester{st: st, req: make(chan *ingestReq, ingestQueue)}
}

// enqueue hands ds to the ingester; done is called once they are committed.
// It blocks only while the ingester's queue is full, which is what slows a
// flood of findings down to what the database takes.
func (in *ingester) enqueue(ctx context.Context, ds []store.Detection, done func(added int, err error)) error {
	select {
	case in.req <- &ingestReq{ds: ds, done: done}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// submit stores ds and waits until they are committed.
func (in *ingester) submit(ctx context.Context, ds []store.Detection) (int, error) {
	type result struct {
		added int
		err   error
	}
	ch := make(chan result, 1)
	if err := in.enqueue(ctx, ds, func(added int, err error) { ch <- result{added, err} }); err != nil {
		return 0, err
	}
	select {
	case r := <-ch:
		return r.added, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (in *ingester) run(ctx context.Context) {
	for {
		var group []*ingestReq
		select {
		case <-ctx.Done():
			return
		case r := <-in.req:
			group = append(group, r)
		}
		rows := len(group[0].ds)
	drain:
		for rows < maxGroupRows {
			select {
			case r := <-in.req:
				group = append(group, r)
				rows += len(r.ds)
			default:
				break drain
			}
		}
		in.commit(ctx, group)
	}
}

func (in *ingester) commit(ctx context.Context, group []*ingestReq) {
	batches := make([][]store.Detection, len(group))
	for i, r := range group {
		batches[i] = r.ds
	}
	added, err := in.st.InsertDetectionBatches(ctx, batches)
	if err == nil {
		for i, r := range group {
			r.done(added[i], nil)
		}
		return
	}
	// One bad batch must not fail the others: retry each alone.
	for _, r := range group {
		if len(group) == 1 {
			r.done(0, err)
			continue
		}
		n, err := in.st.InsertDetections(ctx, r.ds)
		r.done(n, err)
	}
}
