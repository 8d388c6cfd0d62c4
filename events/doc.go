// Package events is Gaffer's event platform: one durable stream of
// CloudEvents from every system, and rules that filter, react to and route
// them.
//
// For its user it does four things. It ingests CloudEvents 1.0 over HTTP
// (structured, batch and binary mode) and from any process that publishes
// on the NATS subjects gaffer.>, and keeps them in the JetStream stream
// GAFFER_EVENTS. It lets people find events again: a list, newest first,
// filtered by type, source, time range and a CEL expression, and a live
// tail over server-sent events. It runs rules: a CEL condition over the
// event (type, source, subject, id, time, data.*, ext.*) and a list of
// actions — POST the event to a webhook with retries and a dead-letter
// list, publish a derived event, enqueue a job another system handles
// (start a runbook), or suppress duplicates and storms. And it answers
// "what would this rule have done?" by replaying a rule over a past time
// range without acting.
//
// The seed system is the event-driven platform of Netflix's orchestration
// team, described in "Python at Netflix": event streams from many systems
// combined into one tool that defines conditions to filter events, react to
// them, or route them. Alerts, runbooks and failover speak through it.
//
// The anchors it measures itself against are Argo Events (event sources,
// sensors with dependencies and triggers with retry strategies), StackStorm
// rules (trigger, criteria, action; the model of Netflix's Winston) and
// Knative Eventing (brokers and triggers with CloudEvents attribute filters,
// delivery specs with retries, backoff and dead-letter sinks).
//
// How it works (one shared durable consumer, at-least-once processing,
// the rule index) is in docs/events.md.
package events
