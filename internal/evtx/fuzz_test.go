package evtx

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/mamori-dev/mamori/internal/logevent"
)

// seedFiles adds a few regression files when the corpus is there; the
// fuzzers also start from a minimal hand-made record.
func seedFiles(f *testing.F, add func([]byte)) {
	paths, _ := filepath.Glob("../../../shared/corpus/sigma/regression_data/rules/windows/*/*/*.evtx")
	for i, p := range paths {
		if i%20 != 0 {
			continue
		}
		if b, err := os.ReadFile(p); err == nil {
			add(b)
		}
	}
}

// minimalRecord is binary XML for <Event><System><EventID>4624</EventID>
// </System></Event> as a template instance with one substitution.
func minimalRecord() []byte {
	return []byte{
		0x0f, 1, 1, 0, 0x0c, 1, 0, 0, 0, 0, 0x0e, 0x02, 0, 0, // instance; definition inline at 526
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x3b, 0, 0, 0,
		0x0f, 1, 1, 0,
		0x01, 0xff, 0xff, 0x36, 0, 0, 0, 0x35, 0x02, 0, 0, // <Event>, name inline at 565
		0, 0, 0, 0, 0, 0, 1, 0, 'E', 0, 0, 0,
		0x02,
		0x01, 0xff, 0xff, 0x17, 0, 0, 0, 0x4d, 0x02, 0, 0, // <EventID>, name inline at 589
		0, 0, 0, 0, 0, 0, 1, 0, 'I', 0, 0, 0,
		0x02, 0x0d, 0, 0, 0x06, 0x04, // substitution 0 (UInt16), </EventID>
		0x04, 0x00, // </Event>, end of template
		1, 0, 0, 0, 2, 0, 0x06, 0, 0x10, 0x12, 0x00, // one value: 4624
	}
}

// decodeAt512 decodes binary XML placed right after a chunk header, where
// the offsets inside it point.
func decodeAt512(data []byte) (*Element, error) {
	buf := make([]byte, chunkHeaderSize+len(data))
	copy(buf[chunkHeaderSize:], data)
	d := decoder{names: map[uint32]string{}, templates: map[uint32]*template{}}
	d.reset(buf)
	return d.document(chunkHeaderSize, uint32(len(buf)))
}

// directRecord is <E>abc</E> written directly, without a template: its
// element start has no dependency identifier, and its inline name's first
// bytes are zero (which fooled a guess by name offset alone).
func directRecord() []byte {
	return []byte{
		0x0f, 1, 1, 0,
		0x01, 0x20, 0, 0, 0, 0x0d, 0x02, 0, 0, // <E>, name inline at 525
		0, 0, 0, 0, 0, 0, 1, 0, 'E', 0, 0, 0,
		0x02, 0x05, 0x01, 3, 0, 'a', 0, 'b', 0, 'c', 0,
		0x04, 0x00,
	}
}

func TestDirectRecord(t *testing.T) {
	root, err := decodeAt512(directRecord())
	if err != nil {
		t.Fatal(err)
	}
	if root.Name != "E" || root.Value() != "abc" {
		t.Errorf("decoded %+v, want <E>abc</E>", root)
	}
	// The same with a UInt32 value token instead of the string.
	b := directRecord()
	b = append(append(b[:26:26], 0x05, 0x08, 0x10, 0x12, 0, 0), 0x04, 0x00)
	root, err = decodeAt512(b)
	if err != nil {
		t.Fatal(err)
	}
	if root.Value() != int64(4624) {
		t.Errorf("decoded %+v, want <E>4624</E>", root)
	}
}

func TestMinimalRecord(t *testing.T) {
	root, err := decodeAt512(minimalRecord())
	if err != nil {
		t.Fatal(err)
	}
	e := root.Kid("I")
	if root.Name != "E" || e == nil || e.Value() != int64(4624) {
		t.Errorf("decoded %+v, want <E><I>4624</I></E>", root)
	}
}

func FuzzBinXML(f *testing.F) {
	f.Add(minimalRecord())
	f.Add(directRecord())
	seedFiles(f, func(b []byte) {
		if len(b) >= fileHeaderSize+chunkSize {
			c := b[fileHeaderSize : fileHeaderSize+chunkSize]
			free := binary.LittleEndian.Uint32(c[48:])
			if free > chunkHeaderSize+recordHeaderSize && free <= chunkSize {
				f.Add(c[chunkHeaderSize+recordHeaderSize : free])
			}
		}
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > chunkSize-chunkHeaderSize {
			return
		}
		root, err := decodeAt512(data)
		if err == nil {
			toEvent(root)
		}
	})
}

// FuzzReader reads a file whose last chunk the fuzzer writes only up to
// its used part (the rest is zeros, as in real files), to keep inputs small.
func FuzzReader(f *testing.F) {
	seedFiles(f, func(b []byte) {
		if len(b) >= fileHeaderSize+chunkSize {
			free := binary.LittleEndian.Uint32(b[fileHeaderSize+48:])
			if free <= chunkSize {
				f.Add(b[:fileHeaderSize+int(free)])
			}
		}
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		if n := len(data) - fileHeaderSize; n > 0 && n%chunkSize != 0 {
			// A copy: the fuzzer's input must not be written to.
			data = append(bytes.Clone(data), make([]byte, chunkSize-n%chunkSize)...)
		}
		err := Stream(context.Background(), bytes.NewReader(data), "fuzz", func(e *logevent.Event) error {
			if e.Fields == nil || e.Offset < fileHeaderSize || e.Offset >= int64(len(data)) {
				t.Fatalf("event out of the input: %+v", e)
			}
			return nil
		}, func(err error) {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error not an *Error: %v", err)
			}
		})
		if err != nil && len(data) >= 128 && bytes.HasPrefix(data, fileMagic) {
			t.Fatalf("EVTX input refused: %v", err)
		}
	})
}
