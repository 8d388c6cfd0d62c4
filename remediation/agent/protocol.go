package agent

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// The agent and the server speak JSON over core NATS; requests from the
// server are signed (see SignedRequest). An agent named N may
// subscribe only to ToAgent(N)+".>" and publish only to FromAgent(N)+".>"
// (and reply once to requests it receives), so the subject an agent
// message arrives on proves who sent it.
const (
	// VerbHello (agent → server, request) registers the agent's facts.
	VerbHello = "hello"
	// VerbHeartbeat (agent → server) says the agent is alive and what it runs.
	VerbHeartbeat = "heartbeat"
	// VerbOutput (agent → server) carries a chunk of an action's output.
	VerbOutput = "output"
	// VerbResult (agent → server, request) reports how an action ended; the
	// agent repeats it until the server acknowledges it.
	VerbResult = "result"
	// VerbBundle (agent → server, request) fetches an action bundle.
	VerbBundle = "bundle"
	// VerbRun (server → agent, request) starts a declared action.
	VerbRun = "run"
	// VerbCancel (server → agent) stops a running action.
	VerbCancel = "cancel"
	// VerbStatus (server → agent, request) asks what became of runs.
	VerbStatus = "status"
)

// Version is the agent's version, reported in its facts.
const Version = "0.2.0"

// NATSUserPrefix starts the NATS user name of every agent: "agent:<name>".
const NATSUserPrefix = "agent:"

// AgentScope is the scope of an agent's token. An agent token also carries
// the identity "agent:<name>"; it grants nothing else.
const AgentScope = "agent:read"

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidName reports whether name can name an agent (it becomes a NATS
// subject token): lower-case letters, digits, '-' and '_', at most 63.
func ValidName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("agent name %q: want 1-63 lower-case letters, digits, '-' or '_', starting with a letter or digit", name)
	}
	return nil
}

// ToAgent is the subject prefix of messages to agent name.
func ToAgent(name string) string { return "_gaffer.to-agent." + name }

// FromAgent is the subject prefix of messages from agent name.
func FromAgent(name string) string { return "_gaffer.from-agent." + name }

// FromAnyAgent is what the server subscribes to: FromAnyAgent + verb.
const FromAnyAgent = "_gaffer.from-agent.*."

// Facts describe an agent's host.
type Facts struct {
	Name     string            `json:"name"`
	Hostname string            `json:"hostname"`
	OS       string            `json:"os"`
	Arch     string            `json:"arch"`
	Tags     map[string]string `json:"tags"`
	Version  string            `json:"version"`
	// Boot changes each time the agent process starts, so the server can
	// tell that runs it had in hand before are lost.
	Boot    string       `json:"boot"`
	Actions []ActionInfo `json:"actions"`
}

// ActionInfo is a declared action as the server sees it.
type ActionInfo struct {
	Name        string          `json:"name"`
	Version     string          `json:"version"`
	Description string          `json:"description,omitempty"`
	Params      json.RawMessage `json:"params,omitempty"`
	Idempotent  bool            `json:"idempotent"`
	Timeout     string          `json:"timeout"`
}

// HelloReply answers a hello.
type HelloReply struct {
	// Heartbeat is how often to send heartbeats.
	Heartbeat time.Duration `json:"heartbeat"`
}

// Heartbeat lists the runs the agent has in hand.
type Heartbeat struct {
	Boot    string   `json:"boot"`
	Running []string `json:"running"`
}

// RunRequest asks an agent to run one declared action.
type RunRequest struct {
	// Run identifies this run of the action; the agent refuses a second
	// request with the same ID.
	Run    string          `json:"run"`
	Action string          `json:"action"`
	Params json.RawMessage `json:"params"`
	// Timeout, when shorter than the action's own, bounds this run.
	Timeout time.Duration `json:"timeout,omitempty"`
}

// RunReply accepts or refuses a run.
type RunReply struct {
	Accepted bool   `json:"accepted"`
	Error    string `json:"error,omitempty"`
	// Retry is set when the request, not the action, was refused because
	// it named an earlier life of the agent: a fresh request may succeed.
	Retry bool `json:"retry,omitempty"`
}

// CancelRequest stops a run.
type CancelRequest struct {
	Run string `json:"run"`
}

// Output is a chunk of a run's standard output or error.
type Output struct {
	Run    string `json:"run"`
	Stream string `json:"stream"` // "stdout" or "stderr"
	Seq    int    `json:"seq"`
	Data   []byte `json:"data"`
}

// Result is how a run ended.
type Result struct {
	Run      string `json:"run"`
	Action   string `json:"action"`
	Status   string `json:"status"` // succeeded, failed, timeout, cancelled, rejected
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error,omitempty"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
	// Truncated is set when output went past the action's cap.
	Truncated bool `json:"truncated,omitempty"`
	// Output is stdout parsed as JSON, when it is JSON.
	Output   json.RawMessage `json:"output,omitempty"`
	Started  time.Time       `json:"started"`
	Finished time.Time       `json:"finished"`
}

// Run statuses.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusTimeout   = "timeout"
	StatusCancelled = "cancelled"
	StatusRejected  = "rejected"
	// StatusRunning and StatusUnknown answer a status request.
	StatusRunning = "running"
	StatusUnknown = "unknown"
)

// StatusRequest asks about runs; the reply maps each to running, unknown,
// or the status of its result (which is sent again).
type StatusRequest struct {
	Runs []string `json:"runs"`
}

// StatusReply answers a StatusRequest.
type StatusReply struct {
	Boot string            `json:"boot"`
	Runs map[string]string `json:"runs"`
	// Error is set when the agent refused the request.
	Error string `json:"error,omitempty"`
}

// BundleRequest fetches an action bundle.
type BundleRequest struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// BundleReply carries a bundle (a gzipped tar of the action's directory)
// and the SHA-256 the server recorded for it.
type BundleReply struct {
	SHA256 string `json:"sha256"`
	Data   []byte `json:"data"`
	Error  string `json:"error,omitempty"`
}

// Bootstrap is what GET /api/v1/remediation/agent/bootstrap returns to an
// agent token.
type Bootstrap struct {
	Name string `json:"name"`
	// NATS lists the URLs (without credentials) of the NATS servers.
	NATS []string `json:"nats"`
	// RequestKey is the public key the server signs its requests to
	// agents with (see SignedRequest), in the form of FormatRequestKey.
	RequestKey string `json:"request_key"`
}
