package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mamori-dev/mamori/internal/agent"
	"github.com/mamori-dev/mamori/internal/contain"
	"github.com/mamori-dev/mamori/internal/server"
)

// Runner runs one of mamori's own commands, as the binary would.
type Runner func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// Config sets up a demo.
type Config struct {
	Dir          string // where everything goes; a temporary directory when ""
	Keep         bool   // keep everything running after the scenario, until ctx ends
	Listen       string // server address, loopback only
	Agents       int
	People       int
	Seed         uint64
	Capabilities []server.CapabilityFunc
	Run          Runner
	Out          io.Writer
}

// Result is what the scenario established, for the caller and the test.
type Result struct {
	Dir         string
	IncidentID  string
	Incidents   int // incidents opened for the outbreak
	Isolated    []string
	Findings    map[string]int // by kind
	Exfiltrated []string       // files the exfiltration evidence names
	People      int            // the register's count
	Generated   int            // people generated
	// The register's people with a source among the files taken (the zip
	// and the files zipped into it), and at exfiltrated; people whose
	// level their sources do not give; and the people planted in them.
	PeopleInArchive, ExfiltratedPeople, ExposureMismatch, PlantedInArchive int
	// FactsPeople: the people the obligations' facts count, and
	// FactsSource where the facts came from (derived from the register).
	FactsPeople int
	FactsSource string
	// Residence: the generated people by country of residence, and
	// FactsResidence the facts' count by country, derived from the
	// register.
	Residence, FactsResidence map[string]int
	// Abroad: generated people living outside Japan; of them,
	// AbroadEnglish are in the revealed register with the master's
	// language, en, and AbroadNotified received exactly one message at the
	// sink.
	Abroad, AbroadEnglish, AbroadNotified int
	// AbroadSubject and AbroadText are the subject and the decoded text
	// part of the message the sink received for the first of them.
	AbroadSubject, AbroadText string
	// ScopeAudit: the audit log's scoping entries on the incident, as
	// actor/action.
	ScopeAudit []string
	Duties     []string // law/duty/stage
	CampaignID string
	// CampaignState is the server campaign's state once sending stopped.
	CampaignState string
	// ConsoleCampaign: the console's campaign page, as privacy, showed it.
	ConsoleCampaign bool
	Messages        int // messages the SMTP sink received
	Recipients      int // distinct addresses it received them for
	WithEmail       int // generated people with an e-mail address
	Letters         int
	LettersPosted   int // letters the server printed and marked posted
	AuditOK         bool
	ConsoleURL      string
	ViewerPass      string
	PrivacyPass     string
	PPCDraft        string
	RegisterCSV     string
	LettersPDF      string
}

type demo struct {
	cfg     Config
	out     io.Writer
	step    int
	api     *client // the bootstrap admin
	privacy *client // the privacy officer, who approves the campaign
	srv     *server.Server
	url     string
	sink    *sink
	res     Result
	hosts   []host
	ids     map[string]string // host name -> agent id
	people  []person
}

func (d *demo) say(format string, a ...any) { fmt.Fprintf(d.out, format+"\n", a...) }

func (d *demo) title(s string) {
	d.step++
	fmt.Fprintf(d.out, "\n== %d. %s\n", d.step, s)
}

// command runs a mamori command and shows it with its real output.
func (d *demo) command(ctx context.Context, stdout io.Writer, args ...string) (int, string) {
	var o, e bytes.Buffer
	w := io.Writer(&o)
	if stdout != nil {
		w = stdout
	}
	code := d.cfg.Run(ctx, args, w, &e)
	shown := make([]string, len(args))
	for i, a := range args {
		shown[i] = strings.ReplaceAll(a, d.res.Dir, "$DIR")
	}
	d.say("$ mamori %s", strings.Join(shown, " "))
	text := strings.ReplaceAll(o.String()+e.String(), d.res.Dir, "$DIR")
	if stdout != nil {
		text = strings.ReplaceAll(e.String(), d.res.Dir, "$DIR")
	}
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if l != "" {
			d.say("  %s", l)
		}
	}
	return code, o.String()
}

// setenv sets the variables (an empty value unsets one) and returns the
// function that puts the old values back.
func setenv(vars map[string]string) (restore func()) {
	type old struct {
		v  string
		ok bool
	}
	saved := map[string]old{}
	for k, v := range vars {
		was, ok := os.LookupEnv(k)
		saved[k] = old{was, ok}
		if v == "" {
			os.Unsetenv(k)
		} else {
			os.Setenv(k, v)
		}
	}
	return func() {
		for k, o := range saved {
			if o.ok {
				os.Setenv(k, o.v)
			} else {
				os.Unsetenv(k)
			}
		}
	}
}

