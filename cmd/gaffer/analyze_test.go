package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/analysis/correlate"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// incidentFile writes 400 minutes of samples ending a minute ago, in
// Prometheus text: latency{svc="checkout"} stepping up at minute 300, and
// cpu{host} of 200 hosts, of which every 25th steps within four minutes of
// it (h0 first, four minutes early). It returns the file and the step's
// time.
func incidentFile(t *testing.T) (string, time.Time) {
	t.Helper()
	end := time.Now().Truncate(time.Minute).Add(-time.Minute)
	start := end.Add(-399 * time.Minute)
	var b strings.Builder
	for m := range 400 {
		ts := start.Add(time.Duration(m) * time.Minute).UnixMilli()
		v := 100 + 3*math.Sin(float64(m)*1.7)
		if m >= 300 {
			v += 40
		}
		fmt.Fprintf(&b, "latency{svc=\"checkout\"} %g %d\n", v, ts)
		for h := range 200 {
			c := 50 + 10*math.Sin(float64(m+h*37)/60) + 2*math.Sin(float64(m*h+h)*0.91)
			if h%25 == 0 && m >= 296+h/25 {
				c += 20
			}
			fmt.Fprintf(&b, "cpu{host=\"h%d\"} %g %d\n", h, c, ts)
		}
	}
	path := filepath.Join(t.TempDir(), "incident.prom")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, start.Add(300 * time.Minute)
}

// httpClient calls the API of a server running as a process.
type httpClient struct {
	t          *testing.T
	url, token string
}

