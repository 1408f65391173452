package wire

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Version is the protocol version this package encodes. Decode accepts any
// version from 1 on, because newer peers only add fields and types.
const Version = 1

// HTTP paths of the agent gateway, served on the same TLS listener as the
// API.
const (
	// EnrollPath takes POST with the enrolment token as a bearer token.
	EnrollPath = "/agent/v1/enroll"
	// WebSocketPath is the agent's long-lived connection; it requires the
	// client certificate issued at enrolment.
	WebSocketPath = "/agent/v1/ws"
)

// MaxMessageBytes bounds one encoded message. Senders split findings into
// batches well below it; receivers set it as their read limit.
const MaxMessageBytes = 4 << 20

// MaxFindingsPerBatch bounds Findings.Findings so a batch stays far below
// MaxMessageBytes and commits in one short transaction.
const MaxFindingsPerBatch = 1000

// Type names a message's payload.
type Type string

// Agent to server.
const (
	TypeHello           Type = "hello"
	TypeHeartbeat       Type = "heartbeat"
	TypeFindings        Type = "findings"
	TypeSweepStatus     Type = "sweep_status"
	TypeIsolationStatus Type = "isolation_status"
	TypeBundleStatus    Type = "bundle_status"
	TypeCommandAck      Type = "command_ack"
)

// Server to agent. Every one but TypeWelcome and TypeAck is a command with
// an ID the agent acknowledges.
const (
	TypeWelcome       Type = "welcome"
	TypeAck           Type = "ack"
	TypeBundle        Type = "bundle"
	TypeSweep         Type = "sweep"
	TypeScan          Type = "scan"
	TypeSetMonitoring Type = "set_monitoring"
	TypeIsolate       Type = "isolate"
	TypeRelease       Type = "release"
	TypePing          Type = "ping"
	TypeCancelSweep   Type = "cancel_sweep"
)

// Monitoring levels.
const (
	MonitoringNormal     = "normal"
	MonitoringHeightened = "heightened"
)

// Isolation states, as the server shows them. An agent reports only
// IsolationNone, IsolationIsolated or IsolationFailed; the two *_requested
// states exist between the API call and the agent's report.
const (
	IsolationNone             = "none"
	IsolationRequested        = "requested"
	IsolationIsolated         = "isolated"
	IsolationReleaseRequested = "release_requested"
	IsolationFailed           = "failed"
)

// Per-host sweep states. An agent reports only running, done, failed or
// cancelled; queued and offline are the server's view before the agent has
// it.
const (
	SweepQueued    = "queued"
	SweepRunning   = "running"
	SweepDone      = "done"
	SweepFailed    = "failed"
	SweepOffline   = "offline"
	SweepCancelled = "cancelled"
)

// Finding sources, in Finding.Source.
const (
	SourceScheduled = "scheduled" // periodic scan of the scan paths
	SourceOnDemand  = "on_demand" // TypeScan command
	SourceLive      = "live"      // file watcher in heightened monitoring
	SourceSweep     = "sweep"     // a sweep; Finding.SweepID is set
	SourceCollector = "collector" // heightened-mode collectors (processes, persistence, ...)
)

// EnrollRequest is the body of POST EnrollPath.
type EnrollRequest struct {
	// CSR is a PEM "CERTIFICATE REQUEST" for the agent's ECDSA P-256 key.
	CSR string `json:"csr"`
	// Name is the operator-chosen host name (--name); Hostname is the OS's.
	Name     string `json:"name,omitempty"`
	Hostname string `json:"hostname,omitempty"`
	// Labels are the host's initial labels (key=value), for label
	// selectors in sweeps and monitoring changes.
	Labels map[string]string `json:"labels,omitempty"`
}

// EnrollResponse answers a successful enrolment.
type EnrollResponse struct {
	AgentID string `json:"agent_id"`
	// Certificate is the PEM client certificate signed by the server CA.
	Certificate string `json:"certificate"`
	// CA is the PEM CA certificate, for agents enrolled without --ca
	// pinning it for later connections.
	CA string `json:"ca"`
}

// ErrorResponse is the JSON body of every non-2xx gateway or API answer.
type ErrorResponse struct {
	Error string `json:"error"`
}

// Message is one WebSocket frame. Exactly the payload field named by Type is
// set.
type Message struct {
	V    int  `json:"v"`
	Type Type `json:"type"`
	// ID identifies a server command; the agent echoes it in CommandAck.
	ID string `json:"id,omitempty"`

	Hello           *Hello           `json:"hello,omitempty"`
	Heartbeat       *Heartbeat       `json:"heartbeat,omitempty"`
	Findings        *Findings        `json:"findings,omitempty"`
	SweepStatus     *SweepStatus     `json:"sweep_status,omitempty"`
	IsolationStatus *IsolationStatus `json:"isolation_status,omitempty"`
	BundleStatus    *BundleStatus    `json:"bundle_status,omitempty"`
	CommandAck      *CommandAck      `json:"command_ack,omitempty"`

	Welcome       *Welcome       `json:"welcome,omitempty"`
	Ack           *Ack           `json:"ack,omitempty"`
	Bundle        *Bundle        `json:"bundle,omitempty"`
	Sweep         *Sweep         `json:"sweep,omitempty"`
	Scan          *Scan          `json:"scan,omitempty"`
	SetMonitoring *SetMonitoring `json:"set_monitoring,omitempty"`
	Isolate       *Isolate       `json:"isolate,omitempty"`
	Release       *Release       `json:"release,omitempty"`
	Ping          *Ping          `json:"ping,omitempty"`
	CancelSweep   *CancelSweep   `json:"cancel_sweep,omitempty"`
}

