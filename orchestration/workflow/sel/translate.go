package sel

import (
	"regexp"
	"strconv"
	"strings"
)

// kind is what the translator knows about a SEL value before it runs.
// Values of the object kinds (DateTime and the other Joda classes, UUID,
// classes used as receivers) exist only while translating: the CEL they
// become is a timestamp, a zone id or nothing, and their methods are
// translated to functions of those.
type kind int

const (
	kDyn kind = iota // a value whose type is known only when it runs
	kInt
	kDouble
	kString
	kBool
	kNull
	kList
	kMap
	// object kinds
	kDateTime  // cel: a timestamp; zone: the CEL of its zone id
	kZone      // cel: the CEL of a zone id
	kFormatter // pattern and zone (zone "" until withZone)
	kProperty  // a DateTime's field: cel and zone of the DateTime, field
	kUUID      // cel: the UUID as a string
	kDays      // cel: a number of days
	kClass     // class: a class used as a receiver (Util, params, ...)
)

var kindNames = map[kind]string{
	kDyn: "value", kInt: "long", kDouble: "double", kString: "String", kBool: "boolean",
	kNull: "null", kList: "array", kMap: "Map", kDateTime: "DateTime", kZone: "DateTimeZone",
	kFormatter: "DateTimeFormatter", kProperty: "DateTime.Property", kUUID: "UUID", kDays: "Days",
	kClass: "class",
}

func (k kind) String() string { return kindNames[k] }

// isValue reports whether a value of kind k can be a param's value.
func (k kind) isValue() bool { return k <= kMap }

// val is a translated SEL expression.
type val struct {
	cel     string
	kind    kind
	prec    int    // precedence of cel's outermost operator, pAtom for none
	zone    string // kDateTime, kFormatter, kProperty: CEL of the zone id
	pattern string // kFormatter: CEL of the pattern
	field   string // kProperty: the Joda field name
	class   string // kClass
}

// CEL's operator precedences, loosest first; pAtom is an expression
// without a top-level operator.
const (
	pCond = iota + 1
	pOr
	pAnd
	pRel
	pAdd
	pMul
	pUnary
	pAtom
)

// binaryPrecs are CEL's precedences of the binary operators.
var binaryPrecs = map[string]int{"||": pOr, "&&": pAnd, "==": pRel, "!=": pRel, "<": pRel, ">": pRel,
	"<=": pRel, ">=": pRel, "in": pRel, "+": pAdd, "-": pAdd, "*": pMul, "/": pMul, "%": pMul}

// operand returns v's CEL ready to be an operand of an operator of
// precedence p: in parentheses unless v binds tighter.
func (v val) operand(p int) string {
	if v.prec > p {
		return v.cel
	}
	return "(" + v.cel + ")"
}

// infix joins a and b with the binary operator op; the left operand may
// be of op's own precedence (CEL's binary operators are left-associative).
func infix(a val, op string, b val) string {
	p := binaryPrecs[op]
	return a.operand(p-1) + " " + op + " " + b.operand(p)
}

// scope maps the local variables visible at a statement to their values.
// It is copied when a variable is bound, so each path through an if has
// its own.
type scope map[string]val

func (s scope) with(name string, v val) scope {
	out := make(scope, len(s)+1)
	for k, x := range s {
		out[k] = x
	}
	out[name] = v
	return out
}

// translator turns SEL syntax into CEL text.
type translator struct {
	vars  map[string]bool // Env.Vars
	used  map[string]bool // the Env.Vars the expression reads
	steps map[string]bool // steps named by params.getFromStep(step, name)
	size  int             // bytes of CEL produced so far, bounded by maxCEL
}

// maxCEL bounds the CEL text of one expression; an if followed by more
// statements copies them into both branches, which can grow the text.
const maxCEL = 64 << 10

func newTranslator(vars []string) *translator {
	t := &translator{vars: map[string]bool{}, used: map[string]bool{}, steps: map[string]bool{}}
	for _, v := range vars {
		t.vars[v] = true
	}
	return t
}

// classes are the names SEL resolves to classes when used as receivers.
var classes = map[string]bool{
	"params": true, "Util": true, "Math": true, "UUID": true, "String": true, "Integer": true,
	"Long": true, "Double": true, "Boolean": true, "System": true, "DateTime": true,
	"DateTimeZone": true, "DateTimeFormat": true, "Days": true, "DateTimeConstants": true,
}

