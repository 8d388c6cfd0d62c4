package failover_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"

	_ "github.com/gaffer-sre/gaffer/events"
	_ "github.com/gaffer-sre/gaffer/telemetry/metrics"
)

// start runs a test server with the failover system (and the metrics
// and events systems it uses).
func start(t *testing.T, o platformtest.Options) (*platformtest.Server, *failover.Service) {
	t.Helper()
	srv := platformtest.Start(t, o)
	svc, ok := srv.Deps().Lookup(failover.Name)
	if !ok {
		t.Fatal("failover system not running")
	}
	return srv, svc.(*failover.Service)
}

// call sends a request as admin and decodes the answer into out,
// failing unless the status is want.
func call(t *testing.T, srv *platformtest.Server, method, path string, body any, want int, out any) {
	t.Helper()
	resp := srv.Do(method, path, srv.AdminToken, body)
	if resp.Status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.Status, want, resp.Body)
	}
	if out != nil {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, resp.Body, err)
		}
	}
}

// waitExercise polls an exercise until it has a report.
func waitExercise(t *testing.T, srv *platformtest.Server, id string) failover.Exercise {
	t.Helper()
	var x failover.Exercise
	deadline := time.Now().Add(2 * time.Minute)
	for {
		call(t, srv, "GET", "/api/v1/failover/exercises/"+id, nil, http.StatusOK, &x)
		if x.Report != nil {
			return x
		}
		if time.Now().After(deadline) {
			t.Fatalf("exercise %s not finished after 2 minutes", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitExecution polls an execution until cond holds.
func waitExecution(t *testing.T, srv *platformtest.Server, id, what string, cond func(*failover.Execution) bool) *failover.Execution {
	t.Helper()
	var ex failover.Execution
	deadline := time.Now().Add(2 * time.Minute)
	for {
		call(t, srv, "GET", "/api/v1/failover/executions/"+id, nil, http.StatusOK, &ex)
		if cond(&ex) {
			return &ex
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s: %s not reached after 2 minutes; status %s step %d", id, what, ex.Status, ex.Step)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func statusIs(statuses ...string) func(*failover.Execution) bool {
	return func(ex *failover.Execution) bool {
		for _, s := range statuses {
			if ex.Status == s {
				return true
			}
		}
		return false
	}
}

func describe(ex *failover.Execution) string {
	out := fmt.Sprintf("%s %s step %d %q", ex.ID, ex.Status, ex.Step, ex.Error)
	for _, s := range ex.Steps {
		out += fmt.Sprintf("\n  %d %s %s %s %s", s.Seq, s.Kind, s.Status, s.Progress.Note, s.Error)
	}
	return out
}

// waitStepsIdle waits until no step job of execution id is queued or
// running. A paused or aborted execution then does nothing until it is
// resumed, so a check after this one sees its settled state.
func waitStepsIdle(t *testing.T, srv *platformtest.Server, id string) {
	t.Helper()
	platformtest.Eventually(t, "execution "+id+" to have no step job queued or running", func() bool {
		list, err := srv.Deps().Jobs.List(t.Context(), jobs.ListFilter{Kinds: []string{"failover.step"},
			States: []string{jobs.StateAvailable, jobs.StateScheduled, jobs.StateRunning, jobs.StateRetryable, jobs.StatePending}, Limit: 1000})
		if err != nil {
			t.Fatalf("list step jobs: %v", err)
		}
		for _, j := range list.Jobs {
			if strings.Contains(string(j.Args), `"exec":"`+id+`"`) {
				return false
			}
		}
		return true
	})
}
