package stack

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Limits of the interpreter, as in Atlas: they stop programs that grow the
// stack or recurse without end (:each, :map, :call, :fcall).
const (
	maxStackSize = 1024
	maxCallDepth = 10
	maxSteps     = 100_000
)

// Error is a parse or evaluation error of a program. Word is the word that
// failed (":add"), or empty when the program itself is malformed; Pos is
// the byte offset in the program of the token being executed.
type Error struct {
	Word string
	Pos  int
	Msg  string
}

func (e *Error) Error() string {
	if e.Word != "" {
		return fmt.Sprintf("%s (position %d): %s", e.Word, e.Pos, e.Msg)
	}
	return fmt.Sprintf("position %d: %s", e.Pos, e.Msg)
}

// Context is the state of a running program.
type Context struct {
	stack  []any // top at the end
	frozen []any
	vars   map[string]any
	depth  int
	steps  int
	zone   *time.Location
	pos    int // position of the top-level token being executed
}

func (c *Context) push(vs ...any) { c.stack = append(c.stack, vs...) }

// Stack returns the items left on the stack, bottom first, with frozen
// items first.
func (c *Context) Stack() []any {
	return append(append([]any(nil), c.frozen...), c.stack...)
}

// word kinds: typed words check and coerce their parameters; raw words
// see the whole stack.
type wordDef struct {
	name   string
	params []ptype
	// pass lets a styled expression through TimeSeriesExpr parameters, the
	// style carrying over to the result (Atlas's StylePassthrough).
	pass bool
	// exec runs a typed word with its coerced arguments, bottom first.
	exec func(c *Context, args []any) error
	// match and run define a raw word.
	match func(stack []any) bool
	run   func(c *Context) error
	// macro is a body of tokens run on the uncoerced stack.
	macro []string
	sig   string
}

func (w *wordDef) signature() string {
	if w.sig != "" {
		return w.sig
	}
	names := make([]string, len(w.params))
	for i, p := range w.params {
		names[i] = p.name
	}
	return strings.Join(names, " ")
}

func (w *wordDef) matches(stack []any) bool {
	if w.match != nil {
		return w.match(stack)
	}
	n := len(w.params)
	if len(stack) < n {
		return false
	}
	for i, p := range w.params {
		v := stack[len(stack)-n+i]
		if _, ok := v.(*StyleExpr); ok && (w.pass || w.macro != nil) && p.isTS {
			continue
		}
		if _, ok := p.extract(v); !ok {
			return false
		}
	}
	return true
}

func (w *wordDef) execute(c *Context) error {
	if w.run != nil {
		return w.run(c)
	}
	if w.macro != nil {
		return c.run(tokensOf(w.macro))
	}
	n := len(w.params)
	raw := c.stack[len(c.stack)-n:]
	args := make([]any, n)
	var styles []*StyleExpr
	for i, p := range w.params {
		if s, ok := raw[i].(*StyleExpr); ok && w.pass && p.isTS {
			args[i] = s.Expr
			styles = append(styles, s)
			continue
		}
		args[i], _ = p.extract(raw[i])
	}
	c.stack = c.stack[:len(c.stack)-n]
	if err := w.exec(c, args); err != nil {
		return err
	}
	if len(styles) == 1 && len(c.stack) > 0 {
		if t, ok := c.stack[len(c.stack)-1].(TimeSeriesExpr); ok {
			c.stack[len(c.stack)-1] = &StyleExpr{Expr: t, Settings: styles[0].Settings.clone()}
		}
	}
	return nil
}

// tokensOf turns a macro body into tokens.
func tokensOf(body []string) []Token {
	ts := make([]Token, len(body))
	for i, s := range body {
		ts[i] = Token{Text: s, Pos: -1}
	}
	return ts
}

// vocabulary maps a word name to its definitions, tried in order.
var vocabulary = map[string][]*wordDef{}

func define(ws ...*wordDef) {
	for _, w := range ws {
		vocabulary[w.name] = append(vocabulary[w.name], w)
	}
}

func (c *Context) fail(name, format string, args ...any) error {
	return &Error{Word: ":" + name, Pos: c.pos, Msg: fmt.Sprintf(format, args...)}
}

