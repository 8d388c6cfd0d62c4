package remediation_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/remediation"
)

// runAs starts a runbook with token and returns the execution's ID.
func (s *server) runAs(token, name string) string {
	s.t.Helper()
	resp := s.Do("POST", "/api/v1/remediation/runbooks/"+name+"/run", token, map[string]any{})
	if resp.Status != http.StatusCreated {
		s.t.Fatalf("run %s: %d %s", name, resp.Status, resp.Body)
	}
	var ex remediation.Execution
	resp.JSON(s.t, &ex)
	platformtest.Eventually(s.t, "approval waiting", func() bool {
		st := step(s.exec(ex.ID), "ask")
		return st != nil && st.Status == "waiting"
	})
	return ex.ID
}

// TestApprovalFourEyes is issue #15 item 15: whoever started a run may
// not approve it, whether or not the step lists approvers, unless the
// runbook opts out with approval: {self_approve: true}.
func TestApprovalFourEyes(t *testing.T) {
	s := start(t)
	wendy := s.identityToken("wendy", remediation.WriteScope)
	olga := s.identityToken("olga", remediation.WriteScope)
	answer := func(token, id, verdict string) (int, string) {
		r := s.Do("POST", "/api/v1/remediation/executions/"+id+"/steps/ask/"+verdict, token, map[string]any{"reason": "no"})
		return r.Status, string(r.Body)
	}
	s.apply("name: anyone\nsteps:\n  - {name: ask, type: approval, question: Go on}\n")
	s.apply("name: listed\nsteps:\n  - {name: ask, type: approval, question: Go on, approvers: [wendy, olga]}\n")
	s.apply("name: solo\napproval: {self_approve: true}\nsteps:\n  - {name: ask, type: approval, question: Go on}\n")

	for _, rb := range []string{"anyone", "listed"} {
		id := s.runAs(wendy, rb)
		if code, body := answer(wendy, id, "approve"); code != http.StatusForbidden ||
			!strings.Contains(body, "wendy started this run") || !strings.Contains(body, "self_approve") {
			t.Fatalf("%s: the starter approves: %d %s", rb, code, body)
		}
		// The execution page offers the starter no approve button.
		page := string(s.Do("GET", "/remediation/executions/"+id, wendy, nil).Body)
		if !strings.Contains(page, `id="four-eyes"`) || strings.Contains(page, `id="approve"`) {
			t.Fatalf("%s: the starter's page offers approval", rb)
		}
		if page := string(s.Do("GET", "/remediation/executions/"+id, olga, nil).Body); !strings.Contains(page, `id="approve"`) {
			t.Fatalf("%s: another approver's page has no approve button", rb)
		}
		if code, body := answer(olga, id, "approve"); code != http.StatusOK {
			t.Fatalf("%s: another approver: %d %s", rb, code, body)
		}
		if ex := s.waitStatus(id, "succeeded", "failed"); ex.Status != "succeeded" {
			t.Fatalf("%s: %s %s", rb, ex.Status, ex.Error)
		}
	}
	// The starter may still reject their own run.
	id := s.runAs(wendy, "anyone")
	if code, body := answer(wendy, id, "reject"); code != http.StatusOK {
		t.Fatalf("the starter rejects: %d %s", code, body)
	}
	// A runbook that opts out lets the starter approve.
	id = s.runAs(wendy, "solo")
	if code, body := answer(wendy, id, "approve"); code != http.StatusOK {
		t.Fatalf("self_approve: %d %s", code, body)
	}
	s.waitStatus(id, "succeeded")
}

func TestApprovalPolicyChecked(t *testing.T) {
	s := start(t)
	for src, want := range map[string]string{
		"name: a\napproval: {self_approve: yes please}\nsteps:\n  - {name: ask, type: approval, question: Go on}\n": "/approval/self_approve",
		"name: a\napproval: {}\nsteps:\n  - {name: ask, type: approval, question: Go on}\n":                         "/approval",
		"name: a\napproval: {self: true}\nsteps:\n  - {name: ask, type: approval, question: Go on}\n":               "/approval",
		"name: a\napproval: {self_approve: true}\nsteps:\n  - {name: n, type: noop}\n":                              "no approval step",
	} {
		r := s.DoWith("POST", "/api/v1/remediation/runbooks", s.token, "application/yaml", src)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), want) {
			t.Errorf("%q: %d %s, want 422 naming %s", src, r.Status, r.Body, want)
		}
	}
}
