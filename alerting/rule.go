package alerting

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	promtemplate "github.com/prometheus/prometheus/template"

	"github.com/gaffer-sre/gaffer/telemetry/atlas/stack"
)

// Engines of rule expressions.
const (
	EnginePromQL = "promql"
	EngineAtlas  = "atlas"
)

// Limits on rules.
const (
	maxNameLength  = 200
	maxExprLength  = 16 << 10
	minInterval    = time.Second
	maxInterval    = 24 * time.Hour
	maxLookback    = 35 * 24 * time.Hour
	maxRollingM    = 1000
	defaultGroup   = "default"
	defaultEvery   = time.Minute
	defaultDelay   = 5 * time.Minute
	defaultHistory = 6 * time.Hour
)

// ValidationError is a rule that cannot be saved; Field names the part at
// fault ("promql", "condition.des.preset") and Message says why, with the
// parser's own words for expressions.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// promParser parses PromQL as the metrics system's engine does.
var promParser = parser.NewParser(parser.Options{})

// Rule is a validated rule, ready to evaluate.
type Rule struct {
	// ID identifies the rule; Version increases with every change.
	ID      string `json:"id"`
	Version int64  `json:"version"`
	Spec    Spec   `json:"spec"`

	engine   string
	expr     string // the expression as given
	valueOf  string // the expression whose values are charted and analysed
	promExpr parser.Expr
	atlas    *stack.StyleExpr
	// implied is the threshold a PromQL or Atlas comparison at the top
	// of the expression draws (nil when there is none).
	implied *Threshold
	every   time.Duration
}

// Engine returns promql or atlas.
func (r *Rule) Engine() string { return r.engine }

// Expr returns the rule's expression.
func (r *Rule) Expr() string { return r.expr }

// ValueExpr returns the expression whose values the rule looks at: the
// left side of a comparison at the top of the expression, or the
// expression itself.
func (r *Rule) ValueExpr() string { return r.valueOf }

// Interval returns the evaluation interval.
func (r *Rule) Interval() time.Duration { return r.every }

// Enabled reports whether the rule is evaluated.
func (r *Rule) Enabled() bool { return r.Spec.Enabled == nil || *r.Spec.Enabled }

