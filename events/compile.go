package events

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
)

// compiledRule is a rule ready to run: its condition and the expressions
// of its actions compiled, and its index options worked out.
type compiledRule struct {
	rule    *Rule
	cond    *Expression
	actions []*compiledAction
	// options are the key sets the index may file the rule under;
	// indexedBy is the one it chose (nil: evaluated for every event).
	options   []keySet
	indexedBy keySet
	stats     *ruleStats
}

// compiledAction is an action with its durations parsed and expressions
// compiled.
type compiledAction struct {
	Action
	// written is the action as the rule states it (a runbook action runs
	// as a job action, but is dead-lettered and re-driven as written).
	written  Action
	index    int
	timeout  time.Duration
	backoff  time.Duration
	attempts int
	window   time.Duration
	limit    int
	subject  *Expression
	data     *Expression
	args     *Expression
	key      *Expression
}

// KindChecker reports whether a job kind can be enqueued, with an error
// that says why not.
type KindChecker func(kind string) error

// compileRule validates r and compiles its condition and actions. kinds
// checks job kinds (nil accepts any).
func compileRule(r *Rule, kinds KindChecker) (*compiledRule, error) {
	if err := validateName(r.Name); err != nil {
		return nil, err
	}
	if len(r.Description) > maxDescription {
		return nil, invalid("description", "longer than %d bytes", maxDescription)
	}
	cr, err := compileCondition(r)
	if err != nil {
		return nil, err
	}
	if len(r.Actions) == 0 {
		return nil, invalid("actions", "a rule needs at least one action")
	}
	if len(r.Actions) > maxActions {
		return nil, invalid("actions", "at most %d actions", maxActions)
	}
	for i, a := range r.Actions {
		ca, err := compileAction(fmt.Sprintf("actions[%d]", i), a, kinds)
		if err != nil {
			return nil, err
		}
		ca.index = i
		cr.actions = append(cr.actions, ca)
	}
	return cr, nil
}

// compileCondition compiles r's condition and finds the conjuncts the index
// can file it under; it checks neither the name nor the actions, so the
// editor can check a condition on its own.
func compileCondition(r *Rule) (*compiledRule, error) {
	cond, err := compileExpression("condition", r.Condition, cel.BoolType)
	if err != nil {
		return nil, err
	}
	return &compiledRule{rule: r, cond: cond, options: indexOptions(cond.ast.NativeRep().Expr()),
		stats: &ruleStats{}}, nil
}

// fieldsOf lists the non-empty fields of a, by JSON name, for reporting
// fields that do not apply to its type.
func fieldsOf(a Action) map[string]bool {
	return map[string]bool{
		"url": a.URL != "", "timeout": a.Timeout != "", "max_attempts": a.MaxAttempts != 0, "backoff": a.Backoff != "",
		"event_type": a.EventType != "", "source": a.Source != "", "subject": a.Subject != "", "data": a.Data != "",
		"kind": a.Kind != "", "args": a.Args != "",
		"key": a.Key != "", "window": a.Window != "", "limit": a.Limit != 0,
		"runbook": a.Runbook != "", "params": a.Params != "", "env": a.Env != "",
	}
}

var actionFields = map[string][]string{
	ActionWebhook:  {"url", "timeout", "max_attempts", "backoff"},
	ActionPublish:  {"event_type", "source", "subject", "data"},
	ActionJob:      {"kind", "args"},
	ActionSuppress: {"key", "window", "limit"},
	ActionRunbook:  {"runbook", "params", "env"},
}

