package events

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/celbudget"
	"github.com/gaffer-sre/gaffer/telemetry/spectator"
)

// RuleStats count what a rule did in this process since it started (or
// since the rule last changed).
type RuleStats struct {
	Matched     int64      `json:"matched"`
	LastMatched *time.Time `json:"last_matched,omitempty"`
	// EvalErrors counts events for which the condition could not be
	// evaluated (a missing field, a type mismatch): they do not match.
	EvalErrors    int64  `json:"eval_errors"`
	LastEvalError string `json:"last_eval_error,omitempty"`
	// BudgetExceeded counts evaluations of the condition or of an action's
	// expression stopped by the CEL budget (cost, size or time); they are
	// among EvalErrors or ActionErrors too.
	BudgetExceeded int64 `json:"budget_exceeded"`
	// ActionErrors counts actions that failed for good (dead letters).
	ActionErrors int64 `json:"action_errors"`
	Suppressed   int64 `json:"suppressed"`
}

type ruleStats struct {
	matched      atomic.Int64
	lastMatched  atomic.Int64 // unix nanoseconds
	evalErrors   atomic.Int64
	actionErrors atomic.Int64
	suppressed   atomic.Int64
	// budgetExceeded counts evaluations stopped by the CEL budget; every
	// one also increments exceeded, the process's self-metric (nil in
	// tests that do not look at it).
	budgetExceeded atomic.Int64
	exceeded       *spectator.Counter

	mu      sync.Mutex
	lastErr string
}

func (s *ruleStats) evalError(err error) {
	s.countBudget(err)
	if s.evalErrors.Add(1)%64 != 1 {
		return // keep the hot path cheap under a storm of errors
	}
	s.mu.Lock()
	s.lastErr = err.Error()
	s.mu.Unlock()
}

// actionError counts an action that failed for good.
func (s *ruleStats) actionError(err error) {
	s.countBudget(err)
	s.actionErrors.Add(1)
}

// countBudget counts err if the CEL budget stopped an evaluation.
func (s *ruleStats) countBudget(err error) {
	if !errors.Is(err, celbudget.ErrExceeded) {
		return
	}
	s.budgetExceeded.Add(1)
	if s.exceeded != nil {
		s.exceeded.Increment()
	}
}

func (s *ruleStats) match(now time.Time) {
	s.matched.Add(1)
	s.lastMatched.Store(now.UnixNano())
}

func (s *ruleStats) snapshot() *RuleStats {
	out := &RuleStats{Matched: s.matched.Load(), EvalErrors: s.evalErrors.Load(),
		ActionErrors: s.actionErrors.Load(), Suppressed: s.suppressed.Load(),
		BudgetExceeded: s.budgetExceeded.Load()}
	if ns := s.lastMatched.Load(); ns != 0 {
		t := time.Unix(0, ns).UTC()
		out.LastMatched = &t
	}
	s.mu.Lock()
	out.LastEvalError = s.lastErr
	s.mu.Unlock()
	return out
}
