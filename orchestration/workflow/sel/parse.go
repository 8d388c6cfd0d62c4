package sel

import "fmt"

// The syntax tree of a SEL statement list. Every node knows where it
// starts so that errors can name the line and column.

type expr interface{ at() Pos }

type (
	litExpr struct {
		pos  Pos
		kind tokKind // tInt, tFloat, tString, or tIdent for true/false/null
		text string
	}
	identExpr struct {
		pos  Pos
		name string
	}
	unaryExpr struct {
		pos Pos
		op  string
		x   expr
	}
	binaryExpr struct {
		pos  Pos
		op   string
		x, y expr
	}
	condExpr struct {
		pos        Pos
		cond, a, b expr
	}
	assignExpr struct {
		pos   Pos
		op    string // "=", "+=", ...
		name  string
		value expr
	}
	// callExpr is recv.name(args), or name(args) when recv is nil.
	callExpr struct {
		pos  Pos
		recv expr
		name string
		args []expr
	}
	// fieldExpr is x.name without a call.
	fieldExpr struct {
		pos  Pos
		x    expr
		name string
	}
	indexExpr struct {
		pos    Pos
		x, idx expr
	}
	// newExpr is new class(args), or new class[]{elems} when array.
	newExpr struct {
		pos   Pos
		class string
		array bool
		args  []expr
	}
)

func (e *litExpr) at() Pos    { return e.pos }
func (e *identExpr) at() Pos  { return e.pos }
func (e *unaryExpr) at() Pos  { return e.pos }
func (e *binaryExpr) at() Pos { return e.pos }
func (e *condExpr) at() Pos   { return e.pos }
func (e *assignExpr) at() Pos { return e.pos }
func (e *callExpr) at() Pos   { return e.pos }
func (e *fieldExpr) at() Pos  { return e.pos }
func (e *indexExpr) at() Pos  { return e.pos }
func (e *newExpr) at() Pos    { return e.pos }

type stmt interface{ at() Pos }

type (
	exprStmt struct{ x expr }
	// declStmt is "Type name = value;".
	declStmt struct {
		pos   Pos
		typ   string
		name  string
		value expr
	}
	ifStmt struct {
		pos        Pos
		cond       expr
		then, els_ stmt // els_ is nil without else
	}
	blockStmt struct {
		pos   Pos
		stmts []stmt
	}
	returnStmt struct {
		pos Pos
		x   expr
	}
	throwStmt struct {
		pos Pos
		x   expr
	}
)

// endBranch marks, for the translator, the end of an if statement's
// branch: the statements after it are those after the if.
type endBranch struct{ pos Pos }

func (s *endBranch) at() Pos  { return s.pos }
func (s *exprStmt) at() Pos   { return s.x.at() }
func (s *declStmt) at() Pos   { return s.pos }
func (s *ifStmt) at() Pos     { return s.pos }
func (s *blockStmt) at() Pos  { return s.pos }
func (s *returnStmt) at() Pos { return s.pos }
func (s *throwStmt) at() Pos  { return s.pos }

// maxDepth bounds the nesting of the syntax tree so that hostile input
// cannot exhaust the stack.
const maxDepth = 100

type parser struct {
	toks  []token
	i     int
	depth int
}

// parse reads a SEL statement list. The last statement's ';' is optional.
func parse(src string) ([]stmt, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	var out []stmt
	for p.peek().kind != tEOF {
		s, err := p.stmt(true)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, errAt(p.peek().pos, "empty expression")
	}
	return out, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekN(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) is(text string) bool {
	t := p.peek()
	return (t.kind == tPunct || t.kind == tIdent) && t.text == text
}

func (p *parser) expect(text string) error {
	if !p.is(text) {
		return p.unexpected(fmt.Sprintf("%q", text))
	}
	p.next()
	return nil
}

func (p *parser) unexpected(want string) error {
	t := p.peek()
	if t.kind == tEOF {
		return errAt(t.pos, "unexpected end of expression, want %s", want)
	}
	return errAt(t.pos, "unexpected %q, want %s", t.text, want)
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return errAt(p.peek().pos, "expression nests deeper than %d", maxDepth)
	}
	return nil
}

// endStmt consumes a statement's ';', which may be left out at the end of
// the source when top is set.
func (p *parser) endStmt(top bool) error {
	if p.is(";") {
		p.next()
		return nil
	}
	if top && p.peek().kind == tEOF {
		return nil
	}
	return p.unexpected(`";"`)
}

