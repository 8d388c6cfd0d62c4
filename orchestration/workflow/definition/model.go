package definition

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Definition is a workflow as applied: Maestro's properties and workflow.
type Definition struct {
	Properties Properties `json:"properties"`
	// IsActive is Maestro's is_active; an inactive workflow keeps its
	// versions but its triggers do not start it.
	IsActive *bool    `json:"is_active,omitempty"`
	Workflow Workflow `json:"workflow"`
}

// Properties are the workflow's settings that are not versioned with its
// steps in Maestro (owner, run strategy, step concurrency).
type Properties struct {
	Owner string `json:"owner,omitempty"`
	// RunStrategy is sequential (default), parallel, strict_sequential,
	// first_only or last_only; parallel takes an optional limit
	// (RunStrategyLimit, Maestro's {"rule": "parallel", "workflow_concurrency": N}).
	RunStrategy RunStrategy `json:"run_strategy,omitempty"`
	// StepConcurrency bounds the steps running at once across the
	// workflow's instances (0: no bound).
	StepConcurrency int `json:"step_concurrency,omitempty"`
}

// Workflow is the versioned part: params, triggers and the step graph.
type Workflow struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	// InstanceStepConcurrency bounds the steps one instance runs at once
	// (0: no bound).
	InstanceStepConcurrency int              `json:"instance_step_concurrency,omitempty"`
	Params                  map[string]Param `json:"params,omitempty"`
	TimeTriggers            []TimeTrigger    `json:"time_triggers,omitempty"`
	SignalTriggers          []SignalTrigger  `json:"signal_triggers,omitempty"`
	Steps                   []Step           `json:"steps"`
	// Timeout of an instance (a duration such as "10h", or seconds;
	// empty: none).
	Timeout Duration `json:"timeout,omitempty"`
}

// Param is a typed param: a literal Value or an Expression (SEL).
type Param struct {
	Type       string `json:"type"`
	Value      any    `json:"value,omitempty"`
	Expression string `json:"expression,omitempty"`
	// Mode is Maestro's mutability (mutable, immutable, …); kept as given.
	Mode string `json:"mode,omitempty"`
	// Validator is a SEL condition over "param" the value must meet.
	Validator string `json:"validator,omitempty"`
}

// TimeTrigger starts the workflow on a schedule.
type TimeTrigger struct {
	// Type is CRON (Cron set) or PREDEFINED (Expression: @daily, …).
	Type       string `json:"type"`
	Cron       string `json:"cron,omitempty"`
	Expression string `json:"expression,omitempty"`
	TimeZone   string `json:"timezone,omitempty"`
	// FuzzyMaxDelay spreads starts by up to this duration ("30s").
	FuzzyMaxDelay string `json:"fuzzy_max_delay,omitempty"`
}

// SignalTrigger starts the workflow when signals matching its
// definitions have all arrived.
type SignalTrigger struct {
	Definitions map[string]SignalMatch `json:"definitions"`
	Condition   string                 `json:"condition,omitempty"`
	DedupExpr   string                 `json:"dedup_expr,omitempty"`
	Params      map[string]Param       `json:"params,omitempty"`
}

// SignalMatch selects signals of one name by their params.
type SignalMatch struct {
	MatchParams map[string]MatchParam `json:"match_params,omitempty"`
	JoinKeys    []string              `json:"join_keys,omitempty"`
}

// MatchParam compares a signal's param with Value (operators =, <, <=,
// >, >=, !=).
type MatchParam struct {
	Value    any    `json:"value"`
	Operator string `json:"operator"`
}

// SignalDependency is a signal a step waits for: its name, and params
// the signal must have, each compared by an operator with a param of
// the step's (a value or an expression, evaluated when the step starts).
type SignalDependency struct {
	Name        string                     `json:"name"`
	MatchParams map[string]DependencyMatch `json:"match_params,omitempty"`
}

// DependencyMatch compares a signal's param with Param's value.
type DependencyMatch struct {
	Param    Param  `json:"param"`
	Operator string `json:"operator"`
}

// Step kinds: how a step appears in the steps list.
const (
	KindStep        = "step"
	KindForeach     = "foreach"
	KindSubworkflow = "subworkflow"
	KindWhile       = "while"
	KindTemplate    = "template"
)

// Step is one node of the graph.
type Step struct {
	// Kind is the wrapper it was written in: step, foreach, subworkflow,
	// while or template.
	Kind string `json:"-"`
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Type of a plain step: NoOp, Sleep, Notebook, Http, Kubernetes, …
	Type   string           `json:"type,omitempty"`
	Params map[string]Param `json:"params,omitempty"`
	// Transition lists successors and the condition (SEL) of each edge.
	Transition Transition `json:"transition,omitempty"`
	// Steps are the body of a foreach or while.
	Steps []Step `json:"steps,omitempty"`
	// Concurrency bounds the iterations of a foreach running at once.
	Concurrency int `json:"concurrency,omitempty"`
	// Condition (while) is checked before each iteration; the loop
	// params it reads take, after an iteration, the values of its steps'
	// params of the same names.
	Condition string `json:"condition,omitempty"`
	// Sync (subworkflow): wait for the child instance (default true).
	Sync *bool `json:"sync,omitempty"`
	// ExplicitParams (subworkflow): pass only the step's params.
	ExplicitParams bool         `json:"explicit_params,omitempty"`
	FailureMode    string       `json:"failure_mode,omitempty"`
	RetryPolicy    *RetryPolicy `json:"retry_policy,omitempty"`
	Timeout        Duration     `json:"timeout,omitempty"`
	// Idempotent steps may run again after a process died mid-step.
	Idempotent *bool `json:"idempotent,omitempty"`
	// Tags are kept as written.
	Tags []any `json:"tags,omitempty"`
	// SignalDependencies are signals the step waits for before it runs
	// (Maestro's): each is met by a signal of its name, received at any
	// time, whose params match.
	SignalDependencies []SignalDependency `json:"signal_dependencies,omitempty"`
	// SubType (template) names the step template the step uses, as
	// Maestro's template steps name theirs.
	SubType string `json:"sub_type,omitempty"`
	// Template is the step template a plain step was made from at apply
	// ("name@version"); set by ResolveTemplates.
	Template string `json:"template,omitempty"`
}

