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
	s.api.Routes(r, "gaffer")
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/metrics/stats", Scope: ReadScope,
		Summary:  "Store statistics: series, samples, bytes per sample, top metrics by cardinality",
		Query:    []httpapi.Param{{Name: "top", Description: "how many metrics to list (default 10)"}},
		Response: tsdb.Stats{}, Handler: s.stats})
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
	return httpapi.WriteJSON(w, http.StatusOK, st)
}
