package workflow_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/internal/platform/store/storetest"
	"github.com/gaffer-sre/gaffer/orchestration/workflow"
)

// sqlWorkflow is a workflow of one sql step on connection "wh".
func sqlWorkflow(id, query, args string) string {
	if args != "" {
		args = fmt.Sprintf(`, "args": {"value": %s, "type": "STRING_ARRAY"}`, args)
	}
	return fmt.Sprintf(`{"properties": {"run_strategy": "parallel"}, "workflow": {"id": %q, "steps": [
	  {"step": {"id": "q", "type": "sql", "retry_policy": {"error_retry_limit": 0}, "params": {
	    "connection": {"value": "wh", "type": "STRING"}, "query": {"value": %q, "type": "STRING"}%s}}}]}}`, id, query, args)
}

// runSQLWorkflow applies and runs a one-step sql workflow.
func runSQLWorkflow(t *testing.T, srv *platformtest.Server, id, query, args string) workflow.Instance {
	t.Helper()
	apply(t, srv, srv.AdminToken, sqlWorkflow(id, query, args))
	var in workflow.Instance
	srv.Do("POST", "/api/v1/workflows/"+id+"/instances", srv.AdminToken, nil).JSON(t, &in)
	return waitEnd(t, srv, srv.AdminToken, id, in.InstanceID)
}

// TestSQLStep runs statements on a real PostgreSQL through the egress
// policy: DDL, an insert with bound args, a select whose rows become the
// step's outputs; a bad statement and an unknown connection fail the
// step saying why; without the policy's leave the connection is refused.
func TestSQLStep(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	srv := platformtest.Start(t, platformtest.Options{EgressAllow: platformtest.AllowLoopback,
		Args: []string{"--workflow-sql-connection", "wh=" + dsn, "--workflow-sql-max-rows", "2"}})
	for _, c := range []struct{ id, query, args string }{
		{"ddl", "CREATE TABLE visits (day int, region text, n bigint)", ""},
		{"load", "INSERT INTO visits VALUES (1, $1, 10), (1, $2, 20), (2, $1, 30)", `["us-east-1", "eu-west-1"]`},
	} {
		if in := runSQLWorkflow(t, srv, c.id, c.query, c.args); in.Status != workflow.InstanceSucceeded {
			t.Fatalf("%s: %s %s %+v", c.id, in.Status, in.Error, in.Steps)
		}
	}
	in := runSQLWorkflow(t, srv, "read", "SELECT region, sum(n) AS total FROM visits WHERE day >= $1 GROUP BY region ORDER BY total DESC", `["1"]`)
	if in.Status != workflow.InstanceSucceeded {
		t.Fatalf("read: %s %s %+v", in.Status, in.Error, in.Steps)
	}
	out := in.Steps[0].Output
	rows, _ := out["rows"].([]any)
	if out["row_count"] != float64(2) || len(rows) != 2 || rows[0].(map[string]any)["region"] != "us-east-1" ||
		fmt.Sprint(rows[0].(map[string]any)["total"]) != "40" {
		t.Errorf("read: output %v", out)
	}
	in = runSQLWorkflow(t, srv, "all", "SELECT * FROM visits", "")
	if out := in.Steps[0].Output; out["row_count"] != float64(3) || len(out["rows"].([]any)) != 2 || out["truncated"] != true {
		t.Errorf("all: output %v, want 3 rows counted, 2 kept (--workflow-sql-max-rows), truncated", out)
	}
	for id, want := range map[string]string{"SELECT nope FROM visits": "nope", "": "param query"} {
		in := runSQLWorkflow(t, srv, fmt.Sprintf("bad%d", len(want)), id, "")
		if in.Status != workflow.InstanceFailed || !strings.Contains(in.Steps[0].Error, want) {
			t.Errorf("%q: %s, step error %q, want FAILED naming %q", id, in.Status, in.Steps[0].Error, want)
		}
	}

	closed := platformtest.Start(t, platformtest.Options{Args: []string{"--workflow-sql-connection", "wh=" + dsn}})
	in = runSQLWorkflow(t, closed, "denied", "SELECT 1", "")
	if in.Status != workflow.InstanceFailed || !strings.Contains(in.Steps[0].Error, "egress") {
		t.Errorf("denied: %s, step error %q, want FAILED by the egress policy", in.Status, in.Steps[0].Error)
	}
}
