package metrics_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"

	_ "github.com/gaffer-sre/gaffer/telemetry/metrics"
)

// promResponse is the Prometheus API envelope.
type promResponse struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`
	Warnings  []string        `json:"warnings"`
}

func decodeProm(t *testing.T, r *platformtest.Response) promResponse {
	t.Helper()
	var p promResponse
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("status %d, body %s: %v", r.Status, r.Body, err)
	}
	return p
}

func writeBody(series []prom.TimeSeries) []byte {
	return snappy.Encode(nil, prom.AppendWriteRequest(nil, series))
}

func remoteWrite(t *testing.T, srv *platformtest.Server, token string, series []prom.TimeSeries) *platformtest.Response {
	t.Helper()
	return srv.DoWith("POST", "/api/v1/write", token, "application/x-protobuf", writeBody(series))
}

func counterSeries(now time.Time, n int) []prom.TimeSeries {
	var out []prom.TimeSeries
	for i := 0; i < n; i++ {
		ts := prom.TimeSeries{Labels: tsdb.FromStrings("__name__", "requests_total", "job", "api", "instance", string(rune('a'+i)))}
		for k := 0; k < 20; k++ {
			ts.Samples = append(ts.Samples, prom.Sample{Timestamp: now.Add(time.Duration(k-20) * 15 * time.Second).UnixMilli(), Value: float64(k * (i + 1))})
		}
		out = append(out, ts)
	}
	return out
}

func TestRemoteWriteAndQueryAPI(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	writer := srv.Token("metrics:write")
	reader := srv.Token("metrics:read")
	now := time.Now().Truncate(time.Second)

	if r := remoteWrite(t, srv, reader, counterSeries(now, 3)); r.Status != http.StatusForbidden {
		t.Fatalf("write with a read token: %d %s", r.Status, r.Body)
	}
	if r := remoteWrite(t, srv, writer, counterSeries(now, 3)); r.Status != http.StatusNoContent {
		t.Fatalf("remote write: %d %s", r.Status, r.Body)
	}

	q := url.Values{"query": {`sum by (job) (rate(requests_total[5m]))`}, "time": {prom.FormatTime(now)}}
	for _, method := range []string{"GET", "POST"} {
		var r *platformtest.Response
		if method == "GET" {
			r = srv.Do("GET", "/api/v1/query?"+q.Encode(), reader, nil)
		} else {
			r = srv.DoWith("POST", "/api/v1/query", reader, "application/x-www-form-urlencoded", q.Encode())
		}
		p := decodeProm(t, r)
		if r.Status != 200 || p.Status != "success" {
			t.Fatalf("%s query: %d %s", method, r.Status, r.Body)
		}
		var data struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		}
		json.Unmarshal(p.Data, &data)
		if data.ResultType != "vector" || len(data.Result) != 1 || data.Result[0].Metric["job"] != "api" {
			t.Fatalf("%s query result: %s", method, p.Data)
		}
		// rate of k*(i+1) per 15 s, summed over i=0..2: (1+2+3)/15 = 0.4
		if v := data.Result[0].Value[1].(string); v != "0.4" {
			t.Errorf("%s query value %s, want 0.4", method, v)
		}
	}

	rq := url.Values{"query": {`requests_total{instance="b"}`}, "start": {prom.FormatTime(now.Add(-2 * time.Minute))},
		"end": {prom.FormatTime(now)}, "step": {"30s"}}
	r := srv.Do("GET", "/api/v1/query_range?"+rq.Encode(), reader, nil)
	if p := decodeProm(t, r); r.Status != 200 || !strings.Contains(string(p.Data), `"resultType":"matrix"`) {
		t.Fatalf("query_range: %d %s", r.Status, r.Body)
	}

	r = srv.Do("GET", "/api/v1/series?match[]=requests_total&start="+prom.FormatTime(now.Add(-time.Hour)), reader, nil)
	if p := decodeProm(t, r); r.Status != 200 || strings.Count(string(p.Data), `"__name__"`) != 3 {
		t.Fatalf("series: %d %s", r.Status, r.Body)
	}
	r = srv.Do("GET", "/api/v1/labels", reader, nil)
	if p := decodeProm(t, r); string(p.Data) != `["__name__","instance","job"]` {
		t.Fatalf("labels: %d %s", r.Status, r.Body)
	}
	r = srv.Do("GET", "/api/v1/label/instance/values", reader, nil)
	if p := decodeProm(t, r); string(p.Data) != `["a","b","c"]` {
		t.Fatalf("label values: %d %s", r.Status, r.Body)
	}
	r = srv.Do("GET", "/api/v1/metadata", reader, nil)
	if p := decodeProm(t, r); r.Status != 200 || string(p.Data) != `{}` {
		t.Fatalf("metadata: %d %s", r.Status, r.Body)
	}
	r = srv.Do("GET", "/api/v1/status/buildinfo", reader, nil)
	if p := decodeProm(t, r); r.Status != 200 || !strings.Contains(string(p.Data), `"version":"3.0.0","revision":"gaffer-`) {
		t.Fatalf("buildinfo: %d %s", r.Status, r.Body)
	}

	// Errors in Prometheus's shape.
	r = srv.Do("GET", "/api/v1/query?query=sum(", reader, nil)
	if p := decodeProm(t, r); r.Status != 400 || p.Status != "error" || p.ErrorType != "bad_data" || p.Error == "" {
		t.Fatalf("bad query: %d %s", r.Status, r.Body)
	}
	r = srv.Do("GET", "/api/v1/query_range?query=up&start=10&end=5&step=1", reader, nil)
	if p := decodeProm(t, r); r.Status != 400 || p.ErrorType != "bad_data" {
		t.Fatalf("end before start: %d %s", r.Status, r.Body)
	}
	r = srv.Do("GET", "/api/v1/series", reader, nil)
	if p := decodeProm(t, r); r.Status != 400 || !strings.Contains(p.Error, "match[]") {
		t.Fatalf("series without match[]: %d %s", r.Status, r.Body)
	}
	var st struct {
		TSDB        struct{ HeadSeries int } `json:"tsdb"`
		RemoteWrite struct{ Samples int }    `json:"remoteWrite"`
	}
	srv.Do("GET", "/api/v1/metrics/stats", reader, nil).JSON(t, &st)
	if st.TSDB.HeadSeries != 3 || st.RemoteWrite.Samples != 60 {
		t.Errorf("stats: %+v", st)
	}
	// Auth failures come from the platform router, in its shape.
	r = srv.Do("GET", "/api/v1/query?query=up", "", nil)
	if r.Status != 401 || r.ErrorCode() != "unauthenticated" {
		t.Fatalf("no token: %d %s", r.Status, r.Body)
	}
}

