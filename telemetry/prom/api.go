package prom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/gaffer-sre/gaffer/internal/platform/gate"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// MaxPoints is the most points per series a range query may ask for, as
// in Prometheus.
const MaxPoints = 11000

// API serves the Prometheus HTTP query API over a Queryable.
type API struct {
	Queryable storage.Queryable
	Engine    *promql.Engine
	// Limiter admits each query (concurrency, subquery steps); nil admits
	// every query.
	Limiter *Limiter
	// Scope is the scope the routes require (e.g. "metrics:read").
	Scope string
	// Now is the clock for queries without a time; time.Now if nil.
	Now func() time.Time

	parser  parser.Parser
	version string // Gaffer's, for build information
}

// Response documents the envelope of every Prometheus API answer.
type Response struct {
	Status    string   `json:"status"`
	Data      any      `json:"data,omitempty"`
	ErrorType string   `json:"errorType,omitempty"`
	Error     string   `json:"error,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
	Infos     []string `json:"infos,omitempty"`
}

var (
	queryParams = []httpapi.Param{
		{Name: "query", Description: "PromQL expression", Required: true},
		{Name: "time", Description: "evaluation time: unix seconds or RFC 3339; default now"},
		{Name: "timeout", Description: "evaluation timeout, e.g. 30s"},
		{Name: "lookback_delta", Description: "lookback for instant vectors, default 5m"},
	}
	rangeParams = []httpapi.Param{
		{Name: "query", Description: "PromQL expression", Required: true},
		{Name: "start", Description: "unix seconds or RFC 3339", Required: true},
		{Name: "end", Description: "unix seconds or RFC 3339", Required: true},
		{Name: "step", Description: "resolution: seconds or a duration such as 1m", Required: true},
		{Name: "timeout", Description: "evaluation timeout, e.g. 30s"},
		{Name: "lookback_delta", Description: "lookback for instant vectors, default 5m"},
	}
	seriesParams = []httpapi.Param{
		{Name: "match[]", Description: "series selector; repeatable"},
		{Name: "start", Description: "unix seconds or RFC 3339"},
		{Name: "end", Description: "unix seconds or RFC 3339"},
		{Name: "limit", Description: "most results to return"},
	}
)

// Routes registers the query API on r: GET and POST (form-encoded) for
// query, query_range, series and labels, GET for label values, metadata
// and build information.
func (a *API) Routes(r *httpapi.Router, version string) {
	a.parser = parser.NewParser(parser.Options{})
	a.version = version
	for _, method := range []string{"GET", "POST"} {
		// A query sent as a form POST (Grafana's default) reads only:
		// it is not written to the audit log.
		unaudited := method == "POST"
		r.Handle(httpapi.Route{Method: method, Path: "/api/v1/query", Scope: a.Scope, Action: "metrics.query.instant", Unaudited: unaudited,
			Summary: "Evaluate a PromQL expression at one time (Prometheus API)", Query: queryParams,
			Response: Response{}, Handler: a.query})
		r.Handle(httpapi.Route{Method: method, Path: "/api/v1/query_range", Scope: a.Scope, Action: "metrics.query.range", Unaudited: unaudited,
			Summary: "Evaluate a PromQL expression over a range of times (Prometheus API)", Query: rangeParams,
			Response: Response{}, Handler: a.queryRange})
		r.Handle(httpapi.Route{Method: method, Path: "/api/v1/series", Scope: a.Scope, Action: "metrics.series.list", Unaudited: unaudited,
			Summary: "Series matching selectors (Prometheus API)", Query: seriesParams,
			Response: Response{}, Handler: a.series})
		r.Handle(httpapi.Route{Method: method, Path: "/api/v1/labels", Scope: a.Scope, Action: "metrics.labels.list", Unaudited: unaudited,
			Summary: "Label names (Prometheus API)", Query: seriesParams,
			Response: Response{}, Handler: a.labelNames})
	}
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/label/{name}/values", Scope: a.Scope,
		Summary: "Values of a label (Prometheus API)", Query: seriesParams,
		Response: Response{}, Handler: a.labelValues})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/metadata", Scope: a.Scope,
		Summary:  "Metric metadata (Prometheus API; Gaffer keeps none, so always empty)",
		Response: Response{}, Handler: a.metadata})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/status/buildinfo", Scope: a.Scope,
		Summary:  "Build information (Prometheus API), for clients that detect features",
		Response: Response{}, Handler: a.buildInfo})
}

// metadata answers GET /api/v1/metadata: always empty, as Gaffer keeps no
// metric metadata.
func (a *API) metadata(w http.ResponseWriter, r *http.Request) error {
	return writeSuccess(w, []byte("{}"), nil)
}

// buildInfo answers GET /api/v1/status/buildinfo with a Prometheus 3
// version and Gaffer's own as the revision, for clients that detect
// features.
func (a *API) buildInfo(w http.ResponseWriter, r *http.Request) error {
	b := []byte(`{"version":"3.0.0","revision":"gaffer-`)
	b = append(b, strings.Trim(strconv.Quote(a.version), `"`)...)
	b = append(b, `","branch":"","buildUser":"","buildDate":"","goVersion":""}`...)
	return writeSuccess(w, b, nil)
}

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func badData(format string, args ...any) *apiError {
	return &apiError{typ: ErrBadData, err: fmt.Errorf(format, args...)}
}

// form parses the query string and a form-encoded body.
func form(r *http.Request) *apiError {
	if err := r.ParseForm(); err != nil {
		return badData("error parsing form values: %v", err)
	}
	return nil
}

func (a *API) queryOpts(r *http.Request) (promql.QueryOpts, *apiError) {
	var lookback time.Duration
	if s := r.FormValue("lookback_delta"); s != "" {
		d, err := ParseDuration(s)
		if err != nil {
			return nil, badData("error parsing lookback delta duration: %v", err)
		}
		lookback = d
	}
	return promql.NewPrometheusQueryOpts(false, lookback, nil), nil
}

func withTimeout(r *http.Request) (context.Context, context.CancelFunc, *apiError) {
	ctx := r.Context()
	if s := r.FormValue("timeout"); s != "" {
		d, err := ParseDuration(s)
		if err != nil {
			return nil, nil, badData("invalid parameter \"timeout\": %v", err)
		}
		c, cancel := context.WithTimeout(ctx, d)
		return c, cancel, nil
	}
	c, cancel := context.WithCancel(ctx)
	return c, cancel, nil
}

func (a *API) query(w http.ResponseWriter, r *http.Request) error {
	if e := form(r); e != nil {
		return writeError(w, e)
	}
	ts := a.now()
	if s := r.FormValue("time"); s != "" {
		t, err := ParseTime(s)
		if err != nil {
			return writeError(w, badData("invalid parameter \"time\": %v", err))
		}
		ts = t
	}
	return a.run(w, r, ts, ts, func(ctx context.Context, opts promql.QueryOpts) (promql.Query, error) {
		return a.Engine.NewInstantQuery(ctx, a.Queryable, opts, r.FormValue("query"), ts)
	})
}

// run creates a query from start to end with the request's options and
// timeout, admits it through the Limiter, evaluates it and answers its
// result.
func (a *API) run(w http.ResponseWriter, r *http.Request, start, end time.Time, newQuery func(context.Context, promql.QueryOpts) (promql.Query, error)) error {
	opts, e := a.queryOpts(r)
	if e != nil {
		return writeError(w, e)
	}
	ctx, cancel, e := withTimeout(r)
	if e != nil {
		return writeError(w, e)
	}
	defer cancel()
	if a.Limiter != nil {
		release, err := a.Limiter.Admit(ctx, r.FormValue("query"), start, end)
		if err != nil {
			return writeError(w, limitError(err))
		}
		defer release()
	}
	qry, err := newQuery(ctx, opts)
	if err != nil {
		return writeError(w, queryError(err))
	}
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return writeError(w, execError(res.Err))
	}
	return writeSuccess(w, appendValue(nil, res.Value), res.Warnings)
}