// Transition holds a step's successors.
type Transition struct {
	// Successors maps each next step's id to the condition under which
	// the edge is taken ("true" for always).
	Successors map[string]string `json:"successors,omitempty"`
	// Order keeps the successors in the order written (for display).
	Order []string `json:"-"`
}

// RetryPolicy is Maestro's: user errors and platform errors are counted
// apart, each with its own limit and backoff.
type RetryPolicy struct {
	ErrorRetryLimit    Int      `json:"error_retry_limit,omitempty"`
	PlatformRetryLimit Int      `json:"platform_retry_limit,omitempty"`
	TimeoutRetryLimit  Int      `json:"timeout_retry_limit,omitempty"`
	Backoff            *Backoff `json:"backoff,omitempty"`
}

// Backoff is FIXED_BACKOFF or EXPONENTIAL_BACKOFF, in seconds.
type Backoff struct {
	Type                       string `json:"type,omitempty"`
	ErrorRetryBackoffInSecs    Int    `json:"error_retry_backoff_in_secs,omitempty"`
	PlatformRetryBackoffInSecs Int    `json:"platform_retry_backoff_in_secs,omitempty"`
	TimeoutRetryBackoffInSecs  Int    `json:"timeout_retry_backoff_in_secs,omitempty"`
	ErrorRetryExponent         Int    `json:"error_retry_exponent,omitempty"`
	PlatformRetryExponent      Int    `json:"platform_retry_exponent,omitempty"`
	TimeoutRetryExponent       Int    `json:"timeout_retry_exponent,omitempty"`
	ErrorRetryLimitInSecs      Int    `json:"error_retry_limit_in_secs,omitempty"`
	PlatformRetryLimitInSecs   Int    `json:"platform_retry_limit_in_secs,omitempty"`
	TimeoutRetryLimitInSecs    Int    `json:"timeout_retry_limit_in_secs,omitempty"`
}

// Int is a count as written: a number, or a "$param" or "${param}"
// template resolved when the step runs; empty when not given.
type Int string

// UnmarshalJSON reads a number or a string.
func (n *Int) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*n = Int(s)
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil || f != float64(int64(f)) {
		return fmt.Errorf("want a whole number or a \"${param}\" template")
	}
	*n = Int(strconv.FormatInt(int64(f), 10))
	return nil
}

// Template reports whether n refers to a param.
func (n Int) Template() bool { return len(n) > 0 && n[0] == '$' }

// Value is n's number; ok is false when n is empty or a template.
func (n Int) Value() (v int, ok bool, err error) {
	if n == "" || n.Template() {
		return 0, false, nil
	}
	v, err = strconv.Atoi(string(n))
	if err != nil {
		return 0, false, fmt.Errorf("%q: want a whole number or a \"${param}\" template", string(n))
	}
	return v, true, nil
}

// RunStrategy is how instances of a workflow run together: Rule is
// sequential (default), parallel, strict_sequential, first_only or
// last_only, and Limit bounds parallel instances (0: no bound). Maestro
// writes it as a string or as {"rule": ..., "workflow_concurrency": N}.
type RunStrategy struct {
	Rule  string `json:"rule,omitempty"`
	Limit int    `json:"workflow_concurrency,omitempty"`
}

// UnmarshalJSON reads a rule name or the object form.
func (r *RunStrategy) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*r = RunStrategy{Rule: s}
		return nil
	}
	type plain RunStrategy
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("run_strategy: want a rule name or {\"rule\": ..., \"workflow_concurrency\": N}")
	}
	*r = RunStrategy(p)
	return nil
}

// Duration is a timeout as written: a duration ("100s", "2h", "1d"), a
// number of seconds, or a "${param}" template resolved at run time.
type Duration string

// UnmarshalJSON reads a string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*d = Duration(s)
		return nil
	}
	var n float64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("timeout: want a duration such as \"90m\" or a number of seconds")
	}
	*d = Duration(strconv.FormatFloat(n, 'f', -1, 64) + "s")
	return nil
}

// MarshalJSON writes the step in Maestro's form: {"<kind>": {...}}.
func (s Step) MarshalJSON() ([]byte, error) {
	type plain Step
	body, err := json.Marshal(plain(s))
	if err != nil {
		return nil, err
	}
	kind := s.Kind
	if kind == "" {
		kind = KindStep
	}
	return json.Marshal(map[string]json.RawMessage{kind: body})
}

// MarshalJSON writes the successors in the order they were written.
func (t Transition) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"successors":{`)
	for i, id := range t.Order {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(id)
		v, _ := json.Marshal(t.Successors[id])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteString("}}")
	return b.Bytes(), nil
}
