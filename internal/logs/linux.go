package logs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/logevent"
)

var (
	reAuditd   = regexp.MustCompile(`^(?:node=\S+ )?type=[A-Z0-9_]+ msg=audit\((\d+)(?:\.(\d+))?:(\d+)\):\s?`)
	reBashTime = regexp.MustCompile(`^#(\d{9,11})$`)
	reZshTime  = regexp.MustCompile(`^: (\d{9,11}):(\d+);`)
	reWeb      = regexp.MustCompile(`^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}|-) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?`)
	re5424     = regexp.MustCompile(`^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) `)
	re3164     = regexp.MustCompile(`^(?:<(\d{1,3})>)?([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d:\d\d:\d\d) (\S+) `)
	reISOSys   = regexp.MustCompile(`^(?:<(\d{1,3})>)?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)) (\S+) `)
	reTag      = regexp.MustCompile(`^([^\s\[:]+)(?:\[(\d+)\])?: ?`)
)

// authPrograms are the programs whose syslog lines become Service "auth".
var authPrograms = map[string]bool{
	"sshd": true, "sshd-session": true, "sudo": true, "su": true, "useradd": true, "usermod": true,
	"userdel": true, "groupadd": true, "groupmod": true, "groupdel": true, "passwd": true,
	"chpasswd": true, "chage": true, "gpasswd": true, "login": true, "systemd-logind": true,
	"polkitd": true, "pkexec": true, "cron": true, "CRON": true,
}

// detectText names a text log format from its first lines.
func detectText(head []byte) Format {
	lines := bytes.Split(head, []byte("\n"))
	if len(lines) > 1 {
		lines = lines[:len(lines)-1] // the last may be cut short
	}
	var first []byte
	for _, l := range lines {
		if l = bytes.TrimRight(l, "\r"); len(bytes.TrimSpace(l)) > 0 {
			first = l
			break
		}
	}
	switch {
	case first == nil:
		return ""
	case reAuditd.Match(first):
		return Auditd
	case bytes.HasPrefix(first, []byte("#Software: Microsoft Internet Information Services")),
		bytes.HasPrefix(first, []byte("#Version: 1.0")) && bytes.Contains(head, []byte("\n#Fields: ")):
		return W3C
	case reBashTime.Match(first), reZshTime.Match(first):
		return History
	case reWeb.Match(first):
		return WebAccess
	case re5424.Match(first), re3164.Match(first), reISOSys.Match(first):
		for _, l := range lines {
			if s, ok := parseSyslog(string(bytes.TrimRight(l, "\r")), time.Now()); ok && authPrograms[s.program] {
				return Auth
			}
		}
		return Syslog
	}
	return ""
}

// lineParser reads the line-oriented formats.
type lineParser struct {
	format Format
	name   string
	mtime  time.Time // dates RFC 3164 lines, which carry no year
	fields []string  // W3C: the current #Fields: directive
}

const maxLine = 1 << 20

