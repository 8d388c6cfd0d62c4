package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/remediation"
)

func TestRunbookCLI(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.AdminToken
	dir := t.TempDir()
	file := filepath.Join(dir, "rb.yaml")
	os.WriteFile(file, []byte(`name: cli-demo
params:
  type: object
  properties: {n: {type: integer}, fail: {type: boolean, default: false}}
steps:
  - name: double
    type: noop
    output: "${{ params.n * 2 }}"
    next:
      - if: params.fail
        goto: fail
`), 0o644)
	if out := mustCLI(t, srv, tok, "runbook", "apply", "-f", file, "-m", "first"); !strings.Contains(out, "applied runbook cli-demo: version 1") {
		t.Fatalf("apply: %s", out)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: bad\nsteps:\n  - name: a\n    type: noop\n    next: [{goto: b}]\n"), 0o644)
	out, err := gafferCLI(t, srv, tok, "runbook", "validate", "-f", bad)
	if err == nil || !strings.Contains(out, "bad.yaml:5:") || !strings.Contains(out, `no step is called "b"`) {
		t.Fatalf("validate: %v %s", err, out)
	}
	if !strings.HasSuffix(err.Error(), "bad.yaml: 1 problem") {
		t.Errorf("validate counts %q, want the count to agree: 1 problem", err)
	}
	if _, err := gafferCLI(t, srv, tok, "runbook", "apply", "-f", bad); err == nil || !strings.Contains(err.Error(), "line 5") {
		t.Fatalf("apply of an invalid runbook: %v", err)
	}

	out = mustCLI(t, srv, tok, "runbook", "run", "cli-demo", "--param", "n=21", "--wait", "--output", "json")
	var ex remediation.Execution
	if err := json.Unmarshal([]byte(out), &ex); err != nil {
		t.Fatalf("run --wait --output json: %v\n%s", err, out)
	}
	if ex.Status != "succeeded" || string(ex.Steps[0].Output) != "42" {
		t.Fatalf("run: %+v", ex)
	}
	if _, err := gafferCLI(t, srv, tok, "runbook", "run", "cli-demo", "-p", "n=1", "-p", "fail=true", "--wait"); err == nil ||
		!strings.Contains(err.Error(), "failed") {
		t.Fatalf("a failed run must exit non-zero: %v", err)
	}
	if _, err := gafferCLI(t, srv, tok, "runbook", "run", "cli-demo", "-p", "n=oops"); err == nil || !strings.Contains(err.Error(), "params") {
		t.Fatalf("bad params: %v", err)
	}
	out = mustCLI(t, srv, tok, "runbook", "executions", "--runbook", "cli-demo")
	if strings.Count(out, "cli-demo") != 2 || !strings.Contains(out, "succeeded") || !strings.Contains(out, "failed") {
		t.Fatalf("executions:\n%s", out)
	}
	mustCLI(t, srv, tok, "runbook", "promote", "cli-demo", "--env", "test")
	if out := mustCLI(t, srv, tok, "runbook", "list"); !strings.Contains(out, "cli-demo") {
		t.Fatalf("list: %s", out)
	}
	if out := mustCLI(t, srv, tok, "runbook", "execution", ex.ID); !strings.Contains(out, "double") {
		t.Fatalf("execution: %s", out)
	}
}

// TestRunbookMetricsStep runs a metrics step against the metrics system of
// the same server.
func TestRunbookMetricsStep(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	src := `name: metrics-demo
steps:
  - name: now
    type: metrics
    query: vector(42)
    next:
      - if: result.value == 42.0
        goto: range
      - goto: fail
  - name: range
    type: metrics
    query: vector(1)
    range: {start: -10m, step: 1m}
  - name: cp
    type: changepoint
    series: steps.range.output.values
    n_bkps: 1
    algorithm: binseg
`
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "m.yaml"), []byte(src), 0o644)
	mustCLI(t, srv, srv.AdminToken, "runbook", "apply", "-f", filepath.Join(dir, "m.yaml"))
	out := mustCLI(t, srv, srv.AdminToken, "runbook", "run", "metrics-demo", "--wait", "--output", "json")
	var ex remediation.Execution
	if err := json.Unmarshal([]byte(out), &ex); err != nil || ex.Status != "succeeded" {
		t.Fatalf("metrics run: %v %s", err, out)
	}
	var rng struct{ Values []float64 }
	json.Unmarshal(ex.Steps[1].Output, &rng)
	if len(rng.Values) < 10 || rng.Values[0] != 1 {
		t.Fatalf("range output %s", ex.Steps[1].Output)
	}
}
