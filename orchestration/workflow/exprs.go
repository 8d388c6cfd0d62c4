package workflow

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/orchestration/workflow/definition"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/sel"
)

// exprScope is what an expression reads: params by bare name, and
// Maestro's params.get, getFromStep, getFromInstance and getFromSignal.
type exprScope interface {
	Lookup(name string) (any, bool)
	Param(name string) (any, error)
	FromStep(step, name string) (any, error)
	FromInstance(name string) (any, error)
	FromSignal(signal, name string) (any, error)
}

// compileCheck checks an expression at apply: it must translate to CEL
// and use only the identifiers of vars.
func compileCheck(src string, vars []string) error {
	_, err := sel.Compile(src, sel.Env{Vars: vars})
	return err
}

// program returns src compiled for this version, cached.
func (c *compiled) program(src string, now func() time.Time) (*sel.Program, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.programs[src]; ok {
		return p, nil
	}
	p, err := sel.Compile(src, sel.Env{Vars: c.vars, Now: now})
	if err != nil {
		return nil, err
	}
	c.programs[src] = p
	return p, nil
}

// evaluator evaluates a version's expressions.
type evaluator struct {
	c   *compiled
	now func() time.Time
}

func (e evaluator) expr(src string, sc exprScope) (any, error) {
	p, err := e.c.program(src, e.now)
	if err != nil {
		return nil, err
	}
	return p.Eval(context.Background(), sc)
}

// condition evaluates a transition's condition.
func (e evaluator) condition(src string, sc exprScope) (bool, error) {
	switch strings.TrimSpace(src) {
	case "", "true":
		return true, nil
	case "false":
		return false, nil
	}
	p, err := e.c.program(src, e.now)
	if err != nil {
		return false, err
	}
	return p.EvalBool(context.Background(), sc)
}

