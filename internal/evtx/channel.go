package evtx

import "strings"

// services names the Sigma service of the channels Sigma rules select on;
// other channels get their lower-cased name (see ServiceForChannel).
var services = map[string]string{
	"security":                             "security",
	"system":                               "system",
	"application":                          "application",
	"microsoft-windows-sysmon/operational": "sysmon",
	"microsoft-windows-powershell/operational":                               "powershell",
	"powershellcore/operational":                                             "powershell",
	"windows powershell":                                                     "powershell-classic",
	"microsoft-windows-taskscheduler/operational":                            "taskscheduler",
	"microsoft-windows-wmi-activity/operational":                             "wmi",
	"microsoft-windows-windows defender/operational":                         "windefend",
	"microsoft-windows-terminalservices-localsessionmanager/operational":     "terminalservices-localsessionmanager",
	"microsoft-windows-terminalservices-remoteconnectionmanager/operational": "terminalservices-remoteconnectionmanager",
	"microsoft-windows-bits-client/operational":                              "bits-client",
	"microsoft-windows-dns-client/operational":                               "dns-client",
	"dns server": "dns-server",
	"microsoft-windows-dns-server/analytical":                            "dns-server-analytic",
	"microsoft-windows-codeintegrity/operational":                        "codeintegrity-operational",
	"microsoft-windows-windows firewall with advanced security/firewall": "firewall-as",
	"microsoft-windows-smbclient/security":                               "smbclient-security",
	"microsoft-windows-smbclient/connectivity":                           "smbclient-connectivity",
	"microsoft-windows-printservice/admin":                               "printservice-admin",
	"microsoft-windows-printservice/operational":                         "printservice-operational",
	"microsoft-windows-ntlm/operational":                                 "ntlm",
	"microsoft-windows-driverframeworks-usermode/operational":            "driver-framework",
	"microsoft-windows-shell-core/operational":                           "shell-core",
	"openssh/operational":                                                "openssh",
	"microsoft-windows-ldap-client/debug":                                "ldap",
	"microsoft-windows-appxdeploymentserver/operational":                 "appxdeployment-server",
	"microsoft-windows-appxpackaging/operational":                        "appxpackaging-om",
	"microsoft-windows-capi2/operational":                                "capi2",
	"microsoft-windows-diagnosis-scripted/operational":                   "diagnosis-scripted",
	"microsoft-windows-bitlocker/bitlocker management":                   "bitlocker",
	"microsoft-windows-vhdmp-operational":                                "vhdmp",
	"microsoft-windows-winrm/operational":                                "winrm",
	"msexchange management":                                              "msexchange-management",
	"microsoft-windows-kernel-shimengine/operational":                    "shim-engine",
	"microsoft-windows-hyper-v-worker-admin":                             "hyper-v-worker",
	"microsoft-windows-dhcp-server/operational":                          "dhcp",
	"microsoft-windows-security-mitigations/kernel mode":                 "security-mitigations",
	"microsoft-windows-security-mitigations/user mode":                   "security-mitigations",
	"microsoft-windows-applocker/exe and dll":                            "applocker",
	"microsoft-windows-applocker/msi and script":                         "applocker",
	"microsoft-windows-applocker/packaged app-deployment":                "applocker",
	"microsoft-windows-applocker/packaged app-execution":                 "applocker",
}

// ServiceForChannel names the Sigma service of a Windows channel: the
// service Sigma's Windows log sources use where there is one, otherwise the
// channel's name in lower case. The Sigma engine selects rules on the
// channel itself; the service is for people and for grouping.
func ServiceForChannel(channel string) string {
	c := strings.ToLower(channel)
	if s, ok := services[c]; ok {
		return s
	}
	return c
}

// sysmonCategories names the Sigma category of each Sysmon event id.
var sysmonCategories = map[int64]string{
	1: "process_creation", 2: "file_change", 3: "network_connection",
	5: "process_termination", 6: "driver_load", 7: "image_load",
	8: "create_remote_thread", 9: "raw_access_thread", 10: "process_access",
	11: "file_event", 12: "registry_add", 13: "registry_set", 14: "registry_rename",
	15: "create_stream_hash", 16: "sysmon_status", 17: "pipe_created", 18: "pipe_created",
	19: "wmi_event", 20: "wmi_event", 21: "wmi_event", 22: "dns_query",
	23: "file_delete", 24: "clipboard_change", 25: "process_tampering",
	26: "file_delete_detected", 27: "file_block_executable", 28: "file_block_shredding",
	29: "file_executable_detected",
}

// CategoryFor names the Sigma category an event belongs to when the channel
// alone decides it (Sysmon); "" otherwise, where the rule's log source
// mapping decides.
func CategoryFor(service string, eventID int64) string {
	if service == "sysmon" {
		return sysmonCategories[eventID]
	}
	return ""
}
