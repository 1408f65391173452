package timeline

import (
	"fmt"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/logevent"
)

// Event is one entry of an incident's timeline.
type Event struct {
	ID      int64     `json:"id,omitempty"`
	Time    time.Time `json:"time"`
	Host    string    `json:"host"`
	Source  string    `json:"source"` // log, collector, detection, isolation, person
	Kind    string    `json:"kind"`
	Summary string    `json:"summary"`
	Level   string    `json:"level,omitempty"`
	// Technique is the ATT&CK technique where known (T1110, T1021.004...).
	Technique string `json:"technique,omitempty"`
	Rule      string `json:"rule,omitempty"`
	// Ref points at the raw record: file#record, or a collector's key.
	Ref    string            `json:"ref,omitempty"`
	Fields map[string]string `json:"fields,omitempty"`
}

// Event sources.
const (
	SourceLog       = "log"
	SourceCollector = "collector"
	SourceDetection = "detection"
	SourceIsolation = "isolation"
	SourcePerson    = "person"
)

func field(e *logevent.Event, names ...string) string {
	for _, n := range names {
		if v, ok := e.Fields[n]; ok {
			if s := logevent.String(v); s != "" && s != "-" {
				return s
			}
		}
	}
	return ""
}

// FromLog turns a log event read on host into a timeline event, naming its
// kind and the fields the analysis uses (see the package documentation).
func FromLog(host string, e *logevent.Event) Event {
	ev := Event{Time: e.Time.UTC(), Host: host, Source: SourceLog, Kind: "log",
		Ref: fmt.Sprintf("%s#%d", e.Source, e.RecordID), Fields: map[string]string{}}
	set := func(k, v string) {
		if v != "" {
			ev.Fields[k] = v
		}
	}
	switch e.Product {
	case "linux":
		fromLinux(&ev, e, set)
	case "windows":
		fromWindows(&ev, e, set)
	}
	if ev.Summary == "" {
		ev.Summary = summarise(e)
	}
	return ev
}

func fromLinux(ev *Event, e *logevent.Event, set func(k, v string)) {
	switch e.Service {
	case "auth":
		user, ip := field(e, "user"), field(e, "source_ip")
		set("user", user)
		set("source_ip", ip)
		switch field(e, "event") {
		case "ssh_failed", "ssh_invalid_user":
			ev.Kind, ev.Technique = "logon_failed", "T1110"
			set("method", field(e, "auth_method"))
			ev.Summary = fmt.Sprintf("SSH logon failed for %s from %s", user, ip)
		case "ssh_accepted":
			ev.Kind = "logon"
			set("method", field(e, "auth_method"))
			set("logon_type", "ssh")
			ev.Summary = fmt.Sprintf("SSH logon of %s from %s (%s)", user, ip, field(e, "auth_method"))
		case "user_added":
			ev.Kind, ev.Technique = "user_added", "T1136.001"
			set("uid", field(e, "uid"))
			ev.Summary = fmt.Sprintf("user %s added (uid %s)", user, field(e, "uid"))
		case "sudo":
			ev.Kind = "process"
			set("command_line", field(e, "command"))
			set("target_user", field(e, "target_user"))
			ev.Summary = fmt.Sprintf("sudo by %s: %s", user, field(e, "command"))
		}
	case "shell_history":
		ev.Kind = "command"
		set("command", field(e, "command"))
		ev.Summary = "shell: " + field(e, "command")
	case "auditd":
		if field(e, "type") == "EXECVE" {
			ev.Kind = "process"
			set("command_line", field(e, "proctitle", "cmdline"))
		}
	case "syslog":
		msg := field(e, "message")
		if field(e, "program") == "kernel" && (strings.Contains(msg, "usb-storage") || strings.Contains(msg, "removable disk")) {
			ev.Kind, ev.Technique = "mount", "T1052.001"
			set("removable", "true")
			set("device", msg)
			ev.Summary = "removable storage: " + msg
		}
	}
}

