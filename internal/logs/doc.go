// Package logs owns reading every log input of `mamori hunt` other than
// the EVTX decoding itself (internal/evtx): content-based format detection,
// .gz and .zip read in place, JSON/JSONL event exports, and the Linux logs.
// Every reader produces logevent.Events; a damaged record is reported as a
// *RecordError naming the file and byte offset, and reading goes on.
//
// # Formats (Detect looks at content only; ReadFile adds one name rule)
//
//	evtx       "ElfFile\0" signature, or a first chunk's "ElfChnk\0" -> internal/evtx
//	json       a JSON array, or JSON values one after another (pretty-printed,
//	           with or without evtx_dump's "Record N" lines between them)
//	jsonl      one JSON object per line
//	journal    `journalctl -o json` (JSONL with __REALTIME_TIMESTAMP)
//	auth       syslog lines of which some come from an auth program
//	syslog     RFC 5424, RFC 3164, or RFC 3164 with an RFC 3339 timestamp
//	auditd     type=... msg=audit(...) lines (raw or enriched log_format)
//	webaccess  NCSA combined or common log format
//	w3c        W3C extended log format (IIS), by its #Software/#Version and #Fields
//	history    bash history with "#<epoch>" lines, zsh extended history; and,
//	           the one use of a file name, a .bash_history, .zsh_history,
//	           .sh_history, .ash_history or .history without timestamps
//	           (its events have no time)
//
// Text in UTF-16 with a byte order mark (Windows PowerShell 5's Out-File
// and > redirection) is decoded before detection.
//
// # JSON exports
//
// Each object is recognised by shape: {"Event":{"System":...}} XML-shaped
// EVTX dumps ("#attributes"/"#text" as evtx_dump and SigmaHQ's regression
// .json write them, or xmltodict's "@Name"), Velociraptor's parse_evtx
// ({"System":...,"EventData":...}, epoch SystemTime), Winlogbeat
// and ECS ({"winlog":{...}}; event_data paramN become DataN), PowerShell's
// Get-WinEvent | ConvertTo-Json (Id, LogName, ProviderName, Properties,
// which carry no names and become Data1...), journald entries, and otherwise
// flat objects whose keys are the fields (nested objects as dotted names;
// EventID, Channel, Provider_Name, Computer, EventRecordID and a time key
// fill the header). Windows events get the same Product/Service/Category,
// unnamed-Data and System Level/Task/Opcode/Keywords conventions as
// internal/evtx (the last for XML-shaped dumps). RecordID is the export's
// record id, else the ordinal of the object in the file. Times without a
// zone are read as UTC.
//
// # Linux events
//
// All have Product "linux", Host the logged hostname, RecordID the line
// number and Offset the line's byte offset. Time is UTC. RFC 3164 lines
// carry no year and no zone: they are read as UTC, in the year of the
// file's modification time (a .gz header's or zip member's own time when
// set), or the year before when that would put the line more than a day
// after the modification time (so a log spanning New Year dates right).
//
//	Service / Category     source                     fields
//	auth                   syslog or journal lines    program, pid, message, event, ... (below)
//	                       from sshd, sudo, su,
//	                       useradd, usermod,
//	                       groupadd, passwd, ...
//	syslog                 other syslog lines         program, pid, message, facility, severity,
//	                                                  msgid, structured_data (RFC 5424)
//	syslog or auth         journal entries            as syslog/auth (program is SYSLOG_IDENTIFIER),
//	                                                  plus every journal field (_SYSTEMD_UNIT, _UID...)
//	auditd                 auditd records             type, audit_serial, and every key=value
//	                                                  (msg='...' of user-space records flattened,
//	                                                  EXECVE aN and proctitle hex-decoded, enriched
//	                                                  upper-case names such as UID, AUID)
//	Category webserver     access log lines           c-ip, cs-username, cs-method, cs-uri,
//	                                                  cs-uri-stem, cs-uri-query, cs-version,
//	                                                  cs-request, sc-status, sc-bytes, cs-referer,
//	                                                  cs-user-agent
//	shell_history          history entries            command (multi-line commands joined by \n)
//
// IIS (W3C) lines are Product "windows", Service "iis", Category
// "webserver", with the #Fields names as fields (cs-method, cs-uri-stem,
// cs-uri-query, c-ip, cs-username, sc-status, ...), cs(User-Agent) and
// cs(Referer) as cs-user-agent and cs-referer; Time from date and time
// (UTC, as IIS writes them); Host from s-computername.
//
// Auth fields (present when the message says them; numbers are int64):
//
//	program      syslog tag (sshd, sudo, ...)      pid          process id
//	message      the message after the tag          event        what happened (below)
//	user         the acting/logging-in user         target_user  sudo's USER=, su's target
//	source_ip    sshd client address, PAM rhost     source_port  sshd client port
//	auth_method  password, publickey, ...           invalid_user true for "invalid user" logins
//	uid, gid     useradd/groupadd ids               home, shell  useradd's home and shell
//	command      sudo's COMMAND=                    tty, pwd     sudo's TTY= and PWD=, su's tty
//	group        usermod/groupadd group name        sudo_error   e.g. "3 incorrect password attempts"
//	su_failed    true for "FAILED su"               repeated     N of rsyslog's "message repeated N times: [ ... ]",
//	                                                             whose inner message is the one parsed
//
//	event             message
//	ssh_failed        sshd "Failed <method> for [invalid user] U from IP port P"
//	ssh_accepted      sshd "Accepted <method> for U from IP port P"
//	ssh_invalid_user  sshd "Invalid user U from IP [port P]"
//	ssh_disconnect    sshd "Disconnected from [invalid|authenticating] [user] U IP port P",
//	                  "Received disconnect from IP port P", "Connection closed by ..."
//	sudo              sudo "U : [error ;] TTY=... ; PWD=... ; USER=... ; COMMAND=..."
//	su                su "(to T) U on TTY", "Successful su for T by U", "FAILED su for T by U"
//	user_added        useradd "new user: name=U, UID=, GID=, home=, shell="
//	group_added       groupadd/useradd "new group: name=G, GID="
//	user_modified     usermod "change user 'U' ...", "add 'U' to group 'G'", "lock/unlock user"
//	passwd_changed    passwd/chpasswd "password changed for U"
//	user_deleted      userdel "delete user 'U'"
//	group_deleted     groupdel "group 'G' removed", "removed group 'G' owned by ..."
package logs
