package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/spf13/pflag"

	"github.com/gaffer-sre/gaffer/internal/platform/egress"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
)

// remoteQueryable reads a Prometheus-compatible HTTP API (Prometheus,
// Mimir, VictoriaMetrics, Thanos Query) as a storage.Queryable, so that
// the embedded PromQL engine — and everything that queries through it:
// the PromQL API, alerting, analysis — evaluates over the remote's
// samples. A selection is one instant query of a range selector over the
// selection's window, which every such API answers with raw samples;
// series, label names and values use their own endpoints.
type remoteQueryable struct {
	url       string // base URL, e.g. http://mimir:8080/prometheus
	tokenFile string
	http      *http.Client
}

// newRemoteQueryable checks the settings and builds the client through
// the egress policy.
func newRemoteQueryable(set *QuerySettings, pol *egress.Policy) (*remoteQueryable, error) {
	if err := checkRemoteWriteURL(set.URL); err != nil {
		return nil, fmt.Errorf("metrics-query-url: %w", err)
	}
	return &remoteQueryable{url: strings.TrimRight(set.URL, "/"), tokenFile: set.BearerTokenFile,
		http: pol.Client(egress.ClientOptions{Timeout: set.Timeout, MaxIdleConnsPerHost: 16})}, nil
}

// client returns a prom.Client with the current bearer token.
func (r *remoteQueryable) client() (*prom.Client, error) {
	c := &prom.Client{URL: r.url, HTTP: r.http}
	if r.tokenFile != "" {
		b, err := os.ReadFile(r.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("metrics-query-bearer-token-file: %w", err)
		}
		c.Token = strings.TrimSpace(string(b))
	}
	return c, nil
}

// Querier implements storage.Queryable.
func (r *remoteQueryable) Querier(mint, maxt int64) (storage.Querier, error) {
	return &remoteQuerier{r: r, mint: mint, maxt: maxt}, nil
}

type remoteQuerier struct {
	r          *remoteQueryable
	mint, maxt int64
}

// selector writes matchers as a PromQL vector selector.
func selector(ms []*labels.Matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Select implements storage.Querier: the samples with start ≤ t ≤ end.
func (q *remoteQuerier) Select(ctx context.Context, _ bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	start, end := q.mint, q.maxt
	if hints != nil {
		start, end = hints.Start, hints.End
	}
	if hints != nil && hints.Func == "series" {
		return q.series(ctx, start, end, ms)
	}
	c, err := q.r.client()
	if err != nil {
		return storage.ErrSeriesSet(err)
	}
	// Range selectors are left-open in Prometheus 3: one millisecond more
	// takes start in.
	expr := fmt.Sprintf("%s[%dms]", selector(ms), end-start+1)
	res, err := c.Query(ctx, expr, time.UnixMilli(end))
	if err != nil {
		return storage.ErrSeriesSet(fmt.Errorf("remote query %s: %w", q.r.url, err))
	}
	var b labels.ScratchBuilder
	out := make([]storage.Series, 0, len(res.Series))
	for _, s := range res.Series {
		samples := make(chunks.SampleSlice, 0, len(s.Points))
		for _, p := range s.Points {
			if p.T >= start && p.T <= end {
				samples = append(samples, floatSample{t: p.T, f: p.V})
			}
		}
		if len(samples) > 0 {
			out = append(out, storage.NewListSeries(prom.ToLabels(&b, s.Labels), samples))
		}
	}
	return newListSet(out, res.Warnings)
}

// series lists the series of the remote's series endpoint. They carry no
// samples of their own: each gets one at end, standing for the remote's
// answer that it holds data in the range (the series API leaves out
// series without any).
func (q *remoteQuerier) series(ctx context.Context, start, end int64, ms []*labels.Matcher) storage.SeriesSet {
	var data []map[string]string
	warns, err := q.get(ctx, "/api/v1/series", url.Values{"match[]": {selector(ms)}}, start, end, &data)
	if err != nil {
		return storage.ErrSeriesSet(err)
	}
	out := make([]storage.Series, 0, len(data))
	for _, m := range data {
		out = append(out, storage.NewListSeries(labels.FromMap(m), chunks.SampleSlice{floatSample{t: end}}))
	}
	return newListSet(out, warns)
}

// LabelValues implements storage.Querier.
func (q *remoteQuerier) LabelValues(ctx context.Context, name string, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var vals []string
	warns, err := q.get(ctx, "/api/v1/label/"+url.PathEscape(name)+"/values", matchParams(ms), q.mint, q.maxt, &vals)
	return vals, warnAnnotations(warns), err
}

// LabelNames implements storage.Querier.
func (q *remoteQuerier) LabelNames(ctx context.Context, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var names []string
	warns, err := q.get(ctx, "/api/v1/labels", matchParams(ms), q.mint, q.maxt, &names)
	return names, warnAnnotations(warns), err
}

// Close implements storage.Querier.
func (q *remoteQuerier) Close() error { return nil }

func matchParams(ms []*labels.Matcher) url.Values {
	v := url.Values{}
	if len(ms) > 0 {
		v.Set("match[]", selector(ms))
	}
	return v
}

// get calls a metadata endpoint and decodes the envelope's data into out;
// start and end are left out when they are the API's open bounds.
func (q *remoteQuerier) get(ctx context.Context, path string, v url.Values, start, end int64, out any) ([]string, error) {
	if start > prom.MinTime.UnixMilli() {
		v.Set("start", prom.FormatTime(time.UnixMilli(start)))
	}
	if end < prom.MaxTime.UnixMilli() {
		v.Set("end", prom.FormatTime(time.UnixMilli(end)))
	}
	c, err := q.r.client()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, q.r.url+path+"?"+v.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("remote query %s: %w", q.r.url, err)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := q.r.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("remote query %s: %w", q.r.url, err)
	}
	defer resp.Body.Close()
	body, err := egress.ReadAll(resp.Body, 256<<20)
	if err != nil {
		return nil, fmt.Errorf("remote query %s%s: %w", q.r.url, path, err)
	}
	return decodeEnvelope(resp.StatusCode, body, out)
}

