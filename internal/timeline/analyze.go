package timeline

import (
	"net/netip"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Host is an enrolled host as the analysis needs it: the addresses it is
// known by, so that a logon from one of them is movement inside the fleet
// rather than an entry from outside.
type Host struct {
	ID    string
	Name  string
	Addrs []netip.Addr
}

// AddrsLabel is the host label that declares addresses a host is known by
// besides those its agent reports (behind NAT, or in a lab), comma
// separated.
const AddrsLabel = "addrs"

// Finding kinds.
const (
	EntryVector     = "entry_vector"
	LateralMovement = "lateral_movement"
	Exfiltration    = "exfiltration"
)

// Finding is one conclusion of the analysis with the events behind it.
type Finding struct {
	Kind       string    `json:"kind"`
	Rule       string    `json:"rule"`
	Reason     string    `json:"reason"`
	Confidence float64   `json:"confidence"`
	Host       string    `json:"host,omitempty"`
	From       string    `json:"from,omitempty"` // lateral movement: source host
	To         string    `json:"to,omitempty"`   // lateral movement: target host
	Account    string    `json:"account,omitempty"`
	First      time.Time `json:"first"`
	Last       time.Time `json:"last"`
	// Overall marks the entry vector that came first across all hosts.
	Overall bool `json:"overall,omitempty"`
	// Files are the files an exfiltration finding implicates: paths on
	// Host, and archive members as archive!member.
	Files []string `json:"files,omitempty"`
	// Events are the IDs of the events behind the finding, in time order.
	Events []int64 `json:"events"`
}

// Tunables of the rules, documented in the package documentation.
const (
	bruteForceMin    = 5
	bruteForceWindow = time.Hour
	serviceWindow    = 10 * time.Minute
	uploadWindow     = 2 * time.Hour
	archiveMinFiles  = 3
	largeUpload      = 1 << 20
)

// Analyze names the entry vector per host and overall, the lateral movement
// edges and the exfiltration evidence found in events. Events need not be
// sorted; their IDs identify them in the findings.
func Analyze(events []Event, hosts []Host) []Finding {
	evs := slices.Clone(events)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	a := &analysis{evs: evs, owner: map[netip.Addr]string{}}
	for _, h := range hosts {
		for _, ad := range h.Addrs {
			a.owner[ad.Unmap()] = h.ID
		}
		if h.Name != "" {
			a.names = append(a.names, [2]string{h.Name, h.ID})
		}
	}
	var out []Finding
	out = append(out, a.entryVectors()...)
	out = append(out, a.lateral()...)
	out = append(out, a.exfiltration()...)
	return out
}

type analysis struct {
	evs   []Event
	owner map[netip.Addr]string // address -> enrolled host id
	names [][2]string           // host name -> id, for workstation names
}

// hostOf returns the enrolled host an address belongs to, or "".
func (a *analysis) hostOf(s string) string {
	ad, err := netip.ParseAddr(strings.TrimPrefix(s, "::ffff:"))
	if err != nil {
		return ""
	}
	return a.owner[ad.Unmap()]
}

// external reports an address outside the fleet that can have come from
// the network (not loopback, not unspecified).
func (a *analysis) external(s string) bool {
	ad, err := netip.ParseAddr(strings.TrimPrefix(s, "::ffff:"))
	if err != nil || ad.IsLoopback() || ad.IsUnspecified() {
		return false
	}
	return a.owner[ad.Unmap()] == ""
}

func ids(evs ...Event) []int64 {
	out := make([]int64, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

func base(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	return strings.ToLower(path.Base(p))
}

var (
	officeApps = set("winword.exe", "excel.exe", "powerpnt.exe", "outlook.exe", "msaccess.exe", "mspub.exe", "onenote.exe", "visio.exe")
	shells     = set("cmd.exe", "powershell.exe", "pwsh.exe", "wscript.exe", "cscript.exe", "mshta.exe", "rundll32.exe", "regsvr32.exe",
		"sh", "bash", "dash", "zsh", "ksh", "/bin/sh", "python", "python3", "perl", "nc", "ncat")
	webServers  = set("apache2", "httpd", "nginx", "w3wp.exe", "php-fpm", "php-cgi", "tomcat", "lighttpd", "caddy")
	remoteExecs = set("wmiprvse.exe", "wsmprovhost.exe", "psexesvc.exe")
	webRoots    = []string{"/var/www/", "/usr/share/nginx/", "/srv/www/", "/srv/http/", "/inetpub/wwwroot/", "/webapps/", "/htdocs/", "/public_html/"}
	webScripts  = set(".php", ".phtml", ".php5", ".jsp", ".jspx", ".asp", ".aspx", ".ashx", ".asmx", ".cgi", ".pl")
	downloads   = []string{"/downloads/", "/content.outlook/", "/inetcache/", "/temporary internet files/", "/appdata/local/temp/outlook"}
	adminShares = regexp.MustCompile(`(?i)\\\\\*\\(ADMIN\$|C\$|IPC\$)$|^(ADMIN\$|C\$|IPC\$)$`)
)

func set(xs ...string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func (a *analysis) entryVectors() []Finding {
	var cands []Finding
	cands = append(cands, a.bruteForce()...)
	for _, e := range a.evs {
		f := a.entrySingle(e)
		if f != nil {
			cands = append(cands, *f)
		}
	}
	// The earliest candidate per host, and the earliest of all.
	best := map[string]int{}
	for i, c := range cands {
		if j, ok := best[c.Host]; !ok || c.First.Before(cands[j].First) {
			best[c.Host] = i
		}
	}
	var out []Finding
	for _, i := range best {
		out = append(out, cands[i])
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].First.Equal(out[j].First) {
			return out[i].First.Before(out[j].First)
		}
		return out[i].Host < out[j].Host
	})
	if len(out) > 0 {
		out[0].Overall = true
	}
	return out
}

func (a *analysis) bruteForce() []Finding {
	type key struct{ host, ip string }
	failed := map[key][]Event{}
	done := map[key]bool{}
	var out []Finding
	for _, e := range a.evs {
		ip := e.Fields["source_ip"]
		if ip == "" || !a.external(ip) {
			continue
		}
		k := key{e.Host, ip}
		switch e.Kind {
		case "logon_failed":
			failed[k] = append(failed[k], e)
		case "logon":
			var recent []Event
			for _, f := range failed[k] {
				if e.Time.Sub(f.Time) <= bruteForceWindow {
					recent = append(recent, f)
				}
			}
			if len(recent) < bruteForceMin || done[k] {
				continue
			}
			done[k] = true
			how := "SSH"
			if lt := e.Fields["logon_type"]; lt != "" && lt != "ssh" {
				how = "logon type " + lt
			}
			out = append(out, Finding{Kind: EntryVector, Rule: "brute_force_then_success", Confidence: 0.9, Host: e.Host,
				Account: e.Fields["user"], First: recent[0].Time, Last: e.Time,
				Reason: strconv.Itoa(len(recent)) + " failed logons from " + ip + " within an hour, then a successful " + how + " logon of " + e.Fields["user"] + " from it",
				Events: ids(append(recent, e)...)})
		}
	}
	return out
}

func (a *analysis) entrySingle(e Event) *Finding {
	f := &Finding{Kind: EntryVector, Host: e.Host, First: e.Time, Last: e.Time, Events: []int64{e.ID}}
	img, parent := base(e.Fields["image"]), base(e.Fields["parent_image"])
	lowerImg := strings.ToLower(strings.ReplaceAll(e.Fields["image"], `\`, "/"))
	switch {
	case e.Kind == "process" && officeApps[parent] && shells[img]:
		f.Rule, f.Confidence, f.Reason = "office_spawns_shell", 0.8, parent+" started "+img
	case e.Kind == "process" && webServers[parent] && shells[img]:
		f.Rule, f.Confidence, f.Reason = "web_shell", 0.8, "web server "+parent+" started "+img
	case e.Kind == "process" && containsAny(lowerImg, downloads):
		f.Rule, f.Confidence, f.Reason = "download_execution", 0.6, "program run from a download or mail folder: "+e.Fields["image"]
	case e.Kind == "file" && isWebShell(e.Fields["path"]):
		f.Rule, f.Confidence, f.Reason = "web_shell", 0.8, "script written under a web root: "+e.Fields["path"]
	case e.Kind == "sigma" && isExploitRule(e):
		f.Rule, f.Confidence, f.Reason = "exploit_rule", 0.7, "Sigma rule for exploitation or initial access: "+e.Rule
	default:
		return nil
	}
	return f
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

func isWebShell(p string) bool {
	lp := strings.ToLower(strings.ReplaceAll(p, `\`, "/"))
	return containsAny(lp, webRoots) && webScripts[path.Ext(lp)]
}

func isExploitRule(e Event) bool {
	tags := strings.ToLower(e.Fields["tags"])
	return strings.Contains(tags, "attack.initial_access") || strings.Contains(tags, "attack.t1190") ||
		strings.Contains(strings.ToLower(e.Rule), "exploit")
}

func (a *analysis) lateral() []Finding {
	edges := map[string]*Finding{}
	var order []string
	add := func(rule, reason string, conf float64, from, to, account string, evs ...Event) {
		k := rule + "\x00" + from + "\x00" + to + "\x00" + strings.ToLower(account)
		f, ok := edges[k]
		if !ok {
			f = &Finding{Kind: LateralMovement, Rule: rule, Reason: reason, Confidence: conf, From: from, To: to, Host: to,
				Account: account, First: evs[0].Time}
			edges[k] = f
			order = append(order, k)
		}
		f.Last = evs[len(evs)-1].Time
		for _, e := range evs {
			if !slices.Contains(f.Events, e.ID) {
				f.Events = append(f.Events, e.ID)
			}
		}
	}
	// lastRemote is the latest logon into a host from another enrolled host.
	type remote struct {
		from string
		e    Event
	}
	lastRemote := map[string]remote{}
	for _, e := range a.evs {
		src := a.hostOf(e.Fields["source_ip"])
		if src == "" && e.Fields["workstation"] != "" {
			src = a.hostByName(e.Fields["workstation"])
		}
		switch {
		case e.Kind == "logon" && src != "" && src != e.Host && remoteLogonType(e.Fields["logon_type"]):
			how := "SSH login"
			if lt := e.Fields["logon_type"]; lt != "ssh" {
				how = "network logon (type " + lt + ")"
			}
			add("remote_logon", how+" from another enrolled host", 0.8, src, e.Host, e.Fields["user"], e)
			lastRemote[e.Host] = remote{src, e}
		case e.Kind == "share_access" && src != "" && src != e.Host && adminShares.MatchString(e.Fields["share"]):
			add("admin_share", "administrative share "+e.Fields["share"]+" used from another enrolled host", 0.7, src, e.Host, e.Fields["user"], e)
		case e.Kind == "service_installed" || e.Kind == "process" && remoteExecs[base(e.Fields["parent_image"])]:
			r, ok := lastRemote[e.Host]
			if !ok || e.Time.Sub(r.e.Time) > serviceWindow {
				continue
			}
			what := "service " + e.Fields["service"] + " installed"
			if e.Kind == "process" {
				what = base(e.Fields["parent_image"]) + " started " + base(e.Fields["image"])
			}
			add("remote_service", what+" shortly after a logon from another enrolled host (PsExec, WMI, WinRM)", 0.7,
				r.from, e.Host, r.e.Fields["user"], r.e, e)
		}
	}
	out := make([]Finding, 0, len(order))
	for _, k := range order {
		out = append(out, *edges[k])
	}
	return out
}

func (a *analysis) hostByName(n string) string {
	for _, p := range a.names {
		if strings.EqualFold(p[0], n) {
			return p[1]
		}
	}
	return ""
}

func remoteLogonType(lt string) bool {
	return lt == "3" || lt == "10" || lt == "ssh"
}
