package evtx

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"sync"

	"github.com/mamori-dev/mamori/internal/logevent"
)

const (
	fileHeaderSize = 4096
	chunkSize      = 65536
)

var (
	fileMagic  = []byte("ElfFile\x00")
	chunkMagic = []byte("ElfChnk\x00")
)

// Error reports a damaged part of a file: reading went on after it.
type Error struct {
	File   string
	Offset int64 // byte offset of the damaged chunk or record in File
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("%s: offset %d: %v", e.File, e.Offset, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// Header is the file header's content.
type Header struct {
	FirstChunk, LastChunk uint64
	NextRecordID          uint64
	MinorVersion          uint16
	MajorVersion          uint16
	ChunkCount            uint16
	Flags                 uint32 // 1 dirty, 2 full
}

// File is an EVTX file opened for random access.
type File struct {
	Name   string
	Header Header
	r      io.ReaderAt
	size   int64
	// headerErr is a damaged file header, reported on the first read.
	headerErr error
}

// Open reads the file header. name is used in errors only. A file header
// with a bad checksum is reported through the first read's onErr; a file
// that is not EVTX at all is an error here.
func Open(r io.ReaderAt, size int64, name string) (*File, error) {
	var hdr [fileHeaderSize]byte
	n, err := r.ReadAt(hdr[:], 0)
	if n < 128 {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%s: evtx header: %w", name, err)
	}
	f := &File{Name: name, r: r, size: size}
	f.Header, f.headerErr = parseFileHeader(hdr[:n])
	if f.headerErr != nil && !isEVTX(r, hdr[:n]) {
		return nil, fmt.Errorf("%s: %w", name, f.headerErr)
	}
	return f, nil
}

// isEVTX tells an EVTX file with a damaged header (its first chunk is
// still there) from something else.
func isEVTX(r io.ReaderAt, hdr []byte) bool {
	if bytes.HasPrefix(hdr, fileMagic) {
		return true
	}
	var sig [8]byte
	_, err := r.ReadAt(sig[:], fileHeaderSize)
	return err == nil && bytes.Equal(sig[:], chunkMagic)
}

func parseFileHeader(b []byte) (Header, error) {
	if !bytes.HasPrefix(b, fileMagic) {
		return Header{}, errors.New("not an EVTX file (no ElfFile signature)")
	}
	le := binary.LittleEndian
	h := Header{
		FirstChunk:   le.Uint64(b[8:]),
		LastChunk:    le.Uint64(b[16:]),
		NextRecordID: le.Uint64(b[24:]),
		MinorVersion: le.Uint16(b[36:]),
		MajorVersion: le.Uint16(b[38:]),
		ChunkCount:   le.Uint16(b[42:]),
		Flags:        le.Uint32(b[120:]),
	}
	if got, want := crc32.ChecksumIEEE(b[:120]), le.Uint32(b[124:]); got != want {
		return h, fmt.Errorf("file header checksum %08x, stored %08x", got, want)
	}
	return h, nil
}

// Events calls fn for every record in file order. Damaged chunks and
// records go to onErr as *Error; fn's error stops reading and is returned.
func (f *File) Events(ctx context.Context, fn func(*logevent.Event) error, onErr func(error)) error {
	return Stream(ctx, io.NewSectionReader(f.r, 0, f.size), f.Name, fn, onErr)
}

// Records is Events with the decoded records themselves.
func (f *File) Records(ctx context.Context, fn func(*Record) error, onErr func(error)) error {
	return StreamRecords(ctx, io.NewSectionReader(f.r, 0, f.size), f.Name, fn, onErr)
}

// Stream reads an EVTX file sequentially from r (a decompressing reader,
// an archive member), one chunk in memory at a time.
func Stream(ctx context.Context, r io.Reader, name string, fn func(*logevent.Event) error, onErr func(error)) error {
	return StreamRecords(ctx, r, name, func(rec *Record) error { return fn(rec.Event(name)) }, onErr)
}

// StreamRecords is Stream with the decoded records themselves.
func StreamRecords(ctx context.Context, r io.Reader, name string, fn func(*Record) error, onErr func(error)) error {
	hdr := make([]byte, fileHeaderSize)
	n, err := io.ReadFull(r, hdr)
	if n < 128 {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("%s: evtx header: %w", name, err)
	}
	if n < fileHeaderSize {
		if _, err := parseFileHeader(hdr[:n]); err != nil {
			if !bytes.HasPrefix(hdr, fileMagic) {
				return fmt.Errorf("%s: %w", name, err)
			}
			onErr(&Error{File: name, Offset: 0, Err: err})
		}
		onErr(&Error{File: name, Offset: int64(n), Err: fmt.Errorf("file truncated to %d bytes, inside its header", n)})
		return nil
	}
	c := newChunk(name)
	buf := make([]byte, chunkSize)
	n, _ = io.ReadFull(r, buf)
	if _, err := parseFileHeader(hdr); err != nil {
		if !bytes.HasPrefix(hdr, fileMagic) && !bytes.HasPrefix(buf[:n], chunkMagic) {
			return fmt.Errorf("%s: %w", name, err)
		}
		onErr(&Error{File: name, Offset: 0, Err: err})
	}
	for off := int64(fileHeaderSize); ; off += chunkSize {
		if err := ctx.Err(); err != nil {
			return err
		}
		if off > fileHeaderSize {
			n, _ = io.ReadFull(r, buf)
		}
		if n == 0 {
			return nil
		}
		if n < chunkSize {
			onErr(&Error{File: name, Offset: off, Err: fmt.Errorf("chunk truncated to %d bytes", n)})
			return nil
		}
		if err := c.read(buf, off, fn, onErr); err != nil {
			return err
		}
	}
}

// ParallelEvents reads the chunks on workers goroutines (GOMAXPROCS when
// workers <= 0). Events of one chunk arrive in order, chunks in any order;
// fn is never called concurrently. Memory holds about two chunks per worker.
func (f *File) ParallelEvents(ctx context.Context, workers int, fn func(*logevent.Event) error, onErr func(error)) error {
	if f.headerErr != nil {
		onErr(&Error{File: f.Name, Offset: 0, Err: f.headerErr})
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	nchunks := (f.size - fileHeaderSize) / chunkSize
	if rest := (f.size - fileHeaderSize) % chunkSize; rest > 0 {
		onErr(&Error{File: f.Name, Offset: fileHeaderSize + nchunks*chunkSize, Err: fmt.Errorf("chunk truncated to %d bytes", rest)})
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Each worker decodes one chunk into a batch; a single goroutine (this
	// one) hands batches to fn so fn needs no locking.
	type batch struct {
		events []*logevent.Event
		errs   []error
	}
	next := make(chan int64)
	out := make(chan batch, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newChunk(f.Name)
			buf := make([]byte, chunkSize)
			for off := range next {
				var b batch
				if _, err := f.r.ReadAt(buf, off); err != nil {
					b.errs = append(b.errs, &Error{File: f.Name, Offset: off, Err: err})
				} else {
					_ = c.read(buf, off, func(r *Record) error {
						b.events = append(b.events, r.Event(f.Name))
						return nil
					}, func(err error) { b.errs = append(b.errs, err) })
				}
				select {
				case out <- b:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(next)
		for i := range nchunks {
			select {
			case next <- fileHeaderSize + i*chunkSize:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(out) }()
	var ferr error
	for b := range out {
		if ferr != nil {
			continue
		}
		for _, err := range b.errs {
			onErr(err)
		}
		for _, e := range b.events {
			if err := fn(e); err != nil {
				ferr = err
				cancel()
				break
			}
		}
	}
	if ferr != nil {
		return ferr
	}
	return ctx.Err()
}