func (a *API) queryRange(w http.ResponseWriter, r *http.Request) error {
	if e := form(r); e != nil {
		return writeError(w, e)
	}
	start, err := ParseTime(r.FormValue("start"))
	if err != nil {
		return writeError(w, badData("invalid parameter \"start\": %v", err))
	}
	end, err := ParseTime(r.FormValue("end"))
	if err != nil {
		return writeError(w, badData("invalid parameter \"end\": %v", err))
	}
	if end.Before(start) {
		return writeError(w, badData("invalid parameter \"end\": end timestamp must not be before start time"))
	}
	step, err := ParseDuration(r.FormValue("step"))
	if err != nil {
		return writeError(w, badData("invalid parameter \"step\": %v", err))
	}
	if step <= 0 {
		return writeError(w, badData("zero or negative query resolution step widths are not accepted. Try a positive integer"))
	}
	if end.Sub(start)/step > MaxPoints {
		return writeError(w, badData("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"))
	}
	return a.run(w, r, start, end, func(ctx context.Context, opts promql.QueryOpts) (promql.Query, error) {
		return a.Engine.NewRangeQuery(ctx, a.Queryable, opts, r.FormValue("query"), start, end, step)
	})
}

// limitError classifies an error from Limiter.Admit: a query too large
// to run is bad data, a busy server is unavailable.
func limitError(err error) *apiError {
	var (
		le   *LimitError
		busy *gate.BusyError
	)
	switch {
	case errors.As(err, &le):
		return &apiError{typ: ErrBadData, err: err}
	case errors.As(err, &busy):
		return &apiError{typ: ErrUnavailable, err: err}
	}
	return execError(err)
}

