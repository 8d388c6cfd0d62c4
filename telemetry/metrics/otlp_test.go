package metrics_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
)

// otlpMetrics is one resource with a gauge, a counter, an up-down
// counter, a histogram and a summary, points every 60 s over 10 minutes
// ending at end, and with withExp an exponential histogram (which Gaffer
// refuses: it stores no native histograms).
func otlpMetrics(end time.Time, withExp bool) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	ra := rm.Resource().Attributes()
	ra.PutStr("service.name", "checkout")
	ra.PutStr("service.namespace", "shop")
	ra.PutStr("service.instance.id", "pod-7")
	ra.PutStr("host.name", "node-3")
	ra.PutStr("deployment.environment", "prod")
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()

	g := ms.AppendEmpty()
	g.SetName("otlp.memory.used")
	g.SetUnit("By")
	c := ms.AppendEmpty()
	c.SetName("otlp.http.server.requests")
	c.SetUnit("{request}")
	c.SetEmptySum().SetIsMonotonic(true)
	c.Sum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	u := ms.AppendEmpty()
	u.SetName("otlp.queue.depth")
	u.SetEmptySum().SetIsMonotonic(false)
	u.Sum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	h := ms.AppendEmpty()
	h.SetName("otlp.http.server.duration")
	h.SetUnit("s")
	h.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	s := ms.AppendEmpty()
	s.SetName("otlp.rpc.latency")
	s.SetUnit("ms")
	s.SetEmptySummary()
	gauges := g.SetEmptyGauge().DataPoints()
	for k := 0; k <= 10; k++ {
		ts := pcommon.NewTimestampFromTime(end.Add(time.Duration(k-10) * time.Minute))
		gp := gauges.AppendEmpty()
		gp.SetTimestamp(ts)
		gp.SetDoubleValue(1e6 + float64(k)*512.5)
		for _, method := range []string{"GET", "POST"} {
			cp := c.Sum().DataPoints().AppendEmpty()
			cp.SetTimestamp(ts)
			cp.SetIntValue(int64(k * len(method) * 7))
			cp.Attributes().PutStr("http.request.method", method)
			cp.Attributes().PutInt("http.response.status_code", 200)
		}
		up := u.Sum().DataPoints().AppendEmpty()
		up.SetTimestamp(ts)
		up.SetIntValue(int64(k%4) - 1)
		hp := h.Histogram().DataPoints().AppendEmpty()
		hp.SetTimestamp(ts)
		hp.SetCount(uint64(10 * k))
		hp.SetSum(0.37 * float64(k))
		hp.ExplicitBounds().FromRaw([]float64{0.005, 0.1, 1})
		hp.BucketCounts().FromRaw([]uint64{uint64(k), uint64(5 * k), uint64(3 * k), uint64(k)})
		sp := s.Summary().DataPoints().AppendEmpty()
		sp.SetTimestamp(ts)
		sp.SetCount(uint64(4 * k))
		sp.SetSum(12.5 * float64(k))
		q := sp.QuantileValues().AppendEmpty()
		q.SetQuantile(0.99)
		q.SetValue(30 + float64(k))
	}
	if withExp {
		e := ms.AppendEmpty()
		e.SetName("otlp.exp")
		e.SetEmptyExponentialHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		ep := e.ExponentialHistogram().DataPoints().AppendEmpty()
		ep.SetTimestamp(pcommon.NewTimestampFromTime(end))
		ep.SetCount(1)
	}
	return md
}

// otlpSeries returns every raw sample of the series an OTLP test writes,
// by series, over the 20 minutes before at.
func otlpSeries(t *testing.T, c *prom.Client, at time.Time) map[string][]prom.Point {
	t.Helper()
	res, err := c.Query(context.Background(), `{__name__=~"otlp_.*|target_info"}[20m]`, at)
	if err != nil {
		t.Fatalf("query %s: %v", c.URL, err)
	}
	out := map[string][]prom.Point{}
	for _, s := range res.Series {
		out[s.Labels.String()] = s.Points
	}
	return out
}

