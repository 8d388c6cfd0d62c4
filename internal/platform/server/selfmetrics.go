package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/selfmetrics"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
)

// observeRequest records each API and UI call as a Spectator timer tagged
// by method, route pattern and status.
func (s *Server) observeRequest(route httpapi.Route, status int, elapsed time.Duration) {
	s.metrics.Registry.Timer("gaffer.http.requests", map[string]string{
		"method": route.Method, "route": selfmetrics.RouteTag(route.Path), "status": strconv.Itoa(status),
	}).Record(elapsed)
}

// observeJob records each job attempt by kind and outcome.
func (s *Server) observeJob(kind string, err error, elapsed time.Duration) {
	outcome := "success"
	if err != nil {
		outcome = "failure"
	}
	s.metrics.Registry.Timer("gaffer.jobs", map[string]string{"kind": kind, "outcome": outcome}).Record(elapsed)
}

// appender is what a system that stores measurements offers (the metrics
// system does). The platform imports no system, so it finds the store by
// this interface rather than by name.
type appender interface {
	Append(ctx context.Context, series []prom.TimeSeries) (prom.StoreResult, error)
}

// selfMetricsStore returns the first running service, in dependency order,
// that stores samples.
func (s *Server) selfMetricsStore() (appender, bool) {
	for _, ns := range s.services {
		if a, ok := ns.svc.(appender); ok {
			return a, true
		}
	}
	return nil, false
}

// measureLoop closes a measurement step every selfmetrics.Step and stores
// it in Gaffer's own store when the metrics system runs here.
func (s *Server) measureLoop(stop <-chan struct{}) {
	t := time.NewTicker(selfmetrics.Step)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			// The platform's clock, which the store reads too: a test
			// that fixes the time of day stores its own metrics then.
			s.MeasureNow(s.deps.Now())
		}
	}
}

// MeasureNow closes a measurement step at now: the step's measurements
// replace those /metrics serves and are stored in Gaffer's own store when
// the metrics system runs here. The server calls it every
// selfmetrics.Step; tests call it to avoid waiting.
func (s *Server) MeasureNow(now time.Time) {
	series := s.metrics.Measure(now)
	if len(series) == 0 {
		return
	}
	if a, ok := s.selfMetricsStore(); ok {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := a.Append(ctx, series)
		if err == nil {
			err = res.Err()
		}
		if err != nil {
			s.log.Warn("storing Gaffer's own metrics failed", "error", err)
		}
	}
}

func (s *Server) metricsRoute() {
	s.router.Handle(httpapi.Route{Method: "GET", Path: "/metrics", Public: true,
		Summary: "Gaffer's own metrics in Prometheus's text format (public, like Prometheus's own /metrics)",
		Handler: s.handleMetrics})
}

// handleMetrics writes Gaffer's own metrics in Prometheus's text format (GET /metrics).
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	return s.metrics.WriteExposition(w)
}
