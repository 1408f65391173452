package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/scope/scopeapi"
)

func init() {
	capabilities = append(capabilities, scopeapi.Capability)
	register("scope", "resolve personal-data findings into the register of affected people", runScope)
}

const scopeUsage = `usage: mamori scope --pii-results [HOST=]FILE... [flags] --out DIR
       mamori scope --incident ID --server URL --ca FILE --token @FILE [--master FILE --reason TEXT] [--out DIR]

Reads saved 'mamori scan --pii --reveal --format ndjson' output (one file per
host; HOST= names the host), de-duplicates the data subjects into people, and
writes DIR/people.csv (the register), DIR/summary.json (counts for the
report), DIR/merges.csv (why sources were joined) and DIR/proposals.csv
(near matches to confirm or reject, then pass back with --decisions).

With --incident, the register is the server's, built from what the agents
found on the incident's hosts: scope prints its counts and, with --out,
writes DIR/people.csv (masked) and DIR/summary.json. --master uploads the
customer master data to the incident first (audited, with --reason).

Exit status: 0 register written, 1 the server refused (--incident), 2 usage,
input or configuration error.

flags:
`

func runScope(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scope", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, scopeUsage)
		fs.PrintDefaults()
	}
	var results multiFlag
	fs.Var(&results, "pii-results", "saved scan output `[HOST=]FILE` (ndjson, - for stdin); repeatable")
	var (
		out        = fs.String("out", "", "output `directory` (created)")
		master     = fs.String("master", "", "customer master data `file` (CSV, TSV or xlsx)")
		masterMap  = fs.String("master-map", "", "explicit master column mapping `field=header,...` (fields: name, kana, last_name, first_name, email, phone, address, postal_code, date_of_birth, language, country, id)")
		masterDB   = fs.String("master-db", "", "PostgreSQL `URL` of the customer master data")
		masterQ    = fs.String("master-query", "", "`SQL` query reading the master data from --master-db")
		exposure   = fs.String("exposure", "", "exposure rules `file`: LEVEL,PATTERN per line (present, accessed, exfiltrated)")
		decisions  = fs.String("decisions", "", "filled-in proposals.csv `file`: confirm or reject per proposal")
		keyFile    = fs.String("key-file", "", "key `file` for person ids and hashes (default: mamori/scope.key in the user config directory, created)")
		country    = fs.String("country", "JP", "`country` whose domestic phone numbers are read (ISO code)")
		incidentID = fs.String("incident", "", "the server's register of incident `ID` instead of saved results")
		reason     = fs.String("reason", "", "why the master data is uploaded (with --incident and --master)")
	)
	var api apiFlags
	api.register(fs)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "mamori scope:", err)
		return 2
	}
	if fs.NArg() > 0 {
		return fail(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if *incidentID != "" {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for _, n := range []string{"pii-results", "master-map", "master-db", "master-query", "exposure", "decisions", "key-file", "country"} {
			if set[n] {
				return fail(fmt.Errorf("--%s is for saved results, not --incident", n))
			}
		}
		if (*master == "") != (*reason == "") {
			return fail(errors.New("--master and --reason go together"))
		}
		c, err := api.client()
		if err != nil {
			return fail(err)
		}
		return scopeIncident(ctx, c, *incidentID, *master, *reason, *out, stdout, stderr)
	}
	switch {
	case len(results) == 0:
		fmt.Fprintln(stderr, "mamori scope: no --pii-results given")
		fs.Usage()
		return 2
	case *out == "":
		return fail(errors.New("no --out DIR given"))
	case (*masterDB == "") != (*masterQ == ""):
		return fail(errors.New("--master-db and --master-query go together"))
	case *master != "" && *masterDB != "":
		return fail(errors.New("give --master or --master-db, not both"))
	}
	if *keyFile == "" {
		p, err := scope.DefaultKeyFile()
		if err != nil {
			return fail(err)
		}
		*keyFile = p
	}
	key, err := scope.LoadKey(*keyFile)
	if err != nil {
		return fail(err)
	}
	r := scope.NewResolver(scope.Options{Key: key, Country: strings.ToUpper(*country)})

	var mapping map[string]string
	if *masterMap != "" {
		if mapping, err = scope.ParseMapping(*masterMap); err != nil {
			return fail(err)
		}
	}
	var m *scope.Master
	switch {
	case *master != "":
		m, err = scope.ReadMasterFile(ctx, *master, mapping)
	case *masterDB != "":
		m, err = scope.ReadMasterQuery(ctx, *masterDB, *masterQ, mapping)
	}
	if err != nil {
		return fail(err)
	}
	if m != nil {
		name := *master
		if name == "" {
			name = "query"
		}
		src := r.Source(scope.Source{Path: name, Master: true})
		for i, row := range m.Rows {
			r.AddMaster(src, i, row)
		}
	}

	var occ, masked int
	for _, spec := range results {
		host, file := "", spec
		if h, f, ok := strings.Cut(spec, "="); ok {
			host, file = h, f
		}
		var in io.Reader = os.Stdin
		if file != "-" {
			f, err := os.Open(file)
			if err != nil {
				return fail(err)
			}
			defer f.Close()
			in = f
		}
		st, err := r.ReadResults(in, file, host)
		if err != nil {
			return fail(err)
		}
		occ += st.Occurrences
		masked += st.Masked
	}
	if occ > 0 && masked == occ {
		return fail(errors.New("the results hold masked values only: scope needs 'mamori scan --pii --reveal --format ndjson' output"))
	}
	if masked > 0 {
		fmt.Fprintf(stderr, "mamori scope: warning: %d of %d occurrences have no raw value and make no key\n", masked, occ)
	}
	if *exposure != "" {
		f, err := os.Open(*exposure)
		if err != nil {
			return fail(err)
		}
		rules, err := scope.ReadExposure(f, *exposure)
		f.Close()
		if err != nil {
			return fail(err)
		}
		for i, n := range r.ApplyExposure(rules) {
			if n == 0 {
				fmt.Fprintf(stderr, "mamori scope: warning: %s:%d: %s matches no file\n", *exposure, rules[i].Line, rules[i].Pattern)
			}
		}
	}
	r.Resolve()
	if *decisions != "" {
		f, err := os.Open(*decisions)
		if err != nil {
			return fail(err)
		}
		ds, err := scope.ReadDecisions(f, *decisions)
		f.Close()
		if err != nil {
			return fail(err)
		}
		r.Register() // numbers the proposals
		for _, d := range ds {
			if !r.Decide(d.ID, d.Confirm) {
				fmt.Fprintf(stderr, "mamori scope: warning: %s:%d: no proposal %s in these results\n", *decisions, d.Line, d.ID)
			}
		}
	}
	reg := r.Register()
	sum := scope.Summarize(reg)
	if err := writeScope(*out, r, reg, sum, m); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "%d people from %d occurrences in %d sources on %d hosts; %d matched the master data, %d without a contact channel, %d proposals to review (%d name-only mentions)\n",
		sum.People, occ, sum.Sources, len(sum.Hosts), sum.MatchedMaster, sum.NoContact, sum.Proposals, sum.Mentions)
	fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(*out, "people.csv"))
	return 0
}