func (p *lineParser) read(ctx context.Context, r io.Reader, fn func(*logevent.Event) error, onErr func(error)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var off int64
	var lineNo uint64
	var hist *histEntry
	flushHist := func() error {
		if hist == nil {
			return nil
		}
		h := hist
		hist = nil
		return fn(h.event(p.name))
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, n, err := readLine(br)
		if n == 0 && err != nil {
			if !errors.Is(err, io.EOF) {
				onErr(&RecordError{File: p.name, Offset: off, Err: err})
			}
			return flushHist()
		}
		lineOff := off
		off += int64(n)
		lineNo++
		if errors.Is(err, bufio.ErrBufferFull) {
			onErr(&RecordError{File: p.name, Offset: lineOff, Err: fmt.Errorf("line %d: longer than %d bytes", lineNo, maxLine)})
			continue
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if p.format == History {
			next, err := hist.add(line, lineNo, lineOff)
			if next != hist {
				if err := flushHist(); err != nil {
					return err
				}
				hist = next
			}
			if err != nil {
				onErr(&RecordError{File: p.name, Offset: lineOff, Err: fmt.Errorf("line %d: %w", lineNo, err)})
			}
			continue
		}
		e, perr := p.parse(line)
		if perr != nil {
			onErr(&RecordError{File: p.name, Offset: lineOff, Err: fmt.Errorf("line %d: %w", lineNo, perr)})
			continue
		}
		if e == nil {
			continue // a directive, not an event
		}
		e.Source, e.RecordID, e.Offset = p.name, lineNo, lineOff
		if err := fn(e); err != nil {
			return err
		}
	}
}

// readLine returns one line without its end, and the bytes consumed; a
// line longer than maxLine is consumed and reported as bufio.ErrBufferFull.
func readLine(br *bufio.Reader) (string, int, error) {
	var buf []byte
	n := 0
	for {
		frag, err := br.ReadSlice('\n')
		n += len(frag)
		if len(buf)+len(frag) <= maxLine {
			buf = append(buf, frag...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if n > maxLine {
			return "", n, bufio.ErrBufferFull
		}
		return strings.TrimRight(string(buf), "\r\n"), n, err
	}
}

func (p *lineParser) parse(line string) (*logevent.Event, error) {
	switch p.format {
	case Auditd:
		return parseAuditd(line)
	case WebAccess:
		return parseWeb(line)
	case W3C:
		return p.parseW3C(line)
	}
	s, ok := parseSyslog(line, p.mtime)
	if !ok {
		return nil, errors.New("not a syslog line")
	}
	return s.event(), nil
}

// syslogLine is one parsed syslog line.
type syslogLine struct {
	t                 time.Time
	host, program     string
	pid               int64
	msg               string
	facility, sev     int64
	hasPri            bool
	msgid, structured string
}

// parseSyslog reads RFC 5424, RFC 3164, and RFC 3164 with an RFC 3339
// timestamp (rsyslog's high-precision format). An RFC 3164 date takes the
// year of ref (the file's modification time), or the year before when that
// would put it more than a day after ref.
func parseSyslog(line string, ref time.Time) (syslogLine, bool) {
	var s syslogLine
	rest := ""
	if m := re5424.FindStringSubmatch(line); m != nil {
		s.setPri(m[1])
		if m[2] != "-" {
			t, err := time.Parse(time.RFC3339Nano, m[2])
			if err != nil {
				return s, false
			}
			s.t = t.UTC()
		}
		s.host, s.program, s.msgid = nil5424(m[3]), nil5424(m[4]), nil5424(m[6])
		if m[5] != "-" {
			s.pid, _ = strconv.ParseInt(m[5], 10, 64)
		}
		rest = line[len(m[0]):]
		sd, msg := splitSD(rest)
		s.structured = sd
		s.msg = strings.TrimPrefix(msg, "\ufeff")
		return s, true
	}
	if m := reISOSys.FindStringSubmatch(line); m != nil {
		s.setPri(m[1])
		t, err := time.Parse(time.RFC3339Nano, m[2])
		if err != nil {
			t, err = time.Parse("2006-01-02T15:04:05.999999999-0700", m[2])
			if err != nil {
				return s, false
			}
		}
		s.t, s.host, rest = t.UTC(), m[3], line[len(m[0]):]
	} else if m := re3164.FindStringSubmatch(line); m != nil {
		s.setPri(m[1])
		t, err := time.Parse("Jan 2 15:04:05", m[2]+" "+m[3]+" "+m[4])
		if err != nil {
			return s, false
		}
		year := ref.Year()
		if ref.IsZero() {
			year = time.Now().UTC().Year()
		}
		t = t.AddDate(year, 0, 0)
		if !ref.IsZero() && t.After(ref.Add(24*time.Hour)) {
			t = t.AddDate(-1, 0, 0)
		}
		s.t, s.host, rest = t.UTC(), m[5], line[len(m[0]):]
	} else {
		return s, false
	}
	if m := reTag.FindStringSubmatch(rest); m != nil {
		s.program = m[1]
		if m[2] != "" {
			s.pid, _ = strconv.ParseInt(m[2], 10, 64)
		}
		rest = rest[len(m[0]):]
	}
	s.msg = rest
	return s, true
}

func nil5424(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// splitSD splits RFC 5424 structured data from the message.
func splitSD(s string) (string, string) {
	if strings.HasPrefix(s, "- ") || s == "-" {
		return "", strings.TrimPrefix(strings.TrimPrefix(s, "-"), " ")
	}
	if !strings.HasPrefix(s, "[") {
		return "", s
	}
	i, inQuote := 0, false
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\\' && inQuote:
			i++
		case c == '"':
			inQuote = !inQuote
		case c == ']' && !inQuote && (i+1 == len(s) || s[i+1] != '['):
			return s[:i+1], strings.TrimPrefix(s[i+1:], " ")
		}
		i++
	}
	return s, ""
}

func (s *syslogLine) setPri(p string) {
	if p == "" {
		return
	}
	n, _ := strconv.ParseInt(p, 10, 64)
	s.facility, s.sev, s.hasPri = n/8, n%8, true
}

func (s syslogLine) event() *logevent.Event {
	e := &logevent.Event{Time: s.t, Product: "linux", Service: "syslog", Host: s.host, Fields: map[string]any{}}
	f := e.Fields
	f["program"] = s.program
	if s.pid != 0 {
		f["pid"] = s.pid
	}
	f["message"] = s.msg
	if s.hasPri {
		f["facility"], f["severity"] = s.facility, s.sev
	}
	if s.msgid != "" {
		f["msgid"] = s.msgid
	}
	if s.structured != "" {
		f["structured_data"] = s.structured
	}
	if authPrograms[s.program] {
		e.Service = "auth"
		parseAuth(s.program, s.msg, f)
	}
	return e
}

var (
	reSSHAuth   = regexp.MustCompile(`^(Failed|Accepted) (\S+) for (invalid user )?(.*?) from (\S+) port (\d+)`)
	reSSHInval  = regexp.MustCompile(`^Invalid user (.*?) from (\S+)(?: port (\d+))?`)
	reSSHDisc   = regexp.MustCompile(`^(?:Disconnected from|Connection closed by|Received disconnect from)(?: (invalid|authenticating) user)?(?: user)? (?:(\S+) )?(\d+\.\d+\.\d+\.\d+|[0-9a-fA-F:]+:[0-9a-fA-F:.]*) port (\d+)`)
	reSudo      = regexp.MustCompile(`^\s*(\S+) : (?:(.*?) ; )?TTY=(\S+) ; PWD=(.*?) ; USER=(\S+) ;(?: (?:ENV=.*? ; )?COMMAND=(.*))?`)
	reSuTo      = regexp.MustCompile(`^(?:\(to (\S+)\) (\S+) on (\S+)|(Successful|FAILED) su for (\S+) by (\S+))`)
	reNewUser   = regexp.MustCompile(`^new user: name=([^,]+), UID=(\d+), GID=(\d+), home=([^,]*), shell=([^,]*)`)
	reNewGroup  = regexp.MustCompile(`^(?:new group|group added to \S+): name=([^,]+), GID=(\d+)`)
	reUsermod   = regexp.MustCompile(`^(?:change user '([^']+)'|add '([^']+)' to (?:shadow )?group '([^']+)'|lock user '([^']+)'|unlock user '([^']+)')`)
	rePasswdChg = regexp.MustCompile(`password changed for (\S+)`)
	reUserdel   = regexp.MustCompile(`^delete user '([^']+)'`)
	reGroupdel  = regexp.MustCompile(`^(?:group '([^']+)' removed$|removed group '([^']+)')`)
	rePamUser   = regexp.MustCompile(`\buser=(\S+)`)
	rePamRhost  = regexp.MustCompile(`\brhost=(\S+)`)
)

var reRepeated = regexp.MustCompile(`^message repeated (\d+) times: \[ ?(.*?)\]$`)

// parseAuth adds the fields of an auth message (see doc.go).
func parseAuth(program, msg string, f map[string]any) {
	// rsyslog folds identical messages, brute-force attempts among them.
	if m := reRepeated.FindStringSubmatch(msg); m != nil {
		f["repeated"], _ = strconv.ParseInt(m[1], 10, 64)
		msg = m[2]
	}
	switch program {
	case "sshd", "sshd-session":
		if m := reSSHAuth.FindStringSubmatch(msg); m != nil {
			f["event"] = map[string]string{"Failed": "ssh_failed", "Accepted": "ssh_accepted"}[m[1]]
			f["auth_method"], f["user"], f["source_ip"] = m[2], m[4], m[5]
			f["source_port"], _ = strconv.ParseInt(m[6], 10, 64)
			if m[3] != "" {
				f["invalid_user"] = true
			}
		} else if m := reSSHInval.FindStringSubmatch(msg); m != nil {
			f["event"], f["user"], f["source_ip"] = "ssh_invalid_user", m[1], m[2]
			if m[3] != "" {
				f["source_port"], _ = strconv.ParseInt(m[3], 10, 64)
			}
		} else if m := reSSHDisc.FindStringSubmatch(msg); m != nil {
			f["event"], f["source_ip"] = "ssh_disconnect", m[3]
			if m[2] != "" {
				f["user"] = m[2]
			}
			f["source_port"], _ = strconv.ParseInt(m[4], 10, 64)
		} else {
			pamFields(msg, f)
		}
	case "sudo":
		if m := reSudo.FindStringSubmatch(msg); m != nil {
			f["event"], f["user"], f["tty"], f["pwd"], f["target_user"] = "sudo", m[1], m[3], m[4], m[5]
			if m[6] != "" {
				f["command"] = m[6]
			}
			if m[2] != "" {
				f["sudo_error"] = m[2]
			}
		} else {
			pamFields(msg, f)
		}
	case "su":
		if m := reSuTo.FindStringSubmatch(msg); m != nil {
			f["event"] = "su"
			if m[1] != "" {
				f["target_user"], f["user"], f["tty"] = m[1], m[2], m[3]
			} else {
				f["target_user"], f["user"] = m[5], m[6]
				if m[4] == "FAILED" {
					f["su_failed"] = true
				}
			}
		} else {
			pamFields(msg, f)
		}
	case "useradd", "groupadd":
		if m := reNewUser.FindStringSubmatch(msg); m != nil {
			f["event"], f["user"], f["home"], f["shell"] = "user_added", m[1], m[4], m[5]
			f["uid"], _ = strconv.ParseInt(m[2], 10, 64)
			f["gid"], _ = strconv.ParseInt(m[3], 10, 64)
		} else if m := reNewGroup.FindStringSubmatch(msg); m != nil {
			f["event"], f["group"] = "group_added", m[1]
			f["gid"], _ = strconv.ParseInt(m[2], 10, 64)
		}
	case "usermod":
		if m := reUsermod.FindStringSubmatch(msg); m != nil {
			f["event"] = "user_modified"
			for _, u := range []string{m[1], m[2], m[4], m[5]} {
				if u != "" {
					f["user"] = u
				}
			}
			if m[3] != "" {
				f["group"] = m[3]
			}
		}
	case "userdel":
		if m := reUserdel.FindStringSubmatch(msg); m != nil {
			f["event"], f["user"] = "user_deleted", m[1]
		}
	case "groupdel":
		if m := reGroupdel.FindStringSubmatch(msg); m != nil {
			f["event"], f["group"] = "group_deleted", m[1]+m[2]
		}
	case "passwd", "chpasswd":
		if m := rePasswdChg.FindStringSubmatch(msg); m != nil {
			f["event"], f["user"] = "passwd_changed", m[1]
		}
	default:
		pamFields(msg, f)
	}
}

// pamFields takes user and rhost from pam_unix's messages.
func pamFields(msg string, f map[string]any) {
	if !strings.HasPrefix(msg, "pam_unix(") {
		return
	}
	if m := rePamUser.FindStringSubmatch(msg); m != nil {
		f["user"] = m[1]
	} else if i := strings.Index(msg, " for user "); i >= 0 {
		u := strings.Fields(msg[i+len(" for user "):])
		if len(u) > 0 {
			f["user"] = strings.TrimSuffix(u[0], "(uid=0)")
		}
	}
	if m := rePamRhost.FindStringSubmatch(msg); m != nil {
		f["source_ip"] = m[1]
	}
}

// journalEvent maps one `journalctl -o json` entry: a syslog line whose
// parts come named, so sshd and sudo entries get the auth fields too.
func journalEvent(m map[string]any) *logevent.Event {
	s := syslogLine{host: str(m["_HOSTNAME"]), program: str(m["SYSLOG_IDENTIFIER"])}
	if s.program == "" {
		s.program = str(m["_COMM"])
	}
	// The source's own time when the sender gave one, else when journald
	// received the entry.
	for _, k := range []string{"_SOURCE_REALTIME_TIMESTAMP", "__REALTIME_TIMESTAMP"} {
		if us, err := strconv.ParseInt(str(m[k]), 10, 64); err == nil {
			s.t = time.UnixMicro(us).UTC()
			break
		}
	}
	pid := str(m["SYSLOG_PID"])
	if pid == "" {
		pid = str(m["_PID"])
	}
	s.pid, _ = strconv.ParseInt(pid, 10, 64)
	switch msg := m["MESSAGE"].(type) {
	case string:
		s.msg = msg
	case []any: // journald writes non-UTF-8 messages as byte arrays
		b := make([]byte, 0, len(msg))
		for _, x := range msg {
			b = append(b, byte(toInt(x)))
		}
		s.msg = string(b)
	}
	if p, err := strconv.ParseInt(str(m["PRIORITY"]), 10, 64); err == nil {
		s.sev, s.hasPri = p, true
		// journald leaves out the facility of kernel messages (facility 0).
		s.facility, _ = strconv.ParseInt(str(m["SYSLOG_FACILITY"]), 10, 64)
	}
	e := s.event()
	for k, v := range m {
		if k != "MESSAGE" && !strings.HasPrefix(k, "__") {
			e.Fields[k] = jsonValue(v)
		}
	}
	return e
}

// parseAuditd reads one auditd record line: every key=value becomes a
// field, hex-encoded command arguments and proctitle are decoded, and the
// nested msg='...' of user-space records is flattened. USER_CMD's cmd
// (sudo's command) is hex-decoded too.
func parseAuditd(line string) (*logevent.Event, error) {
	m := reAuditd.FindStringSubmatchIndex(line)
	if m == nil {
		return nil, errors.New("not an auditd record")
	}
	sec, _ := strconv.ParseInt(line[m[2]:m[3]], 10, 64)
	var ms int64
	if m[4] >= 0 {
		frac := line[m[4]:m[5]]
		ms, _ = strconv.ParseInt((frac + "000")[:3], 10, 64)
	}
	e := &logevent.Event{
		Time: time.Unix(sec, ms*int64(time.Millisecond)).UTC(), Product: "linux", Service: "auditd",
		Fields: map[string]any{},
	}
	f := e.Fields
	f["audit_serial"], _ = strconv.ParseInt(line[m[6]:m[7]], 10, 64)
	head := line[:m[0]+strings.Index(line[m[0]:], " msg=audit(")]
	auditKV(head, f, false)
	body := line[m[1]:]
	raw, enriched, _ := strings.Cut(body, "\x1d")
	auditKV(raw, f, f["type"] == "EXECVE" || f["type"] == "PROCTITLE" || f["type"] == "USER_CMD")
	if enriched != "" {
		auditKV(enriched, f, false)
	}
	if n, ok := f["node"].(string); ok {
		e.Host = n
	}
	return e, nil
}

func auditKV(s string, f map[string]any, hexArgs bool) {
	for len(s) > 0 {
		s = strings.TrimLeft(s, " ")
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return
		}
		key := s[:eq]
		s = s[eq+1:]
		var val string
		quoted := false
		switch {
		case strings.HasPrefix(s, `"`):
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				end = len(s) - 1
			}
			val, s, quoted = s[1:1+end], s[min(len(s), end+2):], true
		case strings.HasPrefix(s, `'`):
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				end = len(s) - 1
			}
			inner := s[1 : 1+end]
			s = s[min(len(s), end+2):]
			if key == "msg" {
				auditKV(inner, f, hexArgs)
				continue
			}
			val, quoted = inner, true
		default:
			sp := strings.IndexByte(s, ' ')
			if sp < 0 {
				sp = len(s)
			}
			val, s = s[:sp], s[sp:]
		}
		if !quoted && hexArgs && (key == "proctitle" || key == "cmd" || isExecveArg(key)) {
			if b, ok := unhex(val); ok {
				val = strings.TrimRight(strings.ReplaceAll(string(b), "\x00", " "), " ")
			}
		}
		f[key] = val
	}
}

