package evtx_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/evtx"
	"github.com/mamori-dev/mamori/internal/evtx/evtxwrite"
	"github.com/mamori-dev/mamori/internal/logevent"
)

// corpusRecords decodes every record of the corpus.
func corpusRecords(t testing.TB) []*evtx.Record {
	var recs []*evtx.Record
	for _, p := range evtxFiles(t, corpusDir(t)) {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		r, err := evtx.Open(f, st.Size(), p)
		if err != nil {
			t.Fatal(err)
		}
		err = r.Records(context.Background(), func(rec *evtx.Record) error {
			recs = append(recs, rec)
			return nil
		}, func(err error) { t.Errorf("%v", err) })
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return recs
}

// writeCorpus writes n records cycling through recs into a new file, with
// record numbers from 1 and times a second apart.
func writeCorpus(t testing.TB, recs []*evtx.Record, n int) string {
	return writeFile(t, recs, n, false)
}

// writeFile is writeCorpus with EventData/UserData nested or not.
func writeFile(t testing.TB, recs []*evtx.Record, n int, nest bool) string {
	path := filepath.Join(t.TempDir(), "big.evtx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := evtxwrite.New(f)
	w.Nest = nest
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		if err := w.Write(uint64(i+1), base.Add(time.Duration(i)*time.Second), recs[i%len(recs)].Root); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

func readEvents(t testing.TB, path string, parallel bool) ([]*logevent.Event, []error) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	r, err := evtx.Open(f, st.Size(), path)
	if err != nil {
		t.Fatal(err)
	}
	var evs []*logevent.Event
	var errs []error
	keep := func(e *logevent.Event) error { evs = append(evs, e); return nil }
	onErr := func(err error) { errs = append(errs, err) }
	if parallel {
		err = r.ParallelEvents(context.Background(), 2, keep, onErr)
	} else {
		err = r.Events(context.Background(), keep, onErr)
	}
	if err != nil {
		t.Fatal(err)
	}
	return evs, errs
}

// TestWriteRead writes the corpus records several times over into a
// multi-chunk file: reading it back gives the same events (sequentially
// and in parallel), and evtxexport reads it the same way.
func TestWriteRead(t *testing.T) {
	t.Run("flat", func(t *testing.T) { checkWriteRead(t, false) })
	// Nested binary XML values (type 0x21) carry EventData and UserData.
	t.Run("nested", func(t *testing.T) { checkWriteRead(t, true) })
}

func checkWriteRead(t *testing.T, nest bool) {
	recs := corpusRecords(t)
	const n = 1000
	path := writeFile(t, recs, n, nest)
	evs, errs := readEvents(t, path, false)
	if len(errs) > 0 || len(evs) != n {
		t.Fatalf("read %d events, errors %v; want %d", len(evs), errs, n)
	}
	for i, e := range evs {
		want := recs[i%len(recs)].Event("")
		if d := cmp.Diff(e.Fields, want.Fields); d != "" || e.EventID != want.EventID || e.Channel != want.Channel {
			t.Fatalf("record %d: fields (-got +want):\n%s", i+1, d)
		}
	}
	par, errs := readEvents(t, path, true)
	if len(errs) > 0 || len(par) != n {
		t.Fatalf("parallel: %d events, errors %v; want %d", len(par), errs, n)
	}
	seen := map[int64]bool{}
	for _, e := range par {
		seen[e.Offset] = true
	}
	if len(seen) != n {
		t.Errorf("parallel read gave %d distinct records, want %d", len(seen), n)
	}
	st, _ := os.Stat(path)
	t.Logf("%d records in %d chunks", n, (st.Size()-4096)/65536)
	if _, err := os.Stat("/usr/bin/evtxexport"); err == nil {
		if d := cmp.Diff(ourRecords(t, path), evtxexportRecords(t, path)); d != "" {
			t.Errorf("written file (-ours +evtxexport):\n%s", d)
		}
	}
}

// TestStreamAndStop reads a multi-chunk file as a plain stream (as from a
// gzip or zip member) and checks that fn's error stops both modes.
func TestStreamAndStop(t *testing.T) {
	path := writeCorpus(t, corpusRecords(t), 500)
	want, _ := readEvents(t, path, false)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []*logevent.Event
	err = evtx.Stream(context.Background(), bytes.NewReader(b), path, func(e *logevent.Event) error {
		got = append(got, e)
		return nil
	}, func(err error) { t.Error(err) })
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("stream (-got +want):\n%s", d)
	}

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := evtx.Open(f, int64(len(b)), path)
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	for _, parallel := range []bool{false, true} {
		n := 0
		fn := func(*logevent.Event) error {
			n++
			if n == 100 {
				return stop
			}
			return nil
		}
		if parallel {
			err = r.ParallelEvents(context.Background(), 2, fn, func(error) {})
		} else {
			err = r.Events(context.Background(), fn, func(error) {})
		}
		if !errors.Is(err, stop) || n != 100 {
			t.Errorf("parallel=%v: %v after %d events, want stop after 100", parallel, err, n)
		}
	}
}
