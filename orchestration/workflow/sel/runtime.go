package sel

import (
	"crypto/rand"
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	celext "cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"

	"github.com/gaffer-sre/gaffer/internal/platform/celbudget"
)

// envs holds the CEL environment of SEL translations, one per budget.
var envs = celbudget.EnvCache{Build: buildEnv}

var (
	dyn    = cel.DynType
	str    = cel.StringType
	ts     = cel.TimestampType
	intT   = cel.IntType
	listOf = cel.ListType
)

func fn(name string, overloads ...cel.FunctionOpt) cel.EnvOption {
	return cel.Function(name, overloads...)
}

// late declares a function whose implementation each evaluation
// supplies (it reads the evaluation's Scope or clock).
func late(id string, args []*cel.Type, result *cel.Type) cel.FunctionOpt {
	return cel.Overload(id, args, result, cel.LateFunctionBinding())
}

func bound(id string, args []*cel.Type, result *cel.Type, f func(args ...ref.Val) ref.Val) cel.FunctionOpt {
	return cel.Overload(id, args, result, cel.FunctionBinding(f))
}

func member(id string, args []*cel.Type, result *cel.Type, f func(args ...ref.Val) ref.Val) cel.FunctionOpt {
	return cel.MemberOverload(id, args, result, cel.FunctionBinding(f))
}

func buildEnv(b celbudget.Budget) (*cel.Env, error) {
	opts := []cel.EnvOption{
		cel.CrossTypeNumericComparisons(true),
		cel.DefaultUTCTimeZone(true),
		cel.ParserExpressionSizeLimit(maxCEL),
		celext.Strings(), celext.Math(), celext.Bindings(),
	}
	opts = append(opts, b.EnvOptions()...)
	arith := func(op string) func(args ...ref.Val) ref.Val {
		return func(args ...ref.Val) ref.Val { return javaArith(op, args[0], args[1]) }
	}
	opts = append(opts,
		fn("params.get", late("params_get", []*cel.Type{dyn}, dyn)),
		fn("params.getFromStep",
			late("params_getFromStep_1", []*cel.Type{dyn}, dyn),
			late("params_getFromStep_2", []*cel.Type{dyn, dyn}, dyn)),
		fn("params.getFromInstance", late("params_getFromInstance", []*cel.Type{dyn}, dyn)),
		fn("params.getFromSignal",
			late("params_getFromSignal_1", []*cel.Type{dyn}, dyn),
			late("params_getFromSignal_2", []*cel.Type{dyn, dyn}, dyn)),
		fn("params.getFromSignalDependency", late("params_getFromSignalDependency", []*cel.Type{dyn, dyn}, dyn)),
		fn("params.getFromSignalOrDefault", late("params_getFromSignalOrDefault", []*cel.Type{dyn, dyn, dyn}, dyn)),
		fn("params.getFromForeach", late("params_getFromForeach", []*cel.Type{dyn, dyn, dyn}, dyn)),
		fn("params.getFromSubworkflow", late("params_getFromSubworkflow", []*cel.Type{dyn, dyn, dyn}, dyn)),
		fn("sel.now", late("sel_now", nil, ts)),

		fn("sel.add", bound("sel_add", []*cel.Type{dyn, dyn}, dyn, arith("+"))),
		fn("sel.sub", bound("sel_sub", []*cel.Type{dyn, dyn}, dyn, arith("-"))),
		fn("sel.mul", bound("sel_mul", []*cel.Type{dyn, dyn}, dyn, arith("*"))),
		fn("sel.div", bound("sel_div", []*cel.Type{dyn, dyn}, dyn, arith("/"))),
		fn("sel.mod", bound("sel_mod", []*cel.Type{dyn, dyn}, dyn, arith("%"))),
		fn("sel.neg", bound("sel_neg", []*cel.Type{dyn}, dyn, func(a ...ref.Val) ref.Val { return javaArith("-", types.Int(0), a[0]) })),
		fn("sel.pow", bound("sel_pow", []*cel.Type{dyn, dyn}, cel.DoubleType, selPow)),
		fn("sel.str", bound("sel_str", []*cel.Type{dyn}, str, func(a ...ref.Val) ref.Val {
			s, err := javaString(a[0])
			if err != nil {
				return types.WrapErr(err)
			}
			return types.String(s)
		})),
		fn("sel.format", bound("sel_format", []*cel.Type{dyn, listOf(dyn)}, str, func(a ...ref.Val) ref.Val {
			f, ok := a[0].(types.String)
			l, isList := a[1].(traits.Lister)
			if !ok || !isList {
				return types.NewErr("String.format takes a String format, not a %s", javaType(a[0]))
			}
			args := make([]ref.Val, int(l.Size().(types.Int)))
			for i := range args {
				args[i] = l.Get(types.Int(i))
			}
			out, err := javaFormatString(string(f), args)
			if err != nil {
				return types.WrapErr(err)
			}
			if len(out) > int(b.MaxSize) {
				return types.WrapErr(&celbudget.ExceededError{Limit: "size", Max: fmt.Sprintf("%d units", b.MaxSize), Detail: "String.format"})
			}
			return types.String(out)
		})),
		fn("sel.throw", bound("sel_throw", []*cel.Type{dyn}, dyn, func(a ...ref.Val) ref.Val {
			s, err := javaString(a[0])
			if err != nil {
				return types.WrapErr(err)
			}
			return types.WrapErr(&ThrowError{Msg: s})
		})),
		fn("sel.randomUUID", bound("sel_randomUUID", nil, str, func(...ref.Val) ref.Val { return types.String(randomUUID()) })),
		fn("sel.split",
			bound("sel_split_2", []*cel.Type{dyn, dyn}, listOf(str), func(a ...ref.Val) ref.Val { return javaSplit(b, a[0], a[1], types.Int(0)) }),
			bound("sel_split_3", []*cel.Type{dyn, dyn, dyn}, listOf(str), func(a ...ref.Val) ref.Val { return javaSplit(b, a[0], a[1], a[2]) })),
		fn("toUpperCase", member("string_toUpperCase", []*cel.Type{str}, str, func(a ...ref.Val) ref.Val {
			return types.String(strings.ToUpper(string(a[0].(types.String))))
		})),
		fn("toLowerCase", member("string_toLowerCase", []*cel.Type{str}, str, func(a ...ref.Val) ref.Val {
			return types.String(strings.ToLower(string(a[0].(types.String))))
		})),
		fn("equalsIgnoreCase", member("string_equalsIgnoreCase", []*cel.Type{str, str}, cel.BoolType, func(a ...ref.Val) ref.Val {
			return types.Bool(strings.EqualFold(string(a[0].(types.String)), string(a[1].(types.String))))
		})),
		fn("compareTo", member("string_compareTo", []*cel.Type{str, str}, intT, func(a ...ref.Val) ref.Val {
			return types.Int(javaCompare(string(a[0].(types.String)), string(a[1].(types.String))))
		})),
	)
	opts = append(opts, utilFuncs()...)
	opts = append(opts, jodaFuncs()...)
	return cel.NewEnv(opts...)
}

