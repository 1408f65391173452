package sigma

import (
	"fmt"
	"strings"

	"github.com/mamori-dev/mamori/internal/logevent"
)

// Logsource is a rule's logsource block.
type Logsource struct {
	Product, Category, Service string
}

// winSource is one place a Windows log source lives: a channel, optionally
// a provider and the event ids of the category, and for Sysmon registry
// categories the EventType values that tell them apart.
type winSource struct {
	channel    string
	provider   string
	eventIDs   []int64
	eventTypes []string
}

const sysmonChannel = "Microsoft-Windows-Sysmon/Operational"
const sysmonProvider = "Microsoft-Windows-Sysmon"

func sysmon(ids ...int64) []winSource {
	return []winSource{{channel: sysmonChannel, provider: sysmonProvider, eventIDs: ids}}
}

// windowsCategories is the category half of the mapping table in doc.go.
var windowsCategories = map[string][]winSource{
	"process_creation": append(sysmon(1),
		winSource{channel: "Security", provider: "Microsoft-Windows-Security-Auditing", eventIDs: []int64{4688}}),
	"file_change":              sysmon(2),
	"network_connection":       sysmon(3),
	"sysmon_status":            sysmon(4, 16),
	"process_termination":      sysmon(5),
	"driver_load":              sysmon(6),
	"image_load":               sysmon(7),
	"create_remote_thread":     sysmon(8),
	"raw_access_thread":        sysmon(9),
	"process_access":           sysmon(10),
	"file_event":               sysmon(11),
	"registry_add":             {{channel: sysmonChannel, provider: sysmonProvider, eventIDs: []int64{12}, eventTypes: []string{"CreateKey"}}},
	"registry_delete":          {{channel: sysmonChannel, provider: sysmonProvider, eventIDs: []int64{12}, eventTypes: []string{"DeleteKey", "DeleteValue"}}},
	"registry_set":             sysmon(13),
	"registry_rename":          {{channel: sysmonChannel, provider: sysmonProvider, eventIDs: []int64{14}, eventTypes: []string{"RenameKey"}}},
	"registry_event":           sysmon(12, 13, 14),
	"create_stream_hash":       sysmon(15),
	"pipe_created":             sysmon(17, 18),
	"wmi_event":                sysmon(19, 20, 21),
	"dns_query":                sysmon(22),
	"file_delete":              sysmon(23, 26),
	"clipboard_capture":        sysmon(24),
	"process_tampering":        sysmon(25),
	"file_delete_detected":     sysmon(26),
	"file_block_executable":    sysmon(27),
	"file_block_shredding":     sysmon(28),
	"file_executable_detected": sysmon(29),
	"sysmon_error":             sysmon(255),
	"ps_module": {
		{channel: "Microsoft-Windows-PowerShell/Operational", eventIDs: []int64{4103}},
		{channel: "PowerShellCore/Operational", eventIDs: []int64{4103}},
	},
	"ps_script": {
		{channel: "Microsoft-Windows-PowerShell/Operational", eventIDs: []int64{4104}},
		{channel: "PowerShellCore/Operational", eventIDs: []int64{4104}},
	},
	"ps_classic_start":          {{channel: "Windows PowerShell", eventIDs: []int64{400}}},
	"ps_classic_provider_start": {{channel: "Windows PowerShell", eventIDs: []int64{600}}},
	"ps_classic_script":         {{channel: "Windows PowerShell", eventIDs: []int64{800}}},
	"file_access":               {{channel: "Microsoft-Windows-Kernel-File/Analytic"}},
	"file_rename":               {{channel: "Microsoft-Windows-Kernel-File/Analytic"}},
}

// windowsServices is the service half of the mapping table in doc.go.
var windowsServices = map[string][]string{
	"security":                             {"Security"},
	"system":                               {"System"},
	"application":                          {"Application"},
	"sysmon":                               {sysmonChannel},
	"powershell":                           {"Microsoft-Windows-PowerShell/Operational"},
	"powershell-classic":                   {"Windows PowerShell"},
	"windefend":                            {"Microsoft-Windows-Windows Defender/Operational"},
	"taskscheduler":                        {"Microsoft-Windows-TaskScheduler/Operational"},
	"wmi":                                  {"Microsoft-Windows-WMI-Activity/Operational"},
	"dns-server":                           {"DNS Server"},
	"dns-server-analytic":                  {"Microsoft-Windows-DNS-Server/Analytical"},
	"dns-client":                           {"Microsoft-Windows-DNS Client Events/Operational"},
	"bits-client":                          {"Microsoft-Windows-Bits-Client/Operational"},
	"codeintegrity-operational":            {"Microsoft-Windows-CodeIntegrity/Operational"},
	"firewall-as":                          {"Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"},
	"applocker":                            {"Microsoft-Windows-AppLocker/EXE and DLL", "Microsoft-Windows-AppLocker/MSI and Script", "Microsoft-Windows-AppLocker/Packaged app-Deployment", "Microsoft-Windows-AppLocker/Packaged app-Execution"},
	"appxdeployment-server":                {"Microsoft-Windows-AppXDeploymentServer/Operational"},
	"appxpackaging-om":                     {"Microsoft-Windows-AppxPackaging/Operational"},
	"appmodel-runtime":                     {"Microsoft-Windows-AppModel-Runtime/Admin"},
	"msexchange-management":                {"MSExchange Management"},
	"ntlm":                                 {"Microsoft-Windows-NTLM/Operational"},
	"printservice-admin":                   {"Microsoft-Windows-PrintService/Admin"},
	"printservice-operational":             {"Microsoft-Windows-PrintService/Operational"},
	"security-mitigations":                 {"Microsoft-Windows-Security-Mitigations/Kernel Mode", "Microsoft-Windows-Security-Mitigations/User Mode"},
	"smbclient-security":                   {"Microsoft-Windows-SmbClient/Security"},
	"smbclient-connectivity":               {"Microsoft-Windows-SmbClient/Connectivity"},
	"smbserver-connectivity":               {"Microsoft-Windows-SMBServer/Connectivity"},
	"terminalservices-localsessionmanager": {"Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"},
	"shell-core":                           {"Microsoft-Windows-Shell-Core/Operational"},
	"openssh":                              {"OpenSSH/Operational"},
	"capi2":                                {"Microsoft-Windows-CAPI2/Operational"},
	"ldap":                                 {"Microsoft-Windows-LDAP-Client/Debug"},
	"ldap_debug":                           {"Microsoft-Windows-LDAP-Client/Debug"},
	"lsa-server":                           {"Microsoft-Windows-LSA/Operational"},
	"diagnosis-scripted":                   {"Microsoft-Windows-Diagnosis-Scripted/Operational"},
	"driver-framework":                     {"Microsoft-Windows-DriverFrameworks-UserMode/Operational"},
	"certificateservicesclient-lifecycle-system": {"Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational"},
	"microsoft-servicebus-client":                {"Microsoft-ServiceBus-Client"},
	"iis-configuration":                          {"Microsoft-IIS-Configuration/Operational"},
	"vhdmp":                                      {"Microsoft-Windows-VHDMP-Operational"},
	"hyper-v-worker":                             {"Microsoft-Windows-Hyper-V-Worker-Admin"},
	"kernel-shimengine":                          {"Microsoft-Windows-Kernel-ShimEngine/Operational"},
	"ntfs":                                       {"Microsoft-Windows-Ntfs/Operational"},
	"sysmon-operational":                         {sysmonChannel},
}

