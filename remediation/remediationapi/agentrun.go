package remediationapi

import (
	"encoding/json"
	"time"
)

// Agent runs for other systems. A system that wants a declared action
// run on a named agent, without importing remediation, enqueues an
// AgentRun job; remediation dispatches the action to the agent (a signed
// request, as for a runbook step) and reports back through jobs of the
// caller's ReplyKind: an AgentReply with Output for each chunk of output
// the agent streams, then one with Result when the run ends. An
// AgentCancel job stops a run. Both directions go through the job queue,
// so a request or a reply survives a restart of either side.
const (
	// AgentRunKind is the job kind whose args are an AgentRun.
	AgentRunKind = "remediation.agent_run"
	// AgentCancelKind is the job kind whose args are an AgentCancel.
	AgentCancelKind = "remediation.agent_cancel"
)

// AgentRun asks for one run of a declared action on one agent.
type AgentRun struct {
	// Agent is the agent's name.
	Agent string `json:"agent"`
	// Action is the declared action to run; the agent runs nothing else.
	Action string `json:"action"`
	// Params are the action's params (a JSON object), checked by the
	// agent against the action's schema.
	Params json.RawMessage `json:"params"`
	// Timeout, when shorter than the action's own, bounds the run.
	Timeout time.Duration `json:"timeout,omitempty"`
	// ReplyKind is the caller's job kind that receives AgentReply jobs.
	ReplyKind string `json:"reply_kind"`
	// Key names the run for the caller: it comes back in every reply and
	// names the run to cancel. One (ReplyKind, Key) is run at most once.
	Key string `json:"key"`
	// By is who asked (a person or a system), for the audit log.
	By string `json:"by"`
}

// AgentCancel stops the run a caller named (ReplyKind, Key). A run that
// has not started does not start; one that has ends with a Result of
// status cancelled.
type AgentCancel struct {
	ReplyKind string `json:"reply_kind"`
	Key       string `json:"key"`
	By        string `json:"by"`
}

// AgentReply is the args of a reply job: exactly one of Output and Result.
type AgentReply struct {
	Key    string          `json:"key"`
	Output *AgentRunOutput `json:"output,omitempty"`
	Result *AgentRunResult `json:"result,omitempty"`
}

// AgentRunOutput is a chunk of a run's output. Chunks may be lost (they
// are streamed for live display) or arrive out of order; Seq orders them
// (1, 2, ... across both streams). The Result holds the whole output.
type AgentRunOutput struct {
	Stream string `json:"stream"` // "stdout" or "stderr"
	Seq    int    `json:"seq"`
	Data   []byte `json:"data"`
}

// AgentRunResult is how a run ended.
type AgentRunResult struct {
	// Status is the agent's: succeeded, failed, timeout, cancelled,
	// rejected; or, from the server, lost (the agent restarted or went
	// silent during the run) or undispatched (it never started: Error
	// says why).
	Status   string `json:"status"`
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error,omitempty"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
	// Output is stdout when it was JSON (Stdout is then empty).
	Output    json.RawMessage `json:"output,omitempty"`
	Truncated bool            `json:"truncated,omitempty"`
	Started   time.Time       `json:"started"`
	Finished  time.Time       `json:"finished"`
}

// Statuses of AgentRunResult set by the server rather than the agent.
const (
	AgentRunLost         = "lost"
	AgentRunUndispatched = "undispatched"
)
