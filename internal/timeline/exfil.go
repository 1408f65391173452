package timeline

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	// transferTools match command lines that send files elsewhere.
	transferTools = []struct {
		name string
		re   *regexp.Regexp
	}{
		{"rclone", regexp.MustCompile(`(?i)\brclone(\.exe)?\s+(copy|sync|move|copyto|moveto)\b`)},
		{"megacmd", regexp.MustCompile(`(?i)\bmega-(put|sync|export)\b|\bmegacmd`)},
		{"WinSCP", regexp.MustCompile(`(?i)\bwinscp(\.com|\.exe)?\b`)},
		{"pscp", regexp.MustCompile(`(?i)\bpscp(\.exe)?\s`)},
		{"curl upload", regexp.MustCompile(`(?i)\bcurl(\.exe)?\s(.*\s)?(-T\s|--upload-file|-F\s+\S*=@|--form\s+\S*=@|(-d|--data|--data-binary)\s+@)`)},
		{"wget post", regexp.MustCompile(`(?i)\bwget(\.exe)?\s.*--post-file`)},
		{"scp", regexp.MustCompile(`(?i)(^|[\s/;&|])scp\s.*\s\S+:\S*\s*$`)},
		{"sftp", regexp.MustCompile(`(?i)(^|[\s/;&|])sftp\s`)},
		{"rsync", regexp.MustCompile(`(?i)(^|[\s/;&|])rsync\s.*\s\S+:\S*\s*$`)},
		{"aws s3", regexp.MustCompile(`(?i)\baws\s+s3\s+(cp|sync|mv)\b`)},
		{"gsutil", regexp.MustCompile(`(?i)\bgsutil\s+(-m\s+)?(cp|rsync|mv)\b`)},
		{"azcopy", regexp.MustCompile(`(?i)\bazcopy(\.exe)?\s+(copy|sync)\b`)},
	}
	cloudDomains = regexp.MustCompile(`(?i)(^|\.)(mega\.nz|mega\.io|dropbox\.com|dropboxusercontent\.com|drive\.google\.com|docs\.google\.com|storage\.googleapis\.com|s3[.-][a-z0-9-]*\.?amazonaws\.com|s3\.amazonaws\.com|blob\.core\.windows\.net|onedrive\.live\.com|1drv\.ms|box\.com|wetransfer\.com|transfer\.sh|file\.io|anonfiles\.com|gofile\.io|pastebin\.com|sendspace\.com|mediafire\.com)$`)
	cloudInText  = regexp.MustCompile(`(?i)\b(mega\.nz|dropbox\.com|drive\.google\.com|storage\.googleapis\.com|amazonaws\.com|blob\.core\.windows\.net|transfer\.sh|file\.io|gofile\.io|wetransfer\.com)\b`)
)

