package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mamori-dev/mamori/internal/incident"
)

// apiFlags are the flags of every command that talks to the server's API.
type apiFlags struct {
	server, ca, token string
}

func (f *apiFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.server, "server", "", "server `URL`, e.g. https://mamori.example:8443")
	fs.StringVar(&f.ca, "ca", "", "PEM `FILE` of the fleet CA that signed the server's certificate")
	fs.StringVar(&f.token, "token", "", "API token: @`FILE` to read it from a file (or the token itself)")
}

// apiClient calls the server's JSON API with a bearer token.
type apiClient struct {
	base  string
	token string
	hc    *http.Client
}

// client checks the flags and builds the client; the error is a usage
// error (exit 2).
func (f *apiFlags) client() (*apiClient, error) {
	if f.server == "" || f.ca == "" || f.token == "" {
		return nil, errors.New("--server, --ca and --token are required")
	}
	u, err := url.Parse(f.server)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("--server %q: want https://HOST:PORT", f.server)
	}
	pem, err := os.ReadFile(f.ca)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca %s: no PEM certificate in it", f.ca)
	}
	tok := f.token
	if name, ok := strings.CutPrefix(tok, "@"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("--token: %w", err)
		}
		tok = strings.TrimSpace(string(b))
	}
	if tok == "" {
		return nil, errors.New("--token: empty token")
	}
	return &apiClient{
		base:  strings.TrimSuffix(u.String(), "/") + "/api/v1",
		token: tok,
		hc: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		}},
	}, nil
}

// apiError is a non-2xx answer.
type apiError struct {
	Status int
	Msg    string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Msg)
}

