// Command piigen writes a generated personal-data corpus for bench/pii.sh:
// the mixed file kinds of internal/pii/piicorpus until a size is reached,
// and optionally the labels as JSON lines.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mamori-dev/mamori/internal/pii/piicorpus"
)

func main() {
	out := flag.String("out", "", "output `dir` (created)")
	size := flag.String("size", "1GiB", "total `size` to write (bytes, or with KiB/MiB/GiB)")
	seed := flag.Uint64("seed", 1, "generator seed")
	labels := flag.String("labels", "", "write labels as JSON lines to `file`")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "piigen: -out is required")
		os.Exit(2)
	}
	limit, err := parseSize(*size)
	if err != nil {
		fmt.Fprintln(os.Stderr, "piigen: -size:", err)
		os.Exit(2)
	}
	if err := run(*out, limit, *seed, *labels); err != nil {
		fmt.Fprintln(os.Stderr, "piigen:", err)
		os.Exit(1)
	}
}

func run(out string, limit int64, seed uint64, labelPath string) error {
	var lw *json.Encoder
	if labelPath != "" {
		lf, err := os.Create(labelPath)
		if err != nil {
			return err
		}
		defer lf.Close()
		lw = json.NewEncoder(lf)
	}
	g := piicorpus.New(seed)
	var total int64
	for n := 0; total < limit; n++ {
		f := g.Next()
		// 500 files a directory keeps listings short.
		dir := filepath.Join(out, fmt.Sprintf("d%04d", n/500))
		if n%500 == 0 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		path := filepath.Join(dir, f.Name)
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			return err
		}
		total += int64(len(f.Data))
		if lw != nil {
			for _, l := range f.Labels {
				l.File = path
				if err := lw.Encode(l); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if strings.HasSuffix(s, u.suf) {
			s, mult = strings.TrimSuffix(s, u.suf), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return n * mult, nil
}
