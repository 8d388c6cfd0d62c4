package server

import (
	"net/http"
	"net/http/pprof"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// pprofRoutes serves Go's runtime profiles (heap, CPU, goroutines, trace)
// under /debug/pprof/ to admins, for `go tool pprof
// -H "Authorization: Bearer $TOKEN"`-style investigations of a running
// server. Reading a profile changes nothing, so it is not audited; it
// needs the admin scope because a heap or goroutine dump shows internals.
func (s *Server) pprofRoutes() {
	s.router.Handle(httpapi.Route{Method: "GET", Path: "/debug/pprof/", Scope: "admin",
		Summary: "Go runtime profiles: the index", Handler: pprofHandler(pprof.Index)})
	s.router.Handle(httpapi.Route{Method: "GET", Path: "/debug/pprof/cmdline", Scope: "admin",
		Summary: "Go runtime profiles: the command line", Handler: pprofHandler(pprof.Cmdline)})
	s.router.Handle(httpapi.Route{Method: "GET", Path: "/debug/pprof/profile", Scope: "admin",
		Summary: "Go runtime profiles: a CPU profile (?seconds=30)", Handler: pprofHandler(pprof.Profile)})
	s.router.Handle(httpapi.Route{Method: "GET", Path: "/debug/pprof/symbol", Scope: "admin",
		Summary: "Go runtime profiles: symbol lookup", Handler: pprofHandler(pprof.Symbol)})
	s.router.Handle(httpapi.Route{Method: "GET", Path: "/debug/pprof/trace", Scope: "admin",
		Summary: "Go runtime profiles: an execution trace (?seconds=1)", Handler: pprofHandler(pprof.Trace)})
	s.router.Handle(httpapi.Route{Method: "GET", Path: "/debug/pprof/{profile}", Scope: "admin",
		Summary: "Go runtime profiles: heap, allocs, goroutine, block, mutex, threadcreate", Handler: pprofHandler(pprof.Index)})
}

// pprofHandler adapts one of net/http/pprof's handlers, which write their
// own errors, to a route's handler.
func pprofHandler(h http.HandlerFunc) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		h(w, r)
		return nil
	}
}
