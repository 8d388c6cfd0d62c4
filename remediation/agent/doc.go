// Package agent is Gaffer's host agent (Bolt), run as `gaffer agent`: it
// runs, on the server's request, only the actions declared in its actions
// directory — each a manifest (name, version, JSON Schema of its
// parameters, timeout, output cap, user to run as) and an executable — and
// reports their output live and their results until acknowledged.
//
// The server can never send a command: it names a declared action and
// parameters, which are checked against the action's schema and passed as
// separate arguments and environment variables, never through a shell. An
// action runs in its own process group with a scrubbed environment; on
// timeout or cancellation the whole group is killed; output beyond the cap
// is dropped. Bundles of actions can be distributed from the server, but
// the host accepts only those whose SHA-256 its bundles.lock lists.
//
// The agent connects to NATS as user "agent:<name>" with its Gaffer
// token; the server grants that user only the agent's own subjects
// (ToAgent and FromAgent). This file's protocol types are shared with the
// server.
package agent
