// Package sel translates the expressions of Maestro workflow definitions,
// written in SEL (Maestro's subset of Java), to CEL and evaluates them
// under the platform's CEL cost budget (internal/platform/celbudget).
//
// Compile reads a SEL expression or statement list — literals, Java
// arithmetic and comparisons, local variables, if/else with return and
// throw, params.get and the other params functions, Maestro's Util
// functions, string and array methods, UUID and the subset of Joda-Time
// that Maestro's samples use — and produces one CEL expression. Anything
// it cannot translate is refused with an *Error naming the construct and
// its position; a program that compiles fails at run time only the way
// the SEL expression would (a missing param, a division by zero, a
// throw) or when it exceeds its budget. docs/workflow-sel.md has the
// mapping.
package sel

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"cel.dev/cel-go/cel"

	"github.com/gaffer-sre/gaffer/internal/platform/celbudget"
)

// Scope is what an expression can read, implemented by the workflow engine.
type Scope interface {
	// Lookup resolves a bare identifier: a param of the step, of the workflow, or a loop param (foreach).
	Lookup(name string) (any, bool)
	Param(name string) (any, error)              // params.get('x')
	FromStep(step, name string) (any, error)     // params.getFromStep(step, name)
	FromInstance(name string) (any, error)       // params.getFromInstance(name)
	FromSignal(signal, name string) (any, error) // params.getFromSignal(signal, name)
}

// SignalDependencyScope is a Scope that also knows the signals a step
// waited for (its signal dependencies), which
// params.getFromSignalDependency(index, name) reads. An expression that
// calls it on a Scope without the method fails when it runs.
type SignalDependencyScope interface {
	Scope
	// FromSignalDependency returns param name of the signal that
	// satisfied the step's signal dependency at index (from 0).
	FromSignalDependency(index int, name string) (any, error)
}

// ForeachScope is a Scope that can read the iterations of a foreach step,
// which params.getFromForeach(foreach, step, name) does. An expression
// that calls it on a Scope without the method fails when it runs.
type ForeachScope interface {
	Scope
	// FromForeach returns param name of step in every iteration of the
	// foreach step, as an array in the order of the iterations.
	FromForeach(foreach, step, name string) (any, error)
}

// SubworkflowScope is a Scope that can read the steps of the instance a
// subworkflow step started, which params.getFromSubworkflow(subworkflow,
// step, name) does. An expression that calls it on a Scope without the
// method fails when it runs.
type SubworkflowScope interface {
	Scope
	// FromSubworkflow returns param name of step (its latest attempt) in
	// the instance the subworkflow step started.
	FromSubworkflow(subworkflow, step, name string) (any, error)
}

// The one-argument forms of params.getFromStep and params.getFromSignal
// read the current step and the signal that started the workflow; they
// call Scope.FromStep and Scope.FromSignal with an empty step or signal.
const (
	CurrentStep      = ""
	TriggeringSignal = ""
)

// Env is what an expression may refer to besides the params functions.
type Env struct {
	// Vars are the bare identifiers that exist (the step's and the
	// workflow's params, loop params); any other identifier is an error
	// at Compile. Scope.Lookup resolves them when the program runs.
	Vars []string
	// Budget bounds every evaluation; the zero Budget means
	// celbudget.Default().
	Budget celbudget.Budget
	// Now is the clock of new DateTime(), DateTime.now(),
	// System.currentTimeMillis() and Util.timeoutFor…Deadline; nil
	// means time.Now.
	Now func() time.Time
}

// Program is a compiled SEL expression. It is safe for concurrent use.
type Program struct {
	src    string
	cel    string
	prg    *celbudget.Program
	budget celbudget.Budget
	now    func() time.Time
	names  map[string]bool // the Env.Vars the expression reads
	steps  map[string]bool // the steps it reads params of
}

// Error is a SEL expression that cannot be compiled: a syntax error or a
// construct that has no CEL translation.
type Error struct {
	Pos
	Msg string
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("SEL: line %d col %d: %s", e.Line, e.Col, e.Msg)
}