func postOTLP(t *testing.T, url, token, contentType string, body []byte, gz bool) *http.Response {
	t.Helper()
	if gz {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(body)
		zw.Close()
		body = b.Bytes()
	}
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestOTLPNamesLikePrometheus3: the same OTLP request, sent to Gaffer's
// /v1/metrics and to Prometheus 3's OTLP receiver, leaves the same series
// with the same samples in both (names with unit and _total suffixes,
// escaped attribute names, job and instance from the resource,
// target_info); protobuf, JSON and gzip are accepted.
func TestOTLPNamesLikePrometheus3(t *testing.T) {
	p := platformtest.StartPrometheus3(t)
	srv := platformtest.Start(t, platformtest.Options{Roles: []string{"metrics"}})
	end := time.Now().Truncate(time.Second)
	req := pmetricotlp.NewExportRequestFromMetrics(otlpMetrics(end, false))
	pb, err := req.MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	js, _ := req.MarshalJSON()

	resp := postOTLP(t, "http://"+p.Addr+"/api/v1/otlp/v1/metrics", "", "application/x-protobuf", pb, false)
	var pbody bytes.Buffer
	pbody.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("prometheus OTLP: %s %s", resp.Status, pbody.Bytes())
	}
	tok := srv.Token("metrics:write")
	for _, tc := range []struct {
		ct   string
		body []byte
		gz   bool
	}{{"application/x-protobuf", pb, false}, {"application/json", js, true}} {
		resp := postOTLP(t, srv.URL+"/v1/metrics", tok, tc.ct, tc.body, tc.gz)
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("gaffer OTLP %s: %s %s", tc.ct, resp.Status, b.Bytes())
		}
		out := pmetricotlp.NewExportResponse()
		if tc.ct == "application/json" {
			err = out.UnmarshalJSON(b.Bytes())
		} else {
			err = out.UnmarshalProto(b.Bytes())
		}
		if err != nil || out.PartialSuccess().RejectedDataPoints() != 0 {
			t.Fatalf("gaffer OTLP %s: response %s (%v); want a full success", tc.ct, b.Bytes(), err)
		}
	}
	if r := postOTLP(t, srv.URL+"/v1/metrics", srv.Token("metrics:read"), "application/x-protobuf", pb, false); r.StatusCode != http.StatusForbidden {
		t.Fatalf("OTLP with a metrics:read token: %s, want 403", r.Status)
	}

	want := otlpSeries(t, &prom.Client{URL: p.URL}, end)
	got := otlpSeries(t, &prom.Client{URL: srv.URL, Token: srv.Token("metrics:read")}, end)
	if len(want) < 10 {
		t.Fatalf("Prometheus holds only %d series: %v", len(want), want)
	}
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("Gaffer lacks %s", k)
		} else if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: Gaffer %v, Prometheus %v", k, g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("Gaffer has %s, Prometheus not", k)
		}
	}
	t.Logf("%d series alike", len(want))
}

// TestOTLPIngest: OTLP metrics are stored under Prometheus 3's names with
// job and instance from the resource; a bad body or content type is a
// clear 4xx.
func TestOTLPIngest(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{Roles: []string{"metrics"}})
	end := time.Now().Truncate(time.Second)
	pb, _ := pmetricotlp.NewExportRequestFromMetrics(otlpMetrics(end, true)).MarshalProto()
	tok := srv.Token("metrics:write")
	r := postOTLP(t, srv.URL+"/v1/metrics", tok, "application/x-protobuf", pb, false)
	var body bytes.Buffer
	body.ReadFrom(r.Body)
	r.Body.Close()
	out := pmetricotlp.NewExportResponse()
	if r.StatusCode != http.StatusOK || out.UnmarshalProto(body.Bytes()) != nil || out.PartialSuccess().RejectedDataPoints() != 1 ||
		!strings.Contains(out.PartialSuccess().ErrorMessage(), "otlp.exp") {
		t.Fatalf("OTLP: %s, %s; want 200 with a partial success naming the exponential histogram", r.Status, body.Bytes())
	}
	got := otlpSeries(t, &prom.Client{URL: srv.URL, Token: srv.Token("metrics:read")}, end)
	names := map[string]bool{}
	for k := range got {
		names[k[:bytes.IndexByte([]byte(k), '{')]] = true
	}
	for _, n := range []string{"otlp_memory_used_bytes", "otlp_http_server_requests_total", "otlp_queue_depth",
		"otlp_http_server_duration_seconds_bucket", "otlp_http_server_duration_seconds_sum", "otlp_http_server_duration_seconds_count",
		"otlp_rpc_latency_milliseconds", "otlp_rpc_latency_milliseconds_sum", "otlp_rpc_latency_milliseconds_count", "target_info"} {
		if !names[n] {
			t.Errorf("no series named %s; have %v", n, names)
		}
	}
	k := `otlp_http_server_requests_total{http_request_method="GET", http_response_status_code="200", instance="pod-7", job="shop/checkout"}`
	if pts := got[k]; len(pts) != 11 || pts[10].V != 10*3*7 {
		t.Errorf("%s = %v, want 11 points ending at 210", k, pts)
	}
	for _, tc := range []struct {
		ct, body string
		want     int
	}{
		{"text/plain", "x", http.StatusUnsupportedMediaType},
		{"application/x-protobuf", "\xff\xff\xff", http.StatusBadRequest},
		{"application/json", "{", http.StatusBadRequest},
	} {
		if r := postOTLP(t, srv.URL+"/v1/metrics", tok, tc.ct, []byte(tc.body), false); r.StatusCode != tc.want {
			t.Errorf("%s %q: %s, want %d", tc.ct, tc.body, r.Status, tc.want)
		}
	}
}
