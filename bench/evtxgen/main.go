// Command evtxgen writes a large EVTX file for bench/hunt.sh from the
// records of a directory of .evtx files (SigmaHQ's regression data): the
// records are repeated in order with increasing record numbers and times,
// densely packed, until the file reaches -size.
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/mamori-dev/mamori/internal/evtx"
	"github.com/mamori-dev/mamori/internal/evtx/evtxwrite"
)

func main() {
	src := flag.String("src", "../shared/corpus/sigma/regression_data", "directory of .evtx files to take records from")
	out := flag.String("out", "/tmp/mamori-hunt-bench/big.evtx", "file to write")
	size := flag.Int64("size", 256<<20, "approximate size in bytes")
	flag.Parse()
	if err := run(*src, *out, *size); err != nil {
		log.Fatal(err)
	}
}

func run(src, out string, size int64) error {
	var recs []*evtx.Record
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".evtx" {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		r, err := evtx.Open(f, st.Size(), p)
		if err != nil {
			return err
		}
		return r.Records(context.Background(), func(rec *evtx.Record) error {
			recs = append(recs, rec)
			return nil
		}, func(err error) { log.Print(err) })
	})
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return fmt.Errorf("no records under %s", src)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	w := evtxwrite.New(f)
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	// Chunks hold about 32 of these records; check the size now and then.
	for i := 0; ; i++ {
		if i%4096 == 0 {
			if st, err := f.Stat(); err != nil {
				return err
			} else if st.Size() >= size {
				break
			}
		}
		if err := w.Write(uint64(i+1), base.Add(time.Duration(i)*time.Millisecond), recs[i%len(recs)].Root); err != nil {
			return err
		}
	}
	return w.Close()
}
