package correlate

import (
	"fmt"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/analysis/correlate/query"
	"github.com/gaffer-sre/gaffer/analysis/correlate/rank"
)

// Limits of a request.
const (
	maxLookback = 7 * 24 * time.Hour
	maxPoints   = 20_000
	maxTop      = 200
	maxQuery    = 16 << 10
)

// resolved is a validated request with its grid.
type resolved struct {
	Request
	grid   query.Grid
	window rank.Window
}

// resolve checks r and computes its grid: Lookback before Start to End,
// on multiples of Step; the window is the grid's part from Start on.
func resolveRequest(r Request, defaultShard int, now time.Time) (resolved, error) {
	out := resolved{Request: r}
	bad := func(f string, a ...any) (resolved, error) { return out, fmt.Errorf(f, a...) }
	for name, q := range map[string]*Query{"target": &out.Target, "candidates": &out.Candidates} {
		q.Query = strings.TrimSpace(q.Query)
		if q.Query == "" {
			return bad("%s.query: required", name)
		}
		if len(q.Query) > maxQuery {
			return bad("%s.query: longer than %d bytes", name, maxQuery)
		}
		if q.Engine == "" {
			q.Engine = query.PromQL
		}
		if err := query.Check(q.Engine, q.Query); err != nil {
			return bad("%s.query: %v", name, err)
		}
	}
	lookback, step := 6*time.Hour, time.Minute
	var err error
	if r.Lookback != "" {
		if lookback, err = time.ParseDuration(r.Lookback); err != nil || lookback <= 0 || lookback > maxLookback {
			return bad("lookback: want a duration between 1s and %s, got %q", maxLookback, r.Lookback)
		}
	}
	if r.Step != "" {
		if step, err = time.ParseDuration(r.Step); err != nil || step < time.Second {
			return bad("step: want a duration of at least 1s, got %q", r.Step)
		}
	}
	if r.Start.IsZero() || r.End.IsZero() || !r.End.After(r.Start) {
		return bad("start and end: required, end after start")
	}
	if r.End.After(now.Add(time.Minute)) {
		return bad("end: %s is in the future", r.End.Format(time.RFC3339))
	}
	first := query.AlignDown(r.Start.Add(-lookback), step)
	last := query.AlignDown(r.End, step)
	n := int(last.Sub(first)/step) + 1
	if n > maxPoints {
		return bad("lookback, start, end and step give %d points, more than %d; use a larger step", n, maxPoints)
	}
	out.grid = query.Grid{Start: first, Step: step, N: n}
	out.window = rank.Window{Start: int(query.AlignDown(r.Start, step).Sub(first) / step), End: n}
	out.Lookback, out.Step = lookback.String(), step.String()
	if r.Top < 0 || r.Top > maxTop {
		return bad("top: must be between 1 and %d", maxTop)
	}
	if out.Top == 0 {
		out.Top = 20
	}
	if r.ShardSize < 0 {
		return bad("shard_size: must be positive")
	}
	if out.ShardSize == 0 {
		out.ShardSize = defaultShard
	}
	switch r.Mode {
	case "":
		out.Mode = ModeJobs
	case ModeJobs, ModeLocal:
	default:
		return bad("mode: %q is not jobs or local", r.Mode)
	}
	if out.Title == "" {
		out.Title = out.Target.Query
	}
	if len(out.Title) > 300 {
		out.Title = out.Title[:300]
	}
	if _, err := rank.NewTarget(make([]float64, n), out.window, r.Params); err != nil {
		return bad("%v", err)
	}
	return out, nil
}
