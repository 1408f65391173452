package server

import (
	"net/http"
	"runtime"
	"time"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
)

func (s *Server) statsRoutes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "GET", Pattern: "/stats", Summary: "Connected agents, findings ingested and server memory, for load tests and monitoring.",
			Response: Stats{}, Roles: readers, Handler: s.getStats},
	}
}

// Stats is what GET /api/v1/stats reports.
type Stats struct {
	ConnectedAgents  int     `json:"connected_agents"`
	FindingsIngested int64   `json:"findings_ingested" doc:"new findings stored since start"`
	FindingBatches   int64   `json:"finding_batches"`
	Duplicates       int64   `json:"duplicate_findings" doc:"re-sent findings skipped"`
	Refused          int64   `json:"refused_findings" doc:"invalid findings from agents, not stored"`
	Goroutines       int     `json:"goroutines"`
	HeapBytes        uint64  `json:"heap_bytes"`
	HeapInuseBytes   uint64  `json:"heap_inuse_bytes"`
	StackBytes       uint64  `json:"stack_bytes" doc:"goroutine stacks"`
	SysBytes         uint64  `json:"sys_bytes"`
	RSSBytes         int64   `json:"rss_bytes" doc:"resident set size; 0 where the system does not say"`
	CPUSeconds       float64 `json:"cpu_seconds" doc:"user+system CPU time since start"`
	UptimeSeconds    float64 `json:"uptime_seconds"`
	Store            string  `json:"store" doc:"sqlite or postgres"`
}

func (s *Server) getStats(w http.ResponseWriter, r *http.Request) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	httpapi.WriteJSON(w, http.StatusOK, Stats{
		ConnectedAgents: s.hub.count(), FindingsIngested: s.stats.findings.Load(), FindingBatches: s.stats.batches.Load(),
		Duplicates: s.stats.duplicates.Load(), Refused: s.stats.refused.Load(), Goroutines: runtime.NumGoroutine(), HeapBytes: ms.HeapAlloc,
		HeapInuseBytes: ms.HeapInuse, StackBytes: ms.StackInuse, SysBytes: ms.Sys, RSSBytes: rss(), CPUSeconds: cpuSeconds(),
		UptimeSeconds: time.Since(s.started).Seconds(), Store: string(s.st.Dialect()),
	})
}
