package scan

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// ContentFree marks a matcher that never reads File.Data (hash and filename
// indicators). When every matcher is content-free the scanner streams files
// through the hashes with a small buffer instead of holding them whole.
type ContentFree interface {
	ContentFree()
}

// job is one regular file found by the walker.
type job struct {
	path string
	size int64
	// id is what the walker saw; the reader refuses a different file at
	// the same path (a directory swapped for a symlink after the walk).
	id    fileID
	hasID bool
	// root marks a file named on the command line: it is opened through a
	// symlink even without FollowSymlinks, as the walker stat'ed it.
	root bool
}

// Run scans roots with matchers and reports every record through emit,
// which is never called concurrently. It returns the summary (also the last
// record emitted). Problems with single files become error records; Run
// returns an error only for invalid options (before anything is read) and
// when ctx is cancelled.
func Run(ctx context.Context, roots []string, opts Options, matchers []Matcher, emit func(Record)) (SummaryRecord, error) {
	start := time.Now()
	for _, g := range opts.Exclude {
		if _, err := filepath.Match(g, ""); err != nil {
			return SummaryRecord{}, fmt.Errorf("exclude glob %q: %w", g, err)
		}
	}
	if opts.Threads <= 0 {
		opts.Threads = runtime.GOMAXPROCS(0)
	}
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	var need Digests
	buffered := false
	for _, m := range matchers {
		need |= m.Digests()
		if _, ok := m.(ContentFree); !ok {
			buffered = true
		}
	}

	var (
		mu    sync.Mutex
		sum   = SummaryRecord{Type: "summary"}
		stats counters
		// A deep queue lets the walker run far ahead of the readers, so
		// the progress line knows the total (and an ETA) early; 64Ki jobs
		// cost a few MiB.
		jobs     = make(chan job, 1<<16)
		walkDone = make(chan struct{})
	)
	out := func(r Record) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Kind() == "error":
			sum.Errors++
		case r.Finding():
			sum.Findings++
		}
		emit(r)
	}

	go func() {
		defer close(walkDone)
		defer close(jobs)
		w := walker{opts: opts, jobs: jobs, emit: out, stats: &stats}
		for _, root := range roots {
			if ctx.Err() != nil {
				return
			}
			w.walkRoot(ctx, root)
		}
	}()

	var wg sync.WaitGroup
	for range opts.Threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := reader{opts: opts, need: need, buffered: buffered}
			for j := range jobs {
				if ctx.Err() != nil {
					continue // drain so the walker can finish
				}
				r.scanFile(ctx, j, matchers, out, &stats)
			}
		}()
	}

	stopProgress := make(chan struct{})
	var progressDone sync.WaitGroup
	if opts.Progress != nil {
		progressDone.Add(1)
		go func() {
			defer progressDone.Done()
			t := time.NewTicker(250 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stopProgress:
					return
				case <-t.C:
					opts.Progress(stats.snapshot(start, walkDone))
				}
			}
		}()
	}

	wg.Wait()
	<-walkDone
	close(stopProgress)
	progressDone.Wait()

	sum.Files = stats.files.Load()
	sum.Bytes = stats.bytes.Load()
	sum.Seconds = time.Since(start).Seconds()
	out(&sum)
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("scan interrupted: %w", err)
	}
	return sum, nil
}

type counters struct {
	files, bytes             atomic.Int64
	queuedFiles, queuedBytes atomic.Int64
}

func (c *counters) snapshot(start time.Time, walkDone <-chan struct{}) Progress {
	p := Progress{
		Files:       c.files.Load(),
		Bytes:       c.bytes.Load(),
		QueuedFiles: c.queuedFiles.Load(),
		QueuedBytes: c.queuedBytes.Load(),
		Seconds:     time.Since(start).Seconds(),
	}
	select {
	case <-walkDone:
		p.WalkDone = true
	default:
	}
	return p
}

// reader is one worker's state; its buffers are reused across files.
type reader struct {
	opts     Options
	need     Digests
	buffered bool
	buf      []byte
	stream   []byte
}

// maxKeptBuffer bounds what a worker keeps between files, so one huge file
// does not pin its buffer for the rest of the scan.
const maxKeptBuffer = 16 << 20

