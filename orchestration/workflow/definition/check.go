package definition

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// CheckOptions are what Check needs from outside the package.
type CheckOptions struct {
	// Compile checks an expression (a param's, a condition, a validator)
	// given the identifiers it may use; nil accepts every expression.
	Compile func(src string, vars []string) error
	// File names the definition in problems.
	File string
}

var (
	// matchOperators compare a signal's param with a wanted value.
	matchOperators = map[string]bool{"=": true, "==": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true}
	idPattern      = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}$`)
	runStrategies  = map[string]bool{"": true, "sequential": true, "parallel": true, "strict_sequential": true,
		"first_only": true, "last_only": true}
	failureModes = map[string]bool{"": true, "fail_immediately": true, "fail_after_running": true, "ignore_failure": true}
)

// Predefined names the params every instance has, as Maestro's.
var Predefined = []string{"RUN_POLICY", "TARGET_RUN_DATE", "TARGET_RUN_HOUR", "TARGET_RUN_TS", "RUN_TS", "INITIATOR_RUNNER_NAME",
	"WORKFLOW_ID", "WORKFLOW_INSTANCE_ID", "WORKFLOW_RUN_ID", "WORKFLOW_VERSION_ID", "FIRST_TIME_TRIGGER_TIMEZONE",
	"owner", "workflow_id", "workflow_instance_id", "step_id", "step_instance_id", "loop_index"}

// Check reports every problem of d at once, or nil.
func Check(d *Definition, o CheckOptions) error {
	c := &checker{ps: &problems{file: o.File}, compile: o.Compile, ids: map[string]string{}}
	w := &d.Workflow
	if !idPattern.MatchString(w.ID) {
		c.ps.add("workflow.id", "%q: want 1–128 letters, digits, '_', '.' or '-', not starting with '.' or '-'", w.ID)
	}
	if rs := d.Properties.RunStrategy; !runStrategies[rs.Rule] || rs.Limit < 0 {
		c.ps.add("properties.run_strategy", "%q (limit %d): want sequential, parallel, strict_sequential, first_only or last_only, and a limit ≥ 0",
			rs.Rule, rs.Limit)
	}
	if d.Properties.StepConcurrency < 0 || w.InstanceStepConcurrency < 0 {
		c.ps.add("properties.step_concurrency", "must not be negative")
	}
	c.duration("workflow.timeout", w.Timeout)
	// Every param of every step is visible as <step>__<name>.
	c.global = append(c.global, Predefined...)
	for name := range w.Params {
		c.global = append(c.global, name)
	}
	collectStepParams(w.Steps, &c.global)
	sort.Strings(c.global)
	c.params("workflow.params", w.Params, nil)
	for i, t := range w.TimeTriggers {
		if _, _, err := t.Schedule(); err != nil {
			c.ps.add(fmt.Sprintf("workflow.time_triggers[%d]", i), "%v", err)
		}
	}
	for i, t := range w.SignalTriggers {
		at := fmt.Sprintf("workflow.signal_triggers[%d]", i)
		if len(t.Definitions) == 0 {
			c.ps.add(at+".definitions", "name at least one signal")
		}
		for name, m := range t.Definitions {
			for p, mp := range m.MatchParams {
				if !matchOperators[mp.Operator] {
					c.ps.add(fmt.Sprintf("%s.definitions.%s.match_params.%s.operator", at, name, p), "%q: want =, !=, <, <=, > or >=", mp.Operator)
				}
			}
		}
		c.expr(at+".condition", t.Condition, nil)
		c.params(at+".params", t.Params, nil)
	}
	if len(w.Steps) == 0 {
		c.ps.add("workflow.steps", "a workflow needs at least one step")
	}
	c.steps("workflow.steps", w.Steps, nil)
	return c.ps.err()
}

type checker struct {
	ps      *problems
	compile func(string, []string) error
	global  []string
	ids     map[string]string // step id → where first defined
}

func collectStepParams(steps []Step, out *[]string) {
	for _, s := range steps {
		for name := range s.Params {
			*out = append(*out, s.ID+"__"+name)
		}
		collectStepParams(s.Steps, out)
	}
}

// vars are the identifiers visible where local params are.
func (c *checker) vars(local []string) []string {
	return append(append([]string{}, c.global...), local...)
}

func (c *checker) expr(path, src string, local []string) {
	if src == "" || c.compile == nil || src == "true" || src == "false" {
		return
	}
	if err := c.compile(src, c.vars(local)); err != nil {
		c.ps.add(path, "%v", err)
	}
}

func (c *checker) params(path string, ps map[string]Param, local []string) {
	names := make([]string, 0, len(ps))
	for n := range ps {
		names = append(names, n)
	}
	sort.Strings(names)
	scope := append(append([]string{}, local...), names...)
	for _, n := range names {
		p := ps[n]
		at := path + "." + n
		if p.Type != "" && !paramTypes[p.Type] {
			c.ps.add(at+".type", "%q: want STRING, LONG, DOUBLE, BOOLEAN, their _ARRAY forms, STRING_MAP or MAP", p.Type)
			continue
		}
		switch {
		case p.Expression != "" && p.Value != nil:
			c.ps.add(at, "give a value or an expression, not both")
		case p.Expression != "":
			c.expr(at+".expression", p.Expression, scope)
		case p.Type == TypeMap:
			if inner, ok := p.Value.(map[string]Param); ok {
				c.params(at+".value", inner, scope)
			} else if _, err := Coerce(p.Type, p.Value); err != nil {
				c.ps.add(at+".value", "%v", err)
			}
		case isTemplate(p.Value):
			// "${name}" is resolved, then typed, when the step runs.
		case p.Value != nil:
			if _, err := Coerce(p.Type, p.Value); err != nil {
				c.ps.add(at+".value", "%v", err)
			}
		}
		if p.Validator != "" {
			c.expr(at+".validator", p.Validator, append(scope, "param"))
		}
	}
}

func (c *checker) steps(path string, steps []Step, local []string) {
	here := map[string]int{}
	for i, s := range steps {
		at := fmt.Sprintf("%s[%d](%s)", path, i, s.ID)
		if !idPattern.MatchString(s.ID) {
			c.ps.add(at+".id", "%q: want 1–128 letters, digits, '_', '.' or '-'", s.ID)
		} else if first, dup := c.ids[s.ID]; dup {
			c.ps.add(at+".id", "duplicate step id %q (first at %s)", s.ID, first)
		} else {
			c.ids[s.ID] = at
		}
		here[s.ID] = i
	}
	for i, s := range steps {
		at := fmt.Sprintf("%s[%d](%s)", path, i, s.ID)
		c.step(at, s, local)
		// A step's conditions read its own params too.
		own := append([]string{}, local...)
		for name := range s.Params {
			own = append(own, name)
		}
		for _, next := range s.Transition.Order {
			if _, ok := here[next]; !ok {
				c.ps.add(at+".transition.successors", "unknown successor %q (successors must be steps of the same list)", next)
			}
			if next == s.ID {
				c.ps.add(at+".transition.successors", "a step cannot be its own successor")
			}
			c.expr(fmt.Sprintf("%s.transition.successors[%s]", at, next), s.Transition.Successors[next], own)
		}
	}
	if cyc := cycle(steps); cyc != nil {
		c.ps.add(path, "the transitions form a cycle: %s", strings.Join(cyc, " → "))
	}
}

func (c *checker) step(at string, s Step, local []string) {
	inner := local
	for n := range s.Params {
		inner = append(inner, n)
	}
	c.params(at+".params", s.Params, local)
	if p, ok := s.Params["state_expr"]; ok && strings.EqualFold(s.Type, "http") {
		// Evaluated over the answer: Maestro's http step state.
		if src, ok := p.Value.(string); ok {
			c.expr(at+".params.state_expr.value", src, append(append([]string{}, inner...), "status_code", "response_body"))
		}
	}
	for i, d := range s.SignalDependencies {
		dat := fmt.Sprintf("%s.signal_dependencies[%d]", at, i)
		if strings.TrimSpace(d.Name) == "" {
			c.ps.add(dat+".name", "name the signal the step waits for")
		}
		match := map[string]Param{}
		for name, m := range d.MatchParams {
			if !matchOperators[m.Operator] {
				c.ps.add(fmt.Sprintf("%s.match_params.%s.operator", dat, name), "%q: want =, ==, !=, <, <=, > or >=", m.Operator)
			}
			match[name] = m.Param
		}
		c.params(dat+".match_params", match, inner)
	}
	if !failureModes[strings.ToLower(s.FailureMode)] {
		c.ps.add(at+".failure_mode", "%q: want fail_immediately, fail_after_running or ignore_failure", s.FailureMode)
	}
	c.duration(at+".timeout", s.Timeout)
	if r := s.RetryPolicy; r != nil {
		for name, n := range map[string]Int{"error_retry_limit": r.ErrorRetryLimit, "platform_retry_limit": r.PlatformRetryLimit,
			"timeout_retry_limit": r.TimeoutRetryLimit} {
			if v, ok, err := n.Value(); err != nil {
				c.ps.add(at+".retry_policy."+name, "%v", err)
			} else if ok && (v < 0 || v > 100) {
				c.ps.add(at+".retry_policy."+name, "%d: want 0 to 100", v)
			}
		}
	}
	switch s.Kind {
	case KindStep, KindTemplate:
		if s.Type == "" {
			c.ps.add(at+".type", "a step needs a type (NoOp, Sleep, Notebook, …)")
		}
		if strings.EqualFold(s.Type, "Sleep") {
			if _, ok := s.Params["sleep_seconds"]; !ok {
				c.ps.add(at+".params", "a Sleep step needs the param sleep_seconds")
			}
		}
	case KindForeach:
		lp, ok := s.Params["loop_params"]
		loop, isMap := lp.Value.(map[string]Param)
		if !ok || !isMap || len(loop) == 0 {
			c.ps.add(at+".params.loop_params", "a foreach needs loop_params: a MAP of array params to iterate over")
		}
		for n, p := range loop {
			if p.Type != "" && !IsArray(p.Type) {
				c.ps.add(at+".params.loop_params."+n, "type %s: a loop param must be an array", p.Type)
			}
			inner = append(inner, n)
		}
		inner = append(inner, "loop_index")
		if s.Concurrency < 0 {
			c.ps.add(at+".concurrency", "must not be negative")
		}
		if len(s.Steps) == 0 {
			c.ps.add(at+".steps", "a foreach needs steps")
		}
		c.steps(at+".steps", s.Steps, inner)
	case KindWhile:
		if lp, ok := s.Params["loop_params"].Value.(map[string]Param); ok {
			for n := range lp {
				inner = append(inner, n)
			}
		}
		inner = append(inner, "loop_index")
		if s.Condition == "" {
			c.ps.add(at+".condition", "a while needs a condition")
		}
		c.expr(at+".condition", s.Condition, inner)
		if len(s.Steps) == 0 {
			c.ps.add(at+".steps", "a while needs steps")
		}
		c.steps(at+".steps", s.Steps, inner)
	case KindSubworkflow:
		if p, ok := s.Params["subworkflow_id"]; !ok || (p.Value == nil && p.Expression == "") {
			c.ps.add(at+".params.subworkflow_id", "a subworkflow step needs the param subworkflow_id")
		}
	}
}

// duration checks a timeout, unless it is a template resolved at run
// time.
func (c *checker) duration(path string, d Duration) {
	if d == "" || strings.Contains(string(d), "${") {
		return
	}
	if _, err := ParseDuration(string(d)); err != nil {
		c.ps.add(path, "%v", err)
	}
}

// cycle returns a cycle of the steps' transitions, or nil.
func cycle(steps []Step) []string {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	next := map[string][]string{}
	for _, s := range steps {
		next[s.ID] = s.Transition.Order
	}
	var stack []string
	var found []string
	var visit func(id string) bool
	visit = func(id string) bool {
		color[id] = grey
		stack = append(stack, id)
		for _, n := range next[id] {
			if _, known := next[n]; !known || n == id {
				continue
			}
			switch color[n] {
			case grey:
				for i, x := range stack {
					if x == n {
						found = append(append([]string{}, stack[i:]...), n)
					}
				}
				return true
			case white:
				if visit(n) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[id] = black
		return false
	}
	for _, s := range steps {
		if color[s.ID] == white && visit(s.ID) {
			return found
		}
	}
	return nil
}

// ParseDuration reads a Go duration ("90m", "1h30m") or a number of days
// ("2d", "1 days").
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	for _, suffix := range []string{" days", " day", "d"} {
		if n, ok := strings.CutSuffix(t, suffix); ok {
			var days int
			if _, err := fmt.Sscan(n, &days); err == nil && days >= 0 {
				return time.Duration(days) * 24 * time.Hour, nil
			}
		}
	}
	d, err := time.ParseDuration(t)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: want a duration such as 90m, 2h or 1d", s)
	}
	return d, nil
}

// isTemplate reports whether v is a string with a ${name} reference.
func isTemplate(v any) bool {
	s, ok := v.(string)
	return ok && strings.Contains(s, "${")
}
