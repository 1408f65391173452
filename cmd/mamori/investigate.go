package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mamori-dev/mamori/internal/investigate"
	"github.com/mamori-dev/mamori/internal/server"
)

func init() {
	capabilities = append(capabilities, investigate.Capability)
	incidentSubcommands["collect"] = command{
		summary: "mamori incident collect  --server URL --ca FILE --token @FILE ID --from RFC3339 [--to RFC3339] [--host ID]... [--kind K]... [--pii [--path PATH]...] --reason TEXT",
		run:     runIncidentCollect}
	incidentSubcommands["timeline"] = command{
		summary: "mamori incident timeline --server URL --ca FILE --token @FILE ID [--host ID] [--kind K] [--level L] [--from T] [--to T] [--limit N] [--format text|json|csv|jsonl]",
		run:     runIncidentTimeline}
	incidentSubcommands["findings"] = command{
		summary: "mamori incident findings --server URL --ca FILE --token @FILE ID [--analyze --reason TEXT] [--format text|json]",
		run:     runIncidentFindings}
}

// incidentCmd parses the flags common to the investigation subcommands and
// wants exactly one positional argument, the incident id.
func incidentCmd(name string, args []string, stderr io.Writer, extra func(fs *flag.FlagSet)) (*apiClient, string, int) {
	fs := flag.NewFlagSet("incident "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var api apiFlags
	api.register(fs)
	extra(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			return nil, "", 0
		}
		return nil, "", 2
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "mamori incident %s: want the incident ID\n%s\n", name, incidentSubcommands[name].summary)
		return nil, "", 2
	}
	c, err := api.client()
	if err != nil {
		fmt.Fprintf(stderr, "mamori incident %s: %v\n", name, err)
		return nil, "", 2
	}
	return c, pos[0], -1
}

func apiFail(stderr io.Writer, name string, err error) int {
	fmt.Fprintf(stderr, "mamori incident %s: %v\n", name, err)
	if e, ok := err.(*apiError); ok && e.Status/100 == 4 {
		return 2
	}
	return 1
}

func runIncidentCollect(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var from, to, reason string
	var hosts, kinds, paths multiFlag
	var maxEvents int
	var personal bool
	c, id, code := incidentCmd("collect", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&from, "from", "", "window start, RFC 3339")
		fs.StringVar(&to, "to", "", "window end, RFC 3339 (default now)")
		fs.Var(&hosts, "host", "host `ID` (repeatable; default the incident's linked hosts)")
		fs.Var(&kinds, "kind", "artefact `KIND`: logs, processes, connections, persistence, files, archives (repeatable; default all)")
		fs.IntVar(&maxEvents, "max-events", 0, "cap on log and file events per host (default 200000)")
		fs.BoolVar(&personal, "pii", false, "also discover personal data: one pii_file result per file holding any")
		fs.Var(&paths, "path", "with --pii: absolute `PATH` to search (repeatable; default each agent's scan paths)")
		fs.StringVar(&reason, "reason", "", "why, for the audit log")
	})
	if code >= 0 {
		return code
	}
	in := server.CollectIn{Hosts: hosts, Kinds: kinds, MaxEvents: maxEvents, PII: personal, Paths: paths, Reason: reason}
	for _, p := range []struct {
		flag, v string
		dst     *time.Time
	}{{"--from", from, &in.From}, {"--to", to, &in.To}} {
		if p.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, p.v)
		if err != nil {
			fmt.Fprintf(stderr, "mamori incident collect: %s %q: want RFC 3339, e.g. 2026-11-20T00:00:00Z\n", p.flag, p.v)
			return 2
		}
		*p.dst = t
	}
	var out server.CollectionView
	if err := c.do(ctx, "POST", "/incidents/"+url.PathEscape(id)+"/collect", in, &out); err != nil {
		return apiFail(stderr, "collect", err)
	}
	with := ""
	if out.PII {
		with = ", with personal-data discovery"
	}
	fmt.Fprintf(stdout, "collection %s on %d hosts, %s to %s%s (follow it with: mamori incident timeline %s)\n",
		out.ID, len(out.Hosts), out.From.Format(time.RFC3339), out.To.Format(time.RFC3339), with, id)
	return 0
}

