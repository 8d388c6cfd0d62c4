// Package celbudget bounds the evaluation of CEL expressions that users
// write (event rule conditions and transforms, runbook templates). Every
// CEL program in Gaffer is planned through it and gets three limits:
//
//   - a cost limit (cel.CostLimit: CEL's abstract units, about one per
//     operation and one per ten bytes a string or list operation touches),
//     also checked against the type checker's estimate when the expression
//     is compiled;
//   - a size limit on every value the evaluation builds or reads (strings
//     count one unit per byte, lists and maps one per element plus their
//     elements' sizes), checked before replace and split allocate — the
//     two functions whose result can be much larger than their inputs —
//     and after every other step by CEL's memory tracker;
//   - a time limit per evaluation, checked every InterruptEvery iterations
//     of a comprehension (cel.InterruptCheckFrequency).
//
// An evaluation over any of them stops with an *ExceededError naming the
// limit.
package celbudget

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"
)

// InterruptEvery is how many comprehension iterations run between checks
// of an evaluation's deadline.
const InterruptEvery = 100

// Budget is the most one evaluation of a CEL program may spend.
type Budget struct {
	// Cost is the most CEL cost units one evaluation may spend.
	Cost uint64
	// MaxSize is the largest value one evaluation may build or read, in
	// size units: one per byte of a string, one per element of a list or
	// map plus the sizes of its elements.
	MaxSize uint32
	// Timeout bounds the wall time of one evaluation.
	Timeout time.Duration
}

// Default returns the budget a system uses unless its settings say
// otherwise: 1,000,000 cost units (a few milliseconds of work), 8 MiB
// (the largest event the bus carries), 250 ms.
func Default() Budget {
	return Budget{Cost: 1_000_000, MaxSize: 8 << 20, Timeout: 250 * time.Millisecond}
}

// Validate reports a budget with a zero limit; prefix names its flags.
func (b Budget) Validate(prefix string) error {
	switch {
	case b.Cost == 0:
		return fmt.Errorf("%s-cel-cost-limit: must be positive", prefix)
	case b.MaxSize == 0:
		return fmt.Errorf("%s-cel-max-size: must be positive", prefix)
	case b.Timeout <= 0:
		return fmt.Errorf("%s-cel-timeout: must be positive, got %v", prefix, b.Timeout)
	}
	return nil
}

// ErrExceeded matches every *ExceededError with errors.Is.
var ErrExceeded = errors.New("CEL evaluation budget exceeded")

// ExceededError is an evaluation stopped by its budget.
type ExceededError struct {
	// Limit is "cost", "size" or "time".
	Limit string
	// Max is the limit's value: cost units, size units or a duration.
	Max string
	// Detail says what went over, when known.
	Detail string
}