func isExecveArg(k string) bool {
	return len(k) > 1 && k[0] == 'a' && isDigits(k[1:])
}

func unhex(s string) ([]byte, bool) {
	if len(s)%2 != 0 || s == "" {
		return nil, false
	}
	b := make([]byte, len(s)/2)
	for i := range b {
		n, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			return nil, false
		}
		b[i] = byte(n)
	}
	return b, true
}

// parseWeb reads a combined (or common) format access log line into
// SigmaHQ's webserver field names.
func parseWeb(line string) (*logevent.Event, error) {
	m := reWeb.FindStringSubmatch(line)
	if m == nil {
		return nil, errors.New("not a combined/common log format line")
	}
	t, err := time.Parse("02/Jan/2006:15:04:05 -0700", m[4])
	if err != nil {
		return nil, fmt.Errorf("time %q: %w", m[4], err)
	}
	e := &logevent.Event{Time: t.UTC(), Product: "linux", Category: "webserver", Fields: map[string]any{}}
	f := e.Fields
	f["c-ip"] = m[1]
	if m[3] != "-" {
		f["cs-username"] = m[3]
	}
	req := unescapeWeb(m[5])
	f["cs-request"] = req
	parts := strings.SplitN(req, " ", 3)
	if len(parts) >= 2 {
		f["cs-method"] = parts[0]
		uri := parts[1]
		f["cs-uri"] = uri
		stem, query, _ := strings.Cut(uri, "?")
		f["cs-uri-stem"] = stem
		f["cs-uri-query"] = query
		if len(parts) == 3 {
			f["cs-version"] = parts[2]
		}
	}
	if m[6] != "-" {
		f["sc-status"], _ = strconv.ParseInt(m[6], 10, 64)
	}
	if m[7] != "-" {
		f["sc-bytes"], _ = strconv.ParseInt(m[7], 10, 64)
	}
	if len(m) > 9 && m[8] != "" && m[8] != "-" {
		f["cs-referer"] = unescapeWeb(m[8])
	}
	if len(m) > 9 && m[9] != "" && m[9] != "-" {
		f["cs-user-agent"] = unescapeWeb(m[9])
	}
	return e, nil
}

