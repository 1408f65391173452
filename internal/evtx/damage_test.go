package evtx_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mamori-dev/mamori/internal/evtx"
)

// TestDamage damages a written file in the ways disks and copies do and
// checks that each damage is reported with its offset and that every
// undamaged record is still read.
func TestDamage(t *testing.T) {
	const n = 300
	clean, err := os.ReadFile(writeCorpus(t, corpusRecords(t), n))
	if err != nil {
		t.Fatal(err)
	}
	chunk := func(i int) int { return 4096 + 65536*i }
	// firstRecord returns the offset and size of chunk i's first record.
	firstRecord := func(b []byte, i int) (int, int) {
		off := chunk(i) + 512
		return off, int(binary.LittleEndian.Uint32(b[off+4:]))
	}
	recordsIn := func(b []byte, i int) int {
		le := binary.LittleEndian
		return int(le.Uint64(b[chunk(i)+16:]) - le.Uint64(b[chunk(i)+8:]) + 1)
	}
	tests := []struct {
		name     string
		damage   func(b []byte) []byte
		wantErrs []string // substrings, in order, each with the offset
		lost     func(b []byte) int
	}{
		{"flipped byte in a string", func(b []byte) []byte {
			off, size := firstRecord(b, 2)
			b[off+size-40] ^= 0x01
			return b
		}, []string{fmt.Sprintf("offset %d: chunk records checksum", chunk(2))}, func([]byte) int { return 0 }},
		{"record size", func(b []byte) []byte {
			off, _ := firstRecord(b, 3)
			b[off+4] ^= 0xff
			return b
		}, []string{
			fmt.Sprintf("offset %d: chunk records checksum", chunk(3)),
			fmt.Sprintf("offset %d: record size", chunk(3)+512),
		}, func([]byte) int { return 1 }},
		{"binary XML token", func(b []byte) []byte {
			off, _ := firstRecord(b, 1)
			b[off+24+4] = 0xff // the template instance token
			return b
		}, []string{
			fmt.Sprintf("offset %d: chunk records checksum", chunk(1)),
			fmt.Sprintf("offset %d: record ", chunk(1)+512),
		}, func([]byte) int { return 1 }},
		{"chunk signature", func(b []byte) []byte {
			copy(b[chunk(4):], "XXXXXXXX")
			return b
		}, []string{fmt.Sprintf("offset %d: chunk without ElfChnk signature", chunk(4))},
			func(b []byte) int { return recordsIn(b, 4) }},
		{"file header", func(b []byte) []byte {
			copy(b, "XXXXXXXX")
			return b
		}, []string{"offset 0: not an EVTX file"}, func([]byte) int { return 0 }},
		{"truncated", func(b []byte) []byte {
			return b[:chunk(5)+30000]
		}, []string{fmt.Sprintf("offset %d: chunk truncated", chunk(5))},
			func(b []byte) int {
				lost := 0
				for i := 5; chunk(i) < len(b); i++ {
					lost += recordsIn(b, i)
				}
				return lost
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.damage(append([]byte(nil), clean...))
			want := n - tt.lost(clean)
			path := filepath.Join(t.TempDir(), "damaged.evtx")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			evs, errs := readEvents(t, path, false)
			if len(evs) != want {
				t.Errorf("read %d events, want %d", len(evs), want)
			}
			if len(errs) != len(tt.wantErrs) {
				t.Fatalf("errors %v, want %d matching %q", errs, len(tt.wantErrs), tt.wantErrs)
			}
			for i, err := range errs {
				var ee *evtx.Error
				if !errors.As(err, &ee) || ee.File != path || !strings.Contains(err.Error(), tt.wantErrs[i]) {
					t.Errorf("error %d = %v, want an *evtx.Error on %s containing %q", i, err, path, tt.wantErrs[i])
				}
			}
			par, perrs := readEvents(t, path, true)
			if len(par) != len(evs) || len(perrs) != len(errs) {
				t.Errorf("parallel: %d events %d errors, sequential %d and %d", len(par), len(perrs), len(evs), len(errs))
			}
		})
	}
}
