package hunt

import (
	"bufio"
	"bytes"
	"cmp"
	"container/heap"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mamori-dev/mamori/internal/logevent"
	"github.com/mamori-dev/mamori/internal/sigma"
)

// TimelineHeader is the first line of a timeline: Timesketch's three
// required columns, then the event's own.
var TimelineHeader = []string{"datetime", "timestamp_desc", "message", "computer", "channel", "provider",
	"event_id", "source_file", "record", "sigma_level", "sigma_rules"}

// timeline collects one CSV row per event and sorts them by time. Rows are
// kept in memory up to runBytes, then sorted and spilled to a temporary
// file, and the runs are merged at the end, so a multi-GB input needs
// disk, not memory.
type timeline struct {
	dir  string
	mu   sync.Mutex
	rows []row
	size int
	runs []*os.File
	err  error
}

// runBytes is a variable so tests can force runs to disk.
var runBytes = 64 << 20

type row struct {
	t    int64  // UnixNano, or math.MinInt64 for events without a time
	key  string // source and record number, for a stable order
	line []byte // the encoded CSV record
}

func newTimeline(dir string) (*timeline, error) {
	return &timeline{dir: dir}, nil
}

func timeKey(t time.Time) int64 {
	if t.IsZero() {
		return -1 << 63
	}
	return t.UnixNano()
}

func rowKey(source string, record uint64) string {
	return source + "\x00" + fmt.Sprintf("%016x", record)
}

func encodeCSV(fields []string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(fields)
	w.Flush()
	return b.Bytes()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}

// message renders an event for Timesketch's message column: where it came
// from, then its fields as name=value in name order.
func message(e *logevent.Event) string {
	var b strings.Builder
	switch {
	case e.Channel != "":
		b.WriteString(e.Channel)
		b.WriteString(" ")
		b.WriteString(strconv.FormatInt(e.EventID, 10))
	case e.Service != "":
		b.WriteString(e.Service)
	default:
		b.WriteString(e.Category)
	}
	names := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for i, k := range names {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(valueText(e.Fields[k]))
	}
	return b.String()
}

func valueText(v any) string {
	if l, ok := v.([]any); ok {
		parts := make([]string, len(l))
		for i, x := range l {
			parts[i] = valueText(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return logevent.String(v)
}

func (tl *timeline) add(e *logevent.Event, rules []string, level int) {
	lv := ""
	if level >= 0 {
		lv = sigma.Levels[level]
	}
	eid := ""
	if e.Channel != "" {
		eid = strconv.FormatInt(e.EventID, 10)
	}
	line := encodeCSV([]string{stamp(e.Time), "Event Recorded", message(e), e.Host, e.Channel, e.Provider,
		eid, e.Source, strconv.FormatUint(e.RecordID, 10), lv, strings.Join(rules, " | ")})
	tl.push(row{t: timeKey(e.Time), key: rowKey(e.Source, e.RecordID), line: line})
}

func (tl *timeline) push(r row) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.rows = append(tl.rows, r)
	tl.size += len(r.line) + len(r.key) + 48
	if tl.size >= runBytes && tl.err == nil {
		tl.err = tl.spill()
	}
}

func compareRows(a, b row) int {
	return cmp.Or(cmp.Compare(a.t, b.t), strings.Compare(a.key, b.key), bytes.Compare(a.line, b.line))
}

// spill writes the sorted rows as a run: per row the time, the key and the
// line, length-prefixed.
func (tl *timeline) spill() error {
	slices.SortFunc(tl.rows, compareRows)
	f, err := os.CreateTemp(tl.dir, "mamori-timeline-*")
	if err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	os.Remove(f.Name()) // the open file lives on; nothing is left behind
	w := bufio.NewWriterSize(f, 1<<20)
	var hdr [binary.MaxVarintLen64 * 3]byte
	for _, r := range tl.rows {
		n := binary.PutVarint(hdr[:], r.t)
		n += binary.PutUvarint(hdr[n:], uint64(len(r.key)))
		n += binary.PutUvarint(hdr[n:], uint64(len(r.line)))
		w.Write(hdr[:n])
		w.WriteString(r.key)
		w.Write(r.line)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("timeline: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("timeline: %w", err)
	}
	tl.runs = append(tl.runs, f)
	tl.rows, tl.size = nil, 0
	return nil
}

// finish adds the correlation hits as rows of their own and writes the
// merged timeline.
func (tl *timeline) finish(w io.Writer, hits []Hit) error {
	if tl.err != nil {
		return tl.err
	}
	for _, h := range hits {
		if h.Correlate == nil {
			continue
		}
		var parts []string
		for _, g := range h.Matched {
			parts = append(parts, g.Field+"="+g.Value)
		}
		msg := fmt.Sprintf("correlation %s: %s; %d over %s", h.Correlate.Kind, h.Rule, h.Correlate.Count, h.Time.Sub(h.Correlate.Start))
		if len(parts) > 0 {
			msg += "; " + strings.Join(parts, "; ")
		}
		line := encodeCSV([]string{stamp(h.Time), "Correlation", msg, "", "", "", "", h.Source,
			strconv.FormatUint(h.Record, 10), h.Level, h.Rule})
		tl.rows = append(tl.rows, row{t: timeKey(h.Time), key: rowKey(h.Source, h.Record) + "\x01", line: line})
	}
	slices.SortFunc(tl.rows, compareRows)
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.Write(encodeCSV(TimelineHeader))
	srcs := &mergeHeap{}
	for _, f := range tl.runs {
		s := &runReader{r: bufio.NewReaderSize(f, 1<<20)}
		if ok, err := s.next(); err != nil {
			return err
		} else if ok {
			heap.Push(srcs, s)
		}
	}
	mem := &runReader{rows: tl.rows}
	if ok, _ := mem.next(); ok {
		heap.Push(srcs, mem)
	}
	for srcs.Len() > 0 {
		s := (*srcs)[0]
		if _, err := bw.Write(s.cur.line); err != nil {
			return fmt.Errorf("timeline: %w", err)
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
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	return nil
}

func (tl *timeline) close() {
	for _, f := range tl.runs {
		f.Close()
	}
}

// runReader yields rows in order from a spilled run or the in-memory rest.
type runReader struct {
	r    *bufio.Reader
	rows []row
	cur  row
}

func (s *runReader) next() (bool, error) {
	if s.r == nil {
		if len(s.rows) == 0 {
			return false, nil
		}
		s.cur, s.rows = s.rows[0], s.rows[1:]
		return true, nil
	}
	t, err := binary.ReadVarint(s.r)
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("timeline run: %w", err)
	}
	kl, err1 := binary.ReadUvarint(s.r)
	ll, err2 := binary.ReadUvarint(s.r)
	if err1 != nil || err2 != nil {
		return false, fmt.Errorf("timeline run: truncated")
	}
	buf := make([]byte, kl+ll)
	if _, err := io.ReadFull(s.r, buf); err != nil {
		return false, fmt.Errorf("timeline run: %w", err)
	}
	s.cur = row{t: t, key: string(buf[:kl]), line: buf[kl:]}
	return true, nil
}

type mergeHeap []*runReader

func (h mergeHeap) Len() int           { return len(h) }
func (h mergeHeap) Less(i, j int) bool { return compareRows(h[i].cur, h[j].cur) < 0 }
func (h mergeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)        { *h = append(*h, x.(*runReader)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
