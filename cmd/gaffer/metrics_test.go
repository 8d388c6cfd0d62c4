package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestMetricsImportAndQuery imports an OpenMetrics file and a CSV file
// with the CLI, then queries them back as a table and as JSON.
func TestMetricsImportAndQuery(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.Token("metrics:write")
	dir := t.TempDir()
	now := time.Now().Truncate(time.Minute)
	var om, csv strings.Builder
	om.WriteString("# HELP cli_requests_total Requests.\n# TYPE cli_requests_total counter\n")
	csv.WriteString("timestamp,metric,host,value\n")
	for i := 0; i < 10; i++ {
		ts := now.Add(time.Duration(i-10) * time.Minute)
		fmt.Fprintf(&om, "cli_requests_total{code=\"200\"} %d %d\n", i*60, ts.UnixMilli())
		fmt.Fprintf(&csv, "%s,cli_temperature,h1,%d.5\n", ts.Format(time.RFC3339), 20+i)
	}
	om.WriteString("# EOF\n")
	omFile, csvFile := filepath.Join(dir, "scrape.prom"), filepath.Join(dir, "temps.csv")
	os.WriteFile(omFile, []byte(om.String()), 0o600)
	os.WriteFile(csvFile, []byte(csv.String()), 0o600)

	out, err := runGaffer(t, "", "metrics", "import", omFile, csvFile, "--server", srv.URL, "--token", tok, "--batch", "7")
	if err != nil || !strings.Contains(out, "imported 20 samples from 2 files") || !strings.Contains(out, "100%") {
		t.Fatalf("import: %v\n%s", err, out)
	}

	out, err = runGaffer(t, "", "metrics", "query", "rate(cli_requests_total[5m])", "--time", fmt.Sprint(now.Unix()),
		"--server", srv.URL, "--token", tok)
	if err != nil || !strings.Contains(out, `{code="200"}`) || !strings.Contains(out, "\t") && !strings.Contains(out, " 1\n") {
		t.Fatalf("instant query: %v\n%s", err, out)
	}
	out, err = runGaffer(t, "", "metrics", "query", "cli_temperature", "--start", "15m", "--step", "1m",
		"--output", "json", "--server", srv.URL, "--token", tok)
	if err != nil {
		t.Fatalf("range query: %v\n%s", err, out)
	}
	var res struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.ResultType != "matrix" || len(res.Result) != 1 ||
		res.Result[0].Metric["host"] != "h1" || len(res.Result[0].Values) < 9 {
		t.Fatalf("range query JSON: %v\n%s", err, out)
	}

	if _, err := runGaffer(t, "", "metrics", "query", "sum(", "--server", srv.URL, "--token", tok); err == nil ||
		!strings.Contains(err.Error(), "parse error") || !strings.Contains(err.Error(), "(HTTP 400)") {
		t.Fatalf("bad PromQL: %v", err)
	}
	// A 403 is the server's message, as everywhere else, not its JSON.
	if _, err := runGaffer(t, "", "metrics", "query", "up", "--server", srv.URL, "--token", srv.Token("events:read")); err == nil ||
		err.Error() != `this call needs the "metrics:read" scope (HTTP 403)` {
		t.Fatalf("query without the scope: %v", err)
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("time,value\n1,2\n"), 0o600)
	if _, err := runGaffer(t, "", "metrics", "import", bad, "--server", srv.URL, "--token", tok); err == nil ||
		!strings.Contains(err.Error(), "missing column(s) metric") {
		t.Fatalf("CSV without a metric column: %v", err)
	}
}
