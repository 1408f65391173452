package wire

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ErrUnknownType is wrapped by Decode for a well-formed message whose Type
// this version does not know; receivers skip such messages.
var ErrUnknownType = errors.New("unknown message type")

// Encode sets m.V to Version, checks that m is well formed and returns its
// JSON encoding.
func Encode(m *Message) ([]byte, error) {
	m.V = Version
	if err := m.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("wire: encode %s: %w", m.Type, err)
	}
	if len(b) > MaxMessageBytes {
		return nil, fmt.Errorf("wire: encode %s: %d bytes exceeds the %d-byte limit", m.Type, len(b), MaxMessageBytes)
	}
	return b, nil
}

// Decode parses and validates one message.
func Decode(b []byte) (*Message, error) {
	if len(b) > MaxMessageBytes {
		return nil, fmt.Errorf("wire: message of %d bytes exceeds the %d-byte limit", len(b), MaxMessageBytes)
	}
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("wire: decode: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate checks the version, that the payload named by Type is present and
// that no other payload is, and the payload's required fields.
func (m *Message) Validate() error {
	if m.V < 1 {
		return fmt.Errorf("wire: field v: version %d, want 1 or later", m.V)
	}
	if m.Type == "" {
		return errors.New("wire: field type: missing")
	}
	n := m.payloads()
	if n > 1 {
		return fmt.Errorf("wire: %s message carries %d payloads, want 1", m.Type, n)
	}
	err := m.validatePayload()
	if errors.Is(err, ErrUnknownType) {
		return err
	}
	if err != nil {
		return fmt.Errorf("wire: %s message: %w", m.Type, err)
	}
	return nil
}

func (m *Message) payloads() int {
	n := 0
	for _, set := range []bool{
		m.Hello != nil, m.Heartbeat != nil, m.Findings != nil, m.SweepStatus != nil,
		m.IsolationStatus != nil, m.BundleStatus != nil, m.CommandAck != nil,
		m.Welcome != nil, m.Ack != nil, m.Bundle != nil, m.Sweep != nil, m.Scan != nil,
		m.SetMonitoring != nil, m.Isolate != nil, m.Release != nil, m.Ping != nil, m.CancelSweep != nil,
	} {
		if set {
			n++
		}
	}
	return n
}

func missing(field string) error { return fmt.Errorf("field %s: missing", field) }

func (m *Message) needID() error {
	if m.ID == "" {
		return missing("id")
	}
	return nil
}

func (m *Message) validatePayload() error {
	switch m.Type {
	case TypeHello:
		if m.Hello == nil {
			return missing("hello")
		}
		if m.Hello.AgentID == "" {
			return missing("hello.agent_id")
		}
		return m.Hello.Inventory.validate("hello.inventory")
	case TypeHeartbeat:
		if m.Heartbeat == nil {
			return missing("heartbeat")
		}
		if m.Heartbeat.Inventory != nil {
			return m.Heartbeat.Inventory.validate("heartbeat.inventory")
		}
	case TypeFindings:
		if m.Findings == nil {
			return missing("findings")
		}
		if len(m.Findings.Findings) > MaxFindingsPerBatch {
			return fmt.Errorf("field findings.findings: %d findings, at most %d per batch", len(m.Findings.Findings), MaxFindingsPerBatch)
		}
		for i, f := range m.Findings.Findings {
			if f.ID == "" {
				return missing(fmt.Sprintf("findings.findings[%d].id", i))
			}
			if f.Type == "" {
				return missing(fmt.Sprintf("findings.findings[%d].type", i))
			}
		}
	case TypeSweepStatus:
		s := m.SweepStatus
		if s == nil {
			return missing("sweep_status")
		}
		if s.SweepID == "" {
			return missing("sweep_status.sweep_id")
		}
		switch s.State {
		case SweepRunning, SweepDone, SweepFailed, SweepCancelled:
		default:
			return fmt.Errorf("field sweep_status.state: %q, want running, done, failed or cancelled", s.State)
		}
	case TypeIsolationStatus:
		s := m.IsolationStatus
		if s == nil {
			return missing("isolation_status")
		}
		switch s.State {
		case IsolationNone, IsolationIsolated, IsolationFailed:
		default:
			return fmt.Errorf("field isolation_status.state: %q, want none, isolated or failed", s.State)
		}
	case TypeBundleStatus:
		if m.BundleStatus == nil {
			return missing("bundle_status")
		}
	case TypeCommandAck:
		if m.CommandAck == nil {
			return missing("command_ack")
		}
		if m.CommandAck.ID == "" {
			return missing("command_ack.id")
		}
	case TypeWelcome:
		if m.Welcome == nil {
			return missing("welcome")
		}
		if m.Welcome.AgentID == "" {
			return missing("welcome.agent_id")
		}
	case TypeAck:
		if m.Ack == nil {
			return missing("ack")
		}
	case TypeBundle:
		if m.Bundle == nil {
			return missing("bundle")
		}
		if err := m.needID(); err != nil {
			return err
		}
		return m.Bundle.validate("bundle")
	case TypeSweep:
		s := m.Sweep
		if s == nil {
			return missing("sweep")
		}
		if err := m.needID(); err != nil {
			return err
		}
		if s.SweepID == "" {
			return missing("sweep.sweep_id")
		}
		if s.Collect != nil {
			// A collection reads the host's logs and artefacts; it has
			// neither paths nor rules of its own.
			if s.Collect.IncidentID == "" {
				return missing("sweep.collect.incident_id")
			}
			return nil
		}
		if len(s.Paths) == 0 {
			return missing("sweep.paths")
		}
		return s.Bundle.validate("sweep.bundle")
	case TypeScan:
		if m.Scan == nil {
			return missing("scan")
		}
		return m.needID()
	case TypeSetMonitoring:
		s := m.SetMonitoring
		if s == nil {
			return missing("set_monitoring")
		}
		if err := m.needID(); err != nil {
			return err
		}
		if err := validLevel("set_monitoring.level", s.Level); err != nil {
			return err
		}
		if s.ScanIntervalSeconds < 0 {
			return fmt.Errorf("field set_monitoring.scan_interval_seconds: %d is negative", s.ScanIntervalSeconds)
		}
	case TypeIsolate:
		if m.Isolate == nil {
			return missing("isolate")
		}
		if err := m.needID(); err != nil {
			return err
		}
		if p := m.Isolate.ServerPort; p < 1 || p > 65535 {
			return fmt.Errorf("field isolate.server_port: %d is not a port", p)
		}
	case TypeRelease:
		if m.Release == nil {
			return missing("release")
		}
		return m.needID()
	case TypePing:
		if m.Ping == nil {
			return missing("ping")
		}
		return m.needID()
	case TypeCancelSweep:
		if m.CancelSweep == nil {
			return missing("cancel_sweep")
		}
		if err := m.needID(); err != nil {
			return err
		}
		if m.CancelSweep.SweepID == "" {
			return missing("cancel_sweep.sweep_id")
		}
	default:
		return fmt.Errorf("wire: type %q: %w", m.Type, ErrUnknownType)
	}
	return nil
}

func validLevel(field, level string) error {
	if level != MonitoringNormal && level != MonitoringHeightened {
		return fmt.Errorf("field %s: %q, want normal or heightened", field, level)
	}
	return nil
}

func (inv *Inventory) validate(field string) error {
	if inv.Hostname == "" {
		return missing(field + ".hostname")
	}
	if inv.Monitoring != "" {
		if err := validLevel(field+".monitoring", inv.Monitoring); err != nil {
			return err
		}
	}
	switch inv.Isolation {
	case "", IsolationNone, IsolationIsolated, IsolationFailed:
	default:
		return fmt.Errorf("field %s.isolation: %q, want none, isolated or failed", field, inv.Isolation)
	}
	return nil
}

func (b *Bundle) validate(field string) error {
	if b.SHA256 == "" {
		return missing(field + ".sha256")
	}
	if !b.Verify() {
		return fmt.Errorf("field %s.sha256: %s does not match the bundle content", field, b.SHA256)
	}
	return nil
}
