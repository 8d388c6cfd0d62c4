package celbudget

import (
	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/overloads"
)

// nonGrowing are the functions whose result is never larger than their
// arguments: comparisons, logic, arithmetic on numbers, lookups, tests on
// strings, conversions of scalars and same-length string changes. An
// expression that calls only these and has no comprehension builds no
// value larger than the ones it reads, so it needs no size tracking.
// (String and list concatenation, _+_, is not among them.)
var nonGrowing = map[string]bool{
	operators.Equals: true, operators.NotEquals: true, operators.Less: true, operators.LessEquals: true,
	operators.Greater: true, operators.GreaterEquals: true, operators.LogicalAnd: true, operators.LogicalOr: true,
	operators.LogicalNot: true, operators.NotStrictlyFalse: true, operators.Conditional: true,
	operators.In: true, operators.Index: true, operators.OptIndex: true, operators.OptSelect: true,
	operators.Negate: true, operators.Subtract: true, operators.Multiply: true, operators.Divide: true,
	operators.Modulo: true,
	overloads.Size:   true, overloads.Contains: true, overloads.StartsWith: true, overloads.EndsWith: true,
	overloads.Matches: true, overloads.TypeConvertInt: true, overloads.TypeConvertUint: true,
	overloads.TypeConvertDouble: true, overloads.TypeConvertBool: true, overloads.TypeConvertType: true,
	overloads.TypeConvertDyn: true, overloads.TypeConvertTimestamp: true, overloads.TypeConvertDuration: true,
	overloads.TimeGetFullYear: true, overloads.TimeGetMonth: true, overloads.TimeGetDayOfYear: true,
	overloads.TimeGetDayOfMonth: true, overloads.TimeGetDate: true, overloads.TimeGetDayOfWeek: true,
	overloads.TimeGetHours: true, overloads.TimeGetMinutes: true, overloads.TimeGetSeconds: true,
	overloads.TimeGetMilliseconds: true,
	"charAt":                      true, "indexOf": true, "lastIndexOf": true, "substring": true, "trim": true,
	"lowerAscii": true, "upperAscii": true,
	"hasValue": true, "value": true, "or": true, "orValue": true,
	"optional.of": true, "optional.none": true, "optional.ofNonZeroValue": true,
}

// shape is what planning needs to know about an expression's structure.
type shape struct {
	// loops: it has a comprehension (all, exists, map, filter and the
	// extension libraries' macros).
	loops bool
	// grows: it calls a function not in nonGrowing.
	grows bool
}

func shapeOf(a *cel.Ast) shape {
	var s shape
	celast.PreOrderVisit(a.NativeRep().Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		switch e.Kind() {
		case celast.ComprehensionKind:
			s.loops = true
		case celast.CallKind:
			if !nonGrowing[e.AsCall().FunctionName()] {
				s.grows = true
			}
		}
	}))
	return s
}