// celReserved are words CEL keeps for itself, which cannot name a CEL
// variable.
var celReserved = map[string]bool{
	"as": true, "break": true, "const": true, "continue": true, "else": true, "for": true,
	"function": true, "if": true, "import": true, "let": true, "loop": true, "package": true,
	"namespace": true, "return": true, "var": true, "void": true, "while": true, "in": true,
	"true": true, "false": true, "null": true,
}

// celIdent matches the names CEL allows for variables (SEL's, Java's,
// also allow $ and non-ASCII letters).
var celIdent = regexp.MustCompile(`^[_a-zA-Z][_a-zA-Z0-9]*$`)

// program translates a statement list to one CEL expression.
func (t *translator) program(stmts []stmt) (string, error) {
	v, err := t.seq(stmts, scope{}, stmts[len(stmts)-1].at())
	if err != nil {
		return "", err
	}
	if !v.kind.isValue() {
		return "", errAt(stmts[len(stmts)-1].at(), "the expression's value is a %s, which is not a param value (call toString)", v.kind)
	}
	return v.cel, nil
}

// seq translates stmts, the rest of a statement list, to the value the
// list produces: the value of a return, of the last statement, or a
// throw. end is where the list ends, for the error of a list without a
// value.
func (t *translator) seq(stmts []stmt, sc scope, end Pos) (val, error) {
	if len(stmts) == 0 {
		return val{}, errAt(end, "the expression ends without a value (a declaration or an if statement last); end it with return")
	}
	s, rest := stmts[0], stmts[1:]
	switch s := s.(type) {
	case *returnStmt:
		return t.expr(s.x, sc)
	case *throwStmt:
		msg, err := t.valueExpr(s.x, sc)
		if err != nil {
			return val{}, err
		}
		return t.emit(val{cel: "sel.throw(" + msg.cel + ")", kind: kDyn, prec: pAtom})
	case *blockStmt:
		return t.seq(append(append([]stmt{}, s.stmts...), rest...), sc, end)
	case *endBranch:
		return t.seq(rest, sc, end)
	case *ifStmt:
		c, err := t.valueExpr(s.cond, sc)
		if err != nil {
			return val{}, err
		}
		if c.kind != kBool && c.kind != kDyn {
			return val{}, errAt(s.cond.at(), "if condition is a %s, not a boolean", c.kind)
		}
		// In SEL an if statement has no value: the value of the last
		// statement of a branch is dropped unless it returns.
		closeIf := &endBranch{pos: s.pos}
		thenStmts := append([]stmt{s.then, closeIf}, rest...)
		a, err := t.seq(thenStmts, sc, end)
		if err != nil {
			return val{}, err
		}
		elseStmts := rest
		if s.els_ != nil {
			elseStmts = append([]stmt{s.els_, closeIf}, rest...)
		}
		b, err := t.seq(elseStmts, sc, end)
		if err != nil {
			return val{}, err
		}
		return t.choose(s.pos, c, a, b)
	case *declStmt:
		v, err := t.expr(s.value, sc)
		if err != nil {
			return val{}, err
		}
		if v, err = declared(s, v); err != nil {
			return val{}, err
		}
		// A declaration has no value in SEL: it cannot end the list.
		return t.bind(s.pos, s.name, v, rest, sc, end, false)
	case *exprStmt:
		if a, ok := s.x.(*assignExpr); ok {
			v, err := t.assign(a, sc)
			if err != nil {
				return val{}, err
			}
			return t.bind(a.pos, a.name, v, rest, sc, end, true)
		}
		v, err := t.expr(s.x, sc)
		if err != nil {
			return val{}, err
		}
		if len(rest) == 0 {
			return v, nil
		}
		// The value of a statement that is not last is discarded, and
		// SEL expressions have no side effects but errors.
		return t.seq(rest, sc, end)
	}
	return val{}, errAt(s.at(), "statement is not supported")
}

// bind makes name v for the statements after it: a CEL cel.bind for a
// value or a DateTime's timestamp, the translated expression itself for
// the other object kinds. Without statements after it the value of the
// list is v when isValue (an assignment), or there is none.
func (t *translator) bind(p Pos, name string, v val, rest []stmt, sc scope, end Pos, isValue bool) (val, error) {
	if classes[name] || celReserved[name] || !celIdent.MatchString(name) {
		return val{}, errAt(p, "a variable cannot be named %s", name)
	}
	if len(rest) == 0 {
		if isValue {
			return v, nil
		}
		return t.seq(nil, sc, end)
	}
	local := v
	bound := v.kind.isValue() || v.kind == kDateTime || v.kind == kDays || v.kind == kUUID
	if bound {
		local = val{cel: name, kind: v.kind, prec: pAtom, zone: v.zone}
	}
	body, err := t.seq(rest, sc.with(name, local), end)
	if err != nil {
		return val{}, err
	}
	if !bound {
		return body, nil
	}
	body.cel = "cel.bind(" + name + ", " + v.cel + ", " + body.cel + ")"
	body.prec = pAtom
	return t.emit(body)
}

