package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/mamori-dev/mamori/internal/ioc"
	"github.com/mamori-dev/mamori/internal/ioc/defaults"
	"github.com/mamori-dev/mamori/internal/scan"
)

func init() {
	register("scan", "scan files for indicators, YARA rules and personal data", runScan)
}

const scanUsage = `usage: mamori scan [flags] PATH...

Reads every file under PATH once and checks it against all loaded matchers.
With no --ioc, --filename-ioc, --rules or --pii, mamori's small embedded
indicator set is used.

Exit status: 0 nothing found, 1 findings, 2 usage or configuration error,
or errors (unreadable or missing paths) with nothing found.

flags:
`

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, scanUsage)
		fs.PrintDefaults()
	}
	var (
		iocFiles, nameFiles, excludes multiFlag
		format                        = fs.String("format", "text", "output `format`: text, json, ndjson or csv")
		threads                       = fs.Int("threads", 0, "parallel readers (default GOMAXPROCS)")
		follow                        = fs.Bool("follow-symlinks", false, "follow symbolic links (loops are detected)")
		oneFS                         = fs.Bool("one-file-system", false, "do not descend into other file systems")
		maxSize                       = sizeFlag(scan.DefaultMaxFileSize)
		noProgress                    = fs.Bool("no-progress", false, "no progress line, even on a terminal")
	)
	fs.Var(&iocFiles, "ioc", "hash indicator `file` (plain, hash;description, CSV with a hash column); repeatable")
	fs.Var(&nameFiles, "filename-ioc", "filename indicator `file` (REGEX;SCORE); repeatable")
	fs.Var(&excludes, "exclude", "skip paths whose base name or full path matches `glob`; repeatable")
	fs.Var(&maxSize, "max-file-size", "larger files are hashed but not content-scanned (`size`, e.g. 256MiB)")
	ext := registerScanExtensions(fs)

	roots, err := parseInterspersed(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if len(roots) == 0 {
		fmt.Fprintln(stderr, "mamori scan: no PATH given")
		fs.Usage()
		return 2
	}
	switch *format {
	case "text", "json", "ndjson", "csv":
	default:
		fmt.Fprintf(stderr, "mamori scan: --format %q: want text, json, ndjson or csv\n", *format)
		return 2
	}

	warn := func(msg string) { fmt.Fprintln(stderr, "mamori scan: warning:", msg) }
	var matchers []scan.Matcher
	useDefaults := len(iocFiles) == 0 && len(nameFiles) == 0 && !ext.selected()
	hashes := ioc.NewHashSet()
	names := &ioc.NameSet{}
	if useDefaults {
		if err := hashes.LoadHashes("embedded defaults", bytes.NewReader(defaults.Hashes)); err != nil {
			panic(err) // a broken embedded file is a build defect, caught by tests
		}
		if err := names.LoadNames("embedded defaults", bytes.NewReader(defaults.Filenames), warn); err != nil {
			panic(err)
		}
	}
	for _, f := range iocFiles {
		if err := hashes.LoadHashFile(f); err != nil {
			fmt.Fprintln(stderr, "mamori scan:", err)
			return 2
		}
	}
	for _, f := range nameFiles {
		if err := names.LoadNameFile(f, warn); err != nil {
			fmt.Fprintln(stderr, "mamori scan:", err)
			return 2
		}
	}
	if hashes.Len() > 0 {
		matchers = append(matchers, hashes)
	}
	if names.Len() > 0 {
		matchers = append(matchers, names)
	}
	more, err := ext.matchers(ctx, warn)
	if err != nil {
		fmt.Fprintln(stderr, "mamori scan:", err)
		return 2
	}
	matchers = append(matchers, more...)
	if len(matchers) == 0 {
		fmt.Fprintln(stderr, "mamori scan: no indicators loaded: the --ioc/--filename-ioc files hold no usable entry")
		return 2
	}

	opts := scan.Options{
		Threads:        *threads,
		FollowSymlinks: *follow,
		OneFileSystem:  *oneFS,
		MaxFileSize:    int64(maxSize),
		Exclude:        excludes,
	}
	var prog *progressLine
	if f, ok := stderr.(*os.File); ok && !*noProgress && term.IsTerminal(int(f.Fd())) {
		prog = &progressLine{w: stderr}
		opts.Progress = prog.update
	}

	out := newRecordWriter(stdout, *format)
	sum, err := scan.Run(ctx, roots, opts, matchers, out.write)
	prog.clear()
	if ferr := out.close(); ferr != nil {
		fmt.Fprintln(stderr, "mamori scan: writing output:", ferr)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "mamori scan:", err)
		return 2
	}
	if sum.Findings > 0 {
		return 1
	}
	if sum.Errors > 0 {
		// Nothing found but not everything read: "clean" would be a lie.
		fmt.Fprintf(stderr, "mamori scan: %d errors and no findings; the error records name what could not be read\n", sum.Errors)
		return 2
	}
	return 0
}

