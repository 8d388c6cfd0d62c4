package alerting_test

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/alerting"
	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/egress"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/telemetry/atlas/stack"
	"github.com/gaffer-sre/gaffer/telemetry/metrics"
	"github.com/gaffer-sre/gaffer/telemetry/prom/promtest"
)

// startMetrics runs a metrics service with set, allowed to reach
// loopback, until the test ends.
func startMetrics(t *testing.T, set *metrics.Settings) *metrics.Service {
	t.Helper()
	pol, err := egress.Parse(platformtest.AllowLoopback)
	if err != nil {
		t.Fatal(err)
	}
	deps := &platform.Deps{Log: slog.New(slog.DiscardHandler), DataDir: t.TempDir(), Egress: pol,
		Settings: map[string]any{metrics.Name: set}}
	svc, err := metrics.New(context.Background(), deps)
	if err != nil {
		t.Fatal(err)
	}
	m := svc.(*metrics.Service)
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Stop(context.Background()) })
	return m
}

// evaluations evaluates rule every minute over the last 30 minutes
// before end and returns the samples, sorted, at each time.
func evaluations(t *testing.T, r *alerting.Rule, q alerting.PromQuerier, end time.Time) [][]alerting.Sample {
	t.Helper()
	var out [][]alerting.Sample
	for at := end.Add(-30 * time.Minute).Truncate(time.Minute); !at.After(end); at = at.Add(time.Minute) {
		ss, err := r.Evaluate(context.Background(), alerting.Data{Prom: q}, at)
		if err != nil {
			t.Fatalf("%s at %s: %v", r.Spec.Name, at, err)
		}
		sort.Slice(ss, func(i, j int) bool { return fmt.Sprint(ss[i].Labels) < fmt.Sprint(ss[j].Labels) })
		out = append(out, ss)
	}
	return out
}

// TestRemoteQueryAlertsLikeTheEmbeddedStore: alert rules evaluated
// against Prometheus 3 through --metrics-query-url (and against the
// store merged with it, --metrics-query-mode both) give the same alerts,
// values included, as against the embedded store holding the same data.
func TestRemoteQueryAlertsLikeTheEmbeddedStore(t *testing.T) {
	p := platformtest.StartPrometheus3(t)
	url := p.URL

	set := metrics.DefaultSettings()
	set.RemoteWrite.URLs = []string{url + "/api/v1/write"}
	embedded := startMetrics(t, set)
	set = metrics.DefaultSettings()
	set.Query.URL = url
	remote := startMetrics(t, set)
	set = metrics.DefaultSettings()
	set.Query.URL, set.Query.Mode = url, metrics.QueryModeBoth
	both := startMetrics(t, set)

	end := time.Now().Truncate(time.Minute)
	for _, batch := range promtest.AlertData(end) {
		for _, m := range []*metrics.Service{embedded, both} {
			if res, err := m.Append(context.Background(), batch); err != nil || res.Refused > 0 {
				t.Fatalf("append: %+v, %v", res, err)
			}
		}
	}
	platformtest.Eventually(t, "the samples at Prometheus", func() bool {
		st := embedded.RemoteWriteStats()
		return st[0].Pending == 0 && st[0].Sent > 0
	})
	if st := embedded.RemoteWriteStats()[0]; st.Failed+st.Dropped > 0 {
		t.Fatalf("remote write lost samples: %+v", st)
	}

	specs := []alerting.Spec{
		{Name: "HighErrorRate", PromQL: `rate(rq_requests_total{code="500"}[5m]) > 1`},
		{Name: "SlowJob", PromQL: `avg by (job) (avg_over_time(rq_latency_seconds[10m])) > 0.35`},
		{Name: "ErrorsByJob", PromQL: `sum by (job) (rate(rq_requests_total[5m]))`,
			Condition: &alerting.Condition{Threshold: &alerting.Threshold{Op: ">", Value: 2}}},
	}
	for _, spec := range specs {
		spec.Interval = alerting.Duration(time.Minute)
		r, err := alerting.Compile(spec)
		if err != nil {
			t.Fatalf("%s: %v", spec.Name, err)
		}
		want := evaluations(t, r, embedded, end)
		active, inactive := 0, 0
		for _, ss := range want {
			for _, s := range ss {
				if s.Active {
					active++
				} else {
					inactive++
				}
			}
		}
		if active == 0 {
			t.Fatalf("%s never fires on the embedded store: the data does not test it", spec.Name)
		}
		for name, q := range map[string]*metrics.Service{"remote": remote, "both": both} {
			if got := evaluations(t, r, q, end); !reflect.DeepEqual(got, want) {
				t.Errorf("%s through %s differs from the embedded store:\n got  %v\n want %v", spec.Name, name, got, want)
			}
		}
		t.Logf("%s: %d active and %d inactive samples over 31 evaluations, the same through the remote", spec.Name, active, inactive)
	}

	// Atlas-language rules read the remote as graphs do.
	atlasSpecs := []alerting.Spec{
		{Name: "AtlasSlowJob", Atlas: "name,rq_latency_seconds,:eq,(,job,),:by",
			Condition: &alerting.Condition{Threshold: &alerting.Threshold{Op: ">", Value: 0.35}}},
		{Name: "AtlasRequests", Atlas: "name,rq_requests_total,:eq,:sum",
			Condition: &alerting.Condition{Threshold: &alerting.Threshold{Op: ">", Value: 5000}}},
	}
	sources := map[string]alerting.Data{
		"embedded": {Atlas: stack.TSDBSource{DB: embedded.DB()}},
		"remote":   {Atlas: stack.QueryableSource{Q: remote.Queryable()}},
		"both":     {Atlas: stack.QueryableSource{Q: both.Queryable()}},
	}
	for _, spec := range atlasSpecs {
		spec.Interval = alerting.Duration(time.Minute)
		r, err := alerting.Compile(spec)
		if err != nil {
			t.Fatalf("%s: %v", spec.Name, err)
		}
		got := map[string][][]alerting.Sample{}
		for name, d := range sources {
			for at := end.Add(-30 * time.Minute).Truncate(time.Minute); !at.After(end); at = at.Add(time.Minute) {
				ss, err := r.Evaluate(context.Background(), d, at)
				if err != nil {
					t.Fatalf("%s through %s at %s: %v", spec.Name, name, at, err)
				}
				sort.Slice(ss, func(i, j int) bool { return fmt.Sprint(ss[i].Labels) < fmt.Sprint(ss[j].Labels) })
				got[name] = append(got[name], ss)
			}
		}
		active := 0
		for _, ss := range got["embedded"] {
			for _, s := range ss {
				if s.Active {
					active++
				}
			}
		}
		if active == 0 {
			t.Fatalf("%s never fires on the embedded store: the data does not test it", spec.Name)
		}
		for _, name := range []string{"remote", "both"} {
			if !reflect.DeepEqual(got[name], got["embedded"]) {
				t.Errorf("%s through %s differs from the embedded store:\n got  %v\n want %v", spec.Name, name, got[name], got["embedded"])
			}
		}
	}
}