func unescapeWeb(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	return strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(s)
}

// histEntry is one shell history command being assembled: bash writes
// "#<epoch>" before each command (which may span lines); zsh's extended
// history writes ": <epoch>:<duration>;<command>" with continued lines
// ending in a backslash.
type histEntry struct {
	t       time.Time
	lines   []string
	line    uint64
	offset  int64
	zshCont bool
	pending bool // a bash timestamp seen, its command not yet
}

// add takes the next line and returns the entry it belongs to: h itself,
// or a new entry (h is then complete).
func (h *histEntry) add(line string, lineNo uint64, off int64) (*histEntry, error) {
	if m := reBashTime.FindStringSubmatch(line); m != nil {
		sec, _ := strconv.ParseInt(m[1], 10, 64)
		return &histEntry{t: time.Unix(sec, 0).UTC(), line: lineNo + 1, offset: off, pending: true}, nil
	}
	if m := reZshTime.FindStringSubmatch(line); m != nil && (h == nil || !h.zshCont) {
		sec, _ := strconv.ParseInt(m[1], 10, 64)
		cmd := line[len(m[0]):]
		n := &histEntry{t: time.Unix(sec, 0).UTC(), line: lineNo, offset: off}
		n.zshCont = strings.HasSuffix(cmd, `\`)
		n.lines = []string{strings.TrimSuffix(cmd, `\`)}
		return n, nil
	}
	if h == nil {
		return &histEntry{line: lineNo, offset: off, lines: []string{line}}, nil
	}
	if h.zshCont {
		h.zshCont = strings.HasSuffix(line, `\`)
		h.lines = append(h.lines, strings.TrimSuffix(line, `\`))
		return h, nil
	}
	if h.pending || len(h.lines) > 0 && !h.t.IsZero() {
		h.pending = false
		h.lines = append(h.lines, line)
		return h, nil
	}
	return &histEntry{line: lineNo, offset: off, lines: []string{line}}, nil
}

func (h *histEntry) event(name string) *logevent.Event {
	return &logevent.Event{
		Time: h.t, Product: "linux", Service: "shell_history",
		Source: name, RecordID: h.line, Offset: h.offset,
		Fields: map[string]any{"command": strings.Join(h.lines, "\n")},
	}
}

// w3cNames maps W3C extended log field names to SigmaHQ's webserver names
// where they differ.
var w3cNames = map[string]string{
	"cs(User-Agent)": "cs-user-agent",
	"cs(Referer)":    "cs-referer",
	"cs(Cookie)":     "cs-cookie",
	"cs(Host)":       "cs-host",
}

// parseW3C reads a line of a W3C extended log (IIS): directives set the
// field list, data lines are space-separated values in that order ("-" is
// empty, "+" a space in IIS's header fields). date and time are UTC.
func (p *lineParser) parseW3C(line string) (*logevent.Event, error) {
	if strings.HasPrefix(line, "#") {
		if f, ok := strings.CutPrefix(line, "#Fields:"); ok {
			p.fields = strings.Fields(f)
		}
		return nil, nil
	}
	if p.fields == nil {
		return nil, errors.New("W3C data line before any #Fields: directive")
	}
	vals := strings.Fields(line)
	if len(vals) != len(p.fields) {
		return nil, fmt.Errorf("%d values for %d fields", len(vals), len(p.fields))
	}
	e := &logevent.Event{Product: "windows", Service: "iis", Category: "webserver", Fields: map[string]any{}}
	var date, clock string
	for i, name := range p.fields {
		v := vals[i]
		switch name {
		case "date":
			date = v
			continue
		case "time":
			clock = v
			continue
		case "s-computername":
			e.Host = v
		}
		if v == "-" {
			continue
		}
		if n, ok := w3cNames[name]; ok {
			name = n
			v = strings.ReplaceAll(v, "+", " ")
		}
		switch name {
		case "sc-status", "sc-substatus", "sc-win32-status", "sc-bytes", "cs-bytes", "time-taken", "s-port":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				e.Fields[name] = n
				continue
			}
		}
		e.Fields[name] = v
	}
	if date != "" {
		t, err := time.Parse("2006-01-02 15:04:05", date+" "+clock)
		if err != nil {
			return nil, fmt.Errorf("date/time %q %q: %w", date, clock, err)
		}
		e.Time = t
	}
	return e, nil
}