// writeOwnerFile writes a file of the register's output through fn,
// readable by its owner only: the register holds contact details.
func writeOwnerFile(name string, fn func(io.Writer) error) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", f.Name(), err)
	}
	return f.Close()
}

func writeScope(dir string, r *scope.Resolver, reg *scope.Register, sum *scope.Summary, m *scope.Master) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	write := func(name string, fn func(io.Writer) error) error { return writeOwnerFile(filepath.Join(dir, name), fn) }
	jsonOut := func(v any) func(io.Writer) error {
		return func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		}
	}
	err := errors.Join(
		write("people.csv", func(w io.Writer) error { return scope.WritePeopleCSV(w, reg.People) }),
		write("summary.json", jsonOut(sum)),
		write("merges.csv", func(w io.Writer) error { return scope.WriteMergesCSV(w, reg.People, r.AllMergeNotes(reg)) }),
		write("proposals.csv", func(w io.Writer) error { return scope.WriteProposalsCSV(w, reg.Proposals) }),
	)
	if err == nil && m != nil {
		type col struct {
			Header string `json:"header"`
			Field  string `json:"field"`
		}
		var cols []col
		for _, h := range m.Headers {
			cols = append(cols, col{h, m.Mapping[h]})
		}
		slices.SortStableFunc(cols, func(a, b col) int { return strings.Compare(a.Field, b.Field) })
		err = write("master-mapping.json", jsonOut(map[string]any{"rows": len(m.Rows), "columns": cols}))
	}
	return err
}

// scopeIncident prints the server's register counts of an incident and,
// with out, writes its masked people.csv and summary.json.
func scopeIncident(ctx context.Context, c *apiClient, id, master, reason, out string, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintln(stderr, "mamori scope:", err)
		return 1
	}
	base := "/incidents/" + url.PathEscape(id)
	if master != "" {
		f, err := os.Open(master)
		if err != nil {
			fmt.Fprintln(stderr, "mamori scope:", err)
			return 2
		}
		defer f.Close()
		q := url.Values{"name": {filepath.Base(master)}, "reason": {reason}}
		resp, err := c.send(ctx, "POST", base+"/master?"+q.Encode(), f, "application/octet-stream")
		if err != nil {
			return fail(fmt.Errorf("uploading %s: %w", master, err))
		}
		var mv scopeapi.MasterView
		err = json.NewDecoder(resp.Body).Decode(&mv)
		resp.Body.Close()
		if err != nil {
			return fail(fmt.Errorf("uploading %s: reading the answer: %w", master, err))
		}
		fmt.Fprintf(stdout, "uploaded %s: %d rows\n", master, mv.Rows)
	}
	var sum scopeapi.SummaryView
	if err := c.do(ctx, "GET", base+"/people/summary", nil, &sum); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "%d people from %d occurrences in %d files (%d sources) on %d hosts; %d matched the master data, %d without a contact channel, %d proposals to review (%d name-only mentions)\n",
		sum.People, sum.Occurrences, sum.Files, sum.Sources, len(sum.Hosts), sum.MatchedMaster, sum.NoContact, sum.Proposals, sum.Mentions)
	for _, lv := range []string{"exfiltrated", "accessed", "present"} {
		if n := sum.ByExposure[lv]; n > 0 {
			fmt.Fprintf(stdout, "  %-12s %d\n", lv, n)
		}
	}
	if out == "" {
		return 0
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return fail(err)
	}
	resp, err := c.send(ctx, "GET", base+"/people/export?format=csv", nil, "")
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	write := func(name string, fn func(io.Writer) error) error { return writeOwnerFile(filepath.Join(out, name), fn) }
	err = errors.Join(
		write("people.csv", func(w io.Writer) error { _, err := io.Copy(w, resp.Body); return err }),
		write("summary.json", func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(sum)
		}))
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "wrote %s (masked)\n", filepath.Join(out, "people.csv"))
	return 0
}
