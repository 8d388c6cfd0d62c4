package metrics

import (
	"net/http"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// Routes registers the ingest routes (metrics:write) and the Prometheus
// query API (metrics:read).
func (s *Service) Routes(r *httpapi.Router) {
	if s.db == nil {
		return
	}
	r.Handle(s.receiver.Route(WriteScope))
	r.Handle(s.publish.Route(WriteScope))
	r.Handle(s.otlpRoute())
	s.api.Routes(r, "gaffer")
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/metrics/stats", Scope: ReadScope,
		Summary:  "Store statistics: series, samples, bytes per sample, top metrics by cardinality",
		Query:    []httpapi.Param{{Name: "top", Description: "how many metrics to list (default 10)"}},
		Response: Stats{}, Handler: s.stats})
}

func (s *Service) stats(w http.ResponseWriter, r *http.Request) error {
	top, err := httpapi.Limit(r, 10, 1000)
	if err != nil {
		return err
	}
	if v := r.URL.Query().Get("top"); v != "" {
		r.URL.RawQuery = "limit=" + v
		if top, err = httpapi.Limit(r, 10, 1000); err != nil {
			return httpapi.BadRequest("top: want a positive integer, got %q", v)
		}
	}
	st, err := s.db.Stats(top)
	if err != nil {
		return err
	}
	rw := &s.receiver.Stats
	reg := s.daemon.Registry
	return httpapi.WriteJSON(w, http.StatusOK, Stats{TSDB: st,
		RemoteWrite: RemoteWriteStats{Requests: rw.Requests.Load(), Samples: rw.Samples.Load(), Refused: rw.Refused.Load(),
			Histograms: rw.Histograms.Load(), Errors: rw.Errors.Load()},
		Spectatord:     SpectatordStats{Lines: reg.Lines.Load(), Errors: reg.Errors.Load(), Meters: reg.Meters()},
		RemoteWriteOut: s.remote.stats()})
}

// Stats is the answer of GET /api/v1/metrics/stats.
type Stats struct {
	TSDB        tsdb.Stats       `json:"tsdb"`
	RemoteWrite RemoteWriteStats `json:"remoteWrite"`
	Spectatord  SpectatordStats  `json:"spectatord"`
	// RemoteWriteOut describes each --metrics-remote-write receiver.
	RemoteWriteOut []RemoteWriteOutStats `json:"remoteWriteOut,omitempty"`
}

// RemoteWriteStats count remote-write requests since the server started.
type RemoteWriteStats struct {
	Requests   int64 `json:"requests"`
	Samples    int64 `json:"samples"`
	Refused    int64 `json:"refused"`
	Histograms int64 `json:"nativeHistogramsDropped"`
	Errors     int64 `json:"errors"`
}

// SpectatordStats count spectatord lines since the server started.
type SpectatordStats struct {
	Lines  int64 `json:"lines"`
	Errors int64 `json:"errors"`
	Meters int   `json:"meters"`
}
