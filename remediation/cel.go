package remediation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	celext "cel.dev/cel-go/ext"

	"github.com/gaffer-sre/gaffer/internal/platform/celbudget"
)

// The variables CEL expressions in runbooks see. All are JSON-like values:
//
//	params     the run's parameters
//	steps      by step name: {status, output, error}; output of a fan-out
//	           step is the list of its items' outputs
//	vars       values published by earlier steps
//	trigger    how the run started: {kind, by, event, rule}
//	execution  {id, runbook, version}
//	item,index the item of a fan-out step and its position
//	result     the current step's output (in next, publish)
//	event      the event a wait_event step is matching
//	failure    {step, error} on the run's on_failure path
var celVars = []string{"params", "steps", "vars", "trigger", "execution", "item", "index", "result", "event", "failure"}

// celBudget bounds every evaluation of a runbook expression: its cost,
// the size of the values it builds and its time (see celbudget). The
// service sets it from --remediation-cel-* when it is constructed.
var celBudget celbudget.Process

var celEnvs = celbudget.EnvCache{Build: buildEnv}

func buildEnv(b celbudget.Budget) (*cel.Env, error) {
	opts := []cel.EnvOption{
		cel.OptionalTypes(),
		cel.CrossTypeNumericComparisons(true),
		cel.DefaultUTCTimeZone(true),
		cel.ParserExpressionSizeLimit(4096),
		cel.ParserRecursionLimit(100),
		celext.Strings(), celext.Encoders(), celext.Math(), celext.Sets(),
		celext.Lists(celext.ListsMaxRangeSize(10_000)),
	}
	for _, v := range celVars {
		opts = append(opts, cel.Variable(v, cel.DynType))
	}
	opts = append(opts, b.EnvOptions()...)
	return cel.NewEnv(opts...)
}

// expr is a compiled CEL expression.
type expr struct {
	src string
	prg *celbudget.Program
}

func compileExpr(src string) (*expr, error) {
	budget := celBudget.Get()
	env, err := celEnvs.Get(budget)
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, errors.New(strings.ReplaceAll(iss.Err().Error(), "\n", " "))
	}
	prg, err := budget.Program(env, ast)
	if err != nil {
		return nil, err
	}
	return &expr{src: src, prg: prg}, nil
}

func (e *expr) eval(vars map[string]any) (any, error) {
	out, err := e.prg.Eval(context.Background(), activation(vars))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.src, err)
	}
	v, err := native(out)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.src, err)
	}
	return v, nil
}

func (e *expr) evalBool(vars map[string]any) (bool, error) {
	v, err := e.eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%s: want true or false, got %s", e.src, short(v))
	}
	return b, nil
}

// activation gives every declared variable a value (null when unset).
func activation(vars map[string]any) map[string]any {
	a := make(map[string]any, len(celVars))
	for _, v := range celVars {
		a[v] = vars[v]
	}
	return a
}

