package remediation_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/remediation"
)

// TestTimesComeFromTheServiceClock runs a runbook under a fixed clock
// years from any time the test can run at, and checks that every time
// the system stores or shows — deployments, an execution's creation,
// deadline, steps' start and finish, its history, an approval's answer
// time, a sleep's "until" and "slept_until" — is read from that clock,
// while the sleep itself still ends in real time (its wake-up is on the
// wall clock River and the in-process timer compare with).
func TestTimesComeFromTheServiceClock(t *testing.T) {
	at := clocktest.Base.AddDate(-3, 0, 0)
	s := startWith(t, platformtest.Options{Now: clocktest.Fixed(at)})
	same := func(what string, got time.Time) {
		t.Helper()
		if !got.Equal(at) {
			t.Errorf("%s is %s, want the service clock's %s", what, got.UTC(), at)
		}
	}

	s.apply("name: clocked\ntimeout: 1h\napproval: {self_approve: true}\nsteps:\n" +
		"  - {name: ask, type: approval, question: Go on}\n" +
		"  - {name: nap, type: sleep, duration: 50ms}\n")
	resp := s.Do("POST", "/api/v1/remediation/runbooks/clocked/promote", s.token, remediation.PromoteRequest{Env: "test"})
	if resp.Status != http.StatusOK {
		t.Fatalf("promote: %d %s", resp.Status, resp.Body)
	}
	var promoted remediation.Deployment
	resp.JSON(t, &promoted)
	same("the promotion's time", promoted.At)
	var detail remediation.RunbookDetail
	s.Do("GET", "/api/v1/remediation/runbooks/clocked", s.token, nil).JSON(t, &detail)
	if len(detail.Deployments) == 0 {
		t.Fatal("no deployments listed")
	}
	for _, d := range detail.Deployments {
		same("deployment to "+d.Env, d.At)
	}

	id := s.run("clocked", map[string]any{})
	platformtest.Eventually(t, "approval waiting", func() bool {
		st := step(s.exec(id), "ask")
		return st != nil && st.Status == "waiting"
	})
	if r := s.Do("POST", "/api/v1/remediation/executions/"+id+"/steps/ask/approve", s.token, map[string]any{}); r.Status != http.StatusOK {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	ex := s.waitStatus(id, "succeeded", "failed")
	if ex.Status != "succeeded" {
		t.Fatalf("execution %s: %s", ex.Status, ex.Error)
	}

	same("the execution's created_at", ex.CreatedAt)
	same("the execution's updated_at", ex.UpdatedAt)
	if ex.FinishedAt == nil {
		t.Fatal("the execution has no finished_at")
	}
	same("the execution's finished_at", *ex.FinishedAt)
	if want := at.Add(time.Hour); !ex.Deadline.Equal(want) {
		t.Errorf("deadline is %s, want %s (the service clock plus the runbook's timeout)", ex.Deadline.UTC(), want)
	}
	for _, st := range ex.Steps {
		same("step "+st.Key+" created_at", st.CreatedAt)
		if st.StartedAt == nil || st.FinishedAt == nil {
			t.Fatalf("step %s: started_at %v, finished_at %v", st.Key, st.StartedAt, st.FinishedAt)
		}
		same("step "+st.Key+" started_at", *st.StartedAt)
		same("step "+st.Key+" finished_at", *st.FinishedAt)
	}
	if len(ex.History) == 0 {
		t.Fatal("no history")
	}
	for _, h := range ex.History {
		same("history entry "+h.What, h.At)
	}

	var answer struct {
		At time.Time `json:"at"`
	}
	if err := json.Unmarshal(step(ex, "ask").Output, &answer); err != nil {
		t.Fatalf("approval output %s: %v", step(ex, "ask").Output, err)
	}
	same("the approval's answer time", answer.At)

	nap := step(ex, "nap")
	var slept struct {
		SleptUntil time.Time `json:"slept_until"`
	}
	if err := json.Unmarshal(nap.Output, &slept); err != nil {
		t.Fatalf("sleep output %s: %v", nap.Output, err)
	}
	same("the sleep's slept_until", slept.SleptUntil)
	var parked struct {
		Until time.Time `json:"until"`
	}
	if err := json.Unmarshal(nap.Detail, &parked); err != nil {
		t.Fatalf("sleep detail %s: %v", nap.Detail, err)
	}
	if want := at.Add(50 * time.Millisecond); !parked.Until.Equal(want) {
		t.Errorf("the sleep's until is %s, want %s", parked.Until.UTC(), want)
	}
}
