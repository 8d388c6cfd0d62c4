package correlate_test

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/analysis/correlate"
	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
	jobsqueue "github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/telemetry/metrics"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// noise is a deterministic value in [-1, 1) for (i, m).
func noise(i, m int) float64 {
	z := uint64(i)*0x9e3779b97f4a7c15 ^ uint64(m)*0xbf58476d1ce4e5b9
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return float64((z^(z>>31))>>11)/(1<<52) - 1
}

// incident writes, one sample a minute for the 400 minutes ending at
// end: latency{svc="checkout"} stepping up at minute 300, and 40
// candidates cpu{host="h<i>"} of which h3, h7, h11, h19 and h23 step
// within three minutes of it.
func incident(t *testing.T, srv *platformtest.Server, end time.Time) (related map[string]bool) {
	t.Helper()
	svc, _ := srv.Deps().Lookup("metrics")
	db := svc.(*metrics.Service).DB()
	start := end.Add(-399 * time.Minute)
	related = map[string]bool{"h3": true, "h7": true, "h11": true, "h19": true, "h23": true}
	lag := map[string]int{"h3": -3, "h7": 0, "h11": 2, "h19": 1, "h23": -1}
	app := db.Appender()
	for m := range 400 {
		ts := start.Add(time.Duration(m) * time.Minute).UnixMilli()
		v := 100 + 3*noise(999, m)
		if m >= 300 {
			v += 40
		}
		if _, err := app.Append(0, tsdb.FromStrings("__name__", "latency", "svc", "checkout"), ts, v); err != nil {
			t.Fatal(err)
		}
		for i := range 40 {
			host := fmt.Sprintf("h%d", i)
			c := 50 + 10*math.Sin(float64(m+i*37)/60) + 2*noise(i, m)
			if related[host] && m >= 300+lag[host] {
				c += 20
			}
			if _, err := app.Append(0, tsdb.FromStrings("__name__", "cpu", "host", host), ts, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	return related
}

func request(end time.Time, mode string) map[string]any {
	return map[string]any{
		"target":     map[string]any{"query": `latency{svc="checkout"}`},
		"candidates": map[string]any{"query": `cpu`},
		"start":      end.Add(-100 * time.Minute), "end": end, "lookback": "5h",
		"shard_size": 7, "mode": mode, "top": 10,
	}
}

func TestCorrelateOverTheAPI(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, backend platformtest.Backend) {
		end := clocktest.Base.Truncate(time.Minute).Add(-time.Minute)
		srv := platformtest.Start(t, platformtest.Options{Backend: backend, Now: clocktest.Fixed(end.Add(time.Minute))})
		related := incident(t, srv, end)
		tok := srv.Token(correlate.WriteScope)

		var jobs correlate.Report
		resp := srv.Do("POST", "/api/v1/analysis/correlate?wait=60", tok, request(end, "jobs"))
		if resp.Status != http.StatusOK {
			t.Fatalf("correlate: %d %s", resp.Status, resp.Body)
		}
		resp.JSON(t, &jobs)
		if jobs.Status != correlate.StatusComplete || jobs.Shards != 6 || jobs.ShardsDone != 6 || jobs.Candidates != 40 {
			t.Fatalf("report %s: status %s, shards %d/%d, candidates %d (%s)", jobs.ID, jobs.Status, jobs.ShardsDone, jobs.Shards, jobs.Candidates, jobs.Error)
		}
		sum := jobs.Summary
		for _, r := range sum.Results[:5] {
			if !related[r.Labels["host"]] {
				t.Errorf("rank %d is %s (score %.2f), not a related host; ranking %v", r.Rank, r.Labels["host"], r.Score, hosts(sum.Results))
			}
			if r.Explanation.Summary == "" || len(r.Values) != len(sum.Times) {
				t.Errorf("rank %d: explanation %q, %d values for %d times", r.Rank, r.Explanation.Summary, len(r.Values), len(sum.Times))
			}
		}
		if fm := sum.FirstMover; fm == nil || fm.Labels["host"] != "h3" || !strings.HasPrefix(fm.Lead, "3m") {
			t.Errorf("first mover %+v, want h3, 3m before", fm)
		}
		if want := end.Add(-99 * time.Minute); !sum.Target.Onset.Equal(want) {
			t.Errorf("onset %s, want %s", sum.Target.Onset, want)
		}
		if len(sum.Workers) != 1 {
			t.Errorf("workers %v", sum.Workers)
		}

		// The same analysis in one process ranks the same.
		var local correlate.Report
		srv.Do("POST", "/api/v1/analysis/correlate?wait=60", tok, request(end, "local")).JSON(t, &local)
		a, b := ranking(t, srv, tok, jobs.ID), ranking(t, srv, tok, local.ID)
		if len(a) != 40 || strings.Join(a, " ") != strings.Join(b, " ") {
			t.Errorf("rankings differ:\njobs  %v\nlocal %v", a, b)
		}

		// A shard job run again after the report is complete (as
		// when its worker recorded the shard but died before the job
		// was marked done) completes without redoing the shard.
		again, err := srv.Deps().Jobs.Enqueue(t.Context(), correlate.ShardJob, map[string]any{"report_id": jobs.ID, "shard": 0}, nil)
		if err != nil {
			t.Fatal(err)
		}
		platformtest.Eventually(t, "the repeated shard job to finish", func() bool {
			in, err := srv.Deps().Jobs.Get(t.Context(), again.ID)
			return err == nil && in.FinalizedAt != nil
		})
		if in, _ := srv.Deps().Jobs.Get(t.Context(), again.ID); in.State != jobsqueue.StateCompleted {
			t.Errorf("repeated shard job: %s %+v", in.State, in.Errors)
		}
		if c := ranking(t, srv, tok, jobs.ID); strings.Join(a, " ") != strings.Join(c, " ") {
			t.Errorf("ranking changed after the repeated shard:\nbefore %v\nafter  %v", a, c)
		}

		// The report's page.
		page := srv.Do("GET", "/analysis/reports/"+jobs.ID, tok, nil)
		for _, want := range []string{"Related signals", "data-report-spark", `id="first-mover"`, "h3", "before the target"} {
			if page.Status != 200 || !strings.Contains(string(page.Body), want) {
				t.Errorf("report page: %d, lacks %q", page.Status, want)
			}
		}
		if list := srv.Do("GET", "/analysis", tok, nil); list.Status != 200 || !strings.Contains(string(list.Body), jobs.ID) {
			t.Errorf("reports page: %d", list.Status)
		}

		// Listing, by anyone who may read.
		var list struct {
			Items []correlate.Report `json:"items"`
		}
		srv.Do("GET", "/api/v1/analysis/reports", srv.Token(correlate.ReadScope), nil).JSON(t, &list)
		if len(list.Items) != 2 || list.Items[0].Summary != nil {
			t.Errorf("list: %+v", list.Items)
		}
	})
}

func hosts(rs []correlate.Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Labels["host"])
	}
	return out
}