// queryError classifies an error from creating a query (parsing).
func queryError(err error) *apiError {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return execError(err)
	}
	return &apiError{typ: ErrBadData, err: err}
}

// execError classifies an evaluation error as Prometheus does.
func execError(err error) *apiError {
	var (
		canceled promql.ErrQueryCanceled
		timeout  promql.ErrQueryTimeout
		st       promql.ErrStorage
	)
	switch {
	case errors.As(err, &canceled), errors.Is(err, context.Canceled):
		return &apiError{typ: ErrCanceled, err: err}
	case errors.As(err, &timeout), errors.Is(err, context.DeadlineExceeded):
		return &apiError{typ: ErrTimeout, err: err}
	case errors.As(err, &st):
		return &apiError{typ: ErrInternal, err: err}
	}
	return &apiError{typ: ErrExecution, err: err}
}

// selectionParams reads match[], start, end and limit.
func (a *API) selectionParams(r *http.Request, needMatch bool) (sets [][]*labels.Matcher, start, end time.Time, limit int, e *apiError) {
	if e := form(r); e != nil {
		return nil, start, end, 0, e
	}
	start, end = MinTime, MaxTime
	var err error
	if s := r.FormValue("start"); s != "" {
		if start, err = ParseTime(s); err != nil {
			return nil, start, end, 0, badData("invalid parameter \"start\": %v", err)
		}
	}
	if s := r.FormValue("end"); s != "" {
		if end, err = ParseTime(s); err != nil {
			return nil, start, end, 0, badData("invalid parameter \"end\": %v", err)
		}
	}
	if s := r.FormValue("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 0 {
			return nil, start, end, 0, badData("invalid parameter \"limit\": %q is not a non-negative integer", s)
		}
	}
	matches := r.Form["match[]"]
	if needMatch && len(matches) == 0 {
		return nil, start, end, 0, badData("no match[] parameter provided")
	}
	for _, m := range matches {
		ms, err := a.parser.ParseMetricSelector(m)
		if err != nil {
			return nil, start, end, 0, badData("invalid parameter \"match[]\": %v", err)
		}
		sets = append(sets, ms)
	}
	return sets, start, end, limit, nil
}

