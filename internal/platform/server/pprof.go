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
	wrap := func(h http.HandlerFunc) httpapi.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			h(w, r)
			return nil
		}
	}
	for _, rt := range []struct {
		path, summary string
		h             http.HandlerFunc
	}{
		{"/debug/pprof/", "Go runtime profiles: the index", pprof.Index},
		{"/debug/pprof/cmdline", "Go runtime profiles: the command line", pprof.Cmdline},
		{"/debug/pprof/profile", "Go runtime profiles: a CPU profile (?seconds=30)", pprof.Profile},
		{"/debug/pprof/symbol", "Go runtime profiles: symbol lookup", pprof.Symbol},
		{"/debug/pprof/trace", "Go runtime profiles: an execution trace (?seconds=1)", pprof.Trace},
		{"/debug/pprof/{profile}", "Go runtime profiles: heap, allocs, goroutine, block, mutex, threadcreate", pprof.Index},
	} {
		s.router.Handle(httpapi.Route{Method: "GET", Path: rt.path, Scope: "admin", Summary: rt.summary, Handler: wrap(rt.h)})
	}
}