func errAt(p Pos, format string, args ...any) *Error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// maxSource bounds the SEL source Compile accepts, in bytes.
const maxSource = 16 << 10

// Compile translates src, a SEL expression or statement list, to CEL and
// plans it under env.Budget. Its error is an *Error for SEL that cannot
// be translated, or names the CEL problem otherwise.
func Compile(src string, env Env) (*Program, error) {
	if len(src) > maxSource {
		return nil, errAt(Pos{1, 1}, "expression is %d bytes, longer than %d", len(src), maxSource)
	}
	budget := env.Budget
	if budget == (celbudget.Budget{}) {
		budget = celbudget.Default()
	}
	if err := budget.Validate("sel"); err != nil {
		return nil, err
	}
	stmts, err := parse(src)
	if err != nil {
		return nil, err
	}
	tr := newTranslator(env.Vars)
	text, err := tr.program(stmts)
	if err != nil {
		return nil, err
	}
	celEnv, err := envs.Get(budget)
	if err != nil {
		return nil, fmt.Errorf("SEL: CEL environment: %w", err)
	}
	var decls []cel.EnvOption
	for name := range tr.used {
		decls = append(decls, cel.Variable(name, cel.DynType))
	}
	if len(decls) > 0 {
		if celEnv, err = celEnv.Extend(decls...); err != nil {
			return nil, fmt.Errorf("SEL: CEL environment: %w", err)
		}
	}
	ast, iss := celEnv.Compile(text)
	if iss.Err() != nil {
		return nil, fmt.Errorf("SEL: translated CEL %q does not compile: %w", text, iss.Err())
	}
	prg, err := budget.Program(celEnv, ast)
	if err != nil {
		return nil, fmt.Errorf("SEL: %w", err)
	}
	now := env.Now
	if now == nil {
		now = time.Now
	}
	return &Program{src: src, cel: text, prg: prg, budget: budget, now: now, names: tr.used, steps: tr.steps}, nil
}

// CEL returns the CEL expression the SEL source was translated to.
func (p *Program) CEL() string { return p.cel }

// Reads returns the Env.Vars the expression reads, sorted: the params
// it depends on.
func (p *Program) Reads() []string {
	return sortedKeys(p.names)
}

// Steps returns the steps the expression reads params of, sorted: the
// literal first arguments of params.getFromStep(step, name).
func (p *Program) Steps() []string {
	return sortedKeys(p.steps)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Source returns the SEL source the program was compiled from.
func (p *Program) Source() string { return p.src }

// Eval evaluates the program, reading params through s, within its
// budget. The value is an int64, float64, string, bool, nil, []int64,
// []float64, []string, []bool, []any or map[string]any. A budget
// exceeded is a *celbudget.ExceededError; a throw is a *ThrowError; an
// error of the Scope is wrapped (errors.Is finds it).
func (p *Program) Eval(ctx context.Context, s Scope) (any, error) {
	act, err := p.activation(s)
	if err != nil {
		return nil, err
	}
	out, err := p.prg.Eval(ctx, act)
	if err != nil {
		return nil, p.evalError(err)
	}
	v, err := toGo(out)
	if err != nil {
		return nil, fmt.Errorf("SEL %q: %w", p.src, err)
	}
	return v, nil
}

// EvalBool evaluates a condition (a transition's, a while loop's, a
// validator's), which must give a boolean.
func (p *Program) EvalBool(ctx context.Context, s Scope) (bool, error) {
	v, err := p.Eval(ctx, s)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("SEL %q: a condition must be true or false, got %T %v", p.src, v, v)
	}
	return b, nil
}

// evalError unwraps an error raised by one of the package's functions
// (a scope lookup, a throw) so that callers can match it.
func (p *Program) evalError(err error) error {
	var exceeded *celbudget.ExceededError
	if errors.As(err, &exceeded) {
		return err
	}
	return fmt.Errorf("SEL %q: %w", p.src, err)
}

// ThrowError is the error of a SEL throw statement.
type ThrowError struct{ Msg string }

// Error implements error.
func (e *ThrowError) Error() string { return "throw: " + e.Msg }