func (c httpClient) do(method, path string, body, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && json.Unmarshal(b, out) != nil {
		c.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode
}

type rankedList []correlate.Ranked

func (r rankedList) String() string {
	var b strings.Builder
	for _, x := range r {
		fmt.Fprintf(&b, "%d %s %.9f\n", x.Rank, fmt.Sprint(x.Labels), x.Score)
	}
	return b.String()
}

// TestAnalysisShardsAcrossWorkers runs `gaffer serve` without job workers
// of its own and two `gaffer worker` processes, kills one of them in the
// middle of its shards, and checks that the analysis completes on the
// other, both worked shards, no candidate is ranked twice, and the merged
// ranking equals one process's.
func TestAnalysisShardsAcrossWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three gaffer processes and waits for a job rescue")
	}
	bin := platformtest.BuildGaffer(t)
	dir := t.TempDir()
	common := []string{"--job-poll-interval", "50ms", "--job-rescue-after", "5s"}
	serve := platformtest.StartServe(t, bin, dir, append([]string{"--roles", "metrics,analysis", "--job-workers", "0"}, common...)...)
	worker := func() *platformtest.Process {
		p := platformtest.StartProcess(t, bin, append([]string{"worker", "--data-dir", dir, "--job-workers", "2",
			"--analysis-shard-delay", "700ms"}, common...)...)
		platformtest.Eventually(t, "worker to be ready", func() bool { return strings.Contains(p.Log(), "worker is ready") })
		return p
	}
	a, b := worker(), worker()
	host, _ := os.Hostname()
	nameA, nameB := fmt.Sprintf("%s:%d", host, a.Cmd.Process.Pid), fmt.Sprintf("%s:%d", host, b.Cmd.Process.Pid)
	tok, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	c := httpClient{t: t, url: serve.URL, token: strings.TrimSpace(string(tok))}
	file, onset := incidentFile(t)
	if out, err := runGaffer(t, "", "metrics", "import", file, "--server", serve.URL, "--token", c.token); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	req := map[string]any{
		"target": map[string]any{"query": `latency{svc="checkout"}`}, "candidates": map[string]any{"query": "cpu"},
		"start": onset, "end": onset.Add(90 * time.Minute), "lookback": "5h", "shard_size": 10, "mode": "jobs",
	}
	var rep correlate.Report
	if status := c.do("POST", "/api/v1/analysis/correlate?wait=0", req, &rep); status != http.StatusAccepted {
		t.Fatalf("correlate: %d %+v", status, rep)
	}

	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "gaffer.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	count := func(q string, args ...any) int {
		var n int
		if err := st.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	// Kill A once it has finished a shard and holds another: with two job
	// slots per worker, three running shard jobs mean A runs at least one
	// (each runs 700 ms, so it is still running when A dies).
	platformtest.Eventually(t, "worker A to finish a shard and hold another", func() bool {
		return count("SELECT COUNT(*) FROM analysis_shards WHERE report_id = ? AND worker = ?", rep.ID, nameA) > 0 &&
			count("SELECT COUNT(*) FROM river_job WHERE kind = ? AND state = 'running'", correlate.ShardJob) >= 3
	})
	if err := a.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	a.Cmd.Wait()
	t.Logf("killed worker A (%s) with %d of %d shards done", nameA,
		count("SELECT COUNT(*) FROM analysis_shards WHERE report_id = ? AND done = 1", rep.ID),
		count("SELECT COUNT(*) FROM analysis_shards WHERE report_id = ?", rep.ID))

	deadline := time.Now().Add(3 * time.Minute)
	for rep.Status != correlate.StatusComplete {
		if time.Now().After(deadline) || rep.Status == correlate.StatusFailed {
			t.Fatalf("report %s: %s %s, %d/%d shards\nworker B:\n%s", rep.ID, rep.Status, rep.Error, rep.ShardsDone, rep.Shards, b.Log())
		}
		time.Sleep(250 * time.Millisecond)
		c.do("GET", "/api/v1/analysis/reports/"+rep.ID, nil, &rep)
	}
	byA := count("SELECT COUNT(*) FROM analysis_shards WHERE report_id = ? AND worker = ?", rep.ID, nameA)
	byB := count("SELECT COUNT(*) FROM analysis_shards WHERE report_id = ? AND worker = ?", rep.ID, nameB)
	if byA == 0 || byB == 0 || byA+byB != rep.Shards {
		t.Errorf("shards by A %d, by B %d, of %d", byA, byB, rep.Shards)
	}
	// The shard A held is rescued and run again: before the report was
	// complete if A died before recording it, after (finding it done
	// already) if A recorded it but died before River marked its job
	// completed.
	retried := func() bool {
		return count("SELECT COUNT(*) FROM river_job WHERE kind = ? AND attempt > 1 AND state = 'completed'", correlate.ShardJob) > 0
	}
	for deadline := time.Now().Add(2 * time.Minute); !retried(); time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no shard was retried after worker A died; shard jobs not completed at the first attempt:\n%s\nworker B:\n%s",
				shardJobs(st), b.Log())
		}
	}
	if n := count("SELECT COUNT(*) FROM analysis_results WHERE report_id = ?", rep.ID); n != rep.Candidates {
		t.Errorf("%d results for %d candidates", n, rep.Candidates)
	}
	var jobs rankedList
	c.do("GET", fmt.Sprintf("/api/v1/analysis/reports/%s/ranking?limit=10000", rep.ID), nil, &jobs)
	seen := map[string]bool{}
	for _, r := range jobs {
		k := fmt.Sprint(r.Labels)
		if seen[k] {
			t.Errorf("%s ranked twice", k)
		}
		seen[k] = true
	}
	if len(jobs) != rep.Candidates {
		t.Errorf("ranking of %d for %d candidates", len(jobs), rep.Candidates)
	}

	// The same analysis in one process.
	req["mode"] = "local"
	var local correlate.Report
	c.do("POST", "/api/v1/analysis/correlate?wait=120", req, &local)
	if local.Status != correlate.StatusComplete {
		t.Fatalf("local analysis: %s %s", local.Status, local.Error)
	}
	var single rankedList
	c.do("GET", fmt.Sprintf("/api/v1/analysis/reports/%s/ranking?limit=10000", local.ID), nil, &single)
	if jobs.String() != single.String() {
		t.Errorf("the merged ranking differs from one process's:\n%s\nvs\n%s", jobs, single)
	}
	for _, r := range jobs[:8] {
		if h := r.Labels["host"]; h != "h0" && h != "h25" && h != "h50" && h != "h75" && h != "h100" && h != "h125" && h != "h150" && h != "h175" {
			t.Errorf("rank %d is %s", r.Rank, fmt.Sprint(r.Labels))
		}
	}

	// The CLI starts an analysis, follows its shards and prints it.
	out, err := runGaffer(t, "", "analyze", "correlate", "--target", `latency{svc="checkout"}`, "--candidates", "cpu",
		"--from", onset.Format(time.RFC3339), "--to", onset.Add(90*time.Minute).Format(time.RFC3339), "--lookback", "5h",
		"--shard-size", "50", "--server", serve.URL, "--token", c.token)
	if err != nil || !strings.Contains(out, "4/4 shards") || !strings.Contains(out, "RANK") || !strings.Contains(out, "first mover") ||
		!strings.Contains(out, "host=h0") {
		t.Errorf("gaffer analyze correlate: %v\n%s", err, out)
	}
	out, err = runGaffer(t, "", "analyze", "report", rep.ID, "-o", "json", "--server", serve.URL, "--token", c.token)
	if err != nil || !strings.Contains(out, `"status": "complete"`) {
		t.Errorf("gaffer analyze report: %v\n%s", err, out)
	}
}

// shardJobs lists the correlation shard jobs that were not completed at
// their first attempt, for a failure message.
func shardJobs(st *store.Store) string {
	rows, err := st.QueryContext(context.Background(), "SELECT id, state, attempt, scheduled_at FROM river_job WHERE kind = ? AND (attempt > 1 OR state != 'completed')", correlate.ShardJob)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, attempt int
		var state string
		var at any
		if err := rows.Scan(&id, &state, &attempt, &at); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&b, "job %d %s, attempt %d, scheduled %v\n", id, state, attempt, at)
	}
	return b.String()
}