// simIsolator stands in for nftables: the demo must never cut the machine
// it runs on off the network. It records the state the agent asks for.
type simIsolator struct {
	mu     sync.Mutex
	active bool
}

func (s *simIsolator) Isolate(context.Context, contain.Policy) error {
	s.mu.Lock()
	s.active = true
	s.mu.Unlock()
	return nil
}
func (s *simIsolator) Release(context.Context) error {
	s.mu.Lock()
	s.active = false
	s.mu.Unlock()
	return nil
}
func (s *simIsolator) Active(context.Context) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active, nil
}

// Run plays the scenario. It returns when the scenario is done (and, with
// Keep, when ctx ends).
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Agents < 2 {
		return nil, errors.New("--agents: at least 2 (the breach spans two PCs)")
	}
	if cfg.People < 1 || cfg.People > 1_000_000 {
		return nil, fmt.Errorf("--people %d: want 1 to 1000000", cfg.People)
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: %w", cfg.Listen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("--listen %q: the demo listens on loopback only", cfg.Listen)
	}
	d := &demo{cfg: cfg, out: cfg.Out, ids: map[string]string{}}
	dir := cfg.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "mamori-demo-"); err != nil {
			return nil, err
		}
		if !cfg.Keep {
			defer os.RemoveAll(dir)
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	d.res.Dir = dir
	if err := d.play(ctx, time.Now()); err != nil {
		return &d.res, err
	}
	return &d.res, nil
}

func (d *demo) play(ctx context.Context, start time.Time) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dir := d.res.Dir
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o700); err != nil {
		return err
	}
	now := time.Now().UTC()

	d.title("A fleet of corporate PCs")
	d.people = people(d.cfg.People, d.cfg.Seed)
	d.res.Generated = len(d.people)
	d.res.Residence = map[string]int{}
	for _, p := range d.people {
		if p.Email != "" {
			d.res.WithEmail++
		}
		d.res.Residence[p.Country]++
		if p.Country != "JP" {
			d.res.Abroad++
		}
	}
	hosts, err := plantFleet(dir, d.cfg.Agents, d.people, now)
	if err != nil {
		return fmt.Errorf("planting files: %w", err)
	}
	d.hosts = hosts
	master := filepath.Join(dir, "master", "customers_master.csv")
	if err := write(master, masterCSV(d.people), now); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	log := slog.New(slog.NewTextHandler(logf, nil))
	sk, err := startSink()
	if err != nil {
		return err
	}
	defer sk.close()
	d.sink = sk
	ln, err := net.Listen("tcp", d.cfg.Listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	// The campaigns capability reads its relay from the environment when
	// the server builds it: the sink, without TLS, and nothing else.
	restore := setenv(map[string]string{"MAMORI_NOTIFY_SMTP": sk.addr, "MAMORI_NOTIFY_SMTP_TLS": "none",
		"MAMORI_NOTIFY_SMTP_USER": "", "MAMORI_NOTIFY_SMTP_PASSWORD": "", "MAMORI_NOTIFY_CHECK_MAILDIR": ""})
	srv, err := server.New(ctx, server.Config{DataDir: filepath.Join(dir, "server"), Listen: ln.Addr().String(), Listener: ln,
		Heartbeat: time.Second, Capabilities: d.cfg.Capabilities, Logger: log})
	restore()
	if err == nil {
		err = srv.Listen()
	}
	if err != nil {
		ln.Close()
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	defer func() { cancel(); <-served }()
	d.srv, d.url = srv, srv.URL()
	d.api = newClient(d.url, srv.AdminToken(), srv.CAPEM())
	d.say("server: %s (SQLite in $DIR/server, log in $DIR/server.log)", d.url)
	d.say("SMTP sink: %s, the server's mail relay (MAMORI_NOTIFY_SMTP)", sk.addr)

	roots, err := agent.LoadCA(filepath.Join(dir, "server", "ca.pem"))
	if err != nil {
		return err
	}
	var agents []*agent.Agent
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		for _, a := range agents {
			a.Close()
		}
	}()
	for _, h := range d.hosts {
		a, err := agent.New(ctx, agent.Config{ServerURL: d.url, Roots: roots, EnrollToken: srv.EnrollToken(),
			DataDir: filepath.Join(h.Root, "agent"), Name: h.Name, Labels: map[string]string{"addrs": h.Addr, "site": "tokyo"},
			ScanPaths: h.Scan, LogPaths: h.Logs, Isolator: &simIsolator{}, Logger: log,
			ScanInterval: time.Hour, HeightenedScanInterval: time.Hour})
		if err != nil {
			return fmt.Errorf("agent %s: %w", h.Name, err)
		}
		agents = append(agents, a)
		d.ids[h.Name] = a.ID()
		wg.Add(1)
		go func() { defer wg.Done(); a.Run(ctx) }()
	}
	if err := waitFor(ctx, time.Minute, "every agent online", func() (bool, error) {
		var hs []struct {
			Online bool `json:"online"`
		}
		if err := d.api.do(ctx, "GET", "/hosts", nil, &hs); err != nil {
			return false, err
		}
		n := 0
		for _, h := range hs {
			if h.Online {
				n++
			}
		}
		return n == len(d.hosts), nil
	}); err != nil {
		return err
	}
	for _, h := range d.hosts {
		d.say("agent %s (%s) online as %s, scanning %s", h.Name, h.Addr, d.ids[h.Name], strings.ReplaceAll(strings.Join(h.Scan, ", "), dir, "$DIR"))
	}
	d.say("customers: %d generated, %d of them living abroad (%s); their files sit on %s and %s; the master list is $DIR/master/customers_master.csv",
		len(d.people), d.res.Abroad, residence(d.res.Residence, false), d.hosts[0].Name, d.hosts[1].Name)

	for _, step := range []func(context.Context) error{d.detect, d.investigate, d.scope, d.obligations, d.notices, d.verify} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	d.summary(time.Since(start))
	if d.cfg.Keep {
		// Here, before play's deferred calls stop the server, the agents
		// and the sink.
		d.say("\n--keep: the server, the agents and the console run until Ctrl-C.")
		<-ctx.Done()
	}
	return nil
}