// randomUUID returns a version 4 UUID as Java's UUID.toString prints it.
func randomUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}

// javaCompare is String.compareTo: the difference of the first UTF-16
// units that differ, else of the lengths.
func javaCompare(a, b string) int64 {
	ua, ub := []rune(a), []rune(b)
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			return int64(ua[i]) - int64(ub[i])
		}
	}
	return int64(len(ua) - len(ub))
}

func selPow(a ...ref.Val) ref.Val {
	x, ok1 := toFloat(a[0])
	y, ok2 := toFloat(a[1])
	if !ok1 || !ok2 {
		return types.NewErr("Math.pow takes numbers, not %s and %s", javaType(a[0]), javaType(a[1]))
	}
	return types.Double(math.Pow(x, y))
}

func toFloat(v ref.Val) (float64, bool) {
	switch x := v.(type) {
	case types.Int:
		return float64(x), true
	case types.Double:
		return float64(x), true
	}
	return 0, false
}

// regexps caches the patterns of split, which are usually literals.
var regexps sync.Map // string → *regexp.Regexp

func compileRegexp(p string) (*regexp.Regexp, error) {
	if re, ok := regexps.Load(p); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("split pattern %q: %w", p, err)
	}
	regexps.Store(p, re)
	return re, nil
}

// javaSplit is String.split(regex, limit): limit 0 drops trailing empty
// strings, a negative limit keeps them, a positive one caps the parts.
func javaSplit(b celbudget.Budget, sv, pv, nv ref.Val) ref.Val {
	s, ok1 := sv.(types.String)
	p, ok2 := pv.(types.String)
	n, ok3 := nv.(types.Int)
	if !ok1 || !ok2 || !ok3 {
		return types.NewErr("split takes a String and a pattern, not a %s and a %s", javaType(sv), javaType(pv))
	}
	re, err := compileRegexp(string(p))
	if err != nil {
		return types.WrapErr(err)
	}
	limit := int(n)
	if n <= 0 || n > types.Int(b.MaxSize) {
		limit = -1
	}
	if int64(len(s))+1 > int64(b.MaxSize) {
		return types.WrapErr(&celbudget.ExceededError{Limit: "size", Max: fmt.Sprintf("%d units", b.MaxSize), Detail: "split of a longer string"})
	}
	parts := re.Split(string(s), limit)
	if s == "" {
		parts = []string{""}
	} else if len(parts) > 0 && parts[0] == "" && len(parts) > 1 {
		// Java drops the empty leading part of a match of width zero.
		if loc := re.FindStringIndex(string(s)); loc != nil && loc[0] == 0 && loc[1] == 0 {
			parts = parts[1:]
		}
	}
	if n == 0 {
		for len(parts) > 1 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
		if len(parts) == 1 && parts[0] == "" && s != "" {
			parts = parts[:0]
		}
	}
	return types.NewStringList(types.DefaultTypeAdapter, parts)
}