func TestRemoteWriteRefusals(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{Args: []string{"--tsdb-max-series-per-metric", "2"}})
	writer := srv.Token("metrics:write")
	now := time.Now()

	// A bad payload names what is wrong.
	r := srv.DoWith("POST", "/api/v1/write", writer, "application/x-protobuf", []byte("not snappy"))
	if r.Status != 400 || !strings.Contains(string(r.Body), "snappy") {
		t.Fatalf("garbage: %d %s", r.Status, r.Body)
	}
	r = srv.DoWith("POST", "/api/v1/write", writer, "application/x-protobuf", snappy.Encode(nil, []byte{0x0a, 0x05, 0x0a}))
	if r.Status != 400 || !strings.Contains(string(r.Body), "timeseries[0]") {
		t.Fatalf("truncated protobuf: %d %s", r.Status, r.Body)
	}

	// Over the per-metric limit: 400 naming the metric, nothing stored.
	over := counterSeries(now, 3)
	over = append([]prom.TimeSeries{{Labels: tsdb.FromStrings("__name__", "other_metric"), Samples: []prom.Sample{{Value: 1, Timestamp: now.UnixMilli()}}}}, over...)
	r = remoteWrite(t, srv, writer, over)
	if r.Status != 400 || r.ErrorCode() != "series_limit" || !strings.Contains(string(r.Body), "requests_total") {
		t.Fatalf("over the limit: %d %s", r.Status, r.Body)
	}
	reader := srv.Token("metrics:read")
	if p := decodeProm(t, srv.Do("GET", "/api/v1/series?match[]={__name__=~\".%2B\"}", reader, nil)); string(p.Data) != "[]" {
		t.Fatalf("a refused batch left series: %s", p.Data)
	}

	// An invalid series: 400 naming metric and tag.
	bad := []prom.TimeSeries{{Labels: tsdb.FromStrings("__name__", "ok_metric", "bad key", "x"), Samples: []prom.Sample{{Value: 1, Timestamp: now.UnixMilli()}}}}
	r = remoteWrite(t, srv, writer, bad)
	if r.Status != 400 || r.ErrorCode() != "invalid_series" || !strings.Contains(string(r.Body), "bad key") {
		t.Fatalf("invalid series: %d %s", r.Status, r.Body)
	}
}

