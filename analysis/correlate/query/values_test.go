package query

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// sparse answers every range query with n series of one point each: few
// samples for PromQL's limit, but n × grid points once on the grid.
type sparse struct{ n int }

func (s sparse) Query(context.Context, string, time.Time) (prom.Result, error) {
	return prom.Result{}, nil
}

func (s sparse) QueryRange(_ context.Context, _ string, start, _ time.Time, _ time.Duration) (prom.Result, error) {
	res := prom.Result{Type: "matrix", Series: make([]prom.Series, s.n)}
	for i := range res.Series {
		res.Series[i] = prom.Series{Labels: tsdb.FromStrings("__name__", "x", "i", fmt.Sprint(i)),
			Points: []prom.Point{{T: start.UnixMilli(), V: 1}}}
	}
	return res, nil
}

// TestFetchBoundsSeriesTimesPoints is issue #15 item 3 for correlation: a
// query of many sparse series over a long grid is refused before the grid
// is allocated.
func TestFetchBoundsSeriesTimesPoints(t *testing.T) {
	g := Grid{Start: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), Step: time.Minute, N: 20_000}
	src := Source{Prom: sparse{n: 20_000}, MaxValues: 1_000_000}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := src.Fetch(context.Background(), PromQL, "x", g, false)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "20000 series × 20000 points = 400000000 values, more than 1000000 (limit: --analysis-max-values)") {
		t.Fatalf("Fetch = %v, want the values limit", err)
	}
	// The fake's answer is a few MB; the grid would have been 3.2 GB.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Fatalf("Fetch allocated %d bytes before refusing", grew)
	}
	src.Prom = sparse{n: 50}
	out, err := src.Fetch(context.Background(), PromQL, "x", g, false)
	if err != nil || len(out) != 50 || len(out[0].Values) != g.N {
		t.Fatalf("50 series: %d, %v", len(out), err)
	}
}
