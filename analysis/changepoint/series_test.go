package changepoint

import (
	"bytes"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// openStore returns a tsdb holding two series of cpu over the last three
// hours at one-minute steps: host a steps from 10 to 20 at shift, host b
// stays at 5. Hand it to the service with useStore.
func openStore(t *testing.T) (db *tsdb.DB, first, shift time.Time) {
	t.Helper()
	o := tsdb.DefaultOptions()
	o.CompactInterval = -1
	o.Logger = slog.New(slog.NewTextHandler(new(bytes.Buffer), nil))
	db, err := tsdb.Open(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Now().Truncate(time.Minute)
	first = now.Add(-170 * time.Minute)
	shift = first.Add(100 * time.Minute)
	app := db.Appender()
	for i := 0; i < 160; i++ {
		ts := first.Add(time.Duration(i) * time.Minute)
		wiggle := 0.1 * math.Sin(float64(i))
		a := 10 + wiggle
		if !ts.Before(shift) {
			a = 20 + wiggle
		}
		for _, s := range []struct {
			host string
			v    float64
		}{{"a", a}, {"b", 5 + wiggle}} {
			ls := tsdb.FromStrings(tsdb.MetricName, "cpu", "host", s.host)
			if _, err := app.Append(0, ls, ts.UnixMilli(), s.v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	return db, first, shift
}

// useStore makes the service read st, a store that only consolidates (q
// is then a series selector).
func useStore(svc *Service, st Consolidator) {
	svc.source = func() (Source, error) { return Source{Store: st}, nil }
}

func TestSeries(t *testing.T) {
	srv, tok, svc := start(t)
	db, first, shift := openStore(t)
	useStore(svc, db)
	q := url.Values{"q": {`cpu{host=~"a|b"}`}, "s": {"now-3h"}, "step": {"1m"}, "jump": {"1"}}
	resp := srv.Do("GET", "/api/v1/changepoint/series?"+q.Encode(), tok, nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	var got SeriesResponse
	resp.JSON(t, &got)
	if len(got.Series) != 2 || got.StepSeconds != 60 {
		t.Fatalf("got %+v", got)
	}
	a, b := got.Series[0], got.Series[1]
	if a.Labels["host"] != "a" || b.Labels["host"] != "b" {
		t.Fatalf("series order: %v, %v", a.Labels, b.Labels)
	}
	if len(a.Values) != 160 || a.Pen == nil || a.Error != "" {
		t.Fatalf("host a: %d points, pen %v, error %q", len(a.Values), a.Pen, a.Error)
	}
	if len(a.ChangePoints) != 1 || !a.ChangePoints[0].Equal(shift) {
		t.Errorf("host a: change points %v, want [%v]", a.ChangePoints, shift)
	}
	if len(a.Segments) != 2 || math.Abs(a.Segments[0].Mean-10) > 0.1 || math.Abs(a.Segments[1].Mean-20) > 0.1 ||
		!a.Segments[0].Start.Equal(first) || a.Segments[0].Points != 100 || a.Segments[1].Points != 60 {
		t.Errorf("host a: segments %+v", a.Segments)
	}
	if len(b.ChangePoints) != 0 || len(b.Segments) != 1 || b.Bkps[0] != 160 {
		t.Errorf("host b: %+v", b)
	}

	// Explicit parameters, and a series too short for them.
	q = url.Values{"q": {`cpu{host="a"}`}, "s": {"now-3h"}, "e": {"s+110m"}, "method": {"binseg"}, "n_bkps": {"1"}}
	resp = srv.Do("GET", "/api/v1/changepoint/series?"+q.Encode(), tok, nil)
	got = SeriesResponse{}
	resp.JSON(t, &got)
	if resp.Status != http.StatusOK || len(got.Series) != 1 || got.Series[0].Pen != nil || len(got.Series[0].ChangePoints) != 1 {
		t.Errorf("binseg: status %d: %s", resp.Status, resp.Body)
	}
	q.Set("n_bkps", "100")
	resp = srv.Do("GET", "/api/v1/changepoint/series?"+q.Encode(), tok, nil)
	got = SeriesResponse{}
	resp.JSON(t, &got)
	if resp.Status != http.StatusOK || !strings.Contains(got.Series[0].Error, "do not fit") {
		t.Errorf("too many bkps: status %d: %s", resp.Status, resp.Body)
	}
	// No match.
	resp = srv.Do("GET", "/api/v1/changepoint/series?q=nothing", tok, nil)
	got = SeriesResponse{}
	resp.JSON(t, &got)
	if resp.Status != http.StatusOK || len(got.Series) != 0 {
		t.Errorf("no match: status %d: %s", resp.Status, resp.Body)
	}
}

func TestSeriesBadQuery(t *testing.T) {
	srv, tok, svc := startRoles(t, Name)
	resp := srv.Do("GET", "/api/v1/changepoint/series?q=cpu", tok, nil)
	if resp.Status != http.StatusServiceUnavailable || !strings.Contains(string(resp.Body), "the metrics system is not running") {
		t.Errorf("without a store: status %d: %s", resp.Status, resp.Body)
	}
	db, _, _ := openStore(t)
	useStore(svc, db)
	for query, want := range map[string]string{
		"":                                   "q: required",
		"q=cpu{host%3D}":                     "q: 1:10: parse error",
		"q=%7Bhost%3D~%22.*%22%7D":           "matches every series",
		"q=cpu&s=yesterday":                  "s: ",
		"q=cpu&s=now&e=now-1h":               "must be before e",
		"q=cpu&s=e-1h&e=s%2B1h":              "refer to each other",
		"q=cpu&step=0.0001":                  "step: must be at least 1ms",
		"q=cpu&step=1s&s=now-30d":            "more than 100000",
		"q=cpu&method=dynp":                  "exactly one of pen, n_bkps and epsilon",
		"q=cpu&jump=x":                       "jump: want an integer",
		"q=cpu&cost=l9":                      "is not a cost of pelt",
		"q=cpu&pen=1&n_bkps=2&method=binseg": "exactly one",
	} {
		resp := srv.Do("GET", "/api/v1/changepoint/series?"+query, tok, nil)
		if resp.Status != http.StatusBadRequest || !strings.Contains(string(resp.Body), want) {
			t.Errorf("%s: status %d %s, want 400 containing %q", query, resp.Status, resp.Body, want)
		}
	}
}
