package remediation

import "encoding/json"

// Runbook is a runbook definition: its parameters and steps. It is written
// in YAML, checked against the published JSON Schema (GET
// /api/v1/remediation/schema) and then against the rules the schema cannot
// express (step references, CEL expressions, durations).
type Runbook struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Params is the JSON Schema of the run's parameters (an object).
	Params json.RawMessage `json:"params,omitempty"`
	// Timeout bounds the whole run (default 1h).
	Timeout string `json:"timeout,omitempty"`
	// Schedule starts runs on a cron schedule.
	Schedule *Schedule `json:"schedule,omitempty"`
	// Start is the first step (default: the first listed).
	Start string `json:"start,omitempty"`
	// OnFailure is a step run when the run fails, as clean-up; the run
	// still ends failed.
	OnFailure string `json:"on_failure,omitempty"`
	// Approval is how the run's approval steps may be answered (default:
	// four eyes).
	Approval *ApprovalPolicy `json:"approval,omitempty"`
	Steps    []Step          `json:"steps"`
}

// ApprovalPolicy is a runbook's rule for answering its approval steps.
// By default (four eyes) whoever started a run may not approve its
// approval steps, even when the step lists them as an approver; they may
// still reject.
type ApprovalPolicy struct {
	// SelfApprove lets the run's starter approve its approval steps.
	SelfApprove bool `json:"self_approve"`
}

// Schedule is a cron trigger.
type Schedule struct {
	Cron   string          `json:"cron"`
	Params json.RawMessage `json:"params,omitempty"`
}

// Step is one step of a runbook. Fields apply to the step types named in
// their comments; string values of params, url, headers, body, event data,
// output and publish may hold ${{ CEL }} templates.
type Step struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`

	// Timeout of one attempt (default 5m; approvals use Expires).
	Timeout string `json:"timeout,omitempty"`
	// Retry failed attempts with exponential backoff.
	Retry *Retry `json:"retry,omitempty"`
	// Idempotent steps are run again when their outcome is unknown (the
	// server died while they ran); others wait for an operator. Default:
	// false for agent and http steps, true for the rest.
	Idempotent *bool `json:"idempotent,omitempty"`
	// Next lists transitions; the first whose condition holds is taken.
	// Without it the run goes on to the next listed step.
	Next []Transition `json:"next,omitempty"`
	// Join lists steps that must all have finished before this one
	// starts.
	Join []string `json:"join,omitempty"`
	// OnFailure is the step to go to when this one fails for good, instead
	// of failing the run.
	OnFailure string `json:"on_failure,omitempty"`
	// ForEach is a CEL expression for a list: the step runs once per item
	// (as "item", with "index"), Concurrency at a time.
	ForEach     string `json:"for_each,omitempty"`
	Concurrency int    `json:"concurrency,omitempty"`
	// Tolerance is how many items may fail (a count, or "25%") before the
	// step fails; default 0.
	Tolerance any `json:"tolerance,omitempty"`
	// Publish sets run variables (vars.NAME) from the step's result.
	Publish map[string]any `json:"publish,omitempty"`

	// Action (agent) is the declared action to run.
	Action string `json:"action,omitempty"`
	// Params (agent) are the action's parameters.
	Params map[string]any `json:"params,omitempty"`
	// Targets (agent) selects the agents.
	Targets *Targets `json:"targets,omitempty"`

	// Method, URL, Headers, Body and Expect (http) describe the request
	// and the statuses that count as success (default 2xx).
	Method  string            `json:"method,omitempty"`
	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    any               `json:"body,omitempty"`
	Expect  []int             `json:"expect,omitempty"`

	// Query (metrics) is PromQL, evaluated at the step's time, or over
	// Range.
	Query string `json:"query,omitempty"`
	Range *Range `json:"range,omitempty"`

	// Series (changepoint, correlate) is a CEL expression for a list of
	// numbers; Algorithm (default pelt), Cost (default l2) and Penalty or
	// NBkps configure a change-point detection.
	Series    string   `json:"series,omitempty"`
	Algorithm string   `json:"algorithm,omitempty"`
	Cost      string   `json:"cost,omitempty"`
	Penalty   *float64 `json:"penalty,omitempty"`
	NBkps     *int     `json:"n_bkps,omitempty"`

	// Candidates (correlate) is a CEL expression for the series to rank
	// against Series: a map of name to a list of numbers of the same
	// length; Window gives the anomaly as {start, end} indices of Series
	// (templates allowed).
	Candidates string         `json:"candidates,omitempty"`
	Window     map[string]any `json:"window,omitempty"`

	// Event (publish) is the event to publish.
	Event *EventSpec `json:"event,omitempty"`

	// Duration (sleep) to wait.
	Duration string `json:"duration,omitempty"`
	// Condition (wait_event) is CEL over "event"; the step waits for the
	// first matching event until its timeout.
	Condition string `json:"condition,omitempty"`

	// Question, Answer (the JSON Schema of the answer), Approvers
	// (identities that may answer; empty: anyone with remediation:write)
	// and Expires (default 24h) describe an approval.
	Question  string          `json:"question,omitempty"`
	Answer    json.RawMessage `json:"answer,omitempty"`
	Approvers []string        `json:"approvers,omitempty"`
	Expires   string          `json:"expires,omitempty"`

	// Output (noop) is the step's result.
	Output any `json:"output,omitempty"`
}

// Retry is a step's retry policy.
type Retry struct {
	// Attempts in all, including the first (default 1).
	Attempts int `json:"attempts"`
	// Backoff before the second attempt (default 1s); it doubles up to
	// MaxBackoff (default 5m).
	Backoff    string `json:"backoff,omitempty"`
	MaxBackoff string `json:"max_backoff,omitempty"`
}

// Transition is one possible next step.
type Transition struct {
	// If is a CEL condition; empty always holds.
	If string `json:"if,omitempty"`
	// Goto is a step name, a list of step names (run in parallel), "end"
	// (this branch succeeds) or "fail" (the run fails).
	Goto any `json:"goto"`
}

// Targets select agents by name or by tags, Concurrency at a time, with a
// failure Tolerance (a count or a percentage).
type Targets struct {
	Agent       string            `json:"agent,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	Concurrency int               `json:"concurrency,omitempty"`
	Tolerance   any               `json:"tolerance,omitempty"`
}

// Range is a metrics query range, relative to now ("-1h") or RFC 3339.
type Range struct {
	Start string `json:"start"`
	End   string `json:"end,omitempty"`
	Step  string `json:"step,omitempty"`
}

// EventSpec is an event a publish step sends.
type EventSpec struct {
	Type    string `json:"type"`
	Source  string `json:"source,omitempty"`
	Subject string `json:"subject,omitempty"`
	Data    any    `json:"data,omitempty"`
}

// Step types.
const (
	TypeAgent       = "agent"
	TypeHTTP        = "http"
	TypeMetrics     = "metrics"
	TypeChangepoint = "changepoint"
	TypeCorrelate   = "correlate"
	TypePublish     = "publish"
	TypeSleep       = "sleep"
	TypeWaitEvent   = "wait_event"
	TypeApproval    = "approval"
	TypeNoop        = "noop"
)

// Reserved transition targets.
const (
	GotoEnd  = "end"
	GotoFail = "fail"
)