func (d *demo) detect(ctx context.Context) error {
	d.title("Malware found: an incident opens, the two PCs are isolated, the fleet is watched")
	if err := d.api.do(ctx, "PUT", "/policy/auto-isolation", map[string]any{"enabled": true, "threshold": 70}, nil); err != nil {
		return err
	}
	d.say("auto-isolation policy: rules scoring 70 or more isolate their host (isolation is simulated: this machine is never cut off)")
	var b struct {
		Version int64 `json:"version"`
	}
	if err := d.api.do(ctx, "POST", "/rules", map[string]any{"name": "demo implant", "yara": Rule, "hashes": []string{}}, &b); err != nil {
		return err
	}
	d.say("rule bundle %d published: mamori_demo_implant (score 90)", b.Version)
	for _, h := range d.hosts {
		if err := d.api.do(ctx, "POST", "/hosts/"+d.ids[h.Name]+"/scan", nil, nil); err != nil {
			return err
		}
	}
	type inc struct {
		ID      string    `json:"id"`
		Title   string    `json:"title"`
		State   string    `json:"state"`
		AwareAt time.Time `json:"aware_at"`
	}
	var incs []inc
	err := waitFor(ctx, 2*time.Minute, "the incident with both PCs, and both isolations", func() (bool, error) {
		if err := d.api.do(ctx, "GET", "/incidents", nil, &incs); err != nil {
			return false, err
		}
		if len(incs) == 0 {
			return false, nil
		}
		var view struct {
			Counts struct {
				Hosts int `json:"hosts"`
			} `json:"counts"`
		}
		if err := d.api.do(ctx, "GET", "/incidents/"+incs[0].ID, nil, &view); err != nil {
			return false, err
		}
		var hs []struct {
			ID        string `json:"id"`
			Isolation string `json:"isolation"`
		}
		if err := d.api.do(ctx, "GET", "/hosts", nil, &hs); err != nil {
			return false, err
		}
		iso := 0
		for _, h := range hs {
			if h.Isolation == "isolated" {
				iso++
			}
		}
		return iso >= 2 && (len(incs) > 1 || view.Counts.Hosts >= 2), nil
	})
	if err != nil {
		return err
	}
	// One outbreak, one incident: the second PC's detection joined the
	// incident the first one opened (the auto-incident policy's join
	// window).
	d.res.Incidents = len(incs)
	if len(incs) != 1 {
		return fmt.Errorf("%d incidents opened for one outbreak, want 1", len(incs))
	}
	d.res.IncidentID = incs[0].ID
	d.say("incident %s opened automatically: %q, aware_at %s", incs[0].ID, incs[0].Title, incs[0].AwareAt.Format(time.RFC3339))
	var view struct {
		Counts  json.RawMessage `json:"counts"`
		History []struct {
			Kind, Target, Reason string
		} `json:"history"`
	}
	if err := d.api.do(ctx, "GET", "/incidents/"+incs[0].ID, nil, &view); err != nil {
		return err
	}
	names := map[string]string{}
	for n, i := range d.ids {
		names[i] = n
	}
	for _, e := range view.History {
		if e.Kind == "host_linked" {
			d.say("  %s linked: %s", names[e.Target], e.Reason)
		}
	}
	d.say("  counts: %s", strings.Join(strings.Fields(string(view.Counts)), " "))
	var hs []struct {
		ID, Name, Isolation string
	}
	d.api.do(ctx, "GET", "/hosts", nil, &hs)
	sort.Slice(hs, func(i, j int) bool { return hs[i].Name < hs[j].Name })
	for _, h := range hs {
		if h.Isolation == "isolated" {
			d.res.Isolated = append(d.res.Isolated, h.Name)
			d.say("  %s (%s): isolated", h.Name, h.ID)
		}
	}
	sort.Strings(d.res.Isolated)
	var sel struct {
		Hosts []string `json:"hosts"`
	}
	if err := d.api.do(ctx, "PUT", "/monitoring", map[string]any{"level": "heightened", "hosts": "all", "reason": "malware on two PCs: watch the whole fleet"}, &sel); err != nil {
		return err
	}
	d.say("fleet monitoring: heightened on %d hosts (live file watching, process and connection collection)", len(sel.Hosts))
	return d.move(ctx, "contained", "both PCs isolated")
}