// native converts a CEL value to a JSON-like Go value.
func native(v ref.Val) (any, error) {
	switch x := v.(type) {
	case types.Null:
		return nil, nil
	case types.Bool:
		return bool(x), nil
	case types.Int:
		return int64(x), nil
	case types.Uint:
		return uint64(x), nil
	case types.Double:
		return float64(x), nil
	case types.String:
		return string(x), nil
	case types.Bytes:
		return string(x), nil
	case types.Timestamp:
		return x.Time.UTC().Format(time.RFC3339Nano), nil
	case types.Duration:
		return x.Duration.String(), nil
	}
	if l, ok := v.(traits.Lister); ok {
		n := int(l.Size().(types.Int))
		out := make([]any, 0, n)
		for i := 0; i < n; i++ {
			e, err := native(l.Get(types.Int(i)))
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	}
	if m, ok := v.(traits.Mapper); ok {
		out := map[string]any{}
		it := m.Iterator()
		for it.HasNext() == types.True {
			k := it.Next()
			ks, ok := k.(types.String)
			if !ok {
				return nil, fmt.Errorf("map keys must be strings, got %s", k.Type())
			}
			e, err := native(m.Get(k))
			if err != nil {
				return nil, err
			}
			out[string(ks)] = e
		}
		return out, nil
	}
	if o, ok := v.(*types.Optional); ok {
		if !o.HasValue() {
			return nil, nil
		}
		return native(o.GetValue())
	}
	return nil, fmt.Errorf("a %s value cannot be stored", v.Type())
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}

// tmpl is a value whose strings may hold ${{ CEL }} templates. A string
// that is exactly one template takes the expression's value, of any type;
// otherwise each template is replaced by its value as text.
type tmpl struct {
	lit   any
	whole *expr
	parts []tmplPart
	m     map[string]*tmpl
	l     []*tmpl
}

type tmplPart struct {
	text string
	e    *expr
}

var tmplPattern = regexp.MustCompile(`\$\{\{(.*?)\}\}`)

// compileTmpl compiles v; errors name the JSON pointer below ptr.
func compileTmpl(v any, ptr string) (*tmpl, []Problem) {
	switch x := v.(type) {
	case string:
		locs := tmplPattern.FindAllStringSubmatchIndex(x, -1)
		if len(locs) == 0 {
			return &tmpl{lit: x}, nil
		}
		t := &tmpl{}
		if len(locs) == 1 && locs[0][0] == 0 && locs[0][1] == len(x) {
			e, err := compileExpr(strings.TrimSpace(x[locs[0][2]:locs[0][3]]))
			if err != nil {
				return nil, []Problem{{Path: ptr, Message: "template: " + err.Error()}}
			}
			t.whole = e
			return t, nil
		}
		last := 0
		for _, loc := range locs {
			e, err := compileExpr(strings.TrimSpace(x[loc[2]:loc[3]]))
			if err != nil {
				return nil, []Problem{{Path: ptr, Message: "template: " + err.Error()}}
			}
			t.parts = append(t.parts, tmplPart{text: x[last:loc[0]]}, tmplPart{e: e})
			last = loc[1]
		}
		t.parts = append(t.parts, tmplPart{text: x[last:]})
		return t, nil
	case map[string]any:
		t := &tmpl{m: map[string]*tmpl{}}
		var probs []Problem
		for k, e := range x {
			c, p := compileTmpl(e, ptr+"/"+k)
			probs = append(probs, p...)
			t.m[k] = c
		}
		return t, probs
	case []any:
		t := &tmpl{l: []*tmpl{}}
		var probs []Problem
		for i, e := range x {
			c, p := compileTmpl(e, fmt.Sprintf("%s/%d", ptr, i))
			probs = append(probs, p...)
			t.l = append(t.l, c)
		}
		return t, probs
	}
	return &tmpl{lit: v}, nil
}

func (t *tmpl) eval(vars map[string]any) (any, error) {
	switch {
	case t == nil:
		return nil, nil
	case t.whole != nil:
		return t.whole.eval(vars)
	case t.parts != nil:
		var b strings.Builder
		for _, p := range t.parts {
			if p.e == nil {
				b.WriteString(p.text)
				continue
			}
			v, err := p.e.eval(vars)
			if err != nil {
				return nil, err
			}
			if s, ok := v.(string); ok {
				b.WriteString(s)
			} else {
				j, _ := json.Marshal(v)
				b.Write(j)
			}
		}
		return b.String(), nil
	case t.m != nil:
		out := make(map[string]any, len(t.m))
		for k, c := range t.m {
			v, err := c.eval(vars)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case t.l != nil:
		out := make([]any, 0, len(t.l))
		for _, c := range t.l {
			v, err := c.eval(vars)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return numbers(t.lit), nil
}

// evalString evaluates a template that must give a string.
func (t *tmpl) evalString(vars map[string]any) (string, error) {
	v, err := t.eval(vars)
	if err != nil {
		return "", err
	}
	switch s := v.(type) {
	case string:
		return s, nil
	case nil:
		return "", nil
	}
	b, _ := json.Marshal(v)
	return string(b), nil
}