// Inventory describes the host; it rides on Hello and on a Heartbeat whenever
// it changed.
type Inventory struct {
	Hostname     string   `json:"hostname"`
	OS           string   `json:"os"` // runtime.GOOS
	Arch         string   `json:"arch,omitempty"`
	OSVersion    string   `json:"os_version,omitempty"`
	IPs          []string `json:"ips,omitempty"`
	AgentVersion string   `json:"agent_version"`
	Monitoring   string   `json:"monitoring"` // Monitoring*
	Isolation    string   `json:"isolation"`  // IsolationNone, IsolationIsolated or IsolationFailed
	// BundleVersion is the rule bundle the agent has loaded, 0 for none.
	BundleVersion int64 `json:"bundle_version"`
}

// Hello opens every connection.
type Hello struct {
	AgentID   string    `json:"agent_id"`
	Inventory Inventory `json:"inventory"`
	// Sweeps lists sweep ids the agent already holds and whose status it
	// re-sends right after Hello; the server does not send those sweeps
	// again on this connection. Any other unfinished sweep is (re-)sent,
	// so an agent must answer a sweep it already finished with its final
	// SweepStatus instead of running it twice.
	Sweeps []string `json:"sweeps,omitempty"`
}

// Heartbeat keeps the host online in the server's view.
type Heartbeat struct {
	// Inventory is set when something in it changed since the last one.
	Inventory *Inventory `json:"inventory,omitempty"`
}

// Findings is one batch from the agent's queue.
type Findings struct {
	// Seq numbers batches per agent; Ack echoes it.
	Seq      uint64    `json:"seq"`
	Findings []Finding `json:"findings"`
}

// Finding is one detection.
type Finding struct {
	// ID is unique per agent and stable across re-sends (the agent assigns
	// it when it queues the finding); the server de-duplicates on
	// (agent, ID).
	ID     string `json:"id"`
	Type   string `json:"type"` // scan record kind: "ioc", "yara", or a collector's kind
	Source string `json:"source,omitempty"`
	Rule   string `json:"rule,omitempty"`
	// Indicator is the matched hash, file name pattern or rule identifier.
	Indicator string            `json:"indicator,omitempty"`
	Path      string            `json:"path,omitempty"`
	SHA256    string            `json:"sha256,omitempty"`
	Size      int64             `json:"size,omitempty"`
	SeenAt    time.Time         `json:"seen_at"`
	SweepID   string            `json:"sweep_id,omitempty"`
	Tags      []string          `json:"tags,omitempty"`
	Meta      map[string]string `json:"meta,omitempty"` // rule meta, e.g. severity, score
	// BundleVersion is the bundle whose rules produced the finding.
	BundleVersion int64 `json:"bundle_version,omitempty"`
	// Detail is the scan record as the agent emitted it, for the analyst.
	Detail map[string]any `json:"detail,omitempty"`
}

// SweepStatus reports progress of one sweep on this host.
type SweepStatus struct {
	SweepID  string `json:"sweep_id"`
	State    string `json:"state"` // SweepRunning, SweepDone, SweepFailed or SweepCancelled
	Files    int64  `json:"files"`
	Findings int64  `json:"findings"`
	Error    string `json:"error,omitempty"`
}

// IsolationStatus reports the outcome of Isolate or Release, and the state
// re-applied at agent start.
type IsolationStatus struct {
	State string `json:"state"` // IsolationNone, IsolationIsolated or IsolationFailed
	Error string `json:"error,omitempty"`
	// CommandID is the Isolate or Release command this answers, if any.
	CommandID string `json:"command_id,omitempty"`
}

// BundleStatus reports whether the agent could load a bundle.
type BundleStatus struct {
	Version int64  `json:"version"`
	Loaded  bool   `json:"loaded"`
	Error   string `json:"error,omitempty"`
}

// CommandAck says the agent has taken in command ID.
type CommandAck struct {
	ID    string `json:"id"`
	Error string `json:"error,omitempty"`
}

// Welcome answers Hello.
type Welcome struct {
	AgentID    string    `json:"agent_id"`
	ServerTime time.Time `json:"server_time"`
	// HeartbeatSeconds is how often the agent sends Heartbeat; the server
	// closes a connection silent for four intervals.
	HeartbeatSeconds int `json:"heartbeat_seconds"`
	// CancelledSweeps are the sweeps of Hello.Sweeps cancelled on the
	// server: the agent must not start or resume them.
	CancelledSweeps []string `json:"cancelled_sweeps,omitempty"`
}