// Error implements error.
func (e *ExceededError) Error() string {
	s := fmt.Sprintf("CEL %s limit of %s exceeded", e.Limit, e.Max)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Is makes errors.Is(err, ErrExceeded) true.
func (e *ExceededError) Is(target error) bool { return target == ErrExceeded }

func (b Budget) costExceeded(detail string) *ExceededError {
	return &ExceededError{Limit: "cost", Max: fmt.Sprintf("%d units", b.Cost), Detail: detail}
}

func (b Budget) sizeExceeded(detail string) *ExceededError {
	return &ExceededError{Limit: "size", Max: fmt.Sprintf("%d units", b.MaxSize), Detail: detail}
}

// Program is a CEL program planned with a budget. It is safe for
// concurrent use.
type Program struct {
	prg    cel.Program
	budget Budget
	shape  shape
	// costTracked and sizeTracked say whether evaluations count their
	// cost and measure the values they build (see Budget.Program).
	costTracked, sizeTracked bool
	// Estimate is the type checker's estimate of one evaluation's cost.
	Estimate cost.CostEstimate
}

// Program plans a checked ast of env, which must have been built with
// EnvOptions, under the budget. It refuses an expression that the type
// checker says always costs more than the budget.
//
// The limits are checked while the program runs unless they are proven
// when it is planned, which keeps the common cheap condition as fast as
// without a budget: the cost limit when CEL's estimate of the most the
// expression can cost, with every variable as large as the size limit, is
// within it (the estimate is an upper bound; Kubernetes admits
// expressions on it); the size limit when the expression has no
// comprehension and calls only functions whose result is no larger than
// their arguments (nonGrowing).
func (b Budget) Program(env *cel.Env, ast *cel.Ast, opts ...cel.ProgramOption) (*Program, error) {
	est, err := env.EstimateCost(ast, sizeEstimator{max: uint64(b.MaxSize)})
	if err != nil {
		return nil, fmt.Errorf("estimate cost: %w", err)
	}
	if est.Min > b.Cost {
		return nil, b.costExceeded(fmt.Sprintf("the expression costs at least %d units", est.Min))
	}
	p := &Program{budget: b, Estimate: est, shape: shapeOf(ast)}
	p.costTracked = est.Max > b.Cost || p.shape.loops
	p.sizeTracked = p.shape.grows || p.shape.loops
	if p.costTracked {
		opts = append(opts, cel.CostLimit(b.Cost), cel.InterruptCheckFrequency(InterruptEvery))
	}
	if p.sizeTracked {
		calc := types.NewSizeCalculator(
			// Each node counts at least one unit: a value with more nodes
			// than MaxSize is over the limit anyway.
			types.SizeCalculatorMaxTraversal(int(min(b.MaxSize, 1<<30))+1),
			types.SizeCalculatorMaxDepth(1000),
			types.SizeCalculatorStringUnitLength(1))
		opts = append(opts,
			cel.MemoryTracking(types.MemoryTrackerSizeCalculator(calc)),
			cel.MemoryLimit(b.MaxSize))
	}
	if p.prg, err = env.Program(ast, opts...); err != nil {
		return nil, err
	}
	return p, nil
}

// Eval evaluates the program for vars (an interpreter.Activation or a map
// of variables) within the budget's timeout and ctx. An evaluation stopped
// by the budget returns an *ExceededError; other errors are CEL's.
//
// An expression without a comprehension is bounded by the cost limit
// alone (CEL checks for interrupts only between a comprehension's
// iterations), so it is evaluated without a deadline, which costs a timer
// per call.
func (p *Program) Eval(ctx context.Context, vars any) (ref.Val, error) {
	if !p.shape.loops {
		out, _, err := p.prg.Eval(vars)
		if err != nil {
			return nil, p.classify(ctx, err)
		}
		return out, nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.budget.Timeout)
	defer cancel()
	out, _, err := p.prg.ContextEval(ctx, vars)
	if err != nil {
		return nil, p.classify(ctx, err)
	}
	return out, nil
}

// classify turns CEL's cancellation errors into *ExceededError.
func (p *Program) classify(ctx context.Context, err error) error {
	var exceeded *ExceededError
	if errors.As(err, &exceeded) {
		return exceeded
	}
	var cancelled interpreter.EvalCancelledError
	if errors.As(err, &cancelled) {
		switch cancelled.Cause {
		case interpreter.CostLimitExceeded:
			return p.budget.costExceeded("")
		case interpreter.MemoryLimitExceeded:
			return p.budget.sizeExceeded("a value built or read is larger")
		}
	}
	if errors.Is(err, context.DeadlineExceeded) && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &ExceededError{Limit: "time", Max: p.budget.Timeout.String()}
	}
	return err
}

// sizeEstimator tells the cost estimator that no variable is larger than
// the budget's size limit (a larger one fails when it is read).
type sizeEstimator struct{ max uint64 }

func (e sizeEstimator) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	if len(n.Path()) == 0 {
		return nil
	}
	return &cost.SizeEstimate{Min: 0, Max: e.max}
}

func (sizeEstimator) EstimateCallCost(string, string, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
	return nil
}
