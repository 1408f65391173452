package audit

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// testKey returns a fresh signing key named name.
func testKey(t testing.TB, name string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// makeLog appends n entries the way the store does.
func makeLog(t testing.TB, n int) []*Entry {
	t.Helper()
	var log []*Entry
	var prev Hash
	for i := range n {
		e := &Entry{
			Time:      t0.Add(time.Duration(i) * time.Second),
			Actor:     "alice",
			Role:      "responder",
			Action:    "host.isolate",
			Target:    fmt.Sprintf("h-%04x", i),
			Reason:    "ransomware note found",
			RequestID: fmt.Sprintf("r-%d", i),
			Result:    ResultOK,
			Detail:    `{"from":"normal","to":"isolated"}`,
			ID:        fmt.Sprintf("a-%016x", i),
		}
		if err := e.Seal(int64(i), prev); err != nil {
			t.Fatal(err)
		}
		prev = e.Hash
		log = append(log, e)
	}
	return log
}

// sign signs a checkpoint of the first size entries of log.
func sign(t testing.TB, s note.Signer, log []*Entry, size int) []byte {
	t.Helper()
	var tr Tree
	for _, e := range log[:size] {
		tr.Append(e.Hash)
	}
	root, err := tr.Root(int64(size))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := Sign(Checkpoint{Origin: s.Name(), Size: int64(size), Root: root, Time: t0}, s)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func verify(key note.Verifier, log []*Entry, cps [][]byte) (Result, error) {
	v, err := NewVerifier(key, cps)
	if err != nil {
		return Result{}, err
	}
	for _, e := range log {
		if err := v.Add(e); err != nil {
			return Result{}, err
		}
	}
	return v.Finish()
}

func TestLeafDataGolden(t *testing.T) {
	e := &Entry{
		Time: time.Date(2026, 11, 29, 21, 3, 4, 567_891_000, time.FixedZone("JST", 9*3600)),
		ID:   "a-0123456789abcdef", Actor: "alice", Role: "responder", Action: "incident.state",
		Target: "i-00ff", Reason: "host isolated\nline two: 東京", RequestID: "r-1",
		Result: "409 open → notifying is not allowed", Detail: `{"from":"open"}`,
	}
	prev := tlog.RecordHash([]byte("previous"))
	if err := e.Seal(7, prev); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "leaf.golden")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, e.LeafData(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(e.LeafData()), string(want)); diff != "" {
		t.Errorf("leaf data (-got +want):\n%s", diff)
	}
	if got, want := e.Hash, tlog.RecordHash(want); got != want {
		t.Errorf("hash %v, want %v", got, want)
	}
	// Time is kept to the millisecond in UTC.
	if got, want := e.Time, time.Date(2026, 11, 29, 12, 3, 4, 567_000_000, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("time %v, want %v", got, want)
	}
}

func TestSealRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		e     Entry
		index int64
	}{
		{"no action", Entry{Time: t0}, 0},
		{"no time", Entry{Action: "x"}, 0},
		{"negative index", Entry{Action: "x", Time: t0}, -1},
	} {
		if err := tc.e.Seal(tc.index, Hash{}); err == nil {
			t.Errorf("%s: sealed", tc.name)
		}
	}
}

// Every field is covered by the hash.
func TestLeafCoversEveryField(t *testing.T) {
	base := makeLog(t, 1)[0]
	edits := map[string]func(e *Entry){
		"index":      func(e *Entry) { e.Index++ },
		"id":         func(e *Entry) { e.ID += "0" },
		"time":       func(e *Entry) { e.Time = e.Time.Add(time.Millisecond) },
		"actor":      func(e *Entry) { e.Actor = "mallory" },
		"role":       func(e *Entry) { e.Role = "admin" },
		"action":     func(e *Entry) { e.Action = "host.release" },
		"target":     func(e *Entry) { e.Target = "h-ffff" },
		"reason":     func(e *Entry) { e.Reason = "" },
		"request_id": func(e *Entry) { e.RequestID = "r-x" },
		"result":     func(e *Entry) { e.Result = "403" },
		"detail":     func(e *Entry) { e.Detail = "{}" },
		"prev":       func(e *Entry) { e.Prev[0] ^= 1 },
		// Moving bytes from one field to its neighbour keeps the
		// concatenation but not the encoding.
		"shift": func(e *Entry) { e.Actor, e.Role = e.Actor+e.Role[:1], e.Role[1:] },
	}
	for name, edit := range edits {
		e := *base
		edit(&e)
		if e.LeafHash() == base.Hash {
			t.Errorf("%s: edit not covered by the leaf hash", name)
		}
	}
}

