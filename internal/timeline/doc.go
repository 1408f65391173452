// Package timeline owns an incident's timeline events and the analysis on
// top of them: the entry vector, lateral movement between hosts, and the
// evidence of exfiltration. Events come from logs (through internal/logs
// and the Sigma engine), from the agent's collectors, from detections and
// from people; the analysis is a pure function from events and the fleet's
// hosts to findings, each a list of events with a confidence and the rule
// or reason behind it, for a person to confirm or reject. It knows nothing
// of servers or stores.
//
// # Event kinds
//
// FromLog normalises log events into a few kinds the analysis reasons about:
//
//	kind              from                                              fields
//	logon_failed      sshd Failed/Invalid user; Windows 4625             user, source_ip, logon_type
//	logon             sshd Accepted; Windows 4624                        user, source_ip, logon_type
//	user_added        useradd; Windows 4720                              user, uid
//	process           Windows 4688, Sysmon 1; sudo; auditd EXECVE        image, command_line, parent_image, user
//	command           shell history                                      command
//	service_installed Windows 7045, 4697                                 service, image
//	share_access      Windows 5140, 5145                                 share, source_ip, user, file
//	file              Sysmon 11; the file activity collector             path, action, size, sha256
//	file_deleted      Sysmon 23, 26                                      path
//	connection        Sysmon 3; the connection collector                 remote_ip, remote_port, bytes_out, process, domain
//	mount             kernel USB storage messages; Windows 6416          device, removable
//	archive           the archive collector                              path, members (newline separated), count
//	sigma             a Sigma rule hit                                   rule, level
//	log               anything else
//
// # Analysis rules
//
// Entry vector (per host, the earliest; overall, the earliest of all):
//
//	brute_force_then_success  >= 5 failed logons from one address that is not an
//	                          enrolled host, then a successful logon from it within 1 h
//	                          (RDP 4625 -> 4624 type 10, SSH failed -> accepted); 0.9
//	office_spawns_shell       an Office or mail program starting a shell; 0.8
//	download_execution        a program run from a mail or browser download folder; 0.6
//	web_shell                 a script file written under a web root, or a web
//	                          server process starting a shell; 0.8
//	exploit_rule              a Sigma hit tagged attack.initial_access or t1190; 0.7
//
// Lateral movement (host -> host edges, first and last time, account):
//
//	remote_logon   a logon of type 3 or 10 (Windows) or an SSH login whose source
//	               address belongs to another enrolled host; 0.8
//	remote_service a service installed (PsExec's PSEXESVC and others), WMI
//	               (WmiPrvSE) or WinRM (wsmprovhost) starting a process, attributed
//	               to the last remote logon from another host before it; 0.7
//	admin_share    a write to ADMIN$, C$ or IPC$ from another host; 0.7
//
// Exfiltration evidence (each names the files it implicates):
//
//	archive_then_upload   an archive of >= 3 files, then within 2 h an outbound
//	                      connection to an address that is not an enrolled host,
//	                      carrying >= 1 MiB where byte counts are known; 0.8
//	transfer_tool         rclone, megacmd, WinSCP, pscp, curl/wget sending a file,
//	                      scp/sftp/rsync to a remote, cloud CLIs (aws s3, gsutil,
//	                      azcopy) run; the files named in its command line; 0.7
//	cloud_upload          a connection or request to a cloud storage or file
//	                      sharing domain; 0.6
//	removable_media       removable storage mounted; 0.5
//	deleted_after_archive files deleted after they were put in an archive; 0.8
//
// A file an exfiltration finding implicates is exposed as "exfiltrated" in
// scoping; files present on a compromised host in the window are "present"
// and files read by a suspicious process "accessed" (see Exposure).
package timeline
