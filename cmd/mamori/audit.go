package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/mamori-dev/mamori/internal/audit"
	"github.com/mamori-dev/mamori/internal/store"
)

func init() {
	register("audit", "verify or export the server's tamper-evident audit log", runAudit)
}

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, "usage: mamori audit verify (--data DIR | --server URL --ca FILE --token @FILE | --export FILE --key FILE) [--key FILE] [--checkpoint FILE]...")
		fmt.Fprintln(stderr, "       mamori audit export (--data DIR | --server URL --ca FILE --token @FILE) [--format jsonl] [-o FILE]")
	}
	if len(args) == 0 {
		usage()
		return 2
	}
	switch args[0] {
	case "verify":
		return auditVerify(ctx, args[1:], stdout, stderr)
	case "export":
		return auditExport(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		usage()
		return 0
	}
	fmt.Fprintf(stderr, "mamori audit: unknown subcommand %q\n", args[0])
	usage()
	return 2
}

// auditSource is where a log is read from: the data directory's database
// or a server's API.
type auditSource struct {
	st     *store.Store
	api    *apiClient
	pubKey string
}

type auditFlags struct {
	data, db string
	api      apiFlags
}

func (f *auditFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "", "the server's data `DIR` (reads its database and audit.pub)")
	fs.StringVar(&f.db, "db", "", "database: postgres://… `URL` or SQLite path (default DIR/mamori.db)")
	f.api.register(fs)
}

// open returns the source the flags name; an error is a usage or
// configuration error.
func (f *auditFlags) open(ctx context.Context) (*auditSource, error) {
	switch {
	case f.data != "" && f.api.server != "":
		return nil, errors.New("give --data or --server, not both")
	case f.data != "":
		dsn := f.db
		if dsn == "" {
			dsn = filepath.Join(f.data, "mamori.db")
			if _, err := os.Stat(dsn); err != nil {
				return nil, fmt.Errorf("--data %s: %w", f.data, err)
			}
		}
		st, err := store.Open(ctx, dsn)
		if err != nil {
			return nil, err
		}
		src := &auditSource{st: st}
		if b, err := os.ReadFile(filepath.Join(f.data, audit.PublicKeyFile)); err == nil {
			src.pubKey = string(b)
		}
		return src, nil
	case f.api.server != "":
		c, err := f.api.client()
		if err != nil {
			return nil, err
		}
		return &auditSource{api: c}, nil
	}
	return nil, errors.New("--data DIR or --server URL is required")
}

func (s *auditSource) close() {
	if s.st != nil {
		s.st.Close()
	}
}

// checkpoint is the API's view of a signed checkpoint.
type checkpointView struct {
	Note      string `json:"note"`
	PublicKey string `json:"public_key"`
}

func (s *auditSource) checkpoints(ctx context.Context) ([][]byte, error) {
	if s.st != nil {
		return s.st.Checkpoints(ctx)
	}
	// Signing one now makes the checkpoint list cover the whole log.
	var latest checkpointView
	if err := s.api.do(ctx, "GET", "/audit/checkpoint", nil, &latest); err != nil {
		return nil, err
	}
	s.pubKey = latest.PublicKey
	var cs []checkpointView
	if err := s.api.do(ctx, "GET", "/audit/checkpoints", nil, &cs); err != nil {
		return nil, err
	}
	out := make([][]byte, len(cs))
	for i, c := range cs {
		out[i] = []byte(c.Note)
	}
	return out, nil
}

// each calls f with every entry in index order.
func (s *auditSource) each(ctx context.Context, f func(*audit.Entry) error) error {
	if s.st != nil {
		return s.st.EachAuditEntry(ctx, f)
	}
	after := ""
	for {
		q := url.Values{"limit": {"1000"}}
		if after != "" {
			q.Set("after", after)
		}
		var page []audit.Entry
		if err := s.api.do(ctx, "GET", "/audit?"+q.Encode(), nil, &page); err != nil {
			return err
		}
		for i := range page {
			if err := f(&page[i]); err != nil {
				return err
			}
		}
		if len(page) < 1000 {
			return nil
		}
		after = strconv.FormatInt(page[len(page)-1].Index, 10)
	}
}

func auditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f auditFlags
	f.register(fs)
	var keyFile, export string
	var extra multiFlag
	fs.StringVar(&keyFile, "key", "", "the server's public key `FILE` (audit.pub); default: DIR/audit.pub, or the key the server sends")
	fs.StringVar(&export, "export", "", "verify a JSONL export `FILE` (- for stdin) instead; needs --key")
	fs.Var(&extra, "checkpoint", "a signed checkpoint `FILE` kept from earlier: the log must extend it (repeatable)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "mamori audit verify: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	var held [][]byte
	for _, name := range extra {
		b, err := os.ReadFile(name)
		if err != nil {
			return fail("--checkpoint: %v", err)
		}
		held = append(held, b)
	}
	var key note.Verifier
	if keyFile != "" {
		k, err := audit.ReadPublicKey(keyFile)
		if err != nil {
			return fail("--key: %v", err)
		}
		key = k
	}
	var res audit.Result
	if export != "" {
		if key == nil {
			return fail("--export needs --key FILE: an export is verified with a public key obtained separately")
		}
		if len(held) > 0 {
			return fail("--checkpoint works with --data and --server")
		}
		r := io.Reader(os.Stdin)
		if export != "-" {
			file, err := os.Open(export)
			if err != nil {
				return fail("%v", err)
			}
			defer file.Close()
			r = file
		}
		_, got, err := audit.VerifyExport(bufio.NewReaderSize(r, 1<<20), key)
		if code := verifyFailed(err, stderr); code >= 0 {
			return code
		}
		res = got
	} else {
		src, err := f.open(ctx)
		if err != nil {
			return fail("%v", err)
		}
		defer src.close()
		signed, err := src.checkpoints(ctx)
		if err != nil {
			return fail("reading checkpoints: %v", err)
		}
		if key == nil {
			if src.pubKey == "" {
				return fail("no public key: give --key FILE (the server's audit.pub)")
			}
			if key, err = audit.ParsePublicKey(src.pubKey); err != nil {
				return fail("%v", err)
			}
			if src.api != nil {
				fmt.Fprintln(stderr, "mamori audit verify: using the public key the server sent; pass --key audit.pub to pin the one you hold")
			}
		}
		v, err := audit.NewVerifier(key, append(signed, held...))
		if code := verifyFailed(err, stderr); code >= 0 {
			return code
		}
		err = src.each(ctx, v.Add)
		if code := verifyFailed(err, stderr); code >= 0 {
			return code
		}
		res, err = v.Finish()
		if code := verifyFailed(err, stderr); code >= 0 {
			return code
		}
	}
	fmt.Fprintf(stdout, "ok: %d entries, root %s\n", res.Size, res.Root.String())
	if res.Checkpoints == 0 {
		fmt.Fprintf(stdout, "no signed checkpoint yet: the entries are vouched for by their hash chain only\n")
		return 0
	}
	plural := "s"
	if res.Checkpoints == 1 {
		plural = ""
	}
	fmt.Fprintf(stdout, "%d signed checkpoint%s by %s, the latest at %d entries (%s)",
		res.Checkpoints, plural, key.Name(), res.Latest.Size, res.Latest.Time.Format(time.RFC3339))
	if n := res.Size - res.Latest.Size; n > 0 {
		fmt.Fprintf(stdout, "; the %d newer entries are vouched for by their hash chain only", n)
	}
	fmt.Fprintln(stdout)
	return 0
}

// verifyFailed reports err: 1 for a log that does not verify, 2 for
// anything else, -1 for no error.
func verifyFailed(err error, stderr io.Writer) int {
	if err == nil {
		return -1
	}
	var p *audit.Problem
	if errors.As(err, &p) {
		fmt.Fprintf(stderr, "mamori audit verify: FAILED: %v\n", p)
		return 1
	}
	fmt.Fprintf(stderr, "mamori audit verify: %v\n", err)
	return 2
}

func auditExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f auditFlags
	f.register(fs)
	var format, out string
	fs.StringVar(&format, "format", "jsonl", "export format: jsonl")
	fs.StringVar(&out, "o", "", "write to `FILE` instead of stdout")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "mamori audit export: "+format+"\n", a...)
		return 2
	}
	if format != "jsonl" {
		return fail("--format %q: only jsonl", format)
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	src, err := f.open(ctx)
	if err != nil {
		return fail("%v", err)
	}
	defer src.close()
	signed, err := src.checkpoints(ctx)
	if err != nil {
		return fail("reading checkpoints: %v", err)
	}
	var size int64
	if err := src.each(ctx, func(*audit.Entry) error { size++; return nil }); err != nil {
		return fail("reading the log: %v", err)
	}
	w := stdout
	var file *os.File
	if out != "" {
		if file, err = os.Create(out); err != nil {
			return fail("%v", err)
		}
		w = file
	}
	h := audit.Header{Size: size, ExportedAt: time.Now(), PublicKey: src.pubKey}
	if k, err := audit.ParsePublicKey(src.pubKey); err == nil {
		h.Origin = k.Name()
		h.PublicKey = strings.TrimSpace(src.pubKey)
	}
	x := audit.NewExporter(w, h)
	for _, c := range signed {
		x.Checkpoint(c)
	}
	var n int64
	err = src.each(ctx, func(e *audit.Entry) error {
		if n++; n > size {
			return nil // appended after the count; the next export has them
		}
		return x.Entry(e)
	})
	if err == nil {
		err = x.Close()
	}
	if file != nil {
		err = errors.Join(err, file.Close())
	}
	if err != nil {
		return fail("%v", err)
	}
	return 0
}