// decodeEnvelope reads a Prometheus API answer: its data into out and
// its warnings, or the error it reports.
func decodeEnvelope(status int, body []byte, out any) ([]string, error) {
	var env struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Warnings  []string        `json:"warnings"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("remote query: HTTP %d, not a Prometheus API answer: %.120q", status, body)
	}
	if env.Status != "success" {
		if env.Error == "" {
			env.Error = http.StatusText(status)
		}
		return nil, fmt.Errorf("remote query: %s (HTTP %d, %s)", env.Error, status, env.ErrorType)
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return nil, fmt.Errorf("remote query: data: %w", err)
	}
	return env.Warnings, nil
}

func warnAnnotations(ws []string) annotations.Annotations {
	var a annotations.Annotations
	for _, w := range ws {
		a.Add(fmt.Errorf("remote: %s", w))
	}
	return a
}

// floatSample is one float sample of a remote series.
type floatSample struct {
	t int64
	f float64
}

func (s floatSample) T() int64                      { return s.t }
func (s floatSample) ST() int64                     { return 0 }
func (s floatSample) F() float64                    { return s.f }
func (s floatSample) H() *histogram.Histogram       { return nil }
func (s floatSample) FH() *histogram.FloatHistogram { return nil }
func (s floatSample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s floatSample) Copy() chunks.Sample           { return s }

// listSet is a SeriesSet over series sorted by labels.
type listSet struct {
	series []storage.Series
	i      int
	warns  annotations.Annotations
}

func newListSet(series []storage.Series, warns []string) *listSet {
	sort.Slice(series, func(i, j int) bool { return labels.Compare(series[i].Labels(), series[j].Labels()) < 0 })
	return &listSet{series: series, i: -1, warns: warnAnnotations(warns)}
}

func (s *listSet) Next() bool                        { s.i++; return s.i < len(s.series) }
func (s *listSet) At() storage.Series                { return s.series[s.i] }
func (s *listSet) Err() error                        { return nil }
func (s *listSet) Warnings() annotations.Annotations { return s.warns }

// mergedQueryable reads the embedded store and the remote together: a
// series in both is merged sample by sample (the same sample once). The
// remote is secondary: when it fails, the answer is the store's, with a
// warning.
type mergedQueryable struct {
	local, remote storage.Queryable
}

// Querier implements storage.Queryable.
func (m mergedQueryable) Querier(mint, maxt int64) (storage.Querier, error) {
	lq, err := m.local.Querier(mint, maxt)
	if err != nil {
		return nil, err
	}
	rq, err := m.remote.Querier(mint, maxt)
	if err != nil {
		lq.Close()
		return nil, err
	}
	return storage.NewMergeQuerier([]storage.Querier{lq}, []storage.Querier{rq}, storage.ChainedSeriesMerge), nil
}

// QuerySettings are the --metrics-query flags.
type QuerySettings struct {
	// URL is the base URL of a Prometheus-compatible query API
	// (--metrics-query-url); empty reads the embedded store only.
	URL string
	// Mode is "remote" (the remote only) or "both" (the embedded store
	// merged with the remote).
	Mode string
	// BearerTokenFile is read before each request.
	BearerTokenFile string
	// Timeout bounds one request to the remote.
	Timeout time.Duration
}

// Query modes.
const (
	QueryModeRemote = "remote"
	QueryModeBoth   = "both"
)

func queryFlags(fs *pflag.FlagSet, q *QuerySettings) {
	fs.StringVar(&q.URL, "metrics-query-url", "", "read metrics from this Prometheus-compatible query API instead of (or, see --metrics-query-mode, "+
		"as well as) the embedded store: the PromQL API, alerting and analysis, e.g. http://mimir:8080/prometheus (through the egress policy)")
	fs.StringVar(&q.Mode, "metrics-query-mode", q.Mode, "with --metrics-query-url: remote (read the remote only) or both (merge the embedded store with the remote)")
	fs.StringVar(&q.BearerTokenFile, "metrics-query-bearer-token-file", "", "file whose content is sent as a bearer token to --metrics-query-url")
	fs.Var(durationValue{&q.Timeout}, "metrics-query-remote-timeout", "longest one request to --metrics-query-url may take")
}

// queryable returns what PromQL reads: the store, the remote, or both.
func (set *QuerySettings) queryable(local storage.Queryable, pol *egress.Policy) (storage.Queryable, error) {
	if set.URL == "" {
		return local, nil
	}
	if set.Mode != QueryModeRemote && set.Mode != QueryModeBoth {
		return nil, fmt.Errorf("metrics-query-mode: want remote or both, got %q", set.Mode)
	}
	if set.Timeout <= 0 {
		return nil, fmt.Errorf("metrics-query-remote-timeout: must be positive, got %v", set.Timeout)
	}
	remote, err := newRemoteQueryable(set, pol)
	if err != nil {
		return nil, err
	}
	if set.Mode == QueryModeRemote || local == nil {
		return remote, nil
	}
	return mergedQueryable{local: local, remote: remote}, nil
}