// declared checks a local declaration's value against its type: a
// double gets a long value converted, Joda and UUID types must match.
func declared(s *declStmt, v val) (val, error) {
	typ := strings.TrimSuffix(s.typ, "[]")
	array := typ != s.typ
	want := map[string]kind{
		"long": kInt, "Long": kInt, "int": kInt, "Integer": kInt, "double": kDouble, "Double": kDouble,
		"float": kDouble, "Float": kDouble, "String": kString, "boolean": kBool, "Boolean": kBool,
		"Map": kMap, "HashMap": kMap, "Object": kDyn, "var": kDyn, "DateTime": kDateTime,
		"DateTimeZone": kZone, "DateTimeFormatter": kFormatter, "UUID": kUUID, "Days": kDays,
	}
	k, ok := want[typ]
	if !ok {
		return val{}, errAt(s.pos, "class %s is not supported", typ)
	}
	if array {
		if k > kMap {
			return val{}, errAt(s.pos, "arrays of %s are not supported", typ)
		}
		k = kList
	}
	switch {
	case k == v.kind || v.kind == kNull && k.isValue() || k == kDyn && v.kind.isValue():
		return v, nil
	case v.kind == kDyn && k.isValue():
		return val{cel: v.cel, kind: k, prec: v.prec}, nil
	case k == kDouble && v.kind == kInt:
		return val{cel: "double(" + v.cel + ")", kind: kDouble, prec: pAtom}, nil
	}
	return val{}, errAt(s.pos, "%s %s cannot hold a %s", s.typ, s.name, v.kind)
}

// assign translates "name op= value" to name's new value.
func (t *translator) assign(a *assignExpr, sc scope) (val, error) {
	v, err := t.expr(a.value, sc)
	if err != nil {
		return val{}, err
	}
	if a.op == "=" {
		return v, nil
	}
	op := strings.TrimSuffix(a.op, "=")
	if _, ok := arith[op]; !ok {
		return val{}, errAt(a.pos, "operator %s is not supported", a.op)
	}
	cur, err := t.expr(&identExpr{pos: a.pos, name: a.name}, sc)
	if err != nil {
		return val{}, err
	}
	return t.arith(a.pos, op, cur, v)
}

// choose translates c ? a : b.
func (t *translator) choose(p Pos, c, a, b val) (val, error) {
	out := val{kind: kDyn}
	switch {
	case a.kind == b.kind && a.kind.isValue():
		out.kind = a.kind
	case a.kind == kDateTime && b.kind == kDateTime && a.zone == b.zone:
		out.kind, out.zone = kDateTime, a.zone
	case a.kind == kNull && b.kind.isValue():
		out.kind = b.kind
	case b.kind == kNull && a.kind.isValue():
		out.kind = a.kind
	case !a.kind.isValue() || !b.kind.isValue():
		return val{}, errAt(p, "choosing between a %s and a %s is not supported", a.kind, b.kind)
	}
	switch {
	case a.kind == kInt && b.kind == kDouble:
		// Java promotes a long and a double operand to double.
		a = val{cel: "double(" + a.cel + ")", kind: kDouble, prec: pAtom}
		out.kind = kDouble
	case a.kind == kDouble && b.kind == kInt:
		b = val{cel: "double(" + b.cel + ")", kind: kDouble, prec: pAtom}
		out.kind = kDouble
	}
	if a.kind != b.kind && out.kind != kDateTime {
		// CEL's type checker wants both branches of one type: dyn
		// defers the choice to the run, as Java's Object would.
		a = val{cel: "dyn(" + a.cel + ")", kind: kDyn, prec: pAtom}
		b = val{cel: "dyn(" + b.cel + ")", kind: kDyn, prec: pAtom}
	}
	out.cel, out.prec = c.operand(pCond)+" ? "+a.operand(pCond)+" : "+b.operand(pCond-1), pCond
	return t.emit(out)
}

// emit counts v's CEL against maxCEL.
func (t *translator) emit(v val) (val, error) {
	t.size += len(v.cel)
	if t.size > maxCEL*4 || len(v.cel) > maxCEL {
		return val{}, errAt(Pos{1, 1}, "the translated expression is longer than %d bytes (if statements followed by many statements copy them into each branch)", maxCEL)
	}
	return v, nil
}