func runIncidentTimeline(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var host, kind, level, from, to, format string
	var limit int
	c, id, code := incidentCmd("timeline", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&host, "host", "", "only this host `ID`")
		fs.StringVar(&kind, "kind", "", "only this event `KIND`")
		fs.StringVar(&level, "level", "", "only Sigma hits at this `LEVEL` or above")
		fs.StringVar(&from, "from", "", "RFC 3339")
		fs.StringVar(&to, "to", "", "RFC 3339")
		fs.IntVar(&limit, "limit", 0, "at most N events (default all)")
		fs.StringVar(&format, "format", "text", "text, json, csv (Timesketch) or jsonl")
	})
	if code >= 0 {
		return code
	}
	q := url.Values{}
	for k, v := range map[string]string{"host": host, "kind": kind, "level": level, "from": from, "to": to} {
		if v != "" {
			q.Set(k, v)
		}
	}
	path := "/incidents/" + url.PathEscape(id) + "/timeline"
	switch format {
	case "csv", "jsonl":
		q.Set("format", format)
		body, err := c.raw(ctx, path+"/export?"+q.Encode())
		if err != nil {
			return apiFail(stderr, "timeline", err)
		}
		defer body.Close()
		if _, err := io.Copy(stdout, body); err != nil {
			return apiFail(stderr, "timeline", err)
		}
		return 0
	case "text", "json":
	default:
		fmt.Fprintf(stderr, "mamori incident timeline: --format %q: text, json, csv or jsonl\n", format)
		return 2
	}
	var all []investigate.EventView
	for {
		pageSize := 1000
		if limit > 0 && limit-len(all) < pageSize {
			pageSize = limit - len(all)
		}
		q.Set("limit", fmt.Sprint(pageSize))
		var p investigate.Page
		if err := c.do(ctx, "GET", path+"?"+q.Encode(), nil, &p); err != nil {
			return apiFail(stderr, "timeline", err)
		}
		all = append(all, p.Events...)
		if p.Next == "" || (limit > 0 && len(all) >= limit) {
			break
		}
		q.Set("after", p.Next)
	}
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return exitOn(enc.Encode(all))
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME (UTC)\tHOST\tKIND\tLEVEL\tSUMMARY")
	for _, e := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format("2006-01-02 15:04:05"), e.Host, e.Kind, e.Level, oneLine(e.Summary))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d events\n", len(all))
	return 0
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

func exitOn(err error) int {
	if err != nil {
		return 1
	}
	return 0
}

func runIncidentFindings(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var analyze bool
	var reason, format string
	c, id, code := incidentCmd("findings", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&analyze, "analyze", false, "run the analysis over the timeline first")
		fs.StringVar(&reason, "reason", "", "with --analyze: why, for the audit log")
		fs.StringVar(&format, "format", "text", "text or json")
	})
	if code >= 0 {
		return code
	}
	if format != "text" && format != "json" {
		fmt.Fprintf(stderr, "mamori incident findings: --format %q: text or json\n", format)
		return 2
	}
	var fs []investigate.FindingView
	path := "/incidents/" + url.PathEscape(id)
	var err error
	if analyze {
		err = c.do(ctx, "POST", path+"/analyze", investigate.ReasonIn{Reason: reason}, &fs)
	} else {
		err = c.do(ctx, "GET", path+"/findings", nil, &fs)
	}
	if err != nil {
		return apiFail(stderr, "findings", err)
	}
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return exitOn(enc.Encode(fs))
	}
	for _, f := range fs {
		where := f.Host
		if f.Kind == "lateral_movement" {
			where = f.From + " → " + f.To
			if f.Account != "" {
				where += " as " + f.Account
			}
		}
		overall := ""
		if f.Overall {
			overall = " (first overall)"
		}
		fmt.Fprintf(stdout, "%s  %-16s %-26s %s  %.2f  %s%s\n    %s\n", f.ID, f.Kind, f.Rule, where, f.Confidence, f.State, overall, f.Reason)
		for _, file := range f.Files {
			fmt.Fprintf(stdout, "    file: %s\n", file)
		}
	}
	fmt.Fprintf(stdout, "%d findings\n", len(fs))
	return 0
}

// raw GETs path and returns the answer's body for streaming.
func (c *apiClient) raw(ctx context.Context, path string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if err := answerError(resp); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp.Body, nil
}
