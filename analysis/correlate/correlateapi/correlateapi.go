// Package correlateapi is the leaf package of the correlate system: its
// name, scopes, the request and report types of its API, and the Go API
// other systems (alerting) call, without importing the system itself.
package correlateapi

import (
	"context"
	"time"

	"github.com/gaffer-sre/gaffer/analysis/correlate/rank"
	"github.com/gaffer-sre/gaffer/internal/platform"
)

// Name is the correlate system's module and role name.
const Name = "correlate"

func init() { platform.Declare(Name, ReadScope, WriteScope) }

// Scopes of the correlate routes.
const (
	ReadScope  = "analysis:read"
	WriteScope = "analysis:write"
)

// Analyzer is the correlate system's Go API.
type Analyzer interface {
	// Analyze starts an analysis on behalf of by and returns its report id.
	Analyze(ctx context.Context, req Request, by string) (string, error)
	// Reports lists reports, newest first, without their summaries.
	Reports(ctx context.Context, f Filter) ([]Report, error)
}

// From returns the correlate system running in this process, or an error
// saying it is not running.
func From(d *platform.Deps) (Analyzer, error) {
	return platform.LookupAs[Analyzer](d, Name)
}

// Query is a query of series in either language.
type Query struct {
	// Query is a PromQL expression or an Atlas program.
	Query string `json:"query"`
	// Engine is promql (default) or atlas.
	Engine string `json:"engine,omitempty"`
	// Labels, for the target, pick the one series whose labels include
	// them among the query's results.
	Labels map[string]string `json:"labels,omitempty"`
}

// Request asks for an analysis: rank the candidates by how they moved
// with the target during the anomaly window [Start, End).
type Request struct {
	Target     Query     `json:"target"`
	Candidates Query     `json:"candidates"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	// Lookback is the history read before Start (default 6h).
	Lookback string `json:"lookback,omitempty"`
	// Step is the grid's step (default 1m).
	Step string `json:"step,omitempty"`
	// Params tune the ranking (analysis/correlate's defaults otherwise).
	Params rank.Params `json:"params,omitempty"`
	// Top is how many candidates the report explains (default 20).
	Top int `json:"top,omitempty"`
	// ShardSize is how many candidates one job scores (default from
	// --analysis-shard-size).
	ShardSize int `json:"shard_size,omitempty"`
	// Mode is jobs (default: shards on the job queue, shared by every
	// gaffer worker) or local (every shard in this process).
	Mode string `json:"mode,omitempty"`
	// Title names the report; default the target's query.
	Title string `json:"title,omitempty"`
	// Alert links the report to the alert that started it.
	Alert *AlertRef `json:"alert,omitempty"`
}

// AlertRef names an alert.
type AlertRef struct {
	RuleID      string `json:"rule_id"`
	Fingerprint string `json:"fingerprint"`
	Name        string `json:"name,omitempty"`
}

// Modes of running an analysis.
const (
	ModeJobs  = "jobs"
	ModeLocal = "local"
)

// Report statuses.
const (
	StatusPreparing = "preparing"
	StatusRunning   = "running"
	StatusComplete  = "complete"
	StatusFailed    = "failed"
)

// Report is an analysis: its request, progress and, once complete, its
// summary.
type Report struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Status      string     `json:"status"`
	Error       string     `json:"error,omitempty"`
	Request     Request    `json:"request"`
	Shards      int        `json:"shards"`
	ShardsDone  int        `json:"shards_done"`
	Candidates  int        `json:"candidates"`
	CreatedBy   string     `json:"created_by,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	Summary     *Summary   `json:"summary,omitempty"`
}

// Summary is what a complete report found.
type Summary struct {
	// Times are the grid's times (unix seconds), StepSeconds its step.
	Times       []float64 `json:"times"`
	StepSeconds float64   `json:"step_seconds"`
	Target      Target    `json:"target"`
	// Results are the best candidates, best first, explained.
	Results []Result `json:"results"`
	// FirstMover is the first of them to change near the onset.
	FirstMover *Mover `json:"first_mover,omitempty"`
	// Workers are the processes that scored shards.
	Workers []string `json:"workers"`
	// Excluded counts candidates left out: without data, or the target
	// itself.
	Excluded int `json:"excluded"`
}

// Target is the analysed series and where it moved.
type Target struct {
	Labels  map[string]string `json:"labels"`
	Values  rank.Values       `json:"values"`
	Onset   time.Time         `json:"onset"`
	From    time.Time         `json:"from"`
	Change  float64           `json:"change"`
	ChangeZ float64           `json:"change_z"`
}

// Result is one explained candidate.
type Result struct {
	Rank        int               `json:"rank"`
	Labels      map[string]string `json:"labels"`
	Score       float64           `json:"score"`
	MovedAt     *time.Time        `json:"moved_at,omitempty"`
	Features    rank.Features     `json:"features"`
	Explanation rank.Explanation  `json:"explanation"`
	Values      rank.Values       `json:"values"`
}

// Mover is the first signal that moved.
type Mover struct {
	Labels map[string]string `json:"labels"`
	At     time.Time         `json:"at"`
	// Lead is how long before the target's onset it moved (negative:
	// after).
	Lead string `json:"lead"`
}

// Filter selects reports.
type Filter struct {
	RuleID      string
	Fingerprint string
	// Before pages by creation time (exclusive); zero for the newest.
	Before time.Time
	Limit  int
}

// Ranked is one candidate of the full ranking.
type Ranked struct {
	Rank   int               `json:"rank"`
	Labels map[string]string `json:"labels"`
	Score  float64           `json:"score"`
}
