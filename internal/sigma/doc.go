// Package sigma owns mamori's Sigma engine: it loads Sigma 2.x rules
// (detection and correlation) from YAML, compiles them, and evaluates
// *logevent.Event values against them. It knows nothing of files of logs,
// output or servers; internal/hunt drives it.
//
// # Detection
//
// Search identifiers are maps (fields ANDed), lists of maps (ORed), keyword
// lists and null values. Values compare case-insensitively unless the cased
// modifier is given; *, ? and the escapes \*, \? and \\ are Sigma wildcards.
// Keywords match a substring of any field value. Modifiers: contains,
// startswith, endswith, all, re (with i, m, s), base64, base64offset,
// utf16le, utf16be, utf16, wide, windash, cidr, lt, lte, gt, gte, exists,
// fieldref (alone or with contains/startswith/endswith), expand and cased.
// Base64 forms compare case-sensitively, as base64 is. A %placeholder% with
// no values configured (Options.Placeholders) matches nothing. Regular
// expressions are Go's RE2: a rule using a construct RE2 lacks (look-around,
// back-references) is refused with the reason.
//
// Conditions: and, or, not, parentheses, "1 of", "any of" and "all of" a
// name, a wildcard pattern or "them" (identifiers starting with _ excluded),
// and lists of conditions (ORed). Sigma 1 aggregations ("| count() > 5") and
// timeframe are refused: correlation rules replace them.
//
// Correlations: event_count, value_count, temporal and temporal_ordered,
// with timespan, group-by, aliases and generate, and correlations built on
// correlations. Rules referenced by a correlation without generate: true
// only feed it (Rule.Suppressed). The Correlator gathers referenced hits and
// evaluates once every event has been seen, so inputs may come in any order.
//
// # Log sources
//
// A rule sees only the events of its log source. Windows rules are indexed
// by channel and event id, so an Application event never meets a Security
// rule that tests the same event id. A provider, where the table names one,
// must match too when the record names its provider.
//
//	category                      channel (provider)                        event ids
//	process_creation              Microsoft-Windows-Sysmon/Operational      1
//	                              Security (Microsoft-Windows-Security-Auditing) 4688 *
//	file_change                   Sysmon                                    2
//	network_connection            Sysmon                                    3
//	sysmon_status                 Sysmon                                    4, 16
//	process_termination           Sysmon                                    5
//	driver_load                   Sysmon                                    6
//	image_load                    Sysmon                                    7
//	create_remote_thread          Sysmon                                    8
//	raw_access_thread             Sysmon                                    9
//	process_access                Sysmon                                    10
//	file_event                    Sysmon                                    11
//	registry_add                  Sysmon                                    12 (EventType CreateKey)
//	registry_delete               Sysmon                                    12 (EventType DeleteKey, DeleteValue)
//	registry_set                  Sysmon                                    13
//	registry_rename               Sysmon                                    14 (EventType RenameKey)
//	registry_event                Sysmon                                    12, 13, 14
//	create_stream_hash            Sysmon                                    15
//	pipe_created                  Sysmon                                    17, 18
//	wmi_event                     Sysmon                                    19, 20, 21
//	dns_query                     Sysmon                                    22
//	file_delete                   Sysmon                                    23, 26
//	clipboard_capture             Sysmon                                    24
//	process_tampering             Sysmon                                    25
//	file_delete_detected          Sysmon                                    26
//	file_block_executable         Sysmon                                    27
//	file_block_shredding          Sysmon                                    28
//	file_executable_detected      Sysmon                                    29
//	sysmon_error                  Sysmon                                    255
//	ps_module                     Microsoft-Windows-PowerShell/Operational, PowerShellCore/Operational  4103
//	ps_script                     Microsoft-Windows-PowerShell/Operational, PowerShellCore/Operational  4104
//	ps_classic_start              Windows PowerShell                        400
//	ps_classic_provider_start     Windows PowerShell                        600
//	ps_classic_script             Windows PowerShell                        800
//	file_access, file_rename      Microsoft-Windows-Kernel-File/Analytic    any
//
//	* Security 4688 events answer process_creation rules with Sysmon names:
//	  Image=NewProcessName, ParentImage=ParentProcessName, User=SubjectUserName,
//	  IntegrityLevel=MandatoryLabel, LogonId=SubjectLogonId.
//
//	service                       channel
//	security                      Security
//	system                        System
//	application                   Application
//	sysmon                        Microsoft-Windows-Sysmon/Operational
//	powershell                    Microsoft-Windows-PowerShell/Operational
//	powershell-classic            Windows PowerShell
//	windefend                     Microsoft-Windows-Windows Defender/Operational
//	taskscheduler                 Microsoft-Windows-TaskScheduler/Operational
//	wmi                           Microsoft-Windows-WMI-Activity/Operational
//	dns-server                    DNS Server
//	dns-client                    Microsoft-Windows-DNS Client Events/Operational
//	bits-client                   Microsoft-Windows-Bits-Client/Operational
//	codeintegrity-operational     Microsoft-Windows-CodeIntegrity/Operational
//	firewall-as                   Microsoft-Windows-Windows Firewall With Advanced Security/Firewall
//	applocker                     Microsoft-Windows-AppLocker/{EXE and DLL, MSI and Script, Packaged app-Deployment, Packaged app-Execution}
//	ntlm                          Microsoft-Windows-NTLM/Operational
//	openssh                       OpenSSH/Operational
//	...                           the rest are in windowsServices (logsource.go)
//
// A category with a service keeps the category's sources on the service's
// channels. Windows rules with neither see every Windows event. Field names
// the record writes with spaces (Defender's "Threat Name") answer to the
// name without spaces that rules use.
//
// Non-Windows events (no channel) meet rules by product, category and
// service, compared with Event.Product, Category and Service. The Linux
// readers (internal/logs) name their fields; see internal/logs/doc.go. Linux
// services that are programs (sshd, sudo, su, cron, vsftpd, clamav,
// guacamole, useradd, usermod, passwd) match auth and syslog events whose
// "program" field names them; services apache and nginx match webserver
// events.
//
// Readable log sources are product windows, product linux with a service
// or neither (Linux categories such as process_creation come from Sysmon
// for Linux, which no mamori reader produces), and category webserver or
// service apache/nginx. Rules for any other
// product or category (cloud audit logs, proxies, firewalls, network
// devices, macOS, application frameworks) are refused with
// ErrUnreadableSource: mamori has no reader that produces such events.
package sigma
