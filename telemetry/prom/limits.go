package prom

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gaffer-sre/gaffer/internal/platform/gate"
)

// Limits bound what PromQL queries may take from the process, so that no
// query, and no few queries together, can exhaust its memory. The
// samples a query may hold at once are the engine's (promql.EngineOpts
// MaxSamples); these add what the engine lacks.
type Limits struct {
	// MaxConcurrent is how many queries are evaluated at once
	// (--metrics-query-max-concurrency); more wait for a slot.
	MaxConcurrent int
	// QueueTimeout is the longest a query waits for a slot
	// (--metrics-query-queue-timeout) before it fails.
	QueueTimeout time.Duration
	// MaxSubquerySteps is the most steps one subquery may evaluate
	// (--metrics-query-max-subquery-steps): its range, the ranges of the
	// subqueries around it and the query's own span, over its step.
	MaxSubquerySteps int64
	// SubqueryStep is the step of a subquery that names none; it must
	// match the engine's NoStepSubqueryIntervalFn.
	SubqueryStep time.Duration
}

// DefaultLimits are the limits a server uses unless its flags say
// otherwise: 4 queries at once (with the default 5,000,000 samples, a
// query stopped at the samples limit has held about 350 MB, so four stay
// under 1.5 GB), a 30 s queue, 1,000,000 steps per subquery at a default
// step of 1 minute.
func DefaultLimits() Limits {
	return Limits{MaxConcurrent: 4, QueueTimeout: 30 * time.Second, MaxSubquerySteps: 1_000_000, SubqueryStep: time.Minute}
}

// Validate reports a limit that is not positive, naming its flag.
func (l Limits) Validate() error {
	switch {
	case l.MaxConcurrent <= 0:
		return fmt.Errorf("metrics-query-max-concurrency: must be positive, got %d", l.MaxConcurrent)
	case l.QueueTimeout <= 0:
		return fmt.Errorf("metrics-query-queue-timeout: must be positive, got %v", l.QueueTimeout)
	case l.MaxSubquerySteps <= 0:
		return fmt.Errorf("metrics-query-max-subquery-steps: must be positive, got %d", l.MaxSubquerySteps)
	case l.SubqueryStep <= 0:
		return errors.New("prom: Limits.SubqueryStep must be positive")
	}
	return nil
}

// LimitError is a query too large to run. Limit names the flag that sets
// the limit. (A query that waited too long for a slot fails with a
// *gate.BusyError.)
type LimitError struct {
	Limit  string
	Detail string
}

// Error implements error.
func (e *LimitError) Error() string { return e.Detail + " (limit: --" + e.Limit + ")" }

// Limiter admits PromQL queries under Limits. It is safe for concurrent
// use; one Limiter serves every query path of a process.
type Limiter struct {
	limits Limits
	gate   *gate.Gate
	parser parser.Parser
}

// NewLimiter returns a Limiter for l, which must be valid.
func NewLimiter(l Limits) *Limiter {
	return &Limiter{limits: l, parser: parser.NewParser(parser.Options{}),
		gate: gate.New(l.MaxConcurrent, l.QueueTimeout, "metrics-query-max-concurrency", "metrics-query-queue-timeout")}
}

// Admit checks query, to be evaluated from start to end (equal for an
// instant query), against the limits, then waits for a slot: until one
// is free, ctx ends or the queue timeout passes. It returns the function
// that frees the slot, which the caller must call when the query is done.
// A query too large fails with a *LimitError, one that waited too long
// with a *gate.BusyError. A query that does not parse is admitted; the
// engine reports its error.
func (l *Limiter) Admit(ctx context.Context, query string, start, end time.Time) (release func(), err error) {
	if expr, err := l.parser.ParseExpr(query); err == nil {
		if err := l.checkSubqueries(expr, end.Sub(start)); err != nil {
			return nil, err
		}
	}
	return l.gate.Enter(ctx)
}

// checkSubqueries refuses a query with a subquery that evaluates more
// than MaxSubquerySteps steps. A subquery is evaluated once over the
// query's span widened by its range and those of the subqueries around
// it.
func (l *Limiter) checkSubqueries(expr parser.Expr, span time.Duration) error {
	var walk func(n parser.Node, window time.Duration) error
	walk = func(n parser.Node, window time.Duration) error {
		if sq, ok := n.(*parser.SubqueryExpr); ok {
			window += sq.Range
			step := sq.Step
			if step <= 0 {
				step = l.limits.SubqueryStep
			}
			if steps := int64(window / step); steps > l.limits.MaxSubquerySteps {
				return &LimitError{Limit: "metrics-query-max-subquery-steps",
					Detail: fmt.Sprintf("subquery %s would evaluate %d steps (a window of %v at %v), more than %d; use a longer step or a shorter range",
						truncateQuery(sq.String()), steps, window, step, l.limits.MaxSubquerySteps)}
			}
		}
		for _, c := range parser.Children(n) {
			if err := walk(c, window); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(expr, span)
}

func truncateQuery(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