// activation resolves the Env.Vars an expression reads through a Scope.
type activation struct {
	scope Scope
	names map[string]bool
}

func (a activation) ResolveName(name string) (any, bool) {
	if !a.names[name] {
		return nil, false
	}
	v, ok := a.scope.Lookup(name)
	if !ok {
		return types.NewErr("param %s is not defined", name), true
	}
	return toCEL(v), true
}

func (a activation) Parent() interpreter.Activation { return nil }

// activation binds the program's variables and late-bound functions to s.
func (p *Program) activation(s Scope) (interpreter.Activation, error) {
	if s == nil {
		return nil, fmt.Errorf("SEL %q: no scope to evaluate in", p.src)
	}
	arg := func(v ref.Val) (string, error) { return javaString(v) }
	call := func(what string, f func() (any, error)) ref.Val {
		v, err := f()
		if err != nil {
			return types.WrapErr(fmt.Errorf("%s: %w", what, err))
		}
		return toCEL(v)
	}
	lookup := func(id string, args ...ref.Val) ref.Val {
		strs := make([]string, len(args))
		for i, a := range args {
			s, err := arg(a)
			if err != nil {
				return types.WrapErr(err)
			}
			strs[i] = s
		}
		what := "params." + strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(id, "params_"), "_1"), "_2") + "(" + quoteArgs(strs) + ")"
		switch id {
		case "params_get":
			return call(what, func() (any, error) { return s.Param(strs[0]) })
		case "params_getFromStep_1":
			return call(what, func() (any, error) { return s.FromStep(CurrentStep, strs[0]) })
		case "params_getFromStep_2":
			return call(what, func() (any, error) { return s.FromStep(strs[0], strs[1]) })
		case "params_getFromInstance":
			return call(what, func() (any, error) { return s.FromInstance(strs[0]) })
		case "params_getFromSignal_1":
			return call(what, func() (any, error) { return s.FromSignal(TriggeringSignal, strs[0]) })
		case "params_getFromSignal_2":
			return call(what, func() (any, error) { return s.FromSignal(strs[0], strs[1]) })
		case "params_getFromSignalOrDefault":
			v, err := s.FromSignal(strs[0], strs[1])
			if err != nil {
				return args[2]
			}
			return toCEL(v)
		case "params_getFromForeach":
			return call(what, func() (any, error) {
				f, ok := s.(ForeachScope)
				if !ok {
					return nil, fmt.Errorf("the workflow has no foreach steps to read")
				}
				return f.FromForeach(strs[0], strs[1], strs[2])
			})
		case "params_getFromSubworkflow":
			return call(what, func() (any, error) {
				f, ok := s.(SubworkflowScope)
				if !ok {
					return nil, fmt.Errorf("the workflow has no subworkflow steps to read")
				}
				return f.FromSubworkflow(strs[0], strs[1], strs[2])
			})
		case "params_getFromSignalDependency":
			return call(what, func() (any, error) {
				deps, ok := s.(SignalDependencyScope)
				if !ok {
					return nil, fmt.Errorf("the step has no signal dependencies")
				}
				var idx int
				if _, err := fmt.Sscan(strs[0], &idx); err != nil || idx < 0 {
					return nil, fmt.Errorf("signal dependency index %q is not a number", strs[0])
				}
				return deps.FromSignalDependency(idx, strs[1])
			})
		}
		return types.NewErr("no function %s", id)
	}
	funcs := map[string]cel.LateBoundFunction{
		"sel.now": func(string, ...ref.Val) ref.Val {
			return types.Timestamp{Time: p.now().UTC().Truncate(time.Millisecond)}
		},
	}
	meter := &listMeter{max: int64(p.budget.MaxSize)}
	funcs["Util.dateIntsBetween"] = func(_ string, a ...ref.Val) ref.Val {
		return wrap(dateIntsBetween(a[0], a[1], a[2], meter))
	}
	funcs["Util.intsBetween"] = func(_ string, a ...ref.Val) ref.Val {
		return wrap(intsBetween(a[0], a[1], a[2], meter))
	}
	funcs["Util.timeoutForDateTimeDeadline"] = func(_ string, a ...ref.Val) ref.Val {
		return timeoutForDeadline(a[0].(types.Timestamp).Time, a[1], p.now())
	}
	funcs["Util.timeoutForDateIntDeadline"] = func(_ string, a ...ref.Val) ref.Val {
		t, err := parseDateInt(a[0])
		if err != nil {
			return types.WrapErr(fmt.Errorf("Util.timeoutForDateIntDeadline: %w", err))
		}
		return timeoutForDeadline(t, a[1], p.now())
	}
	for _, name := range []string{"params.get", "params.getFromStep", "params.getFromInstance", "params.getFromSignal",
		"params.getFromSignalDependency", "params.getFromSignalOrDefault", "params.getFromForeach", "params.getFromSubworkflow"} {
		funcs[name] = lookup
	}
	return cel.FunctionVars(activation{scope: s, names: p.names}, funcs)
}

func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = quote(a)
	}
	return strings.Join(q, ", ")
}