// answerError is the *apiError of a non-2xx answer, with the JSON error's
// text (or the body's), or nil.
func answerError(resp *http.Response) error {
	if resp.StatusCode/100 == 2 {
		return nil
	}
	var e struct {
		Error string `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if json.Unmarshal(b, &e) != nil || e.Error == "" {
		e.Error = strings.TrimSpace(string(b))
	}
	return &apiError{Status: resp.StatusCode, Msg: e.Error}
}

// do sends in (if not nil) as JSON and decodes the answer into out (if not
// nil).
func (c *apiClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	ctype := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body, ctype = bytes.NewReader(b), "application/json"
	}
	resp, err := c.send(ctx, method, path, body, ctype)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	return nil
}

// send sends body (of content type ctype) and returns a 2xx answer, whose
// body the caller closes; any other answer is an *apiError.
func (c *apiClient) send(ctx context.Context, method, path string, body io.Reader, ctype string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if err := answerError(resp); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

func init() {
	register("incident", "list, show, open and move incidents through the server's API", runIncident)
	capabilities = append(capabilities, incident.Capability)
}

const incidentUsage = `usage: mamori incident list  --server URL --ca FILE --token @FILE [--state STATE]
       mamori incident show  --server URL --ca FILE --token @FILE ID
       mamori incident open  --server URL --ca FILE --token @FILE --title TEXT [--summary TEXT] [--severity S] [--aware-at RFC3339] [--host ID]... --reason TEXT
       mamori incident state --server URL --ca FILE --token @FILE ID STATE --reason TEXT
states: open → contained → investigating → scoped → reporting → notifying → closed`

// incidentSubcommands are the `mamori incident` subcommands that other
// files add (timeline, findings, ...), each with its usage line.
var incidentSubcommands = map[string]command{}

func runIncident(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, incidentUsage)
		for _, name := range slices.Sorted(maps.Keys(incidentSubcommands)) {
			fmt.Fprintln(stderr, "       "+incidentSubcommands[name].summary)
		}
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub := args[0]
	if more, ok := incidentSubcommands[sub]; ok {
		return more.run(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("incident "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, incidentUsage) }
	var api apiFlags
	api.register(fs)
	var state, title, summary, severity, awareAt, reason, format string
	var hosts multiFlag
	fs.StringVar(&state, "state", "", "list only incidents in this `STATE`")
	fs.StringVar(&title, "title", "", "the incident's title")
	fs.StringVar(&summary, "summary", "", "what is known so far")
	fs.StringVar(&severity, "severity", "", "low, medium (default), high or critical")
	fs.StringVar(&awareAt, "aware-at", "", "when the organisation became aware, RFC 3339 (default now); legal deadlines count from it")
	fs.Var(&hosts, "host", "host `ID` to link (repeatable)")
	fs.StringVar(&reason, "reason", "", "why, for the incident's history and the audit log")
	fs.StringVar(&format, "format", "text", "output: text or json")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "mamori incident %s: "+format+"\n", append([]any{sub}, a...)...)
		return code
	}
	want := map[string]int{"list": 0, "show": 1, "open": 0, "state": 2}
	n, ok := want[sub]
	if !ok {
		fmt.Fprintf(stderr, "mamori incident: unknown subcommand %q\n%s\n", sub, incidentUsage)
		return 2
	}
	if len(pos) != n {
		return fail(2, "want %d argument(s), got %d\n%s", n, len(pos), incidentUsage)
	}
	if format != "text" && format != "json" {
		return fail(2, "--format %q: text or json", format)
	}
	c, err := api.client()
	if err != nil {
		return fail(2, "%v", err)
	}
	var out any
	switch sub {
	case "list":
		q := url.Values{"limit": {"1000"}}
		if state != "" {
			q.Set("state", state)
		}
		var ins []incident.Incident
		err = c.do(ctx, "GET", "/incidents?"+q.Encode(), nil, &ins)
		out = ins
		if err == nil && format == "text" {
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATE\tSEVERITY\tAWARE AT\tTITLE")
			for _, in := range ins {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", in.ID, in.State, in.Severity, in.AwareAt.Format(time.RFC3339), in.Title)
			}
			tw.Flush()
			return 0
		}
	case "show":
		var v incident.IncidentView
		err = c.do(ctx, "GET", "/incidents/"+url.PathEscape(pos[0]), nil, &v)
		out = v
		if err == nil && format == "text" {
			printIncident(stdout, v)
			return 0
		}
	case "open":
		req := incident.OpenRequest{Title: title, Summary: summary, Severity: severity, Hosts: hosts, Reason: reason}
		if awareAt != "" {
			if req.AwareAt, err = time.Parse(time.RFC3339, awareAt); err != nil {
				return fail(2, "--aware-at: %v", err)
			}
		}
		var v incident.IncidentView
		err = c.do(ctx, "POST", "/incidents", req, &v)
		out = v
		if err == nil && format == "text" {
			printIncident(stdout, v)
			return 0
		}
	case "state":
		var v incident.IncidentView
		err = c.do(ctx, "POST", "/incidents/"+url.PathEscape(pos[0])+"/state", incident.StateChange{State: pos[1], Reason: reason}, &v)
		out = v
		if err == nil && format == "text" {
			printIncident(stdout, v)
			return 0
		}
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return fail(1, "%v", err)
	}
	if err != nil {
		return fail(2, "%v", err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.Encode(out)
	return 0
}

func printIncident(w io.Writer, v incident.IncidentView) {
	fmt.Fprintf(w, "%s  %s\n", v.ID, v.Title)
	fmt.Fprintf(w, "state     %s (next: %s)\n", v.State, moves(v.Next))
	fmt.Fprintf(w, "severity  %s\n", v.Severity)
	fmt.Fprintf(w, "aware at  %s\n", v.AwareAt.Format(time.RFC3339))
	fmt.Fprintf(w, "opened by %s at %s\n", v.OpenedBy, v.CreatedAt.Format(time.RFC3339))
	fmt.Fprintf(w, "counts    %s (%d isolated), %s, %s\n", plural(v.Counts.Hosts, "host"), v.Counts.IsolatedHosts,
		plural(v.Counts.Detections, "detection"), plural(v.Counts.Notes, "note"))
	if v.Summary != "" {
		fmt.Fprintf(w, "summary   %s\n", v.Summary)
	}
	fmt.Fprintln(w, "history:")
	for _, e := range v.History {
		what := string(e.Kind)
		switch {
		case e.Kind == incident.EventOpened:
		case e.From != "":
			what += " " + e.From + " → " + e.To
		case e.To != "":
			what += " → " + e.To
		}
		if e.Target != "" {
			what += " " + e.Target
		}
		fmt.Fprintf(w, "  %s  %-22s %s", e.At.Format(time.RFC3339), e.Actor, what)
		if e.Reason != "" {
			fmt.Fprintf(w, "  (%s)", e.Reason)
		}
		fmt.Fprintln(w)
	}
}

func moves(ms []incident.StateMove) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = m.String()
	}
	return strings.Join(s, ", ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
