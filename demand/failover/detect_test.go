package failover_test

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover"
	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

type appender interface {
	Append(ctx context.Context, series []prom.TimeSeries) (prom.StoreResult, error)
}

// writeStarts stores a daily cycle of stream starts per region every
// minute from `from` to `to`; drop(region, t) scales a sample.
func writeStarts(t *testing.T, srv *platformtest.Server, from, to time.Time, drop func(string, time.Time) float64) {
	t.Helper()
	m, _ := srv.Deps().Lookup("metrics")
	for start := from; start.Before(to); start = start.Add(6 * time.Hour) {
		var batch []prom.TimeSeries
		for i, r := range []string{"us-east-1", "us-west-2", "eu-west-1"} {
			ts := prom.TimeSeries{Labels: tsdb.FromStrings(tsdb.MetricName, "starts", "region", r)}
			for at := start; at.Before(to) && at.Before(start.Add(6*time.Hour)); at = at.Add(time.Minute) {
				h := float64(at.Unix()%86400) / 3600
				v := 1000 * (1 + 0.3*math.Sin(2*math.Pi*(h-float64(i*6))/24)) * (1 + 0.02*math.Sin(float64(at.Unix()/60)))
				ts.Samples = append(ts.Samples, prom.Sample{Timestamp: at.UnixMilli(), Value: v * drop(r, at)})
			}
			batch = append(batch, ts)
		}
		res, err := m.(appender).Append(context.Background(), batch)
		if err != nil || res.Refused > 0 {
			t.Fatalf("append: %v %v", err, res.Err())
		}
	}
}

// TestDetection: us-west-2 loses 70% of its stream starts ten minutes
// before the check; the check recommends evacuating it, with the onset
// and both baselines as evidence, once per cooldown.
func TestDetection(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, backend platformtest.Backend) {
		now := clocktest.Base.Truncate(time.Minute)
		srv, svc := start(t, platformtest.Options{Backend: backend, Now: clocktest.Fixed(now)})
		onset := now.Add(-10 * time.Minute)
		writeStarts(t, srv, now.Add(-8*24*time.Hour), now.Add(time.Minute), func(r string, at time.Time) float64 {
			if r == "us-west-2" && !at.Before(onset) {
				return 0.3
			}
			return 1
		})
		f := testFleet(t)
		f.Demand = fleet.Demand{RegionMetric: "sum by (region) (starts)"}
		putFleet(t, srv, f)
		// An events rule turns recommendations into incidents (it could as
		// well page, or start a runbook).
		call(t, srv, "POST", "/api/v1/events/rules", map[string]any{"name": "failover incidents",
			"condition": `type == "gaffer.failover.recommended"`,
			"actions": []map[string]any{{"type": "publish", "event_type": "gaffer.incident.opened", "subject": "data.region",
				"data": `{"region": data.region, "onset": data.evidence.change_point.onset}`}}}, http.StatusCreated, nil)
		var ev []failover.Evidence
		call(t, srv, "POST", "/api/v1/failover/fleets/streaming/detect", failover.DetectRequest{At: now, Record: true}, 200, &ev)
		for _, e := range ev {
			t.Logf("%s: %s", e.Region, e.Reason)
			if e.Region != "us-west-2" {
				if e.Recommend || e.Dropped {
					t.Errorf("%s recommended: %+v", e.Region, e)
				}
				continue
			}
			if !e.Recommend || e.ChangePoint == nil || e.Yesterday == nil || e.LastWeek == nil || e.Recommendation == "" {
				t.Fatalf("us-west-2 not recommended: %+v", e)
			}
			if d := e.ChangePoint.Onset.Sub(onset); d < -2*time.Minute || d > 2*time.Minute {
				t.Errorf("onset %v, the drop began at %v", e.ChangePoint.Onset, onset)
			}
			if *e.RatioYesterday > 0.35 || *e.RatioLastWeek > 0.35 {
				t.Errorf("ratios %v %v", *e.RatioYesterday, *e.RatioLastWeek)
			}
		}
		// Again within the cooldown: the same recommendation, no new one.
		call(t, srv, "POST", "/api/v1/failover/fleets/streaming/detect", failover.DetectRequest{At: now.Add(time.Minute), Record: true}, 200, &ev)
		var page struct{ Items []failover.Recommendation }
		call(t, srv, "GET", "/api/v1/failover/recommendations", nil, 200, &page)
		if len(page.Items) != 1 || page.Items[0].Region != "us-west-2" {
			t.Fatalf("recommendations: %+v", page.Items)
		}
		n := 0
		for _, e := range events(t, srv) {
			if e.Type == failover.EventRecommended {
				n++
				if e.Subject != "us-west-2" {
					t.Errorf("event subject %q", e.Subject)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d recommended events, want 1", n)
		}
		platformtest.Eventually(t, "the rule's incident", func() bool {
			msg, err := srv.Deps().Bus.Stream.GetLastMsgForSubject(context.Background(), "gaffer.incident.opened")
			return err == nil && strings.Contains(string(msg.Data), `"subject":"us-west-2"`)
		})
		// An hour before the drop, nothing is wrong.
		evs, err := svc.Detect(context.Background(), "streaming", onset.Add(-time.Hour), false)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Recommend || e.Dropped {
				t.Errorf("before the drop: %+v", e)
			}
		}
		// A fleet without a metric cannot be checked.
		g := testFleet(t)
		g.Name, g.Demand = "quiet", fleet.Demand{}
		putFleet(t, srv, g)
		if resp := srv.Do("POST", "/api/v1/failover/fleets/quiet/detect", srv.AdminToken, nil); resp.Status != http.StatusBadRequest {
			t.Errorf("detect without a metric: %d %s", resp.Status, resp.Body)
		}
	})
}
