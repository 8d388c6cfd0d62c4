package atlas

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/gate"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/telemetry/atlas/graph"
	"github.com/gaffer-sre/gaffer/telemetry/atlas/stack"
)

// Routes registers the API.
func (s *Service) Routes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/graph", Scope: ReadScope,
		Summary: "Atlas graph: evaluate a stack-language expression and render it (png, csv, txt, json, std.json, stats.json)",
		Query: []httpapi.Param{{Name: "q", Description: "expression", Required: true},
			{Name: "s", Description: "start (e-3h)"}, {Name: "e", Description: "end (now)"},
			{Name: "tz", Description: "time zone"}, {Name: "step", Description: "step"},
			{Name: "w", Description: "width"}, {Name: "h", Description: "height"},
			{Name: "format", Description: "png, csv, txt, json, std.json or stats.json"}},
		Handler: s.apiGraph})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/tags", Scope: ReadScope,
		Summary: "Atlas tag keys of the series matching q", Response: []string{},
		Query:   []httpapi.Param{{Name: "q", Description: "query"}, {Name: "limit"}, {Name: "offset"}, {Name: "format"}},
		Handler: s.apiTagKeys})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/tags/{key}", Scope: ReadScope,
		Summary: "Atlas values of a tag among the series matching q", Response: []string{},
		Query:   []httpapi.Param{{Name: "q", Description: "query"}, {Name: "limit"}, {Name: "offset"}, {Name: "format"}},
		Handler: s.apiTagValues})
	s.savedRoutes(r)
}

// apiError maps evaluation errors to HTTP errors: bad programs and
// queries over a limit are the caller's (400), a missing store is 503.
func apiError(err error) error {
	var (
		ae   *stack.Error
		busy *gate.BusyError
	)
	switch {
	case errors.As(err, &busy):
		return httpapi.Unavailable("%v", err)
	case errors.As(err, &ae):
		return &httpapi.Error{Status: http.StatusBadRequest, Code: "invalid_expression", Message: ae.Error()}
	case errors.Is(err, stack.ErrLimit):
		return &httpapi.Error{Status: http.StatusBadRequest, Code: "query_limit", Message: err.Error()}
	case errors.Is(err, errNoStore):
		return httpapi.Unavailable("%v", err)
	}
	return err
}

// apiGraph evaluates a stack-language expression and renders it in the asked format (GET /api/v1/graph).
func (s *Service) apiGraph(w http.ResponseWriter, r *http.Request) error {
	p, err := graph.ParseParams(r.URL.Query(), s.zone)
	if err != nil {
		return httpapi.BadRequest("%v", err)
	}
	ev, err := s.evaluator()
	if err != nil {
		return apiError(err)
	}
	req, err := p.Request(s.deps.Clock()())
	if err != nil {
		return httpapi.BadRequest("%v", err)
	}
	release, err := s.graphs.Enter(r.Context())
	if err != nil {
		return apiError(err)
	}
	res, err := ev.Evaluate(r.Context(), req)
	release()
	if err != nil {
		return apiError(err)
	}
	w.Header().Set("Content-Type", graph.Formats[p.Format])
	w.Header().Set("Cache-Control", "no-store")
	return graph.Write(w, p, res)
}

// tagQuery parses q as a query ("" selects everything).
func tagQuery(q string) (stack.Query, error) {
	if strings.TrimSpace(q) == "" {
		return stack.True{}, nil
	}
	st, err := stack.Interpret(q, nil, nil)
	if err != nil {
		return nil, err
	}
	if len(st) != 1 {
		return nil, &stack.Error{Pos: len(q), Msg: "q must leave exactly one query on the stack"}
	}
	qq, ok := st[0].(stack.Query)
	if !ok {
		return nil, &stack.Error{Pos: len(q), Msg: "q must be a query such as name,sps,:eq"}
	}
	return qq, nil
}

// apiTagKeys lists the tag keys of the series matching q (GET /api/v1/tags).
func (s *Service) apiTagKeys(w http.ResponseWriter, r *http.Request) error {
	return s.tags(w, r, "")
}

// apiTagValues lists the values of a tag among the series matching q (GET /api/v1/tags/{key}).
func (s *Service) apiTagValues(w http.ResponseWriter, r *http.Request) error {
	return s.tags(w, r, r.PathValue("key"))
}

// tags answers Atlas's tags API: a JSON array (or lines of text), paged
// by limit and offset (the last value of the previous page), the next
// offset in X-Nflx-Atlas-Next-Offset.
func (s *Service) tags(w http.ResponseWriter, r *http.Request, key string) error {
	v := r.URL.Query()
	q, err := tagQuery(v.Get("q"))
	if err != nil {
		return apiError(err)
	}
	limit := 1000
	if l := v.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit <= 0 {
			return httpapi.BadRequest("limit: want a positive integer, not %q", l)
		}
	}
	format := v.Get("format")
	if format != "" && format != "json" && format != "txt" {
		return httpapi.BadRequest("format: want json or txt, not %q", format)
	}
	ev, err := s.evaluator()
	if err != nil {
		return apiError(err)
	}
	end := s.deps.Clock()()
	start := end.Add(-14 * 24 * time.Hour)
	var out []string
	if key == "" {
		out, err = ev.Source.TagKeys(r.Context(), q, start.UnixMilli(), end.UnixMilli())
	} else {
		out, err = ev.Source.TagValues(r.Context(), key, q, start.UnixMilli(), end.UnixMilli())
	}
	if err != nil {
		return err
	}
	if off := v.Get("offset"); off != "" {
		i := 0
		for i < len(out) && out[i] <= off {
			i++
		}
		out = out[i:]
	}
	if len(out) > limit {
		out = out[:limit]
		w.Header().Set("X-Nflx-Atlas-Next-Offset", out[len(out)-1])
	}
	if out == nil {
		out = []string{}
	}
	if format == "txt" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, err := w.Write([]byte(strings.Join(out, "\n") + "\n"))
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, out)
}