func (c *Context) execWord(name string) error {
	defs, ok := vocabulary[name]
	if !ok {
		return c.fail(name, "unknown word")
	}
	for _, w := range defs {
		if w.matches(c.stack) {
			if err := w.execute(c); err != nil {
				if _, ok := errors.AsType[*Error](err); ok {
					return err
				}
				return c.fail(name, "%v", err)
			}
			return nil
		}
	}
	return c.mismatch(name, defs)
}

// mismatch explains why no definition of a word fits the stack: too few
// items (stack underflow) or items of the wrong types.
func (c *Context) mismatch(name string, defs []*wordDef) error {
	minParams := -1
	sigs := make([]string, len(defs))
	for i, w := range defs {
		sigs[i] = w.signature()
		if w.match == nil && (minParams < 0 || len(w.params) < minParams) {
			minParams = len(w.params)
		}
	}
	if minParams > len(c.stack) {
		return c.fail(name, "stack underflow: needs %d item(s) (%s), the stack has %d",
			minParams, strings.Join(sigs, " | "), len(c.stack))
	}
	n := 0
	for _, w := range defs {
		n = max(n, len(w.params))
	}
	n = min(n, len(c.stack))
	got := make([]string, n)
	for i := range got {
		got[i] = describe(c.stack[len(c.stack)-n+i])
	}
	return c.fail(name, "type mismatch: the stack ends with [%s], the word expects [%s]",
		strings.Join(got, " "), strings.Join(sigs, "] or ["))
}

// run executes tokens in c.
func (c *Context) run(toks []Token) error {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > maxCallDepth {
		return &Error{Pos: c.pos, Msg: "looping detected: calls nested more than 10 deep"}
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if c.depth == 1 {
			c.pos = t.Pos
		}
		c.steps++
		if c.steps > maxSteps {
			return &Error{Pos: c.pos, Msg: fmt.Sprintf("program runs more than %d steps", maxSteps)}
		}
		switch {
		case t.val != nil:
			c.push(t.val)
		case t.Text == "(":
			list, next, err := readList(toks, i+1)
			if err != nil {
				return &Error{Pos: t.Pos, Msg: err.Error()}
			}
			c.push(list)
			i = next
		case t.Text == ")":
			return &Error{Pos: c.pos, Msg: "unmatched closing parenthesis"}
		case strings.HasPrefix(t.Text, ":") && len(t.Text) > 1:
			if err := c.execWord(t.Text[1:]); err != nil {
				return err
			}
		default:
			c.push(unescape(t.Text))
		}
		if len(c.stack)+len(c.frozen) > maxStackSize {
			return &Error{Pos: c.pos, Msg: fmt.Sprintf("stack overflow: more than %d items", maxStackSize)}
		}
	}
	return nil
}

// readList collects raw tokens up to the matching ")" and returns the list
// and the index of that ")".
func readList(toks []Token, i int) (List, int, error) {
	var out List
	depth := 0
	for ; i < len(toks); i++ {
		switch toks[i].Text {
		case "(":
			depth++
		case ")":
			if depth == 0 {
				return out, i, nil
			}
			depth--
		}
		if len(out) > maxStackSize {
			return nil, 0, fmt.Errorf("list has more than %d items", maxStackSize)
		}
		if toks[i].val != nil {
			out = append(out, toks[i].val)
		} else {
			out = append(out, toks[i].Text)
		}
	}
	return nil, 0, fmt.Errorf("unmatched opening parenthesis")
}

// callList runs a list as a program (:call, :each, :map). Items that are
// not tokens (lists or expressions put there by :list) are pushed as is.
func (c *Context) callList(l List) error {
	toks := make([]Token, len(l))
	for i, it := range l {
		if s, ok := it.(string); ok {
			toks[i] = Token{Text: s, Pos: -1}
		} else {
			toks[i] = Token{Pos: -1, val: it}
		}
	}
	return c.run(toks)
}

// Interpret runs a program and returns the stack it leaves, bottom first.
// vars presets variables (":get"); zone is the time zone of :time-span
// and :time (nil means UTC).
func Interpret(program string, vars map[string]any, zone *time.Location) ([]any, error) {
	toks, err := Tokenize(program)
	if err != nil {
		return nil, err
	}
	if zone == nil {
		zone = time.UTC
	}
	c := &Context{vars: map[string]any{}, zone: zone}
	for k, v := range vars {
		c.vars[k] = v
	}
	if err := c.run(toks); err != nil {
		return nil, err
	}
	return c.Stack(), nil
}