func ranking(t *testing.T, srv *platformtest.Server, tok, id string) []string {
	t.Helper()
	var rs []correlate.Ranked
	resp := srv.Do("GET", "/api/v1/analysis/reports/"+id+"/ranking", tok, nil)
	if resp.Status != 200 {
		t.Fatalf("ranking: %d %s", resp.Status, resp.Body)
	}
	resp.JSON(t, &rs)
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = fmt.Sprintf("%s:%.6f", r.Labels["host"], r.Score)
	}
	return out
}

func TestBadRequests(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.Token(correlate.WriteScope)
	end := time.Now().Truncate(time.Minute)
	for want, body := range map[string]map[string]any{
		"target.query: 1:6: parse error": {"target": map[string]any{"query": "rate("}, "candidates": map[string]any{"query": "up"},
			"start": end.Add(-time.Hour), "end": end},
		"(position": {"target": map[string]any{"query": "up"}, "candidates": map[string]any{"query": "a,:nope", "engine": "atlas"},
			"start": end.Add(-time.Hour), "end": end},
		"in the future": {"target": map[string]any{"query": "up"}, "candidates": map[string]any{"query": "up"},
			"start": end, "end": end.Add(time.Hour)},
		"mode": {"target": map[string]any{"query": "up"}, "candidates": map[string]any{"query": "up"},
			"start": end.Add(-time.Hour), "end": end, "mode": "fast"},
	} {
		resp := srv.Do("POST", "/api/v1/analysis/correlate", tok, body)
		if resp.Status != 400 || !strings.Contains(string(resp.Body), want) {
			t.Errorf("want 400 with %q, got %d %s", want, resp.Status, resp.Body)
		}
	}
	// A target that is not there fails the report, with the reason.
	var rep correlate.Report
	srv.Do("POST", "/api/v1/analysis/correlate?wait=30", tok, map[string]any{"target": map[string]any{"query": "nothing_here"},
		"candidates": map[string]any{"query": "up"}, "start": end.Add(-time.Hour), "end": end}).JSON(t, &rep)
	if rep.Status != correlate.StatusFailed || !strings.Contains(rep.Error, "no series") {
		t.Errorf("report %+v", rep)
	}
	if resp := srv.Do("GET", "/api/v1/analysis/reports/nope", tok, nil); resp.Status != 404 {
		t.Errorf("unknown report: %d", resp.Status)
	}
}