func fromWindows(ev *Event, e *logevent.Event, set func(k, v string)) {
	switch {
	case e.Channel == "Security" && (e.EventID == 4624 || e.EventID == 4625):
		user, ip, lt := field(e, "TargetUserName"), field(e, "IpAddress"), field(e, "LogonType")
		set("user", user)
		set("source_ip", ip)
		set("logon_type", lt)
		set("workstation", field(e, "WorkstationName"))
		if e.EventID == 4625 {
			ev.Kind, ev.Technique = "logon_failed", "T1110"
			ev.Summary = fmt.Sprintf("logon failed for %s from %s (type %s)", user, ip, lt)
		} else {
			ev.Kind = "logon"
			ev.Summary = fmt.Sprintf("logon of %s from %s (type %s)", user, ip, lt)
		}
	case e.Channel == "Security" && e.EventID == 4720:
		ev.Kind, ev.Technique = "user_added", "T1136.001"
		set("user", field(e, "TargetUserName"))
		ev.Summary = "user " + field(e, "TargetUserName") + " added"
	case e.Channel == "Security" && e.EventID == 4688, e.Service == "sysmon" && e.EventID == 1:
		img, cmd := field(e, "Image", "NewProcessName"), field(e, "CommandLine")
		set("image", img)
		set("command_line", cmd)
		set("parent_image", field(e, "ParentImage", "ParentProcessName"))
		set("user", field(e, "User", "SubjectUserName"))
		ev.Kind = "process"
		ev.Summary = "process " + orElse(cmd, img)
	case e.EventID == 7045 && e.Channel == "System", e.EventID == 4697 && e.Channel == "Security":
		ev.Kind, ev.Technique = "service_installed", "T1543.003"
		set("service", field(e, "ServiceName"))
		set("image", field(e, "ImagePath", "ServiceFileName"))
		set("user", field(e, "AccountName", "SubjectUserName"))
		ev.Summary = fmt.Sprintf("service %s installed: %s", field(e, "ServiceName"), field(e, "ImagePath", "ServiceFileName"))
	case e.Channel == "Security" && (e.EventID == 5140 || e.EventID == 5145):
		ev.Kind = "share_access"
		set("share", field(e, "ShareName"))
		set("source_ip", field(e, "IpAddress"))
		set("user", field(e, "SubjectUserName"))
		set("file", field(e, "RelativeTargetName"))
		set("access", field(e, "AccessMask", "AccessList"))
		ev.Summary = fmt.Sprintf("share %s accessed by %s from %s", field(e, "ShareName"), field(e, "SubjectUserName"), field(e, "IpAddress"))
	case e.Service == "sysmon" && e.EventID == 11:
		ev.Kind = "file"
		set("path", field(e, "TargetFilename"))
		set("action", "created")
		set("image", field(e, "Image"))
		ev.Summary = "file created: " + field(e, "TargetFilename")
	case e.Service == "sysmon" && (e.EventID == 23 || e.EventID == 26):
		ev.Kind = "file_deleted"
		set("path", field(e, "TargetFilename"))
		set("image", field(e, "Image"))
		ev.Summary = "file deleted: " + field(e, "TargetFilename")
	case e.Service == "sysmon" && e.EventID == 3:
		ev.Kind = "connection"
		set("remote_ip", field(e, "DestinationIp"))
		set("remote_port", field(e, "DestinationPort"))
		set("domain", field(e, "DestinationHostname"))
		set("process", field(e, "Image"))
		ev.Summary = fmt.Sprintf("connection to %s:%s by %s", field(e, "DestinationIp"), field(e, "DestinationPort"), field(e, "Image"))
	case e.Channel == "Security" && e.EventID == 6416:
		ev.Kind, ev.Technique = "mount", "T1052.001"
		set("device", field(e, "DeviceDescription", "ClassName"))
		set("removable", "true")
		ev.Summary = "external device recognised: " + field(e, "DeviceDescription", "ClassName")
	}
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func summarise(e *logevent.Event) string {
	if m := field(e, "message"); m != "" {
		return m
	}
	if e.Channel != "" {
		return fmt.Sprintf("%s event %d", e.Channel, e.EventID)
	}
	return e.Service + " event"
}
