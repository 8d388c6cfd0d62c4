package workflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/egress"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/definition"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/sel"
)

// runKind is the job that does a step's external work (an HTTP call, an
// event to publish): external work goes through the job queue, enqueued
// in the transaction that claims the step.
const runKind = "workflow.run"

// runArgs name the step attempt a runKind job does.
type runArgs struct {
	Instance string `json:"instance"`
	Step     string `json:"step"`
	Attempt  int    `json:"attempt"`
}

// Step types Gaffer runs itself besides NoOp and Sleep.
const (
	TypeHTTP    = "http"
	TypePublish = "publish"
)

// external reports whether a step's type is done by a runKind job.
func external(st *definition.Step) bool {
	if st.Kind != definition.KindStep {
		return false
	}
	for _, t := range []string{TypeHTTP, TypePublish, TypeSQL} {
		if strings.EqualFold(st.Type, t) {
			return true
		}
	}
	return false
}

// maxResponse bounds the response body an http step keeps.
const maxResponse = 64 << 10

// runExternal does a step's external work. A job that runs again after
// its process died mid-call (its attempt > 1) does the work again only
// for an idempotent step; any other fails, saying why.
func (s *Service) runExternal(ctx context.Context, j *jobs.Job, a runArgs) error {
	r, err := loadInstRow(ctx, s.db, a.Instance)
	if err != nil {
		return jobs.Cancel(err)
	}
	var status, pj string
	var attempts int
	if err := s.db.QueryRowContext(ctx, `SELECT status, attempts, params FROM workflow_steps WHERE instance_id = ? AND step_id = ?`,
		a.Instance, a.Step).Scan(&status, &attempts, &pj); err != nil {
		return jobs.Cancel(err)
	}
	if status != StepRunning || attempts != a.Attempt {
		return nil // stopped, or a later attempt runs
	}
	c, err := s.version(ctx, s.db, r.workflow, r.version)
	if err != nil {
		return err
	}
	st := c.steps[a.Step]
	ref := stepRef{a.Instance, a.Step}
	finish := func(status string, out map[string]any, why string) error {
		return s.inTx(ctx, func(t *txn) error { return t.finishStep(ref, a.Attempt, status, out, why) })
	}
	if j.Attempt > 1 && (st.Idempotent == nil || !*st.Idempotent) {
		return finish(StepFatallyFailed, nil, "the process died during the step's call; the step is not idempotent, so it is not run again")
	}
	params := decodeParams(pj)
	var out map[string]any
	switch {
	case strings.EqualFold(st.Type, TypeHTTP):
		out, err = s.callHTTP(ctx, st, params)
		if err == nil {
			err = s.httpState(ctx, c, r, params, out)
		}
	case strings.EqualFold(st.Type, TypeSQL):
		out, err = s.runSQL(ctx, timeoutOf(st.Timeout, r.params), params)
	default:
		out, err = s.publishStep(ctx, r, a.Step, params)
	}
	var userErr *stepError
	switch {
	case errors.As(err, &userErr):
		return finish(userErr.stepStatus(), out, userErr.Error())
	case err != nil:
		return err // a platform error: the job retries
	}
	return finish(StepSucceeded, out, "")
}

// stepError ends a step attempt as failed: by default USER_FAILED, a
// failure of the step's own doing (a 500 answer, a bad param) that its
// retry policy handles. Other errors of a runExternal job are the
// platform's, and the job retries.
type stepError struct {
	msg    string
	status string // a failed step status; "" is USER_FAILED
}

func (e *stepError) Error() string { return e.msg }

func (e *stepError) stepStatus() string {
	if e.status == "" {
		return StepUserFailed
	}
	return e.status
}

func stepErrorf(format string, args ...any) error {
	return &stepError{msg: fmt.Sprintf(format, args...)}
}

// stepFailf ends a step attempt as status (PLATFORM_FAILED,
// FATALLY_FAILED, …).
func stepFailf(status, format string, args ...any) error {
	return &stepError{msg: fmt.Sprintf(format, args...), status: status}
}

