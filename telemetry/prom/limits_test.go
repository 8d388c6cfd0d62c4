package prom

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// TestHugeSubqueryRefusedBeforeAllocating is issue #15 item 3: one
// query with metrics:read took a server past 6 GB. It is refused by the
// subquery limit, through the HTTP API, having allocated next to nothing.
func TestHugeSubqueryRefusedBeforeAllocating(t *testing.T) {
	o := tsdb.DefaultOptions()
	o.CompactInterval = -1
	db, err := tsdb.Open(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lim := DefaultLimits()
	a := &API{Queryable: Queryable{DB: db}, Limiter: NewLimiter(lim), Now: func() time.Time { return t0 },
		Engine: promql.NewEngine(promql.EngineOpts{MaxSamples: 5_000_000, Timeout: time.Minute,
			NoStepSubqueryIntervalFn: func(int64) int64 { return lim.SubqueryStep.Milliseconds() }})}
	form := url.Values{"query": {"sum_over_time(vector(1)[10y:1s])"}}
	do := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/api/v1/query?"+form.Encode(), nil)
		w := httptest.NewRecorder()
		a.query(w, r)
		return w
	}
	do() // warm up the parser's pools
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	w := do()
	runtime.ReadMemStats(&after)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "would evaluate 315360000 steps") ||
		!strings.Contains(w.Body.String(), "--metrics-query-max-subquery-steps") {
		t.Fatalf("answer %d %s, want 400 naming the subquery limit", w.Code, w.Body)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("refusing the query allocated %d bytes, want < 1 MiB", grew)
	}
	// A subquery within the limit runs.
	form.Set("query", "sum_over_time(vector(1)[1d:1m])")
	if w := do(); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"1440"`) {
		t.Fatalf("a day at one minute: %d %s", w.Code, w.Body)
	}
}

func TestSubqueryStepsCountTheWholeWindow(t *testing.T) {
	l := NewLimiter(Limits{MaxConcurrent: 1, QueueTimeout: time.Second, MaxSubquerySteps: 1000, SubqueryStep: time.Minute})
	for _, c := range []struct {
		query      string
		start, end time.Time
		refused    bool
	}{
		{"max_over_time(x[16h:1m])", t0, t0, false},                          // 960
		{"max_over_time(x[17h:1m])", t0, t0, true},                           // 1020
		{"max_over_time(x[17h])", t0, t0, false},                             // a range, not a subquery
		{"max_over_time(x[16h])[2h:]", t0, t0, false},                        // 120 at the default step
		{"max_over_time(max_over_time(x[1m])[10h:1m])[7h:1m]", t0, t0, true}, // inner: 17h
		{"max_over_time(x[10h:1m])", t0, t0.Add(6 * time.Hour), false},       // 960
		{"max_over_time(x[10h:1m])", t0, t0.Add(7 * time.Hour), true},        // 1020
		{"rate(x[5m]) > 0 and on() max_over_time(x[1d:10s])", t0, t0, true},  // 8640
		{"this is not PromQL", t0, t0, false},                                // the engine says why
	} {
		release, err := l.Admit(context.Background(), c.query, c.start, c.end)
		var le *LimitError
		if c.refused != errors.As(err, &le) {
			t.Errorf("%s over %v: %v, refused want %v", c.query, c.end.Sub(c.start), err, c.refused)
		}
		if err == nil {
			release()
		} else if c.refused && le.Limit != "metrics-query-max-subquery-steps" {
			t.Errorf("%s: %+v, want the subquery limit", c.query, le)
		}
	}
}

func TestConcurrentQueriesQueueThenFail(t *testing.T) {
	l := NewLimiter(Limits{MaxConcurrent: 1, QueueTimeout: 20 * time.Millisecond, MaxSubquerySteps: 1000, SubqueryStep: time.Minute})
	release, err := l.Admit(context.Background(), "up", t0, t0)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	// The only slot is held: the next query waits out the queue timeout,
	// and the API answers 503 naming both settings.
	_, err = l.Admit(context.Background(), "up", t0, t0)
	ae := limitError(err)
	if ae.typ != ErrUnavailable || ae.status() != http.StatusServiceUnavailable ||
		!strings.Contains(err.Error(), "--metrics-query-max-concurrency, --metrics-query-queue-timeout") {
		t.Fatalf("second query: %v (%s)", err, ae.typ)
	}
}

func TestLimitsValidate(t *testing.T) {
	if err := DefaultLimits().Validate(); err != nil {
		t.Fatal(err)
	}
	l := DefaultLimits()
	l.MaxConcurrent = 0
	if err := l.Validate(); err == nil || !strings.Contains(err.Error(), "metrics-query-max-concurrency: must be positive") {
		t.Fatalf("Validate: %v", err)
	}
}
