package audit

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeExport(t testing.TB, log []*Entry, cps [][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	x := NewExporter(&b, Header{Origin: "mamori-audit/test", PublicKey: "k", Size: int64(len(log)), ExportedAt: t0})
	for _, c := range cps {
		if err := x.Checkpoint(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range log {
		if err := x.Entry(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestExportVerifies(t *testing.T) {
	s, key := testKey(t, "mamori-audit/test")
	log := makeLog(t, 50)
	cps := [][]byte{sign(t, s, log, 10), sign(t, s, log, 50)}
	exp := writeExport(t, log, cps)

	h, res, err := VerifyExport(bytes.NewReader(exp), key)
	if err != nil {
		t.Fatal(err)
	}
	want, err := verify(key, log, cps)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(res, want); diff != "" {
		t.Errorf("result (-got +want):\n%s", diff)
	}
	if h.Size != 50 || h.Format != ExportFormat || !h.ExportedAt.Equal(t0) {
		t.Errorf("header %+v", h)
	}

	lines := strings.SplitAfter(string(exp), "\n")
	if got := strings.Count(string(exp), "\n"); got != 1+2+50 {
		t.Fatalf("%d lines, want 53", got)
	}
	edit := func(line int, old, new string) string {
		l := append([]string(nil), lines...)
		if !strings.Contains(l[line], old) {
			t.Fatalf("line %d has no %q: %s", line+1, old, l[line])
		}
		l[line] = strings.Replace(l[line], old, new, 1)
		return strings.Join(l, "")
	}
	drop := func(line int) string {
		l := append([]string(nil), lines...)
		return strings.Join(append(l[:line], l[line+1:]...), "")
	}
	for _, tc := range []struct {
		name, export string
		wantProblem  *Problem
		wantErr      string
	}{
		{name: "changed actor", export: edit(3+7, `"actor":"alice"`, `"actor":"alicf"`),
			wantProblem: &Problem{Index: 7, ID: log[7].ID, Checkpoint: -1}},
		{name: "deleted entry", export: drop(3 + 7), wantProblem: &Problem{Index: 7, Checkpoint: -1}},
		{name: "deleted checkpoint and tail", export: strings.Join(append(append([]string(nil), lines[:2]...), lines[3:3+40]...), ""),
			wantErr: "the header announces 50 entries, the export holds 40"},
		{name: "truncated tail", export: strings.Join(lines[:3+40], ""), wantProblem: &Problem{Index: 40, Checkpoint: 1}},
		{name: "bad json", export: edit(3+2, `{"type"`, `{"type`), wantErr: "export line 6:"},
		{name: "unknown field", export: edit(3+2, `"actor"`, `"actress"`), wantErr: `export line 6: json: unknown field "actress"`},
		{name: "checkpoint after entries", export: strings.Join(append(append([]string(nil), lines...), lines[1]), ""),
			wantErr: "export line 54: checkpoint after the first entry"},
		{name: "no header", export: drop(0), wantErr: "export line 1: want a header"},
		{name: "other format", export: edit(0, ExportFormat, "x/2"), wantErr: `format "x/2"`},
		{name: "unknown type", export: edit(3, `"type":"entry"`, `"type":"leaf"`), wantErr: `export line 4: unknown type "leaf"`},
		{name: "empty", export: "", wantErr: "export: empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := VerifyExport(strings.NewReader(tc.export), key)
			if tc.wantProblem != nil {
				var p *Problem
				if !errors.As(err, &p) {
					t.Fatalf("verify: %v, want a problem", err)
				}
				got := *p
				got.What = ""
				if diff := cmp.Diff(got, *tc.wantProblem); diff != "" {
					t.Errorf("problem %q (-got +want):\n%s", p, diff)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("verify: %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestExportWithoutEntries(t *testing.T) {
	_, key := testKey(t, "mamori-audit/test")
	_, res, err := VerifyExport(bytes.NewReader(writeExport(t, nil, nil)), key)
	if err != nil {
		t.Fatal(err)
	}
	if res.Size != 0 || res.Root != (Hash{0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55}) {
		t.Errorf("empty export: %+v", res)
	}
}

func FuzzVerifyExport(f *testing.F) {
	s, key := testKey(f, "mamori-audit/test")
	log := makeLog(f, 3)
	f.Add(writeExport(f, log, [][]byte{sign(f, s, log, 2)}))
	f.Add(writeExport(f, nil, nil))
	f.Add([]byte(`{"type":"header","format":"mamori-audit-export/1"}` + "\n" + `{"type":"checkpoint","note":"x"}` + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		VerifyExport(bytes.NewReader(b), key)
	})
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte("mamori-audit/x\n12\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\ntime 2026-11-29T12:00:00.000Z\n"))
	f.Add([]byte("o\n0\n\ntime \n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCheckpoint(b)
		if err != nil {
			return
		}
		// What parses re-encodes to a body that parses to the same.
		c2, err := ParseCheckpoint(c.Body())
		if err != nil {
			t.Fatalf("re-encoded %q: %v", c.Body(), err)
		}
		if diff := cmp.Diff(c2, c); diff != "" {
			t.Errorf("round trip (-got +want):\n%s", diff)
		}
	})
}

// BenchmarkVerify1M verifies a log of 10^6 entries (hashing every entry,
// chaining and building the tree, with a checkpoint every 10^5 entries);
// the goal is under 10 s. Building the log is not timed.
func BenchmarkVerify1M(b *testing.B) {
	const n = 1_000_000
	s, key := testKey(b, "mamori-audit/bench")
	log := makeLog(b, n)
	var tr Tree
	var cps [][]byte
	for i, e := range log {
		tr.Append(e.Hash)
		if (i+1)%100_000 == 0 {
			root, _ := tr.Root(int64(i + 1))
			msg, err := Sign(Checkpoint{Origin: s.Name(), Size: int64(i + 1), Root: root, Time: t0}, s)
			if err != nil {
				b.Fatal(err)
			}
			cps = append(cps, msg)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := verify(key, log, cps)
		if err != nil || res.Size != n {
			b.Fatal(res, err)
		}
	}
	b.ReportMetric(float64(n), "entries/op")
}