// openSelection reads the selection parameters and opens a querier over
// their time range.
func (a *API) openSelection(r *http.Request, needMatch bool) ([][]*labels.Matcher, time.Time, time.Time, int, storage.Querier, *apiError) {
	sets, start, end, limit, e := a.selectionParams(r, needMatch)
	if e != nil {
		return nil, start, end, 0, nil, e
	}
	q, err := a.Queryable.Querier(millis(start), millis(end))
	if err != nil {
		return nil, start, end, 0, nil, &apiError{typ: ErrInternal, err: err}
	}
	return sets, start, end, limit, q, nil
}

func (a *API) series(w http.ResponseWriter, r *http.Request) error {
	sets, start, end, limit, q, e := a.openSelection(r, true)
	if e != nil {
		return writeError(w, e)
	}
	defer q.Close()
	seen := map[string]labels.Labels{}
	hints := &storage.SelectHints{Start: millis(start), End: millis(end), Func: "series", Limit: limit}
	for _, ms := range sets {
		set := q.Select(r.Context(), true, hints, ms...)
		for set.Next() {
			// Leave out series without samples in the range (the store
			// keeps series whose first batch failed to commit).
			if set.At().Iterator(nil).Next() == chunkenc.ValNone {
				continue
			}
			ls := set.At().Labels()
			if _, ok := seen[ls.String()]; !ok {
				seen[ls.String()] = ls.Copy()
			}
		}
		if err := set.Err(); err != nil {
			return writeError(w, execError(err))
		}
	}
	all := make([]labels.Labels, 0, len(seen))
	for _, ls := range seen {
		all = append(all, ls)
	}
	sort.Slice(all, func(i, j int) bool { return labels.Compare(all[i], all[j]) < 0 })
	var annos annotations.Annotations
	if limit > 0 && len(all) > limit {
		all = all[:limit]
		annos = annos.Add(errors.New("results truncated due to limit"))
	}
	b := []byte{'['}
	for i, ls := range all {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendLabels(b, ls)
	}
	b = append(b, ']')
	return writeSuccess(w, b, annos)
}

func (a *API) labelNames(w http.ResponseWriter, r *http.Request) error {
	return a.labelQuery(w, r, func(q storage.Querier, ms []*labels.Matcher) ([]string, error) {
		names, _, err := q.LabelNames(r.Context(), nil, ms...)
		return names, err
	})
}

func (a *API) labelValues(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if strings.HasPrefix(name, "U__") {
		name = model.UnescapeName(name, model.ValueEncodingEscaping)
	}
	if name == "" {
		return writeError(w, badData("invalid label name: %q", r.PathValue("name")))
	}
	return a.labelQuery(w, r, func(q storage.Querier, ms []*labels.Matcher) ([]string, error) {
		vals, _, err := q.LabelValues(r.Context(), name, nil, ms...)
		return vals, err
	})
}

// labelQuery answers the union of list(q, ms) over every match[] set.
func (a *API) labelQuery(w http.ResponseWriter, r *http.Request, list func(storage.Querier, []*labels.Matcher) ([]string, error)) error {
	sets, _, _, limit, q, e := a.openSelection(r, false)
	if e != nil {
		return writeError(w, e)
	}
	defer q.Close()
	if len(sets) == 0 {
		sets = [][]*labels.Matcher{nil}
	}
	var all []string
	for _, ms := range sets {
		got, err := list(q, ms)
		if err != nil {
			return writeError(w, execError(err))
		}
		all = append(all, got...)
	}
	return writeStrings(w, all, limit)
}

// writeStrings answers a sorted, de-duplicated list of strings.
func writeStrings(w http.ResponseWriter, all []string, limit int) error {
	sort.Strings(all)
	out := all[:0]
	for i, s := range all {
		if i == 0 || s != all[i-1] {
			out = append(out, s)
		}
	}
	var annos annotations.Annotations
	if limit > 0 && len(out) > limit {
		out = out[:limit]
		annos = annos.Add(errors.New("results truncated due to limit"))
	}
	return writeSuccess(w, appendStrings(nil, out), annos)
}