func compileAction(field string, a Action, kinds KindChecker) (*compiledAction, error) {
	allowed, ok := actionFields[a.Type]
	if !ok {
		return nil, invalid(field+".type", "%q is not one of webhook, publish, job, runbook, suppress", a.Type)
	}
	for name, set := range fieldsOf(a) {
		if set && !contains(allowed, name) {
			return nil, invalid(field+"."+name, "does not apply to a %s action", a.Type)
		}
	}
	ca := &compiledAction{Action: a, written: a}
	var err error
	switch a.Type {
	case ActionWebhook:
		err = ca.compileWebhook(field)
	case ActionPublish:
		err = ca.compilePublish(field)
	case ActionJob:
		err = ca.compileJob(field, kinds)
	case ActionSuppress:
		err = ca.compileSuppress(field)
	case ActionRunbook:
		err = ca.compileRunbook(field, kinds)
	}
	if err != nil {
		return nil, err
	}
	return ca, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (ca *compiledAction) compileWebhook(field string) error {
	u, err := url.Parse(ca.URL)
	switch {
	case ca.URL == "":
		return invalid(field+".url", "required")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return invalid(field+".url", "want an absolute http:// or https:// URL, got %q", ca.URL)
	case u.User != nil:
		return invalid(field+".url", "must not carry credentials (they would be shown to every reader of the rule)")
	}
	if ca.timeout, err = parseDuration(field+".timeout", ca.Timeout, defaultTimeout, 10*time.Millisecond, maxTimeout); err != nil {
		return err
	}
	if ca.backoff, err = parseDuration(field+".backoff", ca.Backoff, defaultBackoff, minBackoff, maxBackoff); err != nil {
		return err
	}
	ca.attempts = ca.MaxAttempts
	if ca.attempts == 0 {
		ca.attempts = defaultMaxAttempts
	}
	if ca.attempts < 1 || ca.attempts > maxAttempts {
		return invalid(field+".max_attempts", "want 1..%d, got %d", maxAttempts, ca.MaxAttempts)
	}
	return nil
}

func (ca *compiledAction) compilePublish(field string) error {
	if strings.TrimSpace(ca.EventType) == "" {
		return invalid(field+".event_type", "required")
	}
	if strings.ContainsAny(ca.EventType, " \t\r\n") {
		return invalid(field+".event_type", "must not contain whitespace")
	}
	if ca.Source != "" {
		if _, err := url.Parse(ca.Source); err != nil {
			return invalid(field+".source", "not a URI reference")
		}
	}
	var err error
	if ca.Subject != "" {
		if ca.subject, err = compileExpression(field+".subject", ca.Subject, cel.StringType); err != nil {
			return err
		}
	}
	if ca.Data != "" {
		if ca.data, err = compileExpression(field+".data", ca.Data, nil); err != nil {
			return err
		}
	}
	return nil
}

func (ca *compiledAction) compileJob(field string, kinds KindChecker) error {
	if ca.Kind == "" {
		return invalid(field+".kind", "required")
	}
	if kinds != nil {
		if err := kinds(ca.Kind); err != nil {
			return invalid(field+".kind", "%v", err)
		}
	}
	if ca.Args != "" {
		var err error
		if ca.args, err = compileExpression(field+".args", ca.Args, nil); err != nil {
			return err
		}
		out := ca.args.ast.OutputType()
		if !out.IsExactType(cel.DynType) && out.Kind() != cel.MapKind {
			return invalid(field+".args", "must evaluate to a map, but evaluates to %s", out)
		}
	}
	return nil
}

func (ca *compiledAction) compileSuppress(field string) error {
	if ca.Window == "" {
		return invalid(field+".window", "required (e.g. \"10m\")")
	}
	var err error
	if ca.window, err = parseDuration(field+".window", ca.Window, 0, time.Second, maxWindow); err != nil {
		return err
	}
	ca.limit = ca.Limit
	if ca.limit == 0 {
		ca.limit = 1
	}
	if ca.limit < 1 {
		return invalid(field+".limit", "want at least 1, got %d", ca.Limit)
	}
	if ca.Key != "" {
		if ca.key, err = compileExpression(field+".key", ca.Key, nil); err != nil {
			return err
		}
	}
	return nil
}

// fieldError returns the field and message of a rule error, for the API.
func fieldError(err error) (string, string, bool) {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Field, ve.Message, true
	}
	var ee *ExpressionError
	if errors.As(err, &ee) {
		return ee.Field, ee.Message, true
	}
	return "", "", false
}

// describeIndex says how the index filed a rule, for people.
func describeIndex(ks keySet) string {
	if ks == nil {
		return "evaluated for every event (no indexable conjunct)"
	}
	parts := make([]string, 0, len(ks))
	for _, k := range ks {
		op := "=="
		if k.prefix {
			op = "starts with"
		}
		parts = append(parts, fmt.Sprintf("%s %s %q", k.attr, op, k.value))
	}
	return "evaluated when " + strings.Join(parts, " or ")
}