// valueExpr translates x, which must have a value kind.
func (t *translator) valueExpr(x expr, sc scope) (val, error) {
	v, err := t.expr(x, sc)
	if err != nil {
		return val{}, err
	}
	if !v.kind.isValue() {
		return val{}, errAt(x.at(), "a %s cannot be used as a value here", v.kind)
	}
	return v, nil
}

// expr translates one SEL expression.
func (t *translator) expr(x expr, sc scope) (val, error) {
	switch x := x.(type) {
	case *litExpr:
		return literal(x)
	case *identExpr:
		if v, ok := sc[x.name]; ok {
			return v, nil
		}
		if classes[x.name] {
			return val{kind: kClass, class: x.name}, nil
		}
		if t.vars[x.name] {
			if celReserved[x.name] || !celIdent.MatchString(x.name) {
				return val{}, errAt(x.pos, "param %s cannot be read: CEL does not allow the name", x.name)
			}
			t.used[x.name] = true
			return val{cel: x.name, kind: kDyn, prec: pAtom}, nil
		}
		return val{}, errAt(x.pos, "unknown identifier %s", x.name)
	case *unaryExpr:
		return t.unary(x, sc)
	case *binaryExpr:
		return t.binary(x, sc)
	case *condExpr:
		c, err := t.valueExpr(x.cond, sc)
		if err != nil {
			return val{}, err
		}
		if !fits(c, kBool) {
			return val{}, errAt(x.cond.at(), "condition is a %s, not a boolean", c.kind)
		}
		a, err := t.expr(x.a, sc)
		if err != nil {
			return val{}, err
		}
		b, err := t.expr(x.b, sc)
		if err != nil {
			return val{}, err
		}
		return t.choose(x.pos, c, a, b)
	case *assignExpr:
		return val{}, errAt(x.pos, "assignment inside an expression is not supported")
	case *indexExpr:
		recv, err := t.expr(x.x, sc)
		if err != nil {
			return val{}, err
		}
		idx, err := t.valueExpr(x.idx, sc)
		if err != nil {
			return val{}, err
		}
		if recv.kind == kClass && recv.class == "params" {
			return t.emit(val{cel: "params.get(" + idx.cel + ")", kind: kDyn, prec: pAtom})
		}
		if !fits(recv, kList, kMap) {
			return val{}, errAt(x.pos, "indexing a %s is not supported", recv.kind)
		}
		if recv.kind == kList && !fits(idx, kInt) || recv.kind == kMap && !fits(idx, kString) {
			return val{}, errAt(x.idx.at(), "a %s index of a %s", idx.kind, recv.kind)
		}
		elem := recv.operand(pUnary) + "[" + idx.cel + "]"
		if recv.kind == kList {
			// An element of an array literal has the literal's element
			// type in CEL; SEL only knows it when it runs.
			elem = "dyn(" + elem + ")"
		}
		return t.emit(val{cel: elem, kind: kDyn, prec: pAtom})
	case *fieldExpr:
		return t.field(x, sc)
	case *callExpr:
		return t.call(x, sc)
	case *newExpr:
		return t.newObject(x, sc)
	}
	return val{}, errAt(x.at(), "expression is not supported")
}