func TestTreeMatchesVerifierAndProofs(t *testing.T) {
	log := makeLog(t, 70)
	var tr Tree
	v, err := NewVerifier(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n <= len(log); n++ {
		root, err := tr.Root(int64(n))
		if err != nil {
			t.Fatal(err)
		}
		if got := v.root(); got != root {
			t.Fatalf("size %d: verifier root %v, tree root %v", n, got, root)
		}
		for i := 0; i < n; i++ {
			p, err := tr.InclusionProof(int64(i), int64(n))
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckInclusion(p, int64(n), root, int64(i), log[i].Hash); err != nil {
				t.Fatalf("inclusion %d in %d: %v", i, n, err)
			}
			if err := CheckInclusion(p, int64(n), root, int64(i), log[(i+1)%n].Hash); n > 1 && err == nil {
				t.Fatalf("inclusion %d in %d: wrong leaf accepted", i, n)
			}
			if i == 0 {
				continue
			}
			old, _ := tr.Root(int64(i))
			cp, err := tr.ConsistencyProof(int64(i), int64(n))
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckConsistency(cp, int64(i), old, int64(n), root); err != nil {
				t.Fatalf("consistency %d to %d: %v", i, n, err)
			}
			bad := old
			bad[0] ^= 1
			if err := CheckConsistency(cp, int64(i), bad, int64(n), root); err == nil {
				t.Fatalf("consistency %d to %d: wrong old root accepted", i, n)
			}
		}
		if n < len(log) {
			tr.Append(log[n].Hash)
			if err := v.Add(log[n]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := tr.Root(71); err == nil {
		t.Error("root beyond the size accepted")
	}
	if _, err := tr.InclusionProof(5, 5); err == nil {
		t.Error("inclusion of an entry beyond the tree accepted")
	}
	if _, err := tr.ConsistencyProof(0, 5); err == nil {
		t.Error("consistency from the empty tree accepted")
	}
}

func TestVerifyTampering(t *testing.T) {
	s, key := testKey(t, "mamori-audit/test")
	_, otherKey := testKey(t, "mamori-audit/test")
	other, _ := testKey(t, "mamori-audit/test")
	clean := makeLog(t, 20)
	cps := [][]byte{sign(t, s, clean, 8), sign(t, s, clean, 16)}

	rewriteFrom := func(log []*Entry, i int) {
		log[i].Reason = "nothing happened"
		prev := log[i].Prev
		for _, e := range log[i:] {
			e.Seal(e.Index, prev)
			prev = e.Hash
		}
	}
	for _, tc := range []struct {
		name   string
		tamper func(log []*Entry, cps [][]byte) ([]*Entry, [][]byte)
		key    note.Verifier
		want   *Problem // nil: verifies
	}{
		{name: "clean", tamper: func(l []*Entry, c [][]byte) ([]*Entry, [][]byte) { return l, c }},
		{
			name: "changed field",
			tamper: func(l []*Entry, c [][]byte) ([]*Entry, [][]byte) {
				l[5].Actor = "bob"
				return l, c
			},
			want: &Problem{Index: 5, ID: clean[5].ID, Checkpoint: -1},
		},
		{
			name: "changed field and its stored hash",
			tamper: func(l []*Entry, c [][]byte) ([]*Entry, [][]byte) {
				l[5].Actor = "bob"
				l[5].Hash = l[5].LeafHash()
				return l, c
			},
			want: &Problem{Index: 5, ID: clean[5].ID, Checkpoint: -1},
		},
		{
			name: "changed last entry and its stored hash, no checkpoint covers it",
			tamper: func(l []*Entry, c [][]byte) ([]*Entry, [][]byte) {
				l[19].Actor = "bob"
				l[19].Hash = l[19].LeafHash()
				return l, c
			},
		},
		{
			name:   "deleted entry",
			tamper: func(l []*Entry, c [][]byte) ([]*Entry, [][]byte) { return append(l[:5:5], l[6:]...), c },
			want:   &Problem{Index: 5, Checkpoint: -1},
		},
		{
			name:   "deleted first entry",
			tamper: func(l []*Entry, c [][]byte) ([]*Entry, [][]byte) { return l[1:], c },
			want:   &Problem{Index: 0, Checkpoint: -1},
		},
		{
			name: "deleted entry, later ones renumbered and rehashed",
			tamper: func(l []*Entry, c [][]byte) ([]*Entry, [][]byte) {
				l = append(l[:5:5], l[6:]...)
				for i, e := range l[5:] {
					e.Index = int64(5 + i)
					e.Hash = e.LeafHash()
				}
				return l, c
			},
			want: &Problem{Index: 4, ID: clean[4].ID, Checkpoint: -1},
		},
		{
			name:   "deleted tail covered by a checkpoint",
			tamper: func(l []*Entry, c [][]byte) ([]*Entry, [][]byte) { return l[:12], c },
			want:   &Problem{Index: 12, Checkpoint: 1},
		},
		{
			name:   "deleted tail after the last checkpoint",
			tamper: func(l []*Entry, c [][]byte) ([]*Entry, [][]byte) { return l[:17], c },
		},
		{
			name: "inserted entry",
			tamper: func(l []*Entry, c [][]byte) ([]*Entry, [][]byte) {
				x := *l[5]
				x.ID, x.Actor = "a-ffffffffffffffff", "mallory"
				x.Hash = x.LeafHash()
				return append(l[:6:6], append([]*Entry{&x}, l[6:]...)...), c
			},
			want: &Problem{Index: 5, ID: "a-ffffffffffffffff", Checkpoint: -1},
		},
		{
			name: "swapped entries",
			tamper: func(l []*Entry, c [][]byte) ([]*Entry, [][]byte) {
				l[5], l[6] = l[6], l[5]
				return l, c
			},
			want: &Problem{Index: 5, Checkpoint: -1},
		},
		{
			name: "swapped contents, indexes kept",
			tamper: func(l []*Entry, c [][]byte) ([]*Entry, [][]byte) {
				l[5].Index, l[6].Index = 6, 5
				l[5], l[6] = l[6], l[5]
				return l, c
			},
			want: &Problem{Index: 5, ID: clean[6].ID, Checkpoint: -1},
		},
		{
			name: "suffix rewritten consistently, caught by a checkpoint",
			tamper: func(l []*Entry, c [][]byte) ([]*Entry, [][]byte) {
				rewriteFrom(l, 10)
				return l, c
			},
			want: &Problem{Index: 8, ID: clean[8].ID, Checkpoint: 1},
		},
		{
			name: "suffix after the last checkpoint rewritten consistently",
			tamper: func(l []*Entry, c [][]byte) ([]*Entry, [][]byte) {
				rewriteFrom(l, 17)
				return l, c
			},
		},
		{
			name: "checkpoint signed by another key",
			tamper: func(l []*Entry, c [][]byte) ([]*Entry, [][]byte) {
				return l, append(c, sign(t, other, l, 12))
			},
			want: &Problem{Index: -1, Checkpoint: 2},
		},
		{
			name: "checkpoint body edited",
			tamper: func(l []*Entry, c [][]byte) ([]*Entry, [][]byte) {
				c[0] = bytes.Replace(c[0], []byte("\n8\n"), []byte("\n9\n"), 1)
				return l, c
			},
			want: &Problem{Index: -1, Checkpoint: 0},
		},
		{
			name: "two signed checkpoints of one size disagree",
			tamper: func(l []*Entry, c [][]byte) ([]*Entry, [][]byte) {
				forged := append([]*Entry(nil), l...)
				x := *forged[7]
				x.Actor = "mallory"
				x.Hash = x.LeafHash()
				forged[7] = &x
				return l, append(c, sign(t, s, forged, 8))
			},
			want: &Problem{Index: -1, Checkpoint: 1},
		},
		{name: "wrong public key", key: otherKey, want: &Problem{Index: -1, Checkpoint: 0},
			tamper: func(l []*Entry, c [][]byte) ([]*Entry, [][]byte) { return l, c }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := makeLog(t, 20)
			log, c := tc.tamper(log, append([][]byte(nil), cps...))
			k := key
			if tc.key != nil {
				k = tc.key
			}
			res, err := verify(k, log, c)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("verify: %v", err)
				}
				if res.Size != int64(len(log)) || res.Checkpoints != len(c) {
					t.Errorf("result %+v for %d entries", res, len(log))
				}
				return
			}
			var p *Problem
			if !errors.As(err, &p) {
				t.Fatalf("verify: %v, want a problem", err)
			}
			got := *p
			got.What = ""
			if diff := cmp.Diff(got, *tc.want); diff != "" {
				t.Errorf("problem %q (-got +want):\n%s", p, diff)
			}
			if p.What == "" || !strings.Contains(p.Error(), p.What) {
				t.Errorf("message %q", p)
			}
		})
	}
}

func TestVerifyCleanResult(t *testing.T) {
	s, key := testKey(t, "mamori-audit/test")
	log := makeLog(t, 33)
	res, err := verify(key, log, [][]byte{sign(t, s, log, 33), sign(t, s, log, 0), sign(t, s, log, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var tr Tree
	for _, e := range log {
		tr.Append(e.Hash)
	}
	root, _ := tr.Root(33)
	want := Result{Size: 33, Root: root, Checkpoints: 3, Latest: Checkpoint{Origin: "mamori-audit/test", Size: 33, Root: root, Time: t0}}
	if diff := cmp.Diff(res, want); diff != "" {
		t.Errorf("result (-got +want):\n%s", diff)
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	s, key := testKey(t, "mamori-audit/a")
	c := Checkpoint{Origin: "mamori-audit/a", Size: 1234, Root: tlog.RecordHash([]byte("x")), Time: t0.Add(123 * time.Millisecond)}
	msg, err := Sign(c, s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Open(msg, key)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, c); diff != "" {
		t.Errorf("checkpoint (-got +want):\n%s", diff)
	}
	if _, err := Sign(Checkpoint{Origin: "other", Time: t0}, s); err == nil {
		t.Error("signed a checkpoint for another origin")
	}
}

func TestParseCheckpointErrors(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"o\n1\nAAAA\ntime 2026-01-01T00:00:00Z", "final newline"},
		{"o\n1\n", "2 lines"},
		{"\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\ntime 2026-01-01T00:00:00Z\n", "empty origin"},
		{"o\n01\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\ntime 2026-01-01T00:00:00Z\n", "line 2"},
		{"o\n-1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\ntime 2026-01-01T00:00:00Z\n", "line 2"},
		{"o\n1\nAAAA\ntime 2026-01-01T00:00:00Z\n", "line 3"},
		{"o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nwhen 2026\n", "line 4"},
		{"o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\ntime yesterday\n", "line 4"},
	} {
		_, err := ParseCheckpoint([]byte(tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseCheckpoint(%q) = %v, want error containing %q", tc.body, err, tc.want)
		}
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadOrCreateKey(dir, "mamori-audit/x")
	if err != nil {
		t.Fatal(err)
	}
	for file, mode := range map[string]os.FileMode{KeyFile: 0o600, PublicKeyFile: 0o644} {
		fi, err := os.Stat(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", file, fi.Mode().Perm(), mode)
		}
	}
	k2, err := LoadOrCreateKey(dir, "ignored")
	if err != nil {
		t.Fatal(err)
	}
	if k1.Public != k2.Public || k2.Signer.Name() != "mamori-audit/x" {
		t.Errorf("reloaded key %q, want %q", k2.Public, k1.Public)
	}
	msg, err := Sign(Checkpoint{Origin: k2.Signer.Name(), Time: t0, Root: tlog.RecordHash(nil)}, k2.Signer)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(filepath.Join(dir, PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	v, err := ParsePublicKey(string(pub))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(msg, v); err != nil {
		t.Errorf("checkpoint signed with the reloaded key: %v", err)
	}
	// A public key that is not the signing key's half is refused.
	other := t.TempDir()
	if _, err := LoadOrCreateKey(other, "mamori-audit/x"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(other, PublicKeyFile))
	os.WriteFile(filepath.Join(dir, PublicKeyFile), b, 0o644)
	if _, err := LoadOrCreateKey(dir, ""); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatched key pair: %v", err)
	}
}
