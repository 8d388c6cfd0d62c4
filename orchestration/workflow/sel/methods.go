package sel

// fits reports whether v can be of one of kinds: its kind is one of them,
// or known only at run time.
func fits(v val, kinds ...kind) bool {
	if v.kind == kDyn {
		return true
	}
	for _, k := range kinds {
		if v.kind == k {
			return true
		}
	}
	return false
}

// valueMethod is a method of Strings, arrays and Maps: the receivers and
// arguments it takes, checked when their kinds are known so that a
// translation is always CEL that compiles.
type valueMethod struct {
	recv []kind
	args []kind // kDyn: any value
}

var (
	strings1  = []kind{kString}
	sized     = []kind{kString, kList, kMap}
	valueOnly = []kind{kDyn}
)

// valueMethods lists them by name and number of arguments.
var valueMethods = map[string]map[int]valueMethod{
	"length":           {0: {sized, nil}},
	"size":             {0: {sized, nil}},
	"isEmpty":          {0: {sized, nil}},
	"contains":         {1: {[]kind{kString, kList}, valueOnly}},
	"containsKey":      {1: {[]kind{kMap}, []kind{kString}}},
	"get":              {1: {[]kind{kList, kMap}, valueOnly}},
	"equals":           {1: {nil, valueOnly}},
	"toString":         {0: {nil, nil}},
	"startsWith":       {1: {strings1, strings1}},
	"endsWith":         {1: {strings1, strings1}},
	"equalsIgnoreCase": {1: {strings1, strings1}},
	"compareTo":        {1: {strings1, strings1}},
	"indexOf":          {1: {strings1, strings1}},
	"lastIndexOf":      {1: {strings1, strings1}},
	"matches":          {1: {strings1, strings1}},
	"toUpperCase":      {0: {strings1, nil}},
	"toLowerCase":      {0: {strings1, nil}},
	"trim":             {0: {strings1, nil}},
	"substring":        {1: {strings1, []kind{kInt}}, 2: {strings1, []kind{kInt, kInt}}},
	"replace":          {2: {strings1, []kind{kString, kString}}},
	"split":            {1: {strings1, strings1}, 2: {strings1, []kind{kString, kInt}}},
}

// valueCall translates the methods of strings, arrays and maps.
func (t *translator) valueCall(x *callExpr, recv val, sc scope) (val, error) {
	args, err := t.values(x.args, sc)
	if err != nil {
		return val{}, err
	}
	n := len(args)
	m, ok := valueMethods[x.name][n]
	if !ok {
		return val{}, errAt(x.pos, "method %s with %d arguments is not supported", x.name, n)
	}
	if m.recv != nil && !fits(recv, m.recv...) {
		return val{}, errAt(x.pos, "method %s of a %s is not supported", x.name, recv.kind)
	}
	for i, a := range args {
		if m.args[i] != kDyn && !fits(a, m.args[i]) {
			return val{}, errAt(x.args[i].at(), "argument %d of %s must be a %s, not a %s", i+1, x.name, m.args[i], a.kind)
		}
	}
	r := recv.operand(pUnary)
	method := func(k kind) (val, error) {
		return t.emit(val{cel: r + "." + x.name + "(" + celArgs(args) + ")", kind: k, prec: pAtom})
	}
	switch x.name {
	case "length", "size":
		return t.emit(val{cel: "size(" + recv.cel + ")", kind: kInt, prec: pAtom})
	case "isEmpty":
		return t.emit(val{cel: "size(" + recv.cel + ") == 0", kind: kBool, prec: pRel})
	case "contains":
		if recv.kind == kList {
			return t.emit(val{cel: dynOf(args[0]).operand(pRel) + " in " + recv.operand(pRel), kind: kBool, prec: pRel})
		}
		if !fits(args[0], kString) {
			return val{}, errAt(x.args[0].at(), "argument 1 of contains must be a String, not a %s", args[0].kind)
		}
		return method(kBool)
	case "containsKey":
		return t.emit(val{cel: args[0].operand(pRel) + " in " + recv.operand(pRel), kind: kBool, prec: pRel})
	case "get":
		if recv.kind == kList && !fits(args[0], kInt) || recv.kind == kMap && !fits(args[0], kString) {
			return val{}, errAt(x.args[0].at(), "get of a %s with a %s", recv.kind, args[0].kind)
		}
		elem := val{cel: r + "[" + args[0].cel + "]", kind: kDyn, prec: pAtom}
		if recv.kind == kList {
			elem = dynOf(elem) // an array literal's element type is CEL's
		}
		return t.emit(elem)
	case "equals":
		a, b := sameType(recv, args[0])
		return t.emit(val{cel: a.operand(pRel) + " == " + b.operand(pRel), kind: kBool, prec: pRel})
	case "startsWith", "endsWith", "equalsIgnoreCase":
		return method(kBool)
	case "toUpperCase", "toLowerCase", "trim", "substring", "replace":
		return method(kString)
	case "indexOf", "lastIndexOf", "compareTo":
		return method(kInt)
	case "matches":
		return t.emit(val{cel: r + ".matches('^(?:' + " + args[0].operand(pAdd) + " + ')$')", kind: kBool, prec: pAtom})
	case "split":
		return t.emit(val{cel: "sel.split(" + recv.cel + ", " + celArgs(args) + ")", kind: kList, prec: pAtom})
	}
	// toString
	return t.emit(val{cel: "sel.str(" + recv.cel + ")", kind: kString, prec: pAtom})
}

// dynOf wraps v in dyn() unless its type is already dyn in CEL.
func dynOf(v val) val {
	if v.kind == kDyn && v.prec == pAtom && celIdent.MatchString(v.cel) {
		return v
	}
	return val{cel: "dyn(" + v.cel + ")", kind: kDyn, prec: pAtom}
}

// sameType makes a and b comparable by CEL's type checker, which refuses
// to compare two known, different types: dyn defers it to the run.
func sameType(a, b val) (val, val) {
	if a.kind != b.kind && a.kind != kDyn && b.kind != kDyn {
		a = val{cel: "dyn(" + a.cel + ")", kind: kDyn, prec: pAtom}
	}
	return a, b
}