// Linux services that are programs writing to the auth log or syslog: the
// readers name the program in the "program" field.
var linuxPrograms = map[string]bool{
	"sshd": true, "sudo": true, "su": true, "cron": true, "vsftpd": true,
	"clamav": true, "guacamole": true, "useradd": true, "usermod": true, "passwd": true,
}

// readableProducts are the products mamori has readers for; an empty
// product is readable when its category or service is one of ours.
var readableProducts = map[string]bool{"windows": true, "linux": true}

var readableServices = map[string]bool{"apache": true, "nginx": true}

var readableCategories = map[string]bool{"webserver": true}

// sourceSpec is a rule's compiled log source.
type sourceSpec struct {
	windows                    bool
	wins                       []winSource // nil with windows: every Windows event
	product, category, service string
}

func compileLogsource(ls Logsource) (sourceSpec, error) {
	p, c, s := strings.ToLower(ls.Product), strings.ToLower(ls.Category), strings.ToLower(ls.Service)
	if p == "windows" {
		spec := sourceSpec{windows: true}
		if c != "" {
			ws, ok := windowsCategories[c]
			if !ok {
				return spec, fmt.Errorf("windows category %q has no channel mapping", c)
			}
			spec.wins = append(spec.wins, ws...)
		}
		if s != "" {
			chans, ok := windowsServices[s]
			if !ok {
				return spec, fmt.Errorf("windows service %q has no channel mapping", s)
			}
			if c != "" {
				// Category and service together: keep the category's sources
				// on the service's channels.
				var keep []winSource
				for _, w := range spec.wins {
					for _, ch := range chans {
						if strings.EqualFold(w.channel, ch) {
							keep = append(keep, w)
						}
					}
				}
				spec.wins = keep
			} else {
				for _, ch := range chans {
					spec.wins = append(spec.wins, winSource{channel: ch})
				}
			}
		}
		return spec, nil
	}
	if p == "" && c == "" && s == "" {
		return sourceSpec{}, fmt.Errorf("empty logsource")
	}
	readable := readableProducts[p] || (p == "" && (readableCategories[c] || readableServices[s]))
	if p == "linux" && c != "" && !readableCategories[c] {
		// Sysmon for Linux categories: no mamori reader produces them.
		readable = false
	}
	if !readable {
		return sourceSpec{}, fmt.Errorf("%w: %s", ErrUnreadableSource, describe(ls))
	}
	return sourceSpec{product: p, category: c, service: s}, nil
}

func describe(ls Logsource) string {
	var parts []string
	if ls.Product != "" {
		parts = append(parts, "product "+ls.Product)
	}
	if ls.Category != "" {
		parts = append(parts, "category "+ls.Category)
	}
	if ls.Service != "" {
		parts = append(parts, "service "+ls.Service)
	}
	return strings.Join(parts, ", ")
}

// matchGeneric decides whether a non-Windows rule sees an event.
func (s *sourceSpec) matchGeneric(e *logevent.Event) bool {
	if s.product != "" && !strings.EqualFold(e.Product, s.product) {
		return false
	}
	if s.category != "" && !strings.EqualFold(e.Category, s.category) {
		return false
	}
	if s.service != "" && !strings.EqualFold(e.Service, s.service) {
		if readableServices[s.service] {
			return strings.EqualFold(e.Category, "webserver")
		}
		if !linuxPrograms[s.service] {
			return false
		}
		v, _ := e.Get("program")
		prog := logevent.String(v)
		// OpenSSH 9.8 logs from sshd-session.
		return strings.EqualFold(prog, s.service) || strings.EqualFold(prog, s.service+"-session")
	}
	return true
}

// securityAliases gives Security 4688 events the Sysmon names that
// process_creation rules use.
var securityAliases = map[string]string{
	"Image":          "NewProcessName",
	"ParentImage":    "ParentProcessName",
	"User":           "SubjectUserName",
	"IntegrityLevel": "MandatoryLabel",
	"LogonId":        "SubjectLogonId",
}
