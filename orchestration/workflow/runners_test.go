package workflow_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/workflow"
)

func httpWorkflow(id, url string) string {
	return fmt.Sprintf(`{"properties": {"run_strategy": "parallel"}, "workflow": {"id": %q, "steps": [
	  {"step": {"id": "call", "type": "http", "retry_policy": {"error_retry_limit": 0},
	    "params": {"http": {"type": "MAP", "value": {
	      "url": {"value": %q, "type": "STRING"}, "method": {"value": "POST", "type": "STRING"},
	      "headers": {"value": {"X-Run": "${WORKFLOW_INSTANCE_ID}"}, "type": "STRING_MAP"},
	      "body": {"value": "hello", "type": "STRING"}}}},
	    "transition": {"successors": {"tell": "true"}}}},
	  {"step": {"id": "tell", "type": "publish", "params": {"event_type": {"value": "gaffer.test.etl_done", "type": "STRING"},
	    "data": {"value": {"rows": "42"}, "type": "STRING_MAP"}}}}]}}`, id, url)
}

// TestHTTPAndPublishSteps: an http step calls through the egress policy
// and keeps the answer; a publish step puts an event on the bus; an
// answer of 500 fails the step; an address the policy refuses fails it.
func TestHTTPAndPublishSteps(t *testing.T) {
	var calls atomic.Int32
	var got string
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		got = r.Method + " " + string(b) + " " + r.Header.Get("X-Run")
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		if r.URL.Path == "/broken" {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Write([]byte(`{"ok": true}`))
	}))
	defer web.Close()
	srv := platformtest.Start(t, platformtest.Options{EgressAllow: platformtest.AllowLoopback})
	tok := srv.AdminToken
	apply(t, srv, tok, httpWorkflow("etl", web.URL+"/load"))
	apply(t, srv, tok, httpWorkflow("broken", web.URL+"/broken"))
	var in workflow.Instance
	srv.Do("POST", "/api/v1/workflows/etl/instances", tok, nil).JSON(t, &in)
	in = waitEnd(t, srv, tok, "etl", in.InstanceID)
	if in.Status != workflow.InstanceSucceeded {
		t.Fatalf("%s: %s %+v", in.Status, in.Error, in.Steps)
	}
	if got != "POST hello 1" {
		t.Errorf("the server got %q", got)
	}
	for _, s := range in.Steps {
		if s.ID == "call" && (s.Output["status_code"] != float64(200) || s.Output["response_body"] != `{"ok": true}`) {
			t.Errorf("call output %v", s.Output)
		}
	}
	platformtest.Eventually(t, "the published event", func() bool {
		resp := srv.Do("GET", "/api/v1/events?type=gaffer.test.etl_done", tok, nil)
		return strings.Contains(string(resp.Body), `\"rows\":\"42\"`) || strings.Contains(string(resp.Body), `"rows":"42"`)
	})
	srv.Do("POST", "/api/v1/workflows/broken/instances", tok, nil).JSON(t, &in)
	in = waitEnd(t, srv, tok, "broken", in.InstanceID)
	if in.Status != workflow.InstanceFailed || !strings.Contains(in.Error, "500 (Internal Server Error)") {
		t.Errorf("broken: %s %s", in.Status, in.Error)
	}

	// Maestro's states: a 404 is fatal (no retry); a state_expr decides.
	apply(t, srv, tok, strings.Replace(httpWorkflow("gone", web.URL+"/missing"), `"error_retry_limit": 0`, `"error_retry_limit": 3`, 1))
	srv.Do("POST", "/api/v1/workflows/gone/instances", tok, nil).JSON(t, &in)
	in = waitEnd(t, srv, tok, "gone", in.InstanceID)
	for _, st := range in.Steps {
		if st.ID == "call" && (in.Status != workflow.InstanceFailed || st.Status != workflow.StepFatallyFailed || st.Attempts != 1) {
			t.Errorf("gone: %s, step %+v, want FATALLY_FAILED after one attempt", in.Status, st)
		}
	}
	apply(t, srv, tok, strings.Replace(httpWorkflow("accept", web.URL+"/broken"), `"params": {"http"`,
		`"params": {"state_expr": {"value": "if (status_code == 500 && response_body.contains('down')) return \"DONE\"; return \"FATAL_ERROR\";", "type": "STRING"}, "http"`, 1))
	srv.Do("POST", "/api/v1/workflows/accept/instances", tok, nil).JSON(t, &in)
	if in = waitEnd(t, srv, tok, "accept", in.InstanceID); in.Status != workflow.InstanceSucceeded {
		t.Errorf("accept: %s %s, want SUCCEEDED by its state_expr", in.Status, in.Error)
	}
	r := srv.DoWith("POST", "/api/v1/workflows?file=x.json", tok, "application/json", strings.Replace(httpWorkflow("badexpr", web.URL), `"params": {"http"`,
		`"params": {"state_expr": {"value": "return status_code +;", "type": "STRING"}, "http"`, 1))
	if r.Status != 422 || !strings.Contains(string(r.Body), "params.state_expr.value") {
		t.Errorf("a state_expr that does not compile: %d %s", r.Status, r.Body)
	}

	strict := platformtest.Start(t, platformtest.Options{})
	apply(t, strict, strict.AdminToken, httpWorkflow("etl", web.URL+"/load"))
	before := calls.Load()
	strict.Do("POST", "/api/v1/workflows/etl/instances", strict.AdminToken, nil).JSON(t, &in)
	in = waitEnd(t, strict, strict.AdminToken, "etl", in.InstanceID)
	if in.Status != workflow.InstanceFailed || calls.Load() != before {
		t.Errorf("loopback refused by the egress policy: %s (%s), %d calls", in.Status, in.Error, calls.Load()-before)
	}
	t.Logf("refused: %s", in.Error)
}
