package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/wire"
)

// An enrolled agent may be the attacker's: what it reports is checked
// before it is stored. These bound its fields; wire.Decode has already
// checked the message's structure.
const (
	maxIDBytes       = 128
	maxShortBytes    = 64   // type, source, tag
	maxRuleBytes     = 256  // rule, meta key
	maxTextBytes     = 1024 // indicator, meta value, error text
	maxPathBytes     = 4096
	maxTags, maxMeta = 64, 64
	// A finding seen more than a year before the server's clock, or more
	// than a day after it, carries a wrong time: it is stored with the
	// time the server received it instead (and the agent's time in its
	// meta), so that neither the detection nor the timeline is lost.
	maxFindingAge         = 365 * 24 * time.Hour
	maxClockAhead         = 24 * time.Hour
	seenAtMetaKey         = "agent_seen_at"
	defaultFindingsPerSec = 1000
)

// checkFinding refuses a finding whose fields no real agent sends, and
// fixes a time outside the sane window.
func checkFinding(f *wire.Finding, now time.Time) error {
	for _, c := range []struct {
		field, v string
		max      int
	}{
		{"id", f.ID, maxIDBytes}, {"type", f.Type, maxShortBytes}, {"source", f.Source, maxShortBytes},
		{"rule", f.Rule, maxRuleBytes}, {"indicator", f.Indicator, maxTextBytes}, {"path", f.Path, maxPathBytes},
		{"sha256", f.SHA256, 64}, {"sweep_id", f.SweepID, maxIDBytes},
	} {
		if len(c.v) > c.max {
			return fmt.Errorf("field %s: %d bytes, at most %d", c.field, len(c.v), c.max)
		}
	}
	if f.Size < 0 {
		return fmt.Errorf("field size: %d is negative", f.Size)
	}
	if f.BundleVersion < 0 {
		return fmt.Errorf("field bundle_version: %d is negative", f.BundleVersion)
	}
	if len(f.Tags) > maxTags || len(f.Meta) > maxMeta {
		return fmt.Errorf("fields tags and meta: %d tags and %d meta, at most %d each", len(f.Tags), len(f.Meta), maxTags)
	}
	for _, t := range f.Tags {
		if len(t) > maxShortBytes {
			return fmt.Errorf("field tags: a tag of %d bytes, at most %d", len(t), maxShortBytes)
		}
	}
	for k, v := range f.Meta {
		if len(k) > maxRuleBytes || len(v) > maxTextBytes {
			return fmt.Errorf("field meta: entry %.40q too long", k)
		}
	}
	if f.Type == store.PIIFileType {
		if err := checkPIIFile(f); err != nil {
			return err
		}
	}
	if f.SeenAt.Before(now.Add(-maxFindingAge)) || f.SeenAt.After(now.Add(maxClockAhead)) {
		meta := make(map[string]string, len(f.Meta)+1)
		for k, v := range f.Meta {
			meta[k] = v
		}
		meta[seenAtMetaKey] = f.SeenAt.UTC().Format(time.RFC3339)
		f.Meta, f.SeenAt = meta, now
	}
	return nil
}

// checkPIIFile refuses a personal-data result whose detail is not a
// well-formed scope.FileResult for the finding's path.
func checkPIIFile(f *wire.Finding) error {
	b, err := json.Marshal(f.Detail)
	if err != nil {
		return fmt.Errorf("field detail: %w", err)
	}
	var fr scope.FileResult
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fr); err != nil {
		return fmt.Errorf("field detail: not a pii_file result: %w", err)
	}
	if err := fr.Check(); err != nil {
		return fmt.Errorf("field detail: %w", err)
	}
	if f.Path != "" && f.Path != fr.Path {
		return fmt.Errorf("field path: %.64q differs from the result's path %.64q", f.Path, fr.Path)
	}
	return nil
}

// checkSweepStatus refuses a sweep report with negative counts or an
// oversized error; whether the sweep targets the host is the store's
// answer.
func checkSweepStatus(st *wire.SweepStatus) error {
	if st.Files < 0 || st.Findings < 0 {
		return fmt.Errorf("sweep %s: negative counts (files %d, findings %d)", st.SweepID, st.Files, st.Findings)
	}
	if len(st.Error) > maxTextBytes {
		st.Error = st.Error[:maxTextBytes]
	}
	return nil
}

// inventory turns what an agent reports into what is stored: addresses
// that do not parse are dropped, overlong text is cut.
func inventory(i wire.Inventory) store.Inventory {
	var ips []string
	for _, ip := range i.IPs {
		if len(ips) == 64 {
			break
		}
		if a := net.ParseIP(ip); a != nil {
			ips = append(ips, a.String())
		} else if p, n, err := net.ParseCIDR(ip); err == nil {
			ones, _ := n.Mask.Size()
			ips = append(ips, fmt.Sprintf("%s/%d", p, ones))
		}
	}
	cut := func(s string, n int) string {
		if len(s) > n {
			return s[:n]
		}
		return s
	}
	return store.Inventory{Hostname: cut(i.Hostname, maxNameBytes), OS: cut(i.OS, maxShortBytes), Arch: cut(i.Arch, maxShortBytes),
		OSVersion: cut(i.OSVersion, maxNameBytes), IPs: ips, AgentVersion: cut(i.AgentVersion, maxShortBytes),
		Monitoring: cut(i.Monitoring, maxShortBytes), BundleVersion: max(i.BundleVersion, 0)}
}

// sweepTargets reports whether sweep id targets host, caching the answers
// of one batch.
func (s *Server) sweepTargets(ctx context.Context, cache map[string]bool, id, host string) (bool, error) {
	if ok, seen := cache[id]; seen {
		return ok, nil
	}
	_, err := s.st.SweepHostState(ctx, id, host)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	cache[id] = err == nil
	return err == nil, nil
}