// unsupportedStmts are Java statements SEL has but a CEL expression
// cannot express.
var unsupportedStmts = map[string]string{
	"while": "while loop", "for": "for loop", "do": "do loop", "break": "break statement",
	"continue": "continue statement", "switch": "switch statement", "try": "try statement",
	"import": "import declaration",
}

func (p *parser) stmt(top bool) (stmt, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	t := p.peek()
	if t.kind == tIdent {
		if what, ok := unsupportedStmts[t.text]; ok {
			return nil, errAt(t.pos, "%s is not supported", what)
		}
	}
	switch {
	case p.is(";"):
		p.next()
		return &blockStmt{pos: t.pos}, nil // the empty statement
	case p.is("{"):
		p.next()
		b := &blockStmt{pos: t.pos}
		for !p.is("}") {
			if p.peek().kind == tEOF {
				return nil, p.unexpected(`"}"`)
			}
			s, err := p.stmt(false)
			if err != nil {
				return nil, err
			}
			b.stmts = append(b.stmts, s)
		}
		p.next()
		return b, nil
	case p.is("if"):
		p.next()
		if err := p.expect("("); err != nil {
			return nil, err
		}
		c, err := p.expr()
		if err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		s := &ifStmt{pos: t.pos, cond: c}
		if s.then, err = p.stmt(top); err != nil {
			return nil, err
		}
		if p.is("else") {
			p.next()
			if s.els_, err = p.stmt(top); err != nil {
				return nil, err
			}
		}
		return s, nil
	case p.is("return"), p.is("throw"):
		p.next()
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		if err := p.endStmt(top); err != nil {
			return nil, err
		}
		if t.text == "throw" {
			return &throwStmt{pos: t.pos, x: x}, nil
		}
		return &returnStmt{pos: t.pos, x: x}, nil
	}
	if typ, ok := p.declType(); ok {
		name := p.next()
		if p.is(",") || p.is(";") {
			return nil, errAt(name.pos, "a declaration without a value is not supported")
		}
		if err := p.expect("="); err != nil {
			return nil, err
		}
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		if p.is(",") {
			return nil, errAt(p.peek().pos, "declaring several variables in one statement is not supported")
		}
		if err := p.endStmt(top); err != nil {
			return nil, err
		}
		return &declStmt{pos: t.pos, typ: typ, name: name.text, value: v}, nil
	}
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	if err := p.endStmt(top); err != nil {
		return nil, err
	}
	return &exprStmt{x: x}, nil
}

// declType consumes the type of a local variable declaration ("long",
// "String[]", "DateTime") when the tokens start one, leaving the name.
func (p *parser) declType() (string, bool) {
	t := p.peek()
	if t.kind != tIdent || keywords[t.text] {
		return "", false
	}
	if n := p.peekN(1); n.kind == tIdent && !keywords[n.text] {
		p.next()
		return t.text, true
	}
	if p.peekN(1).text == "[" && p.peekN(2).text == "]" && p.peekN(3).kind == tIdent {
		p.i += 3
		return t.text + "[]", true
	}
	return "", false
}

var keywords = map[string]bool{
	"true": true, "false": true, "null": true, "new": true, "if": true, "else": true,
	"return": true, "throw": true, "instanceof": true,
}

// binaryPrec is Java's precedence of the binary operators, higher binds
// tighter.
var binaryPrec = map[string]int{
	"||": 1, "&&": 2, "|": 3, "^": 4, "&": 5,
	"==": 6, "!=": 6, "<": 7, ">": 7, "<=": 7, ">=": 7, "instanceof": 7,
	"<<": 8, ">>": 8, ">>>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10,
}

var assignOps = map[string]bool{"=": true, "+=": true, "-=": true, "*=": true, "/=": true, "%=": true,
	"&=": true, "|=": true, "^=": true, "<<=": true, ">>=": true, ">>>=": true}

func (p *parser) expr() (expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	lhs, err := p.ternary()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == tPunct && assignOps[t.text] {
		id, ok := lhs.(*identExpr)
		if !ok {
			return nil, errAt(t.pos, "assignment to anything but a local variable is not supported")
		}
		p.next()
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		return &assignExpr{pos: id.pos, op: t.text, name: id.name, value: v}, nil
	}
	return lhs, nil
}

func (p *parser) ternary() (expr, error) {
	c, err := p.binary(1)
	if err != nil {
		return nil, err
	}
	if !p.is("?") {
		return c, nil
	}
	pos := p.next().pos
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	a, err := p.expr()
	if err != nil {
		return nil, err
	}
	if err := p.expect(":"); err != nil {
		return nil, err
	}
	b, err := p.ternary()
	if err != nil {
		return nil, err
	}
	return &condExpr{pos: pos, cond: c, a: a, b: b}, nil
}