func literal(x *litExpr) (val, error) {
	switch x.kind {
	case tInt:
		n, err := strconv.ParseInt(x.text, 10, 64)
		if err != nil {
			return val{}, errAt(x.pos, "integer %s is out of range", x.text)
		}
		return val{cel: strconv.FormatInt(n, 10), kind: kInt, prec: pAtom}, nil
	case tFloat:
		f, err := strconv.ParseFloat(x.text, 64)
		if err != nil {
			return val{}, errAt(x.pos, "number %s is out of range", x.text)
		}
		s := strconv.FormatFloat(f, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		return val{cel: s, kind: kDouble, prec: pAtom}, nil
	case tString:
		return val{cel: quote(x.text), kind: kString, prec: pAtom}, nil
	}
	switch x.text {
	case "true", "false":
		return val{cel: x.text, kind: kBool, prec: pAtom}, nil
	}
	return val{cel: "null", kind: kNull, prec: pAtom}, nil
}

// quote writes s as a single-quoted CEL string literal.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch {
		case r == '\'' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f || r >= 0x80 && !strconv.IsPrint(r):
			q := strconv.QuoteRuneToASCII(r) // '\x00', '\u2028', ...
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

func (t *translator) unary(x *unaryExpr, sc scope) (val, error) {
	v, err := t.valueExpr(x.x, sc)
	if err != nil {
		return val{}, err
	}
	switch x.op {
	case "!":
		if v.kind != kBool && v.kind != kDyn {
			return val{}, errAt(x.pos, "! of a %s", v.kind)
		}
		return t.emit(val{cel: "!" + v.operand(pUnary-1), kind: kBool, prec: pUnary})
	case "-", "+":
		if v.kind != kInt && v.kind != kDouble && v.kind != kDyn {
			return val{}, errAt(x.pos, "unary %s of a %s", x.op, v.kind)
		}
		if x.op == "+" {
			return v, nil
		}
		if v.kind == kDyn {
			return t.emit(val{cel: "sel.neg(" + v.cel + ")", kind: kDyn, prec: pAtom})
		}
		if v.prec == pAtom && !strings.HasPrefix(v.cel, "-") {
			return t.emit(val{cel: "-" + v.cel, kind: v.kind, prec: pUnary})
		}
		return t.emit(val{cel: "-(" + v.cel + ")", kind: v.kind, prec: pUnary})
	}
	return val{}, errAt(x.pos, "operator %s is not supported", x.op)
}

// arith maps SEL's arithmetic operators to the functions that give them
// Java's semantics on values whose types are known only when they run.
var arith = map[string]string{"+": "sel.add", "-": "sel.sub", "*": "sel.mul", "/": "sel.div", "%": "sel.mod"}

func (t *translator) binary(x *binaryExpr, sc scope) (val, error) {
	a, err := t.expr(x.x, sc)
	if err != nil {
		return val{}, err
	}
	b, err := t.expr(x.y, sc)
	if err != nil {
		return val{}, err
	}
	if !a.kind.isValue() || !b.kind.isValue() {
		k := a.kind
		if a.kind.isValue() {
			k = b.kind
		}
		return val{}, errAt(x.pos, "operator %s on a %s is not supported", x.op, k)
	}
	switch x.op {
	case "&&", "||":
		for _, v := range []val{a, b} {
			if v.kind != kBool && v.kind != kDyn {
				return val{}, errAt(x.pos, "%s of a %s", x.op, v.kind)
			}
		}
		return t.emit(val{cel: infix(a, x.op, b), kind: kBool, prec: binaryPrecs[x.op]})
	case "==", "!=", "<", ">", "<=", ">=":
		if x.op != "==" && x.op != "!=" {
			for _, v := range []val{a, b} {
				if v.kind == kList || v.kind == kMap || v.kind == kNull {
					return val{}, errAt(x.pos, "operator %s on a %s is not supported", x.op, v.kind)
				}
			}
		}
		// 1 == 1.0, x == null: numbers compare across types at run time.
		a, b = sameType(a, b)
		// CEL's relations do not chain: a == b == c needs parentheses.
		return t.emit(val{cel: a.operand(pRel) + " " + x.op + " " + b.operand(pRel), kind: kBool, prec: pRel})
	case "+", "-", "*", "/", "%":
		return t.arith(x.pos, x.op, a, b)
	}
	return val{}, errAt(x.pos, "operator %s is not supported", x.op)
}

// arith translates a op b: CEL's operator when both are longs or both
// doubles (or both strings for +), else the sel function with Java's
// promotion and string concatenation.
func (t *translator) arith(p Pos, op string, a, b val) (val, error) {
	for _, v := range []val{a, b} {
		switch v.kind {
		case kBool, kList, kMap, kNull:
			if op != "+" {
				return val{}, errAt(p, "operator %s on a %s", op, v.kind)
			}
		}
	}
	// CEL has no % of doubles.
	native := a.kind == b.kind && (a.kind == kInt || a.kind == kDouble && op != "%" || a.kind == kString && op == "+")
	if native {
		return t.emit(val{cel: infix(a, op, b), kind: a.kind, prec: binaryPrecs[op]})
	}
	k := kDyn
	switch {
	case op == "+" && (a.kind == kString || b.kind == kString):
		k = kString
	case (a.kind == kInt || a.kind == kDouble) && (b.kind == kInt || b.kind == kDouble):
		k = kDouble
	}
	if (a.kind == kString || b.kind == kString) && op != "+" {
		return val{}, errAt(p, "operator %s on a String", op)
	}
	return t.emit(val{cel: arith[op] + "(" + a.cel + ", " + b.cel + ")", kind: k, prec: pAtom})
}