func (d *demo) move(ctx context.Context, state, reason string) error {
	return d.api.do(ctx, "POST", "/incidents/"+d.res.IncidentID+"/state", map[string]any{"state": state, "reason": reason}, nil)
}

func (d *demo) investigate(ctx context.Context) error {
	d.title("Investigation: collect logs and artefacts, build the timeline, name the entry, the movement and what left")
	if err := d.move(ctx, "investigating", "collect evidence"); err != nil {
		return err
	}
	id := d.res.IncidentID
	from := time.Now().Add(-72 * time.Hour).UTC().Truncate(time.Hour)
	var col struct {
		ID string `json:"id"`
	}
	if err := d.api.do(ctx, "POST", "/incidents/"+id+"/collect", map[string]any{"from": from, "reason": "find the entry and the exfiltration"}, &col); err != nil {
		return err
	}
	if err := waitFor(ctx, 3*time.Minute, "the collection", func() (bool, error) {
		var cs []struct {
			State string `json:"state"`
		}
		if err := d.api.do(ctx, "GET", "/incidents/"+id+"/collections", nil, &cs); err != nil {
			return false, err
		}
		// A host that could not read a log says so in its error; the
		// collection is then done_with_errors, and the rest still counts.
		return len(cs) == 1 && (cs[0].State == "done" || cs[0].State == "done_with_errors"), nil
	}); err != nil {
		return err
	}
	var page struct {
		Events []struct {
			Time    time.Time `json:"time"`
			Host    string    `json:"host"`
			Kind    string    `json:"kind"`
			Summary string    `json:"summary"`
		} `json:"events"`
	}
	d.api.do(ctx, "GET", "/incidents/"+id+"/timeline?limit=10000", nil, &page)
	names := map[string]string{}
	for n, i := range d.ids {
		names[i] = n
	}
	d.say("collection %s done: %d timeline events; the intrusion in time order:", col.ID, len(page.Events))
	for _, e := range page.Events {
		switch e.Kind {
		case "logon", "command", "archive", "sigma":
			d.say("  %s  %-6s %-8s %s", e.Time.Format("2006-01-02 15:04:05"), names[e.Host], e.Kind, strings.ReplaceAll(oneLine(e.Summary), d.res.Dir, "$DIR"))
		}
	}
	var fs []struct {
		ID, Kind, Rule, Reason, Host, From, To, Account string
		Overall                                         bool
		Files                                           []string
	}
	if err := d.api.do(ctx, "POST", "/incidents/"+id+"/analyze", map[string]any{"reason": "first analysis"}, &fs); err != nil {
		return err
	}
	d.res.Findings = map[string]int{}
	for _, f := range fs {
		d.res.Findings[f.Kind]++
		where := names[f.Host]
		if f.Kind == "lateral_movement" {
			where = names[f.From] + " → " + names[f.To] + " as " + f.Account
		}
		d.say("  %-16s %-24s %s: %s", f.Kind, f.Rule, where, strings.ReplaceAll(f.Reason, d.res.Dir, "$DIR"))
		if f.Kind == "exfiltration" {
			for _, file := range f.Files {
				d.res.Exfiltrated = append(d.res.Exfiltrated, file)
				d.say("      taken: %s", strings.ReplaceAll(file, d.res.Dir, "$DIR"))
			}
		}
	}
	return nil
}

// residence writes counts by country, largest first, Japan included or
// not.
func residence(m map[string]int, jp bool) string {
	var cs []string
	for c := range m {
		if jp || c != "JP" {
			cs = append(cs, c)
		}
	}
	sort.Slice(cs, func(i, j int) bool { return m[cs[i]] > m[cs[j]] || m[cs[i]] == m[cs[j]] && cs[i] < cs[j] })
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s %d", c, m[c])
	}
	return strings.Join(parts, ", ")
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 110 {
		s = s[:107] + "..."
	}
	return s
}
