package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

func TestTSDBInspect(t *testing.T) {
	dataDir := t.TempDir()
	opts := tsdb.DefaultOptions()
	opts.CompactInterval = -1
	db, err := tsdb.Open(filepath.Join(dataDir, "tsdb"), opts)
	if err != nil {
		t.Fatal(err)
	}
	a := db.Appender()
	for i, name := range []string{"http_requests_total", "http_requests_total", "cpu"} {
		ls := tsdb.FromStrings(tsdb.MetricName, name, "i", string(rune('a'+i)))
		if _, err := a.Append(0, ls, 1_700_000_000_000, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	defer db.Close() // the server keeps running while inspect reads

	run := func(args ...string) string {
		root := newRootCommand()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs(append([]string{"tsdb", "inspect", "--data-dir", dataDir}, args...))
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	table := run()
	if !strings.Contains(table, "http_requests_total") || !strings.Contains(table, "bytes per sample") {
		t.Fatalf("table output:\n%s", table)
	}
	var st tsdb.Stats
	if err := json.Unmarshal([]byte(run("--output", "json")), &st); err != nil {
		t.Fatal(err)
	}
	if st.Series != 3 || st.TopMetrics[0].Name != "http_requests_total" || st.TopMetrics[0].Series != 2 {
		t.Fatalf("stats: %+v", st)
	}
}