// callHTTP makes an http step's request through the egress policy. Its
// params: http (a map: url, method (GET), headers (a map), body) as in
// Maestro; an answer of 400 or more fails the step.
func (s *Service) callHTTP(ctx context.Context, st *definition.Step, params map[string]any) (map[string]any, error) {
	spec, _ := params["http"].(map[string]any)
	if spec == nil {
		return nil, stepErrorf("param http: want a map with url, method, headers and body")
	}
	url, _ := spec["url"].(string)
	if url == "" {
		return nil, stepErrorf("param http.url: missing")
	}
	method, _ := spec["method"].(string)
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if b, ok := spec["body"].(string); ok {
		body = strings.NewReader(b)
	}
	timeout := time.Minute
	if d, err := definition.ParseDuration(string(st.Timeout)); err == nil && d > 0 {
		timeout = d
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(method), url, body)
	if err != nil {
		return nil, stepErrorf("param http: %v", err)
	}
	if h, ok := spec["headers"].(map[string]any); ok {
		for k, v := range h {
			req.Header.Set(k, fmt.Sprint(v))
		}
	}
	resp, err := s.http.Do(req)
	var denied *egress.DeniedError
	switch {
	case errors.As(err, &denied):
		return nil, stepFailf(StepFatallyFailed, "%s %s: %v", req.Method, url, err) // no retry can pass the policy
	case err != nil:
		return nil, stepFailf(StepPlatformFailed, "%s %s: %v", req.Method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	return map[string]any{"status_code": int64(resp.StatusCode), "response_body": string(b)}, nil
}

// httpStates are the step statuses of the states an http step's
// state_expr returns, as Maestro names them.
var httpStates = map[string]string{"DONE": StepSucceeded, "USER_ERROR": StepUserFailed,
	"PLATFORM_ERROR": StepPlatformFailed, "FATAL_ERROR": StepFatallyFailed}

// httpState decides how an http step that got an answer ends: by its
// state_expr param, a SEL expression over the step's params, status_code
// and response_body that returns DONE, USER_ERROR, PLATFORM_ERROR or
// FATAL_ERROR; without one, as Maestro's default expression does (2xx
// done, 4xx fatal, any other a user error, retried).
func (s *Service) httpState(ctx context.Context, c *compiled, r *instRow, params, out map[string]any) error {
	code := out["status_code"].(int64)
	src, _ := params["state_expr"].(string)
	state := "USER_ERROR"
	switch {
	case strings.TrimSpace(src) != "":
		local := map[string]any{}
		for k, v := range params {
			local[k] = v
		}
		for k, v := range out {
			local[k] = v
		}
		p, err := sel.Compile(src, sel.Env{Vars: append(append([]string{}, c.vars...), "status_code", "response_body"), Now: s.now})
		if err != nil {
			return stepFailf(StepFatallyFailed, "param state_expr: %v", err)
		}
		v, err := p.Eval(ctx, &dbScope{ctx: ctx, s: s, q: s.db, inst: r, local: local})
		if err != nil {
			return stepErrorf("param state_expr: %v", err)
		}
		got, _ := v.(string)
		if _, ok := httpStates[strings.ToUpper(got)]; !ok {
			return stepFailf(StepFatallyFailed, "param state_expr returned %v: want DONE, USER_ERROR, PLATFORM_ERROR or FATAL_ERROR", v)
		}
		state = strings.ToUpper(got)
	case code >= 200 && code < 300:
		state = "DONE"
	case code >= 400 && code < 500:
		state = "FATAL_ERROR"
	}
	if state == "DONE" {
		return nil
	}
	return stepFailf(httpStates[state], "HTTP %d (%s): %s", code, http.StatusText(int(code)), state)
}

// publishStep publishes a publish step's event: params event_type
// (required), source (default /gaffer/workflow), subject, data (a map).
func (s *Service) publishStep(ctx context.Context, r *instRow, step string, params map[string]any) (map[string]any, error) {
	typ, _ := params["event_type"].(string)
	if typ == "" {
		return nil, stepErrorf("param event_type: missing")
	}
	source, _ := params["source"].(string)
	if source == "" {
		source = "/gaffer/workflow"
	}
	subject, _ := params["subject"].(string)
	data, err := json.Marshal(params["data"])
	if err != nil {
		return nil, stepErrorf("param data: %v", err)
	}
	if s.bus == nil {
		return nil, errors.New("no event bus")
	}
	id := fmt.Sprintf("%s/%s", r.id, step)
	ack, err := s.bus.Publish(ctx, &bus.Event{ID: id, Type: typ, Source: source, Subject: subject, Data: bytes.TrimSpace(data)})
	if err != nil {
		return nil, err
	}
	return map[string]any{"event_id": id, "seq": int64(ack.Sequence)}, nil
}
