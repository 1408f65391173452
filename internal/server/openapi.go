package server

import (
	"net/http"
	"regexp"
	"strings"
)

type obj = map[string]any

func str(desc string) obj     { return obj{"type": "string", "description": desc} }
func integer(desc string) obj { return obj{"type": "integer", "description": desc} }
func ref(name string) obj     { return obj{"$ref": "#/components/schemas/" + name} }
func array(items obj) obj     { return obj{"type": "array", "items": items} }
func object(required []string, props obj) obj {
	o := obj{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

var stringMap = obj{"type": "object", "additionalProperties": obj{"type": "string"}}

var hostSelector = obj{"description": `"all" or a list of host ids`, "oneOf": []any{
	obj{"type": "string", "enum": []string{"all"}}, array(obj{"type": "string"})}}

// schemas are the request and response bodies the routes name.
var schemas = obj{
	"Error": object([]string{"error"}, obj{"error": str("what went wrong")}),
	"Host": object(nil, obj{
		"id": str("agent id, also the client certificate's common name"), "name": str("--name or hostname"),
		"hostname": str(""), "os": str(""), "arch": str(""), "os_version": str(""),
		"ips": array(obj{"type": "string"}), "agent_version": str(""), "labels": stringMap,
		"online":              obj{"type": "boolean", "description": "the agent's connection is open"},
		"last_seen":           obj{"type": "string", "format": "date-time", "nullable": true},
		"enrolled_at":         obj{"type": "string", "format": "date-time"},
		"monitoring":          obj{"type": "string", "enum": []string{"normal", "heightened"}, "description": "level the server wants"},
		"monitoring_reported": str("level the agent last reported"),
		"isolation":           obj{"type": "string", "enum": []string{"none", "requested", "isolated", "release_requested", "failed"}},
		"isolation_reason":    str("reason of the last isolate or release"), "isolation_error": str("agent's error when failed"),
		"bundle_version": integer("rule bundle the agent loaded"), "bundle_error": str("agent's last bundle load error"),
		"revoked": obj{"type": "boolean"},
	}),
	"HostList": array(ref("Host")),
	"HostIDs":  object(nil, obj{"hosts": array(obj{"type": "string"})}),
	"Reason":   object(nil, obj{"reason": str("why, for the audit trail")}),
	"Monitoring": object([]string{"level"}, obj{
		"level": obj{"type": "string", "enum": []string{"normal", "heightened"}}, "reason": str("why, for the audit trail")}),
	"FleetMonitoring": object([]string{"level"}, obj{
		"level":  obj{"type": "string", "enum": []string{"normal", "heightened"}},
		"reason": str("why, for the audit trail"), "hosts": hostSelector,
		"labels": obj{"type": "object", "additionalProperties": obj{"type": "string"}, "description": "only hosts with all these labels"}}),
	"Labels":  object([]string{"labels"}, obj{"labels": stringMap}),
	"Command": object(nil, obj{"id": str("command id"), "host_id": str("")}),
	"Ping":    object(nil, obj{"host_id": str(""), "rtt_ms": obj{"type": "number", "description": "command round-trip time"}}),
	"Detection": object(nil, obj{
		"id": integer("detection id, for paging with ?after="), "host_id": str(""), "finding_id": str("agent's id, unique per host"),
		"type": str("ioc, yara or a collector's kind"), "source": str("scheduled, on_demand, live, sweep or collector"),
		"rule": str(""), "indicator": str(""), "path": str(""), "sha256": str(""), "size": integer(""),
		"seen_at":     obj{"type": "string", "format": "date-time"},
		"received_at": obj{"type": "string", "format": "date-time"},
		"sweep_id":    str(""), "bundle_version": integer(""), "tags": array(obj{"type": "string"}), "meta": stringMap,
		"detail": obj{"type": "object", "description": "the agent's scan record"},
	}),
	"DetectionList": array(ref("Detection")),
	"BundleIn": object(nil, obj{"name": str(""), "yara": str("YARA rule text, compiled at the API"),
		"hashes": array(obj{"type": "string", "description": "MD5, SHA-1 or SHA-256 hex"})}),
	"BundleOut": object(nil, obj{"version": integer("bundle version"), "sha256": str("content digest agents verify")}),
	"Bundle": object(nil, obj{"version": integer(""), "name": str(""), "yara": str(""), "hashes": array(obj{"type": "string"}),
		"sha256": str(""), "created_at": obj{"type": "string", "format": "date-time"}, "created_by": str("")}),
	"SweepIn": object([]string{"paths"}, obj{"name": str(""), "yara": str(""), "hashes": array(obj{"type": "string"}),
		"paths": array(obj{"type": "string", "description": "absolute path"}), "hosts": hostSelector,
		"labels":             obj{"type": "object", "additionalProperties": obj{"type": "string"}, "description": "only hosts with all these labels"},
		"expires_in_seconds": integer("how long offline hosts may still pick it up (default 24 h)")}),
	"SweepID": object([]string{"id"}, obj{"id": str("sweep id")}),
	"Sweep": object(nil, obj{"id": str(""), "name": str(""),
		"state": obj{"type": "string", "enum": []string{"running", "done", "expired"}},
		"paths": array(obj{"type": "string"}), "created_at": obj{"type": "string", "format": "date-time"},
		"expires_at": obj{"type": "string", "format": "date-time"}, "created_by": str(""),
		"progress": object(nil, obj{"done": integer("hosts done or failed"), "total": integer("hosts in the sweep")}),
		"findings": integer("detections from this sweep"),
		"hosts": array(object(nil, obj{"host_id": str(""),
			"state": obj{"type": "string", "enum": []string{"queued", "running", "done", "failed", "offline"}},
			"files": integer("files scanned"), "findings": integer(""), "error": str(""),
			"updated_at": obj{"type": "string", "format": "date-time"}}))}),
	"SweepList": array(ref("Sweep")),
	"Audit": object(nil, obj{"id": integer(""), "at": obj{"type": "string", "format": "date-time"},
		"actor": str("admin, agent:ID, policy or enrolment"), "action": str(""), "target": str("host id, sweep id or fleet"),
		"reason": str(""), "detail": str("")}),
	"AuditList": array(ref("Audit")),
	"Token":     object(nil, obj{"token": str("the new enrolment token")}),
	"Policy": object(nil, obj{"enabled": obj{"type": "boolean"},
		"threshold": obj{"type": "number", "description": "isolate when a rule's meta score or severity (low 25, medium 50, high 75, critical 100) is at least this; 0 disables"},
		"tags":      array(obj{"type": "string", "description": "isolate when a matching rule carries one of these tags"})}),
	"Stats": object(nil, obj{"connected_agents": integer(""), "findings_ingested": integer("new findings stored since start"),
		"finding_batches": integer(""), "duplicate_findings": integer("re-sent findings skipped"),
		"goroutines": integer(""), "heap_bytes": integer(""), "heap_inuse_bytes": integer(""), "stack_bytes": integer("goroutine stacks"), "sys_bytes": integer(""), "rss_bytes": integer(""), "cpu_seconds": obj{"type": "number", "description": "user+system CPU time since start"},
		"uptime_seconds": obj{"type": "number"}, "store": str("sqlite or postgres")}),
	"OpenAPI": obj{"type": "object", "description": "this document"},
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// openAPI builds the document from the route table, so it cannot miss a
// route.
func (s *Server) openAPI() obj {
	paths := obj{}
	for _, r := range s.routes {
		op := obj{"summary": r.summary, "security": []any{obj{"bearer": []string{}}}}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(r.pattern, -1) {
			params = append(params, obj{"name": m[1], "in": "path", "required": true, "schema": obj{"type": "string"}})
		}
		for _, q := range r.query {
			params = append(params, obj{"name": q, "in": "query", "schema": obj{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if r.request != "" {
			op["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": ref(r.request)}}}
		}
		errResp := obj{"content": obj{"application/json": obj{"schema": ref("Error")}}}
		op["responses"] = obj{
			"200": obj{"description": "OK", "content": obj{"application/json": obj{"schema": ref(r.response)}}},
			"400": withDesc(errResp, "bad request"),
			"401": withDesc(errResp, "missing or wrong admin token"),
			"404": withDesc(errResp, "no such host or sweep"),
		}
		p := apiPrefix + r.pattern
		if paths[p] == nil {
			paths[p] = obj{}
		}
		paths[p].(obj)[strings.ToLower(r.method)] = op
	}
	return obj{
		"openapi": "3.0.3",
		"info": obj{"title": "mamori fleet server API", "version": "1",
			"description": "Admin API of mamori server. Every route needs Authorization: Bearer <DIR/admin.token>. Agents use the separate gateway (/agent/v1/enroll, /agent/v1/ws) described in internal/wire."},
		"components": obj{
			"securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer"}},
			"schemas":         schemas,
		},
		"security": []any{obj{"bearer": []string{}}},
		"paths":    paths,
	}
}

func withDesc(o obj, d string) obj {
	out := obj{"description": d}
	for k, v := range o {
		out[k] = v
	}
	return out
}

func (s *Server) getOpenAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.openAPI())
}