func (a *analysis) exfiltration() []Finding {
	var out []Finding
	type archive struct {
		e       Event
		members []string
	}
	archives := map[string][]archive{} // per host
	// files seen per host, to name the originals of archive members.
	seen := map[string][]string{}
	for _, e := range a.evs {
		if e.Kind == "file" && e.Fields["path"] != "" {
			seen[e.Host] = append(seen[e.Host], e.Fields["path"])
		}
	}
	for i, e := range a.evs {
		switch e.Kind {
		case "archive":
			members := splitMembers(e.Fields["members"])
			archives[e.Host] = append(archives[e.Host], archive{e, members})
			if len(members) < archiveMinFiles {
				continue
			}
			// The first outbound transfer from that host within the window.
			for _, c := range a.evs[i+1:] {
				if c.Time.Sub(e.Time) > uploadWindow {
					break
				}
				if c.Host != e.Host || c.Kind != "connection" || !a.external(c.Fields["remote_ip"]) {
					continue
				}
				bytes, known := parseBytes(c.Fields["bytes_out"])
				if known && bytes < largeUpload {
					continue
				}
				conf, size := 0.8, "of unknown size"
				if known {
					size = humanSize(bytes)
				} else {
					conf = 0.6
				}
				out = append(out, Finding{Kind: Exfiltration, Rule: "archive_then_upload", Confidence: conf, Host: e.Host,
					First: e.Time, Last: c.Time, Events: []int64{e.ID, c.ID},
					Reason: fmt.Sprintf("archive %s of %d files made, then an outbound transfer %s to %s", e.Fields["path"], len(members), size, c.Fields["remote_ip"]),
					Files:  implicated(e.Fields["path"], members, seen[e.Host])})
				break
			}
		case "process", "command":
			cmd := e.Fields["command_line"]
			if e.Kind == "command" {
				cmd = e.Fields["command"]
			}
			for _, t := range transferTools {
				if t.re.MatchString(cmd) {
					f := Finding{Kind: Exfiltration, Rule: "transfer_tool", Confidence: 0.7, Host: e.Host,
						First: e.Time, Last: e.Time, Events: []int64{e.ID},
						Reason: t.name + " run: " + cmd}
					// An archive made earlier and sent now implicates
					// its members and the files they were made from.
					for _, arg := range fileArgs(cmd) {
						files := []string{arg}
						for _, ar := range archives[e.Host] {
							if ar.e.Fields["path"] == arg || memberOf(ar.e.Fields["path"], []string{arg}) {
								files = implicated(ar.e.Fields["path"], ar.members, seen[e.Host])
								f.Events = append([]int64{ar.e.ID}, f.Events...)
								f.First = ar.e.Time
							}
						}
						for _, x := range files {
							if !slices.Contains(f.Files, x) {
								f.Files = append(f.Files, x)
							}
						}
					}
					out = append(out, f)
					break
				}
			}
			if m := cloudInText.FindString(cmd); m != "" && !slices.ContainsFunc(out, func(f Finding) bool { return len(f.Events) == 1 && f.Events[0] == e.ID }) {
				out = append(out, Finding{Kind: Exfiltration, Rule: "cloud_upload", Confidence: 0.6, Host: e.Host,
					First: e.Time, Last: e.Time, Events: []int64{e.ID}, Reason: "command names cloud storage " + m + ": " + cmd, Files: fileArgs(cmd)})
			}
		case "connection":
			if d := e.Fields["domain"]; d != "" && cloudDomains.MatchString(strings.TrimSuffix(d, ".")) {
				out = append(out, Finding{Kind: Exfiltration, Rule: "cloud_upload", Confidence: 0.6, Host: e.Host,
					First: e.Time, Last: e.Time, Events: []int64{e.ID}, Reason: "connection to cloud storage " + d})
			}
		case "mount":
			if e.Fields["removable"] == "true" {
				out = append(out, Finding{Kind: Exfiltration, Rule: "removable_media", Confidence: 0.5, Host: e.Host,
					First: e.Time, Last: e.Time, Events: []int64{e.ID}, Reason: "removable storage attached: " + e.Fields["device"]})
			}
		case "file_deleted":
			p := e.Fields["path"]
			for _, ar := range archives[e.Host] {
				if ar.e.Time.After(e.Time) || !memberOf(p, ar.members) {
					continue
				}
				out = append(out, Finding{Kind: Exfiltration, Rule: "deleted_after_archive", Confidence: 0.8, Host: e.Host,
					First: ar.e.Time, Last: e.Time, Events: []int64{ar.e.ID, e.ID},
					Reason: p + " deleted after it was put in " + ar.e.Fields["path"], Files: []string{p}})
				break
			}
		}
	}
	return out
}

func splitMembers(s string) []string {
	var out []string
	for _, m := range strings.Split(s, "\n") {
		if m = strings.TrimSpace(m); m != "" && !strings.HasSuffix(m, "/") {
			out = append(out, m)
		}
	}
	return out
}

// implicated names the archive, each member as archive!member, and the
// files seen on the host that the members were most likely made from.
func implicated(archive string, members, seen []string) []string {
	out := []string{archive}
	for _, m := range members {
		out = append(out, archive+"!"+m)
	}
	for _, p := range seen {
		if p != archive && memberOf(p, members) && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// memberOf reports whether the file at p is one of the archive's members:
// the member's path is a suffix of p at a path boundary.
func memberOf(p string, members []string) bool {
	p = strings.ReplaceAll(p, `\`, "/")
	for _, m := range members {
		m = strings.TrimPrefix(strings.ReplaceAll(m, `\`, "/"), "./")
		if p == m || strings.HasSuffix(p, "/"+m) {
			return true
		}
	}
	return false
}

func parseBytes(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("of %.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("of %.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("of %d bytes", n)
}

// fileArgs picks the local files a transfer command names: @file and -T
// arguments, and words that look like paths and are not remote targets.
func fileArgs(cmd string) []string {
	var out []string
	words := strings.Fields(cmd)
	for i, w := range words {
		w = strings.Trim(w, `"'`)
		switch {
		case strings.Contains(w, "=@"):
			out = append(out, w[strings.Index(w, "=@")+2:])
		case strings.HasPrefix(w, "@") && len(w) > 1:
			out = append(out, w[1:])
		case (w == "-T" || w == "--upload-file") && i+1 < len(words):
			out = append(out, strings.Trim(words[i+1], `"'`))
		case strings.HasPrefix(w, "--post-file="):
			out = append(out, strings.TrimPrefix(w, "--post-file="))
		case i > 0 && !strings.HasPrefix(w, "-") && !strings.Contains(w, "://") && !strings.Contains(w, ":") &&
			(strings.ContainsAny(w, `/\`) || strings.Contains(w, ".")) && !slices.Contains(out, w) && !isOptionValue(words, i):
			out = append(out, w)
		}
	}
	return slices.Compact(out)
}

// isOptionValue reports a word that is the value of the option before it
// (curl -H "...", -o out), which is not a file being sent.
func isOptionValue(words []string, i int) bool {
	prev := words[i-1]
	return prev == "-H" || prev == "-o" || prev == "-A" || prev == "--header" || prev == "-u" || prev == "-e" || prev == "-i" || prev == "-p" || prev == "-P"
}
