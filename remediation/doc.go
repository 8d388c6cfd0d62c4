// Package remediation is Gaffer's runbook automation: runbooks written in
// YAML that an alert, an event rule, a person or a schedule starts, and
// that act on hosts through the host agent (package remediation/agent).
//
// For its user it does this. A runbook is checked against a published
// JSON Schema, with errors that point at the line, and every change is a
// new version that can be promoted dev → test → prod and rolled back. Its
// steps run agent actions on hosts chosen by tags (a few at a time, with a
// failure tolerance), call HTTP endpoints, query metrics, look for change
// points, publish events, sleep, wait for an event, or ask a person (an
// approval with a JSON-Schema-checked answer, an expiry and named
// approvers). CEL conditions choose the next steps; outputs flow between
// steps; steps fan out over lists, join, retry with backoff, time out, and
// fail over to an on-failure path. Executions are durable: they survive a
// SIGKILL of the server, and a step whose outcome is unknown is retried
// only if it is idempotent — otherwise the execution waits for an
// operator, who sees why. Everything is recorded: inputs, outputs (up to
// 8 MB each), live stdout and stderr, who started, approved or settled
// what.
//
// The seed system is Winston, Netflix's event-driven runbook automation
// (built on StackStorm), with Bolt, the agent on every instance that runs
// version-controlled remediation actions. The anchors it measures itself
// against are StackStorm (workflows, rules, remote runners; and its known
// costs: an 8 MB result took about 2 s to store, 100 ms scheduler polling)
// and Rundeck (jobs over node sets selected by tags, with thread counts
// and failure tolerance).
//
// How it works (state in the database, leases, agents over NATS) is in
// docs/remediation.md.
package remediation