// recordWriter renders records as they arrive. ndjson and text stream; json
// collects one array, since a JSON document cannot be written piecemeal.
type recordWriter struct {
	w       *bufio.Writer
	format  string
	all     []scan.Record
	err     error
	flushed time.Time
	buf     []byte
	csv     *csv.Writer
}

func newRecordWriter(w io.Writer, format string) *recordWriter {
	return &recordWriter{w: bufio.NewWriterSize(w, 64<<10), format: format}
}

func (o *recordWriter) write(r scan.Record) {
	if o.err != nil {
		return
	}
	switch o.format {
	case "json":
		o.all = append(o.all, r)
		return
	case "csv":
		o.err = o.writeCSV(r)
	case "ndjson":
		if a, ok := r.(scan.JSONAppender); ok {
			o.buf = append(a.AppendJSON(o.buf[:0]), '\n')
			_, o.err = o.w.Write(o.buf)
			break
		}
		b, err := json.Marshal(r)
		if err != nil {
			o.err = fmt.Errorf("encoding %s record: %w", r.Kind(), err)
			return
		}
		o.w.Write(b)
		o.err = o.w.WriteByte('\n')
	default:
		if t := r.Text(); t != "" {
			o.w.WriteString(scan.EscapeText(t))
			o.err = o.w.WriteByte('\n')
		}
	}
	// Findings should reach a pipe promptly on long scans, but a flush per
	// record would cost a write per line when a file holds thousands of
	// personal-data occurrences.
	if r.Kind() == "summary" || (r.Finding() && time.Since(o.flushed) > 100*time.Millisecond) {
		o.err = o.w.Flush()
		o.flushed = time.Now()
	}
}

func (o *recordWriter) close() error {
	if o.err != nil {
		return o.err
	}
	if o.csv != nil {
		o.csv.Flush()
		if err := o.csv.Error(); err != nil {
			return err
		}
	}
	if o.format == "json" {
		if o.all == nil {
			o.all = []scan.Record{}
		}
		enc := json.NewEncoder(o.w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(o.all); err != nil {
			return err
		}
	}
	return o.w.Flush()
}

// progressLine draws one self-overwriting status line on a terminal.
type progressLine struct {
	w io.Writer
}

func (p *progressLine) update(s scan.Progress) {
	rate := 0.0
	if s.Seconds > 0 {
		rate = float64(s.Bytes) / s.Seconds
	}
	eta := "?"
	if s.WalkDone && rate > 0 {
		left := float64(s.QueuedBytes-s.Bytes) / rate
		eta = (time.Duration(left) * time.Second).Round(time.Second).String()
	}
	total := fmt.Sprint(s.QueuedFiles)
	if !s.WalkDone {
		total += "+"
	}
	fmt.Fprintf(p.w, "\r\033[K%d/%s files  %s  %s/s  ETA %s", s.Files, total, humanBytes(s.Bytes), humanBytes(int64(rate)), eta)
}

func (p *progressLine) clear() {
	if p != nil {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