// Ack acknowledges a committed Findings batch.
type Ack struct {
	Seq uint64 `json:"seq"`
}

// Bundle is a versioned set of rules and indicators every agent loads for its
// scheduled, on-demand and live scans (and, inline in a Sweep, for that
// sweep only).
type Bundle struct {
	Version int64    `json:"version"`
	Name    string   `json:"name,omitempty"`
	YARA    string   `json:"yara,omitempty"`
	Hashes  []string `json:"hashes,omitempty"`
	// SHA256 is BundleDigest(YARA, Hashes); the agent refuses a bundle
	// whose content does not match it.
	SHA256 string `json:"sha256"`
	// TimeoutSeconds bounds the rule evaluation of one file on the agent;
	// 0 means the default (yara.DefaultTimeout's 60 s).
	TimeoutSeconds int `json:"timeout_seconds,omitempty"`
}

// Timeout is the per-file rule evaluation limit the bundle asks for.
func (b *Bundle) Timeout() time.Duration {
	if b.TimeoutSeconds <= 0 {
		return 60 * time.Second
	}
	return time.Duration(b.TimeoutSeconds) * time.Second
}

// BundleDigest is the content hash of a bundle: SHA-256 over the YARA text, a
// NUL, then each hash followed by a newline, in the given order.
func BundleDigest(yara string, hashes []string) string {
	h := sha256.New()
	h.Write([]byte(yara))
	h.Write([]byte{0})
	for _, s := range hashes {
		h.Write([]byte(s))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Verify reports whether b's content matches its SHA256.
func (b *Bundle) Verify() bool { return BundleDigest(b.YARA, b.Hashes) == b.SHA256 }

// Sweep asks the host to scan Paths with Bundle once, before ExpiresAt.
type Sweep struct {
	SweepID   string    `json:"sweep_id"`
	Bundle    Bundle    `json:"bundle"`
	Paths     []string  `json:"paths"`
	ExpiresAt time.Time `json:"expires_at"`
	// Collect, when set, makes the sweep a collection of evidence for an
	// incident instead of a scan: the agent reads its logs and artefacts
	// in the window and sends timeline events (findings of type
	// "timeline" whose Detail is the event).
	Collect *Collect `json:"collect,omitempty"`
	// PII asks for personal-data discovery over Paths as well: the agent
	// sends one finding of type "pii_file" per file holding personal
	// data (see scope.FileResult), values included.
	PII bool `json:"pii,omitempty"`
}

// Collect says what an incident collection gathers.
type Collect struct {
	IncidentID string    `json:"incident_id"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	// Kinds of artefact: CollectLogs, CollectProcesses, CollectConnections,
	// CollectPersistence, CollectFiles, CollectArchives. Empty means all.
	Kinds []string `json:"kinds,omitempty"`
	// MaxEvents caps the log and file events sent (Sigma hits and
	// collector snapshots are always sent); 0 means the agent's default.
	MaxEvents int `json:"max_events,omitempty"`
}

// Artefact kinds of a collection.
const (
	CollectLogs        = "logs"
	CollectProcesses   = "processes"
	CollectConnections = "connections"
	CollectPersistence = "persistence"
	CollectFiles       = "files"
	CollectArchives    = "archives"
)

// Scan asks for an immediate scan of the agent's scan paths with its current
// bundle.
type Scan struct{}

// SetMonitoring changes the host's monitoring level.
type SetMonitoring struct {
	Level string `json:"level"` // Monitoring*
	// ScanIntervalSeconds is the scheduled scan interval at this level.
	ScanIntervalSeconds int    `json:"scan_interval_seconds"`
	Reason              string `json:"reason,omitempty"`
}

// Isolate asks the agent to cut the host off from everything but the server.
type Isolate struct {
	Reason string `json:"reason,omitempty"`
	// ServerAddrs are addresses of the server the agent must keep reaching,
	// in addition to the address its connection uses; ServerPort is the
	// gateway port.
	ServerAddrs []string `json:"server_addrs,omitempty"`
	ServerPort  int      `json:"server_port"`
	// AllowDNS permits DNS to Resolvers (the host's own resolvers when
	// empty); AllowDHCP permits DHCP client traffic.
	AllowDNS  bool     `json:"allow_dns"`
	Resolvers []string `json:"resolvers,omitempty"`
	AllowDHCP bool     `json:"allow_dhcp"`
}

// Release lifts isolation.
type Release struct {
	Reason string `json:"reason,omitempty"`
}

// Ping probes command round-trip time; the agent answers with CommandAck.
type Ping struct {
	SentAt time.Time `json:"sent_at"`
}

// CancelSweep stops a sweep the server cancelled: the agent ends a running
// scan of it, never starts a queued one, and reports SweepCancelled. The
// server sends it to connected agents when the sweep is cancelled; agents
// away then learn it from Welcome.CancelledSweeps.
type CancelSweep struct {
	SweepID string `json:"sweep_id"`
}