func (p *parser) binary(minPrec int) (expr, error) {
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		prec, ok := binaryPrec[t.text]
		if !ok || t.kind == tString || prec < minPrec {
			return x, nil
		}
		p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		y, err := p.binary(prec + 1)
		p.depth--
		if err != nil {
			return nil, err
		}
		x = &binaryExpr{pos: t.pos, op: t.text, x: x, y: y}
	}
}

func (p *parser) unary() (expr, error) {
	t := p.peek()
	if t.kind == tPunct && (t.text == "!" || t.text == "-" || t.text == "+" || t.text == "~" || t.text == "++" || t.text == "--") {
		p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &unaryExpr{pos: t.pos, op: t.text, x: x}, nil
	}
	return p.postfix()
}

func (p *parser) postfix() (expr, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case p.is("."):
			p.next()
			name := p.next()
			if name.kind != tIdent {
				p.i--
				return nil, p.unexpected("a name after \".\"")
			}
			if p.is("(") {
				args, err := p.args()
				if err != nil {
					return nil, err
				}
				x = &callExpr{pos: name.pos, recv: x, name: name.text, args: args}
			} else {
				x = &fieldExpr{pos: name.pos, x: x, name: name.text}
			}
		case p.is("["):
			p.next()
			idx, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			x = &indexExpr{pos: t.pos, x: x, idx: idx}
		case p.is("++"), p.is("--"):
			return nil, errAt(t.pos, "operator %s is not supported", t.text)
		default:
			return x, nil
		}
	}
}

func (p *parser) args() ([]expr, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	var args []expr
	for !p.is(")") {
		if len(args) > 0 {
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
		a, err := p.expr()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
	}
	p.next()
	return args, nil
}

func (p *parser) primary() (expr, error) {
	t := p.peek()
	switch t.kind {
	case tInt, tFloat, tString:
		p.next()
		return &litExpr{pos: t.pos, kind: t.kind, text: t.text}, nil
	case tIdent:
		p.next()
		switch t.text {
		case "true", "false", "null":
			return &litExpr{pos: t.pos, kind: tIdent, text: t.text}, nil
		case "new":
			return p.newExpr(t.pos)
		}
		if keywords[t.text] {
			p.i--
			return nil, p.unexpected("an expression")
		}
		if p.is("(") {
			args, err := p.args()
			if err != nil {
				return nil, err
			}
			return &callExpr{pos: t.pos, name: t.text, args: args}, nil
		}
		return &identExpr{pos: t.pos, name: t.text}, nil
	case tPunct:
		if t.text == "(" {
			p.next()
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			if _, ok := x.(*identExpr); ok && startsOperand(p.peek()) {
				return nil, errAt(t.pos, "type casts are not supported")
			}
			return x, nil
		}
	}
	return nil, p.unexpected("an expression")
}

// startsOperand reports whether t can start an operand, which after a
// parenthesised name means the parentheses were a cast.
func startsOperand(t token) bool {
	switch t.kind {
	case tInt, tFloat, tString:
		return true
	case tIdent:
		return !keywords[t.text] || t.text == "new" || t.text == "true" || t.text == "false" || t.text == "null"
	case tPunct:
		return t.text == "(" || t.text == "!" || t.text == "~"
	}
	return false
}

// newExpr reads what follows "new": a constructor call or an array with
// its initializer.
func (p *parser) newExpr(pos Pos) (expr, error) {
	class := p.next()
	if class.kind != tIdent {
		p.i--
		return nil, p.unexpected("a class name after new")
	}
	if p.is("[") {
		p.next()
		if !p.is("]") {
			return nil, errAt(pos, "new %s[n] is not supported: an array of a given size needs a loop to fill it", class.text)
		}
		p.next()
		if err := p.expect("{"); err != nil {
			return nil, err
		}
		var elems []expr
		for !p.is("}") {
			if len(elems) > 0 {
				if err := p.expect(","); err != nil {
					return nil, err
				}
				if p.is("}") {
					break
				}
			}
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			elems = append(elems, e)
		}
		p.next()
		return &newExpr{pos: pos, class: class.text, array: true, args: elems}, nil
	}
	if p.is("<") {
		return nil, errAt(p.peek().pos, "generic types are not supported")
	}
	args, err := p.args()
	if err != nil {
		return nil, err
	}
	return &newExpr{pos: pos, class: class.text, args: args}, nil
}
