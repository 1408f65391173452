package agent

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/mamori-dev/mamori/internal/ioc"
	"github.com/mamori-dev/mamori/internal/scan"
	"github.com/mamori-dev/mamori/internal/wire"
)

// compiled is a bundle ready to scan with. It is immutable and shared by
// scheduled, live, collector and sweep scans.
type compiled struct {
	version  int64
	name     string
	digest   string
	matchers []scan.Matcher
	hashes   *ioc.HashSet
}

// compileBundle verifies b against its digest and builds its matchers.
func compileBundle(b wire.Bundle) (*compiled, error) {
	if !b.Verify() {
		return nil, fmt.Errorf("bundle %d: content does not match sha256 %s", b.Version, b.SHA256)
	}
	c := &compiled{version: b.Version, name: b.Name, digest: b.SHA256, hashes: ioc.NewHashSet()}
	for i, h := range b.Hashes {
		if err := c.hashes.Add(h, b.Name); err != nil {
			return nil, fmt.Errorf("bundle %d: hashes[%d]: %w", b.Version, i, err)
		}
	}
	if c.hashes.Len() > 0 {
		c.matchers = append(c.matchers, c.hashes)
	}
	if b.YARA != "" {
		m, err := compileYARA(b.YARA, fmt.Sprintf("bundle-%d.yar", b.Version), b.Timeout())
		if err != nil {
			return nil, fmt.Errorf("bundle %d: yara: %w", b.Version, err)
		}
		c.matchers = append(c.matchers, m)
	}
	return c, nil
}

// bundleCache compiles each bundle once. Sweeps carry their own bundle,
// often the same content as the published one; the version is part of the
// key because findings carry it.
type bundleCache struct {
	mu      sync.Mutex
	entries map[bundleKey]*compiled
	order   []bundleKey
}

type bundleKey struct {
	digest  string
	version int64
}

const bundleCacheSize = 8

func (bc *bundleCache) get(b wire.Bundle) (*compiled, error) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	key := bundleKey{b.SHA256, b.Version}
	if c, ok := bc.entries[key]; ok {
		return c, nil
	}
	c, err := compileBundle(b)
	if err != nil {
		return nil, err
	}
	if bc.entries == nil {
		bc.entries = map[bundleKey]*compiled{}
	}
	bc.entries[key] = c
	bc.order = append(bc.order, key)
	if len(bc.order) > bundleCacheSize {
		delete(bc.entries, bc.order[0])
		bc.order = bc.order[1:]
	}
	return c, nil
}

// toFinding turns a scan record into a finding. The record's JSON is kept
// as Detail, and the fields every record kind shares are lifted out. The ID
// is derived from what was found (kind, rule, indicator, path, content
// digest, and the sweep): the same file matching the same rule is one
// detection however many scans see it, and the server's de-duplication
// makes re-sends and re-scans harmless.
func toFinding(r scan.Record, source, sweepID string, b *compiled, now time.Time) (wire.Finding, error) {
	raw, err := json.Marshal(r)
	if err != nil {
		return wire.Finding{}, fmt.Errorf("finding: %w", err)
	}
	var detail map[string]any
	if err := json.Unmarshal(raw, &detail); err != nil {
		return wire.Finding{}, fmt.Errorf("finding: %w", err)
	}
	delete(detail, "type")
	str := func(k string) string { s, _ := detail[k].(string); return s }
	f := wire.Finding{
		Type:      r.Kind(),
		Source:    source,
		Rule:      str("rule"),
		Indicator: str("indicator"),
		Path:      str("path"),
		SHA256:    str("sha256"),
		SeenAt:    now.UTC(),
		SweepID:   sweepID,
		Detail:    detail,
	}
	if n, ok := detail["size"].(float64); ok {
		f.Size = int64(n)
	}
	if f.Indicator == "" {
		f.Indicator = str("pattern")
	}
	if f.Indicator == "" && f.Rule != "" {
		f.Indicator = f.Rule
	}
	if b != nil {
		f.BundleVersion = b.version
		if f.Rule == "" {
			f.Rule = b.name
		}
	}
	if tags, ok := detail["tags"].([]any); ok {
		for _, t := range tags {
			if s, ok := t.(string); ok {
				f.Tags = append(f.Tags, s)
			}
		}
	}
	if meta, ok := detail["meta"].(map[string]any); ok && len(meta) > 0 {
		f.Meta = map[string]string{}
		for k, v := range meta {
			f.Meta[k] = fmt.Sprint(v)
		}
	}
	f.ID = findingID(f.Type, f.Rule, f.Indicator, idPath(f.Path, str("path_raw")), f.SHA256, sweepID)
	return f, nil
}

// idPath is the path a finding id is made from: the file name's own bytes
// where the record carries them (path_raw), so that two names differing
// only in bytes that are not UTF-8 stay two findings.
func idPath(path, raw string) string {
	if raw == "" {
		return path
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return path
	}
	return string(b)
}

// findingID hashes the identifying parts of a finding.
func findingID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
