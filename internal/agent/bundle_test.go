package agent

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mamori-dev/mamori/internal/scan"
	"github.com/mamori-dev/mamori/internal/wire"
)

func newBundle(version int64, name, yara string, hashes ...string) wire.Bundle {
	return wire.Bundle{Version: version, Name: name, YARA: yara, Hashes: hashes, SHA256: wire.BundleDigest(yara, hashes)}
}

const testRule = `rule planted_marker : demo { meta: severity = "high" strings: $a = "PLANTED-MARKER" condition: $a }`

func TestCompileBundleErrors(t *testing.T) {
	tests := []struct {
		name   string
		bundle wire.Bundle
		want   string
	}{
		{"tampered", func() wire.Bundle { b := newBundle(1, "x", "", "00"); b.Hashes = []string{"11"}; return b }(), "does not match sha256"},
		{"bad hash", newBundle(2, "x", "", "nothex"), "bundle 2: hashes[0]"},
		{"bad yara", newBundle(3, "x", "rule {"), "bundle 3: yara: bundle-3.yar:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compileBundle(tt.bundle)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestBundleFindings scans a tree with a bundle of a hash and a YARA rule and
// checks the findings the agent would queue.
func TestBundleFindings(t *testing.T) {
	dir := t.TempDir()
	hashed := []byte("known bad content\n")
	md := md5.Sum(hashed)
	sum := sha256.Sum256(hashed)
	marked := []byte("xx PLANTED-MARKER xx\n")
	msum := sha256.Sum256(marked)
	for name, b := range map[string][]byte{"bad.bin": hashed, "marked.txt": marked, "clean.txt": []byte("nothing")} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := compileBundle(newBundle(7, "incident-42", testRule, hex.EncodeToString(md[:])))
	if err != nil {
		t.Fatal(err)
	}
	var got []wire.Finding
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	_, err = scan.Run(context.Background(), []string{dir}, scan.Options{}, b.matchers, func(r scan.Record) {
		if !r.Finding() {
			return
		}
		f, err := toFinding(r, wire.SourceSweep, "sw1", b, now)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []wire.Finding{
		{Type: "ioc", Source: wire.SourceSweep, Rule: "incident-42", Indicator: "md5:" + hex.EncodeToString(md[:]),
			Path: filepath.Join(dir, "bad.bin"), SHA256: hex.EncodeToString(sum[:]), Size: int64(len(hashed)), SeenAt: now, SweepID: "sw1", BundleVersion: 7},
		{Type: "yara", Source: wire.SourceSweep, Rule: "planted_marker", Indicator: "planted_marker",
			Path: filepath.Join(dir, "marked.txt"), SHA256: hex.EncodeToString(msum[:]), Size: 21, SeenAt: now, SweepID: "sw1", BundleVersion: 7,
			Tags: []string{"demo"}, Meta: map[string]string{"severity": "high"}},
	}
	sortByPath := cmpopts.SortSlices(func(x, y wire.Finding) bool { return x.Path < y.Path })
	if d := cmp.Diff(got, want, sortByPath, cmpopts.IgnoreFields(wire.Finding{}, "ID", "Detail")); d != "" {
		t.Errorf("findings (-got +want):\n%s", d)
	}
	ids := map[string]bool{}
	for _, f := range got {
		if len(f.ID) != 32 || ids[f.ID] {
			t.Errorf("finding id %q not a fresh 128-bit hex id", f.ID)
		}
		ids[f.ID] = true
		if f.Detail["path"] != f.Path {
			t.Errorf("detail lost the record: %v", f.Detail)
		}
		// The same detection from another scan keeps its id; in another
		// sweep it is a new one.
		r := &scanRecordStub{kind: f.Type, detail: f.Detail}
		again, _ := toFinding(r, wire.SourceScheduled, "sw1", b, now.Add(time.Hour))
		other, _ := toFinding(r, wire.SourceScheduled, "sw2", b, now)
		if again.ID != f.ID || other.ID == f.ID {
			t.Errorf("id stability: first %s, again %s, other sweep %s", f.ID, again.ID, other.ID)
		}
	}
}

// scanRecordStub replays a record's JSON form.
type scanRecordStub struct {
	kind   string
	detail map[string]any
}

func (s *scanRecordStub) Kind() string                 { return s.kind }
func (s *scanRecordStub) Finding() bool                { return true }
func (s *scanRecordStub) Text() string                 { return "" }
func (s *scanRecordStub) MarshalJSON() ([]byte, error) { return json.Marshal(s.detail) }

func TestBundleCacheCompilesOnce(t *testing.T) {
	var bc bundleCache
	b1 := newBundle(1, "a", "", strings.Repeat("a", 64))
	c1, err := bc.get(b1)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := bc.get(b1)
	if again != c1 {
		t.Error("same bundle compiled twice")
	}
	for v := int64(2); v < bundleCacheSize+3; v++ {
		if _, err := bc.get(newBundle(v, "a", "", strings.Repeat("b", 63)+string(rune('0'+v%10)))); err != nil {
			t.Fatal(err)
		}
	}
	if len(bc.entries) != bundleCacheSize {
		t.Errorf("cache holds %d bundles, want %d", len(bc.entries), bundleCacheSize)
	}
	if _, ok := bc.entries[bundleKey{b1.SHA256, b1.Version}]; ok {
		t.Error("oldest bundle not evicted")
	}
}
