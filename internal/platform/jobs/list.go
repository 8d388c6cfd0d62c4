package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// States a job can be in.
const (
	StateAvailable = string(rivertype.JobStateAvailable)
	StateScheduled = string(rivertype.JobStateScheduled)
	StateRunning   = string(rivertype.JobStateRunning)
	StateRetryable = string(rivertype.JobStateRetryable)
	StateCompleted = string(rivertype.JobStateCompleted)
	StateDiscarded = string(rivertype.JobStateDiscarded)
	StateCancelled = string(rivertype.JobStateCancelled)
	StatePending   = string(rivertype.JobStatePending)
)

// AllStates lists every state, in the order the jobs page shows them.
var AllStates = []string{StateRunning, StateAvailable, StateScheduled, StateRetryable, StatePending,
	StateCompleted, StateDiscarded, StateCancelled}

// DeadStates are the states of the dead list: jobs that will not run again
// unless retried by hand.
var DeadStates = []string{StateDiscarded, StateCancelled}

// AttemptError is one failed attempt of a job.
type AttemptError struct {
	At      time.Time `json:"at"`
	Attempt int       `json:"attempt"`
	Error   string    `json:"error"`
}

// Info describes a job for the API and UI.
type Info struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind"`
	Queue       string          `json:"queue"`
	State       string          `json:"state"`
	Args        json.RawMessage `json:"args"`
	Attempt     int             `json:"attempt"`
	MaxAttempts int             `json:"max_attempts"`
	Priority    int             `json:"priority"`
	Tags        []string        `json:"tags,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	ScheduledAt time.Time       `json:"scheduled_at"`
	AttemptedAt *time.Time      `json:"attempted_at,omitempty"`
	FinalizedAt *time.Time      `json:"finalized_at,omitempty"`
	Errors      []AttemptError  `json:"errors,omitempty"`
}

func infoFrom(r *rivertype.JobRow) Info {
	in := Info{ID: r.ID, Kind: r.Kind, Queue: r.Queue, State: string(r.State), Args: json.RawMessage(r.EncodedArgs),
		Attempt: r.Attempt, MaxAttempts: r.MaxAttempts, Priority: r.Priority, Tags: r.Tags,
		CreatedAt: r.CreatedAt, ScheduledAt: r.ScheduledAt, AttemptedAt: r.AttemptedAt, FinalizedAt: r.FinalizedAt}
	for _, e := range r.Errors {
		in.Errors = append(in.Errors, AttemptError{At: e.At, Attempt: e.Attempt, Error: e.Error})
	}
	return in
}

// ListFilter selects jobs.
type ListFilter struct {
	States []string
	Kinds  []string
	Limit  int
	// Cursor continues a previous listing (from ListResult.Next).
	Cursor string
}

// ListResult is one page of jobs, newest first.
type ListResult struct {
	Jobs []Info
	// Next is the cursor of the next page, or "".
	Next string
}

// List returns jobs, newest first.
func (q *Queue) List(ctx context.Context, f ListFilter) (ListResult, error) {
	client, err := q.riverClient()
	if err != nil {
		return ListResult{}, err
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	params := river.NewJobListParams().First(f.Limit).OrderBy(river.JobListOrderByID, river.SortOrderDesc)
	if len(f.States) > 0 {
		states := make([]rivertype.JobState, 0, len(f.States))
		for _, s := range f.States {
			if !ValidState(s) {
				return ListResult{}, fmt.Errorf("state %q: want one of %v", s, AllStates)
			}
			states = append(states, rivertype.JobState(s))
		}
		params = params.States(states...)
	}
	if len(f.Kinds) > 0 {
		params = params.Kinds(f.Kinds...)
	}
	if f.Cursor != "" {
		var cur river.JobListCursor
		if err := cur.UnmarshalText([]byte(f.Cursor)); err != nil {
			return ListResult{}, fmt.Errorf("cursor: malformed: %w", err)
		}
		params = params.After(&cur)
	}
	res, err := client.JobList(ctx, params)
	if err != nil {
		return ListResult{}, fmt.Errorf("jobs: list: %w", err)
	}
	out := ListResult{Jobs: make([]Info, 0, len(res.Jobs))}
	for _, j := range res.Jobs {
		out.Jobs = append(out.Jobs, infoFrom(j))
	}
	if len(res.Jobs) == f.Limit && res.LastCursor != nil {
		b, err := res.LastCursor.MarshalText()
		if err == nil {
			out.Next = string(b)
		}
	}
	return out, nil
}

// ValidCursor reports whether c is a cursor List can continue from.
func ValidCursor(c string) bool {
	var cur river.JobListCursor
	return cur.UnmarshalText([]byte(c)) == nil
}

// ValidState reports whether s is a job state.
func ValidState(s string) bool {
	for _, v := range AllStates {
		if v == s {
			return true
		}
	}
	return false
}

// ErrNotFound is returned for an unknown job ID.
var ErrNotFound = errors.New("job not found")

// Get returns one job.
func (q *Queue) Get(ctx context.Context, id int64) (Info, error) {
	client, err := q.riverClient()
	if err != nil {
		return Info{}, err
	}
	r, err := client.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return Info{}, fmt.Errorf("job %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Info{}, fmt.Errorf("jobs: get %d: %w", id, err)
	}
	return infoFrom(r), nil
}

// Retry makes a finished or waiting job available to run now (re-driving
// a job from the dead list).
func (q *Queue) Retry(ctx context.Context, id int64) (Info, error) {
	client, err := q.riverClient()
	if err != nil {
		return Info{}, err
	}
	r, err := client.JobRetry(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return Info{}, fmt.Errorf("job %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Info{}, fmt.Errorf("jobs: retry %d: %w", id, err)
	}
	return infoFrom(r), nil
}

// CancelJob stops a job: a waiting one never runs, a running one has its
// context cancelled.
func (q *Queue) CancelJob(ctx context.Context, id int64) (Info, error) {
	client, err := q.riverClient()
	if err != nil {
		return Info{}, err
	}
	r, err := client.JobCancel(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return Info{}, fmt.Errorf("job %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Info{}, fmt.Errorf("jobs: cancel %d: %w", id, err)
	}
	return infoFrom(r), nil
}
