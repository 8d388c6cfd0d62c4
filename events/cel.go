package events

import (
	"fmt"
	"strings"

	"cel.dev/cel-go/cel"
	celext "cel.dev/cel-go/ext"

	"github.com/gaffer-sre/gaffer/internal/platform/celbudget"
)

// MaxExpressionLength bounds the text of a condition or transform.
const MaxExpressionLength = 4096

// celBudget bounds every evaluation of a condition or transform: its
// cost, the size of the values it builds and its time (see celbudget).
// The service sets it from --events-cel-* when it is constructed.
var celBudget celbudget.Process

// The variables an expression sees. Absent optional string attributes are
// "", a missing time is the time the stream received the event, data is
// the JSON value of "data" (bytes for data_base64, null when absent) and
// ext maps extension attribute names to their values.
var celVariables = []cel.EnvOption{
	cel.Variable("specversion", cel.StringType),
	cel.Variable("id", cel.StringType),
	cel.Variable("source", cel.StringType),
	cel.Variable("type", cel.StringType),
	cel.Variable("subject", cel.StringType),
	cel.Variable("datacontenttype", cel.StringType),
	cel.Variable("dataschema", cel.StringType),
	cel.Variable("time", cel.TimestampType),
	cel.Variable("data", cel.DynType),
	cel.Variable("ext", cel.MapType(cel.StringType, cel.DynType)),
}

var celEnvs = celbudget.EnvCache{Build: buildEnv}

// celEnv returns the CEL environment shared by conditions and
// transforms, and the budget it was built for.
func celEnv() (*cel.Env, celbudget.Budget, error) {
	b := celBudget.Get()
	env, err := celEnvs.Get(b)
	return env, b, err
}

func buildEnv(b celbudget.Budget) (*cel.Env, error) {
	opts := append([]cel.EnvOption{
		cel.OptionalTypes(),
		cel.CrossTypeNumericComparisons(true),
		cel.DefaultUTCTimeZone(true),
		cel.ParserExpressionSizeLimit(MaxExpressionLength),
		cel.ParserRecursionLimit(100),
		celext.Strings(),
		celext.Encoders(),
		celext.Math(),
		celext.Lists(celext.ListsMaxRangeSize(10_000)),
		celext.Sets(),
	}, celVariables...)
	opts = append(opts, b.EnvOptions()...)
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, fmt.Errorf("events: build CEL environment: %w", err)
	}
	return env, nil
}

// Expression is a compiled CEL expression over an event.
type Expression struct {
	// Source is the expression's text.
	Source string
	ast    *cel.Ast
	prg    *celbudget.Program
}

// ExpressionError is a CEL expression that does not compile; Message is
// CEL's own report, with the line and column of each problem.
type ExpressionError struct {
	Field   string
	Message string
}

// Error implements error.
func (e *ExpressionError) Error() string { return e.Field + ": " + e.Message }

// compileExpression parses, type-checks and plans src. want, when not nil,
// is the type the result must have (conditions must be bool).
func compileExpression(field, src string, want *cel.Type) (*Expression, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &ExpressionError{Field: field, Message: "empty expression"}
	}
	if len(src) > MaxExpressionLength {
		return nil, &ExpressionError{Field: field, Message: fmt.Sprintf("longer than %d bytes", MaxExpressionLength)}
	}
	env, budget, err := celEnv()
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, &ExpressionError{Field: field, Message: iss.Err().Error()}
	}
	if want != nil {
		out := ast.OutputType()
		if !out.IsExactType(want) && !out.IsExactType(cel.DynType) {
			return nil, &ExpressionError{Field: field,
				Message: fmt.Sprintf("must evaluate to %s, but evaluates to %s", want, out)}
		}
	}
	prg, err := budget.Program(env, ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, &ExpressionError{Field: field, Message: err.Error()}
	}
	return &Expression{Source: src, ast: ast, prg: prg}, nil
}