var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_.]*)\}`)

// param evaluates a param: its expression, or its value (a string's
// ${name} references replaced by those params' values), coerced to its
// type.
func (e evaluator) param(p definition.Param, sc exprScope) (any, error) {
	return e.value(p, sc)
}

// validate checks a value given for a param against its validator.
// Validators guard what people and triggers give: the definition's own
// values and expressions are not checked, as in Maestro, whose samples
// have defaults their validators refuse.
func (e evaluator) validate(p definition.Param, v any, sc exprScope) error {
	if p.Validator == "" {
		return nil
	}
	ok, err := e.condition(p.Validator, withParam{sc, v})
	if err != nil {
		return fmt.Errorf("validator %q: %w", p.Validator, err)
	}
	if !ok {
		return fmt.Errorf("%v does not pass its validator %q", v, p.Validator)
	}
	return nil
}

// withParam is a scope where "param" is the value being validated.
type withParam struct {
	exprScope
	v any
}

func (w withParam) Lookup(name string) (any, bool) {
	if name == "param" {
		return w.v, true
	}
	return w.exprScope.Lookup(name)
}

// value evaluates a param without its validator.
func (e evaluator) value(p definition.Param, sc exprScope) (any, error) {
	if p.Expression != "" {
		v, err := e.expr(p.Expression, sc)
		if err != nil {
			return nil, err
		}
		return definition.Coerce(p.Type, v)
	}
	if inner, ok := p.Value.(map[string]definition.Param); ok {
		out := map[string]any{}
		for _, k := range sortedKeys(inner) {
			v, err := e.param(inner[k], sc)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = v
		}
		return out, nil
	}
	v := p.Value
	if m, ok := v.(map[string]any); ok { // a STRING_MAP: ${name} in its values
		out := make(map[string]any, len(m))
		for k, x := range m {
			if str, isStr := x.(string); isStr && strings.Contains(str, "${") {
				iv, err := e.param(definition.Param{Type: definition.TypeString, Value: str}, sc)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				x = iv
			}
			out[k] = x
		}
		v = out
	}
	if s, ok := v.(string); ok {
		if m := interpolation.FindStringSubmatch(s); m != nil && m[0] == s {
			// "${name}" alone is the param itself, typed (an array, say).
			x, ok := sc.Lookup(m[1])
			if !ok {
				return nil, fmt.Errorf("%q: no param %s", s, m[1])
			}
			return definition.Coerce(p.Type, x)
		}
	}
	if s, ok := v.(string); ok && strings.Contains(s, "${") {
		var missing []string
		v = interpolation.ReplaceAllStringFunc(s, func(m string) string {
			name := m[2 : len(m)-1]
			x, ok := sc.Lookup(name)
			if !ok {
				missing = append(missing, name)
				return m
			}
			return fmt.Sprint(x)
		})
		if len(missing) > 0 {
			return nil, fmt.Errorf("%q: no param %s", s, strings.Join(missing, ", "))
		}
	}
	return definition.Coerce(p.Type, v)
}

// evalParams evaluates a map of params over base: a param may use
// another of the same map, which is then evaluated first (a cycle is an
// error).
func (e evaluator) params(ps map[string]definition.Param, base exprScope) (map[string]any, error) {
	l := &lazyScope{e: e, ps: ps, base: base, done: map[string]any{}, busy: map[string]bool{}}
	for _, name := range sortedKeys(ps) {
		if _, err := l.eval(name); err != nil {
			return nil, fmt.Errorf("param %s: %w", name, err)
		}
	}
	return l.done, nil
}

// lazyScope evaluates the params of a map on first use.
type lazyScope struct {
	e    evaluator
	ps   map[string]definition.Param
	base exprScope
	done map[string]any
	busy map[string]bool
}

func (l *lazyScope) eval(name string) (any, error) {
	if v, ok := l.done[name]; ok {
		return v, nil
	}
	if l.busy[name] {
		return nil, fmt.Errorf("params %s refer to each other in a cycle", name)
	}
	l.busy[name] = true
	defer delete(l.busy, name)
	v, err := l.e.param(l.ps[name], l)
	if err != nil {
		return nil, err
	}
	l.done[name] = v
	return v, nil
}

func (l *lazyScope) Lookup(name string) (any, bool) {
	// A param that reads its own name (i = i + 1 in a while body) reads
	// the value from outside.
	if _, own := l.ps[name]; own && !l.busy[name] {
		v, err := l.eval(name)
		return v, err == nil
	}
	return l.base.Lookup(name)
}

func (l *lazyScope) Param(name string) (any, error) {
	if _, own := l.ps[name]; own && !l.busy[name] {
		return l.eval(name)
	}
	return l.base.Param(name)
}

func (l *lazyScope) FromStep(step, name string) (any, error) { return l.base.FromStep(step, name) }
func (l *lazyScope) FromInstance(name string) (any, error)   { return l.base.FromInstance(name) }
func (l *lazyScope) FromSignal(signal, name string) (any, error) {
	return l.base.FromSignal(signal, name)
}

// evalStepParams evaluates a step's params in its instance's scope.
func (s *Service) evalStepParams(ctx context.Context, q querier, c *compiled, r *instRow, st *definition.Step) (map[string]any, error) {
	base := &dbScope{ctx: ctx, s: s, q: q, inst: r, local: map[string]any{}}
	return evaluator{c, s.now}.params(st.Params, base)
}

// stepScope is the scope of a finished step's transition conditions:
// its own params first.
func (t *txn) stepScope(r *instRow, step string) (exprScope, error) {
	var pj string
	if err := t.tx.QueryRowContext(t.ctx, `SELECT params FROM workflow_steps WHERE instance_id = ? AND step_id = ?`, r.id, step).Scan(&pj); err != nil {
		return nil, err
	}
	return &dbScope{ctx: t.ctx, s: t.s, q: t.tx, inst: r, local: decodeParams(pj)}, nil
}

// dbScope resolves names in a step's params, its instance's params, and
// (as "<step>__<param>" or through getFromStep) other steps' params and
// outputs of the instance and its parents.
type dbScope struct {
	ctx   context.Context
	s     *Service
	q     querier
	inst  *instRow
	local map[string]any
}

func (d *dbScope) Lookup(name string) (any, bool) {
	if v, ok := d.local[name]; ok {
		return v, true
	}
	if v, ok := d.inst.params[name]; ok {
		return v, true
	}
	if step, param, ok := strings.Cut(name, "__"); ok {
		if v, err := d.FromStep(step, param); err == nil {
			return v, true
		}
	}
	return nil, false
}

func (d *dbScope) Param(name string) (any, error) {
	if v, ok := d.Lookup(name); ok {
		return v, nil
	}
	return nil, fmt.Errorf("no param %q", name)
}

func (d *dbScope) FromStep(step, name string) (any, error) {
	for id := d.inst.id; id != ""; {
		var pj, oj string
		err := d.q.QueryRowContext(d.ctx, `SELECT params, output FROM workflow_steps WHERE instance_id = ? AND step_id = ?`, id, step).Scan(&pj, &oj)
		if err == nil {
			if v, ok := decodeParams(oj)[name]; ok {
				return v, nil
			}
			if v, ok := decodeParams(pj)[name]; ok {
				return v, nil
			}
			return nil, fmt.Errorf("step %s has no param %q", step, name)
		}
		var parent string
		if err := d.q.QueryRowContext(d.ctx, `SELECT parent_id FROM workflow_instances WHERE id = ? AND instance_no = 0`, id).Scan(&parent); err != nil {
			break
		}
		id = parent
	}
	return nil, fmt.Errorf("no step %q in this instance", step)
}

func (d *dbScope) FromInstance(name string) (any, error) {
	if v, ok := d.inst.params[name]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("the instance has no param %q", name)
}

func (d *dbScope) FromSignal(signal, name string) (any, error) {
	signals, _ := d.inst.params["SIGNALS"].(map[string]any)
	return signalScope(signals).FromSignal(signal, name)
}

// mapScope is a scope of plain values (the workflow's params while they
// are evaluated).
type mapScope map[string]any

func (m mapScope) Lookup(name string) (any, bool) { v, ok := m[name]; return v, ok }
func (m mapScope) Param(name string) (any, error) {
	if v, ok := m[name]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("no param %q", name)
}
func (m mapScope) FromStep(step, _ string) (any, error) {
	return nil, fmt.Errorf("no step %q here: workflow params cannot read steps", step)
}
func (m mapScope) FromInstance(name string) (any, error) { return m.Param(name) }
func (m mapScope) FromSignal(signal, _ string) (any, error) {
	return nil, fmt.Errorf("signal %s: not started by signals", signal)
}

// decodeParams reads stored params, numbers as int64 when whole.
func decodeParams(s string) map[string]any {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil || m == nil {
		return map[string]any{}
	}
	return fixNumbers(m).(map[string]any)
}

func fixNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = fixNumbers(x[i])
		}
		return x
	case map[string]any:
		for k := range x {
			x[k] = fixNumbers(x[k])
		}
		return x
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
