package server

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
)

func (s *Server) detectionRoutes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "GET", Pattern: "/detections", Summary: "List detections in id order: the newest limit (default 1000, at most 10000), or those after id after; filter by host_id or sweep_id.",
			Response: []Detection(nil), Roles: readers, Handler: s.listDetections,
			Query: []httpapi.Param{{Name: "host_id", Description: "only this host's"}, {Name: "sweep_id", Description: "only this sweep's"},
				{Name: "after", Description: "only detections with a greater id"}, {Name: "limit", Description: "at most this many (default 1000, at most 10000)"}}},
	}
}

// Detection is a stored finding as the API shows it.
type Detection struct {
	ID            int64             `json:"id" doc:"detection id, for paging with ?after="`
	HostID        string            `json:"host_id"`
	FindingID     string            `json:"finding_id" doc:"agent's id, unique per host"`
	Type          string            `json:"type" doc:"ioc, yara or a collector's kind"`
	Source        string            `json:"source" doc:"scheduled, on_demand, live, sweep or collector"`
	Rule          string            `json:"rule"`
	Indicator     string            `json:"indicator"`
	Path          string            `json:"path"`
	SHA256        string            `json:"sha256"`
	Size          int64             `json:"size"`
	SeenAt        time.Time         `json:"seen_at"`
	ReceivedAt    time.Time         `json:"received_at"`
	SweepID       string            `json:"sweep_id"`
	BundleVersion int64             `json:"bundle_version"`
	Tags          []string          `json:"tags"`
	Meta          map[string]string `json:"meta"`
	Detail        json.RawMessage   `json:"detail" doc:"the agent's scan record"`
}

func (s *Server) listDetections(w http.ResponseWriter, r *http.Request) {
	after, err := httpapi.QueryInt(r, "after", 0)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	limit, err := httpapi.QueryInt(r, "limit", 0)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	q := r.URL.Query()
	ds, err := s.st.Detections(r.Context(), store.DetectionFilter{HostID: q.Get("host_id"), SweepID: q.Get("sweep_id"), AfterID: after, Limit: int(min(limit, 10000))})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	out := make([]Detection, len(ds))
	for i, d := range ds {
		out[i] = Detection{ID: d.ID, HostID: d.HostID, FindingID: d.FindingID, Type: d.Type, Source: d.Source,
			Rule: d.Rule, Indicator: d.Indicator, Path: d.Path, SHA256: d.SHA256, Size: d.Size, SeenAt: d.SeenAt,
			ReceivedAt: d.ReceivedAt, SweepID: d.SweepID, BundleVersion: d.BundleVersion, Tags: nonNil(d.Tags),
			Meta: d.Meta, Detail: d.Detail}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}