func TestOutOfOrderAndDuplicates(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{Args: []string{"--tsdb-out-of-order-window", "10m"}})
	writer := srv.Token("metrics:write")
	reader := srv.Token("metrics:read")
	now := time.Now().Truncate(time.Second)
	ls := tsdb.FromStrings("__name__", "g")
	at := func(d time.Duration, v float64) prom.Sample {
		return prom.Sample{Value: v, Timestamp: now.Add(d).UnixMilli()}
	}
	write := func(samples ...prom.Sample) *platformtest.Response {
		return remoteWrite(t, srv, writer, []prom.TimeSeries{{Labels: ls, Samples: samples}})
	}
	if r := write(at(-5*time.Minute, 1), at(-4*time.Minute, 2)); r.Status != 204 {
		t.Fatalf("first write: %d %s", r.Status, r.Body)
	}
	// A retry of the same samples is accepted (idempotent).
	if r := write(at(-5*time.Minute, 1), at(-4*time.Minute, 2)); r.Status != 204 {
		t.Fatalf("identical retry: %d %s", r.Status, r.Body)
	}
	// Within the out-of-order window: accepted.
	if r := write(at(-4*time.Minute-30*time.Second, 1.5)); r.Status != 204 {
		t.Fatalf("out of order within the window: %d %s", r.Status, r.Body)
	}
	// Same timestamp, other value: refused alone, the rest stored, 400.
	r := write(at(-4*time.Minute, 99), at(-3*time.Minute, 3))
	if r.Status != 400 || r.ErrorCode() != "samples_refused" || !strings.Contains(string(r.Body), "1 duplicate timestamp") {
		t.Fatalf("duplicate: %d %s", r.Status, r.Body)
	}
	// Older than the window: refused.
	r = write(at(-20*time.Minute, 7))
	if r.Status != 400 || !strings.Contains(string(r.Body), "out of order") {
		t.Fatalf("too far out of order: %d %s", r.Status, r.Body)
	}
	q := url.Values{"query": {"g[10m]"}, "time": {prom.FormatTime(now)}}
	p := decodeProm(t, srv.Do("GET", "/api/v1/query?"+q.Encode(), reader, nil))
	var data struct {
		Result []struct {
			Values [][2]any `json:"values"`
		} `json:"result"`
	}
	json.Unmarshal(p.Data, &data)
	var got []string
	for _, v := range data.Result[0].Values {
		got = append(got, v[1].(string))
	}
	if strings.Join(got, ",") != "1,1.5,2,3" {
		t.Fatalf("stored values %v, want 1,1.5,2,3 (first write wins)", got)
	}
}

func TestGoAPI(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	svc, ok := srv.Deps().Lookup("metrics")
	if !ok {
		t.Fatal("no metrics service")
	}
	api := svc.(interface {
		Append(context.Context, []prom.TimeSeries) (prom.StoreResult, error)
		QueryRange(context.Context, string, time.Time, time.Time, time.Duration) (prom.Result, error)
		Query(context.Context, string, time.Time) (prom.Result, error)
	})
	now := time.Now().Truncate(time.Minute)
	if _, err := api.Append(context.Background(), counterSeries(now, 2)); err != nil {
		t.Fatal(err)
	}
	res, err := api.QueryRange(context.Background(), "requests_total", now.Add(-time.Minute), now, 15*time.Second)
	if err != nil || res.Type != "matrix" || len(res.Series) != 2 || len(res.Series[0].Points) != 5 {
		t.Fatalf("QueryRange: %+v %v", res, err)
	}
	res, err = api.Query(context.Background(), "scalar(sum(requests_total))", now)
	if err != nil || res.Type != "scalar" || math.Abs(res.Series[0].Points[0].V-19*3) > 1e-9 {
		t.Fatalf("Query: %+v %v", res, err)
	}
}