// Compile validates spec and returns the rule, or a *ValidationError
// (joined with others) naming every problem.
func Compile(spec Spec) (*Rule, error) {
	r := &Rule{Spec: spec}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(checkName(spec.Name))
	if spec.Group == "" {
		r.Spec.Group = defaultGroup
	}
	add(checkText("group", spec.Group, maxNameLength))
	add(r.compileExpr(spec))
	r.every = spec.Interval.D()
	switch {
	case spec.Interval == 0:
		r.every = defaultEvery
		r.Spec.Interval = Duration(defaultEvery)
	case r.every < minInterval || r.every > maxInterval:
		add(invalid("interval", "%s is outside %s..%s", spec.Interval, Duration(minInterval), Duration(maxInterval)))
	}
	if spec.For < 0 || spec.KeepFiringFor < 0 {
		add(invalid("for", "for and keep_firing_for must not be negative"))
	}
	add(checkLabels(spec.Labels))
	add(checkTemplates("annotations", spec.Annotations))
	add(checkTemplates("labels", spec.Labels))
	if spec.Condition != nil {
		add(spec.Condition.validate(r))
	}
	if spec.Notification != nil {
		add(spec.Notification.validate())
	}
	if spec.Analysis != nil {
		add(spec.Analysis.validate())
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

func checkText(field, s string, limit int) error {
	switch {
	case len(s) > limit:
		return invalid(field, "longer than %d bytes", limit)
	case !utf8.ValidString(s):
		return invalid(field, "not valid UTF-8")
	case strings.ContainsAny(s, "\x00\r\n"):
		return invalid(field, "must be one line")
	}
	return nil
}

func checkName(name string) error {
	if strings.TrimSpace(name) == "" {
		return invalid("name", "required")
	}
	return checkText("name", name, maxNameLength)
}

func checkLabels(ls map[string]string) error {
	for k, v := range ls {
		if !model.UTF8Validation.IsValidLabelName(k) || k == model.MetricNameLabel || k == model.AlertNameLabel {
			return invalid("labels", "%q is not a label name a rule may set", k)
		}
		if !utf8.ValidString(v) {
			return invalid("labels."+k, "not valid UTF-8")
		}
	}
	return nil
}

// checkTemplates parses every value as an alert template would be.
func checkTemplates(field string, m map[string]string) error {
	for k, text := range m {
		data := promtemplate.AlertTemplateData(map[string]string{}, map[string]string{}, "", promSample(0))
		ex := promtemplate.NewTemplateExpander(nil, templateDefs+text, k, data, 0, nil, nil, nil)
		if err := ex.ParseTest(); err != nil {
			return invalid(field+"."+k, "template: %v", err)
		}
	}
	return nil
}

// compileExpr parses the expression with its engine's parser.
func (r *Rule) compileExpr(spec Spec) error {
	switch {
	case spec.PromQL != "" && spec.Atlas != "":
		return invalid("promql", "give promql or atlas, not both")
	case spec.PromQL != "":
		r.engine, r.expr = EnginePromQL, strings.TrimSpace(spec.PromQL)
		if len(r.expr) > maxExprLength {
			return invalid("promql", "longer than %d bytes", maxExprLength)
		}
		e, err := promParser.ParseExpr(r.expr)
		if err != nil {
			return invalid("promql", "%v", err)
		}
		if t := e.Type(); t != parser.ValueTypeVector && t != parser.ValueTypeScalar {
			return invalid("promql", "the expression is a %s; an alert rule needs an instant vector or a scalar", t)
		}
		r.promExpr, r.valueOf = e, r.expr
		if b, ok := e.(*parser.BinaryExpr); ok && b.Op.IsComparisonOperator() && !b.ReturnBool {
			if n, ok := unwrapNumber(b.RHS); ok {
				r.valueOf = b.LHS.String()
				r.implied = &Threshold{Op: b.Op.String(), Value: n}
			}
		}
		return nil
	case spec.Atlas != "":
		r.engine, r.expr = EngineAtlas, strings.TrimSpace(spec.Atlas)
		if len(r.expr) > maxExprLength {
			return invalid("atlas", "longer than %d bytes", maxExprLength)
		}
		exprs, err := stack.Parse(r.expr, time.UTC)
		if err != nil {
			return invalid("atlas", "%v", err)
		}
		if len(exprs) != 1 {
			return invalid("atlas", "the program leaves %d expressions on the stack; an alert rule needs exactly one", len(exprs))
		}
		r.atlas, r.valueOf = exprs[0], r.expr
		if b, ok := exprs[0].Expr.(*stack.Binary); ok {
			if op, ok := atlasComparisons[b.Name]; ok {
				if c, ok := b.Expr2.(*stack.Constant); ok {
					r.valueOf = fmt.Sprint(b.Expr1)
					r.implied = &Threshold{Op: op, Value: c.V}
				}
			}
		}
		return nil
	}
	return invalid("promql", "required: give a promql or an atlas expression")
}

// atlasComparisons maps Atlas's comparison words to operators.
var atlasComparisons = map[string]string{"gt": ">", "ge": ">=", "lt": "<", "le": "<="}

func unwrapNumber(e parser.Expr) (float64, bool) {
	for {
		switch x := e.(type) {
		case *parser.ParenExpr:
			e = x.Expr
		case *parser.NumberLiteral:
			return x.Val, true
		default:
			return 0, false
		}
	}
}

// validate checks a condition against its rule.
func (c *Condition) validate(r *Rule) error {
	n := 0
	for _, set := range []bool{c.Threshold != nil, c.DES != nil, c.Compare != nil, c.ChangePoint != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return invalid("condition", "give at most one of threshold, des, compare and changepoint (rolling_count may go with any)")
	}
	if n == 0 && c.RollingCount == nil {
		return invalid("condition", "empty: give threshold, des, compare, changepoint or rolling_count")
	}
	if n == 1 && r.implied != nil {
		return invalid("condition", "the expression already compares (%s %s %v); give its left side alone with a condition",
			r.valueOf, r.implied.Op, r.implied.Value)
	}
	switch {
	case c.Threshold != nil:
		if _, ok := compareOps[c.Threshold.Op]; !ok {
			return invalid("condition.threshold.op", "%q is not one of > >= < <= == !=", c.Threshold.Op)
		}
		if math.IsNaN(c.Threshold.Value) {
			return invalid("condition.threshold.value", "must be a number")
		}
	case c.DES != nil:
		if err := c.DES.validate(); err != nil {
			return err
		}
	case c.Compare != nil:
		if err := c.Compare.validate(); err != nil {
			return err
		}
	case c.ChangePoint != nil:
		if err := c.ChangePoint.validate(); err != nil {
			return err
		}
	}
	if rc := c.RollingCount; rc != nil && (rc.M < 1 || rc.M > maxRollingM || rc.N < 1 || rc.N > rc.M) {
		return invalid("condition.rolling_count", "need 1 <= n <= m <= %d, got n=%d m=%d", maxRollingM, rc.N, rc.M)
	}
	return nil
}

func checkDirection(field, d string, allowed ...string) error {
	if d == "" || slices.Contains(allowed, d) {
		return nil
	}
	return invalid(field, "%q is not one of %s", d, strings.Join(allowed, ", "))
}

func (d *DESBand) validate() error {
	if d.Preset != "" {
		if _, ok := desPresets[d.Preset]; !ok {
			names := make([]string, 0, len(desPresets))
			for k := range desPresets {
				names = append(names, k)
			}
			slices.Sort(names)
			return invalid("condition.des.preset", "%q is not one of %s", d.Preset, strings.Join(names, ", "))
		}
	} else if d.Training < 1 || !(d.Alpha > 0 && d.Alpha <= 1) || !(d.Beta > 0 && d.Beta <= 1) {
		return invalid("condition.des", "give a preset, or training >= 1 and alpha, beta in (0, 1], got %d, %v, %v", d.Training, d.Alpha, d.Beta)
	}
	if d.MaxPercent < 0 || d.MinPercent < 0 || d.MinPercent > 1 || d.Noise < 0 {
		return invalid("condition.des", "max_percent, min_percent (at most 1) and noise must not be negative")
	}
	if d.MaxPercent == 0 && d.MinPercent == 0 && d.Noise == 0 {
		return invalid("condition.des", "the band is empty: give max_percent, min_percent or noise")
	}
	if d.Lookback < 0 || d.Lookback.D() > maxLookback {
		return invalid("condition.des.lookback", "must be between 0 and %s", Duration(maxLookback))
	}
	return checkDirection("condition.des.direction", d.Direction, "both", "above", "below")
}

func (c *Compare) validate() error {
	if c.Offset <= 0 || c.Offset.D() > maxLookback {
		return invalid("condition.compare.offset", "must be between 1s and %s (1d: the same time yesterday, 1w: last week)", Duration(maxLookback))
	}
	if !(c.Ratio >= 1) || math.IsInf(c.Ratio, 0) {
		return invalid("condition.compare.ratio", "must be at least 1, got %v", c.Ratio)
	}
	if c.MinDelta < 0 {
		return invalid("condition.compare.min_delta", "must not be negative")
	}
	return checkDirection("condition.compare.direction", c.Direction, "above", "below", "both")
}

func (c *ChangeOnset) validate() error {
	if c.Window < 0 || c.Window.D() > 7*24*time.Hour || c.Hold < 0 {
		return invalid("condition.changepoint", "window must be between 0 and 7d and hold not negative")
	}
	if c.MinSigma < 0 {
		return invalid("condition.changepoint.min_sigma", "must not be negative")
	}
	return checkDirection("condition.changepoint.direction", c.Direction, "both", "up", "down")
}

func (n *Notification) validate() error {
	if n.GroupWait < 0 || n.GroupInterval < 0 || n.RepeatInterval < 0 {
		return invalid("notification", "durations must not be negative")
	}
	for _, l := range n.GroupBy {
		if l != "..." && !model.UTF8Validation.IsValidLabelName(l) {
			return invalid("notification.group_by", "%q is not a label name", l)
		}
	}
	return nil
}

func (a *AnalysisScope) validate() error {
	if strings.TrimSpace(a.Candidates) == "" {
		return invalid("analysis.candidates", "required: a query of the series to compare with, e.g. {region=\"{{ $labels.region }}\"}")
	}
	if err := checkTemplates("analysis", map[string]string{"candidates": a.Candidates}); err != nil {
		return err
	}
	if a.Engine != "" && a.Engine != EnginePromQL && a.Engine != EngineAtlas {
		return invalid("analysis.engine", "%q is not promql or atlas", a.Engine)
	}
	if a.Lookback < 0 || a.Lookback.D() > 7*24*time.Hour || a.Delay < 0 || a.MaxLag < 0 || a.MaxLag > 1000 {
		return invalid("analysis", "lookback must be at most 7d, delay not negative, max_lag between 0 and 1000")
	}
	return nil
}
