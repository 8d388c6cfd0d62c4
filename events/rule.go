package events

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Rule is a condition over events and the actions to take when it holds.
type Rule struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Condition   string   `json:"condition"`
	Actions     []Action `json:"actions"`
	Enabled     bool     `json:"enabled"`
	// Version increases with every change.
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	CreatedBy string    `json:"created_by,omitempty"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	// Index tells how the rule index files the rule: the keys an event
	// must hit for the condition to be evaluated, or "every event".
	Index string `json:"index,omitempty"`
	// Stats count what the rule did since the server started.
	Stats *RuleStats `json:"stats,omitempty"`
}

// RuleSpec is what a client sends to create or replace a rule.
type RuleSpec struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Condition   string   `json:"condition"`
	Actions     []Action `json:"actions"`
	// Enabled defaults to true.
	Enabled *bool `json:"enabled,omitempty"`
}

// Action types.
const (
	ActionWebhook  = "webhook"
	ActionPublish  = "publish"
	ActionJob      = "job"
	ActionSuppress = "suppress"
)

// Action is one step a rule takes for a matching event. Actions run in
// order; a suppress action stops the ones after it for events it
// suppresses.
type Action struct {
	// Type is webhook, publish, job, runbook or suppress.
	Type string `json:"type"`

	// URL (webhook) receives the event as a structured-mode CloudEvent.
	URL string `json:"url,omitempty"`
	// Timeout (webhook) of one delivery attempt; default 5s, at most 60s.
	Timeout string `json:"timeout,omitempty"`
	// MaxAttempts (webhook) before the delivery is dead-lettered; default
	// 8, at most 50.
	MaxAttempts int `json:"max_attempts,omitempty"`
	// Backoff (webhook) is the delay before the second attempt; it doubles
	// for each further attempt, up to 10 minutes. Default 1s.
	Backoff string `json:"backoff,omitempty"`

	// EventType (publish) is the type of the derived event.
	EventType string `json:"event_type,omitempty"`
	// Source (publish) of the derived event; default
	// /gaffer/events/rules/<rule id>.
	Source string `json:"source,omitempty"`
	// Subject (publish) is a CEL expression for the derived event's
	// subject; default the original subject.
	Subject string `json:"subject,omitempty"`
	// Data (publish) is a CEL expression for the derived event's data;
	// default the original data.
	Data string `json:"data,omitempty"`

	// Kind (job) is the job kind to enqueue, registered by another system.
	Kind string `json:"kind,omitempty"`
	// Args (job) is a CEL expression for the job's arguments (a map);
	// default {"event": <the event>, "rule_id": ..., "rule_name": ...}.
	Args string `json:"args,omitempty"`

	// Runbook (runbook) names the runbook to start; Params is a CEL
	// expression for its parameters (a map), Env the environment whose
	// version runs (default prod's, else the latest).
	Runbook string `json:"runbook,omitempty"`
	Params  string `json:"params,omitempty"`
	Env     string `json:"env,omitempty"`

	// Key (suppress) is a CEL expression grouping events; events with the
	// same key share a budget. Default: one group for the rule.
	Key string `json:"key,omitempty"`
	// Window (suppress) is how long a budget lasts, from the first event
	// of the group (e.g. "10m").
	Window string `json:"window,omitempty"`
	// Limit (suppress) is how many events of a group pass per window;
	// default 1 (deduplication).
	Limit int `json:"limit,omitempty"`
}

// Limits on rules.
const (
	maxNameLength      = 100
	maxDescription     = 2000
	maxActions         = 16
	defaultTimeout     = 5 * time.Second
	maxTimeout         = 60 * time.Second
	defaultMaxAttempts = 8
	maxAttempts        = 50
	defaultBackoff     = time.Second
	minBackoff         = 10 * time.Millisecond
	maxBackoff         = 10 * time.Minute
	maxWindow          = 30 * 24 * time.Hour
)

// ValidationError is a rule that cannot be saved; Field names the part at
// fault (e.g. "actions[1].url").
type ValidationError struct {
	Field   string
	Message string
}

// Error implements error.
func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

func validateName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return invalid("name", "required")
	case len(name) > maxNameLength:
		return invalid("name", "longer than %d bytes", maxNameLength)
	case !utf8.ValidString(name):
		return invalid("name", "not valid UTF-8")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return invalid("name", "must not contain control characters")
	}
	return nil
}

// parseDuration reads an optional duration field within bounds.
func parseDuration(field, s string, def, lo, hi time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, invalid(field, "want a duration such as \"5s\" or \"10m\", got %q", s)
	}
	if d < lo || d > hi {
		return 0, invalid(field, "%s is outside %s..%s", d, lo, hi)
	}
	return d, nil
}
