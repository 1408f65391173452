package evtx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/mamori-dev/mamori/internal/logevent"
)

const (
	chunkHeaderSize  = 512
	recordHeaderSize = 24
)

var recordMagic = []byte{0x2a, 0x2a, 0, 0}

// chunk decodes one 64 KiB chunk; it is reused from chunk to chunk so its
// caches keep their memory.
type chunk struct {
	name string
	d    decoder
}

func newChunk(name string) *chunk {
	return &chunk{name: name, d: decoder{names: map[uint32]string{}, templates: map[uint32]*template{}}}
}

// read decodes the records of buf (the chunk at file offset off) and calls
// fn for each; only fn's error is returned.
func (c *chunk) read(buf []byte, off int64, fn func(*Record) error, onErr func(error)) error {
	if bytes.Equal(buf[:8], make([]byte, 8)) {
		return nil // never used (files are allocated ahead)
	}
	if !bytes.HasPrefix(buf, chunkMagic) {
		onErr(&Error{File: c.name, Offset: off, Err: errors.New("chunk without ElfChnk signature")})
		return nil
	}
	le := binary.LittleEndian
	free := le.Uint32(buf[48:])
	if free < chunkHeaderSize || free > chunkSize {
		onErr(&Error{File: c.name, Offset: off, Err: fmt.Errorf("chunk free space offset %d out of range", free)})
		free = chunkSize
	}
	h := crc32.ChecksumIEEE(buf[:120])
	h = crc32.Update(h, crc32.IEEETable, buf[128:chunkHeaderSize])
	if h != le.Uint32(buf[124:]) {
		onErr(&Error{File: c.name, Offset: off, Err: fmt.Errorf("chunk header checksum %08x, stored %08x", h, le.Uint32(buf[124:]))})
	}
	if got, want := crc32.ChecksumIEEE(buf[chunkHeaderSize:free]), le.Uint32(buf[52:]); got != want {
		// Records are still each checked for structure and decoded in
		// full; the damage is reported once for the chunk.
		onErr(&Error{File: c.name, Offset: off, Err: fmt.Errorf("chunk records checksum %08x, stored %08x", got, want)})
	}
	c.d.reset(buf)
	pos := uint32(chunkHeaderSize)
	for pos+recordHeaderSize+4 <= free {
		if !bytes.Equal(buf[pos:pos+4], recordMagic) {
			next := c.resync(pos+1, free)
			if next == free && allZero(buf[pos:free]) {
				break // slack after the last record
			}
			onErr(&Error{File: c.name, Offset: off + int64(pos), Err: fmt.Errorf("no record signature; %d bytes skipped", next-pos)})
			pos = next
			continue
		}
		size := le.Uint32(buf[pos+4:])
		if size < recordHeaderSize+4 || pos+size > free || le.Uint32(buf[pos+size-4:]) != size {
			next := c.resync(pos+4, free)
			onErr(&Error{File: c.name, Offset: off + int64(pos), Err: fmt.Errorf("record size %d inconsistent; %d bytes skipped", size, next-pos)})
			pos = next
			continue
		}
		root, err := c.d.document(pos+recordHeaderSize, pos+size-4)
		if err != nil {
			onErr(&Error{File: c.name, Offset: off + int64(pos), Err: fmt.Errorf("record %d: %w", le.Uint64(buf[pos+8:]), err)})
		} else {
			rec := &Record{ID: le.Uint64(buf[pos+8:]), Written: filetime(le.Uint64(buf[pos+16:])),
				Offset: off + int64(pos), Root: root}
			if err := fn(rec); err != nil {
				return err
			}
		}
		pos += size
	}
	return nil
}

// resync finds the next plausible record start at or after pos: a
// signature whose size is echoed at the record's end.
func (c *chunk) resync(pos, free uint32) uint32 {
	buf := c.d.b
	for pos+recordHeaderSize+4 <= free {
		i := bytes.Index(buf[pos:free], recordMagic)
		if i < 0 {
			break
		}
		p := pos + uint32(i)
		if p+8 <= free {
			size := binary.LittleEndian.Uint32(buf[p+4:])
			if size >= recordHeaderSize+4 && p+size <= free && binary.LittleEndian.Uint32(buf[p+size-4:]) == size {
				return p
			}
		}
		pos = p + 1
	}
	return free
}

// Record is one decoded event record.
type Record struct {
	ID      uint64    // record number from the record header
	Written time.Time // the record header's written time
	Offset  int64     // byte offset of the record in the file
	Root    *Element  // the Event element
}

// Event maps the record (see the package doc); source names the file.
func (r *Record) Event(source string) *logevent.Event {
	e := toEvent(r.Root)
	e.Source = source
	e.Offset = r.Offset
	if e.RecordID == 0 {
		e.RecordID = r.ID
	}
	if e.Time.IsZero() {
		e.Time = r.Written
	}
	return e
}

// filetime converts 100 ns ticks since 1601 to UTC.
func filetime(ft uint64) time.Time {
	if ft == 0 {
		return time.Time{}
	}
	const epochDiff = 116444736000000000 // 1601-01-01 to 1970-01-01 in 100 ns
	if ft < epochDiff {
		return time.Unix(0, 0).UTC().Add(-time.Duration(epochDiff-ft) * 100)
	}
	t := ft - epochDiff
	return time.Unix(int64(t/10000000), int64(t%10000000)*100).UTC()
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
