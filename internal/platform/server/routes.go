package server

import (
	"context"
	"net/http"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// HealthReport is the body of /healthz and /readyz.
type HealthReport struct {
	Status   string            `json:"status"`
	Version  string            `json:"version"`
	Uptime   string            `json:"uptime"`
	Checks   map[string]string `json:"checks,omitempty"`
	Database string            `json:"database,omitempty"`
}

func (s *Server) platformRoutes() {
	s.router.Handle(httpapi.Route{Method: "GET", Path: "/healthz", Public: true,
		Summary: "Liveness: the process is up", Response: HealthReport{},
		Handler: s.handleHealth})
	s.router.Handle(httpapi.Route{Method: "GET", Path: "/readyz", Public: true,
		Summary: "Readiness: every dependency and service is healthy", Response: HealthReport{},
		Handler: s.handleReady})
	s.router.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/openapi.json", Public: true,
		Summary: "This OpenAPI document", Handler: s.router.OpenAPIHandler("Gaffer API", s.cfg.Version)})
}

// handleHealth answers liveness: the process is up, its version and uptime (GET /healthz).
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	return httpapi.WriteJSON(w, http.StatusOK, HealthReport{Status: "ok", Version: s.cfg.Version,
		Uptime: time.Since(s.started).Round(time.Second).String()})
}

// Checks runs every health check: the database, the bus and each service.
func (s *Server) Checks(ctx context.Context) map[string]string {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	checks := map[string]string{}
	set := func(name string, err error) {
		if err != nil {
			checks[name] = err.Error()
		} else {
			checks[name] = "ok"
		}
	}
	set("database", s.deps.Store.DB.PingContext(ctx))
	set("bus", s.deps.Bus.Healthy())
	for _, ns := range s.services {
		set(ns.name, ns.svc.Health(ctx))
	}
	return checks
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) error {
	rep := HealthReport{Status: "ok", Version: s.cfg.Version, Uptime: time.Since(s.started).Round(time.Second).String(),
		Database: string(s.deps.Store.Dialect), Checks: s.Checks(r.Context())}
	status := http.StatusOK
	if !s.ready.Load() {
		rep.Status, status = "starting or stopping", http.StatusServiceUnavailable
	}
	for _, v := range rep.Checks {
		if v != "ok" {
			rep.Status, status = "unhealthy", http.StatusServiceUnavailable
		}
	}
	return httpapi.WriteJSON(w, status, rep)
}