func (r *reader) scanFile(ctx context.Context, j job, matchers []Matcher, emit func(Record), stats *counters) {
	f, err := openPath(j.path, openFlags(!r.opts.FollowSymlinks && !j.root))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("vanished before it could be read: %w", err)
		}
		emit(NewError(j.path, err))
		return
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		emit(NewError(j.path, err))
		return
	}
	// The walker saw a regular file, but it may have been swapped for a
	// FIFO or device since; O_NONBLOCK kept the open from hanging.
	if !before.Mode().IsRegular() {
		emit(NewError(j.path, fmt.Errorf("no longer a regular file (%s)", before.Mode().Type())))
		return
	}

	if id, ok := idOf(before); ok && j.hasID && id != j.id {
		emit(NewError(j.path, errors.New("replaced between the walk and the read (a path component was swapped); not scanned")))
		return
	}

	file := File{Path: j.path, Size: before.Size()}
	hs := newHashes(r.need)
	content := r.buffered && before.Size() <= r.opts.MaxFileSize
	var n int64
	if content {
		file.Data, n, err = r.readAll(f, before.Size())
		if err == nil {
			hs.write(file.Data)
		}
	} else {
		if r.stream == nil {
			r.stream = make([]byte, 256<<10)
		}
		// Bounded by the size seen at open (plus one byte, to notice
		// growth): /proc files report size 0 yet never end, and a log
		// growing while it is read must not hold a worker forever.
		n, err = copyCtx(ctx, hs, io.LimitReader(f, before.Size()+1), r.stream)
	}
	stats.files.Add(1)
	stats.bytes.Add(n)
	if err != nil {
		emit(NewError(j.path, fmt.Errorf("read: %w", err)))
		return
	}
	hs.sum(&file)
	file.Size = n

	if after, err := f.Stat(); err != nil || after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) || n != before.Size() {
		emit(NewError(j.path, errors.New("changed while being read; results below reflect the bytes read")))
	} else if _, err := lstatPath(j.path); errors.Is(err, os.ErrNotExist) {
		emit(NewError(j.path, errors.New("removed while being read; results below reflect the bytes read")))
	}
	if r.buffered && !content {
		emit(NewError(j.path, fmt.Errorf("content not scanned: %d bytes exceeds --max-file-size %d; hashed only", n, r.opts.MaxFileSize)))
	}

	for _, m := range matchers {
		if err := m.Match(ctx, &file, emit); err != nil {
			emit(NewError(j.path, err))
		}
	}
	if cap(r.buf) > maxKeptBuffer {
		r.buf = nil
	}
}

// readAll reads the whole file into the worker's buffer. It reads one byte
// beyond the size seen at open so that growth is noticed, never more than
// MaxFileSize+1 bytes, which keeps memory bounded.
func (r *reader) readAll(f *os.File, size int64) ([]byte, int64, error) {
	want := int(size) + 1
	if cap(r.buf) < want {
		r.buf = make([]byte, want)
	}
	buf := r.buf[:want]
	n, err := io.ReadFull(f, buf)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	if int64(n) > r.opts.MaxFileSize {
		n = int(r.opts.MaxFileSize)
	}
	return buf[:n], int64(n), err
}

// copyCtx copies src to dst through buf, stopping when ctx is cancelled.
func copyCtx(ctx context.Context, dst io.Writer, src io.Reader, buf []byte) (int64, error) {
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, err := src.Read(buf)
		if k > 0 {
			dst.Write(buf[:k])
			n += int64(k)
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

type hashes struct {
	sha256, md5, sha1 hash.Hash
	all               []hash.Hash
}

func newHashes(need Digests) *hashes {
	h := &hashes{sha256: sha256.New()}
	h.all = append(h.all, h.sha256)
	if need&MD5 != 0 {
		h.md5 = md5.New()
		h.all = append(h.all, h.md5)
	}
	if need&SHA1 != 0 {
		h.sha1 = sha1.New()
		h.all = append(h.all, h.sha1)
	}
	return h
}

func (h *hashes) Write(p []byte) (int, error) {
	h.write(p)
	return len(p), nil
}

func (h *hashes) write(p []byte) {
	for _, x := range h.all {
		x.Write(p)
	}
}

func (h *hashes) sum(f *File) {
	f.SHA256 = hex.EncodeToString(h.sha256.Sum(nil))
	if h.md5 != nil {
		f.MD5 = hex.EncodeToString(h.md5.Sum(nil))
	}
	if h.sha1 != nil {
		f.SHA1 = hex.EncodeToString(h.sha1.Sum(nil))
	}
}

// absClean makes a root absolute so every record names an absolute path.
func absClean(p string) (string, error) {
	a, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return a, nil
}
