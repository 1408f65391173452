package hunt

import (
	"bufio"
	"container/heap"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
)

// hitStore keeps a worker's hits in memory up to hitRunBytes, then sorts
// them and spills them to a temporary file as a run; EachHit merges the
// runs. A dense multi-GB input yields millions of hits, which must not all
// sit in memory to be written in time order.
type hitStore struct {
	dir  string
	hits []Hit
	size int
	runs []*os.File
}

// hitRunBytes is a variable so tests can force runs to disk.
var hitRunBytes = 32 << 20

func hitSize(h *Hit) int {
	n := 320 + len(h.Computer) + len(h.Channel) + len(h.Provider)
	for _, m := range h.Matched {
		n += 32 + len(m.Field) + len(m.Value)
	}
	return n
}

func (s *hitStore) add(h Hit) error {
	s.hits = append(s.hits, h)
	s.size += hitSize(&h)
	if s.size < hitRunBytes {
		return nil
	}
	slices.SortStableFunc(s.hits, compareHits)
	f, err := os.CreateTemp(s.dir, "mamori-hits-*")
	if err != nil {
		return fmt.Errorf("hits: %w", err)
	}
	os.Remove(f.Name()) // the open file lives on; nothing is left behind
	w := bufio.NewWriterSize(f, 1<<20)
	enc := gob.NewEncoder(w)
	for i := range s.hits {
		if err := enc.Encode(&s.hits[i]); err != nil {
			f.Close()
			return fmt.Errorf("hits: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("hits: %w", err)
	}
	s.runs = append(s.runs, f)
	s.hits, s.size = nil, 0
	return nil
}

// hitRuns is every store's runs and in-memory rest, merged in hit order.
type hitRuns struct {
	mu   sync.Mutex
	runs []*os.File
	mem  []Hit // sorted
}

func (r *hitRuns) close() {
	for _, f := range r.runs {
		f.Close()
	}
}

type hitSource struct {
	dec *gob.Decoder
	mem []Hit
	cur Hit
}

func (s *hitSource) next() (bool, error) {
	if s.dec == nil {
		if len(s.mem) == 0 {
			return false, nil
		}
		s.cur, s.mem = s.mem[0], s.mem[1:]
		return true, nil
	}
	s.cur = Hit{}
	if err := s.dec.Decode(&s.cur); err != nil {
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		return false, fmt.Errorf("hits run: %w", err)
	}
	return true, nil
}

type hitHeap []*hitSource

func (h hitHeap) Len() int           { return len(h) }
func (h hitHeap) Less(i, j int) bool { return compareHits(h[i].cur, h[j].cur) < 0 }
func (h hitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *hitHeap) Push(x any)        { *h = append(*h, x.(*hitSource)) }
func (h *hitHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// each calls fn for every hit in order, reading the runs from their start
// (so it may be called more than once).
func (r *hitRuns) each(fn func(Hit) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	srcs := &hitHeap{}
	for _, f := range r.runs {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("hits run: %w", err)
		}
		s := &hitSource{dec: gob.NewDecoder(bufio.NewReaderSize(f, 1<<18))}
		if ok, err := s.next(); err != nil {
			return err
		} else if ok {
			heap.Push(srcs, s)
		}
	}
	if s := (&hitSource{mem: r.mem}); len(r.mem) > 0 {
		s.next()
		heap.Push(srcs, s)
	}
	for srcs.Len() > 0 {
		s := (*srcs)[0]
		if err := fn(s.cur); err != nil {
			return err
		}
		ok, err := s.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(srcs, 0)
		} else {
			heap.Pop(srcs)
		}
	}
	return nil
}
