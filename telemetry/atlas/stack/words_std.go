package stack

import (
	"fmt"
	"strconv"
	"strings"
)

func init() {
	stdWords()
	queryWords()
	dataWords()
	mathWords()
	statefulWords()
	filterWords()
	styleWords()
}

// typed defines a word with typed parameters (bottom of the stack first).
func typed(name string, params []ptype, exec func(c *Context, a []any) error) *wordDef {
	return &wordDef{name: name, params: params, exec: exec}
}

func macro(name string, params []ptype, body string) *wordDef {
	return &wordDef{name: name, params: params, macro: strings.Split(body, ",")}
}

func raw(name, sig string, match func([]any) bool, run func(c *Context) error) *wordDef {
	return &wordDef{name: name, sig: sig, match: match, run: run}
}

func always([]any) bool { return true }

// intArg reads an integer from the top of the stack for raw words.
func topInt(stack []any) (int, bool) {
	if len(stack) == 0 {
		return 0, false
	}
	v, ok := tInt.extract(stack[len(stack)-1])
	if !ok {
		return 0, false
	}
	return v.(int), true
}

func stdWords() {
	define(
		typed("call", []ptype{tList}, func(c *Context, a []any) error { return c.callList(a[0].(List)) }),
		raw("clear", "* --", always, func(c *Context) error { c.stack = nil; return nil }),
		typed("depth", nil, func(c *Context, _ []any) error {
			c.push(strconv.Itoa(len(c.stack)))
			return nil
		}),
		typed("drop", []ptype{tAny}, func(*Context, []any) error { return nil }),
		typed("dup", []ptype{tAny}, func(c *Context, a []any) error { c.push(a[0], a[0]); return nil }),
		raw("each", "items:List f:List --", func(s []any) bool { return listsOnTop(s) }, func(c *Context) error {
			f, vs := c.stack[len(c.stack)-1].(List), c.stack[len(c.stack)-2].(List)
			c.stack = c.stack[:len(c.stack)-2]
			for i := range vs {
				c.push(vs[i])
				if err := c.callList(f); err != nil {
					return err
				}
			}
			return nil
		}),
		typed("format", []ptype{tString, tList}, func(c *Context, a []any) error {
			c.push(javaFormat(a[0].(string), a[1].(List)))
			return nil
		}),
		raw("freeze", "* --", always, func(c *Context) error {
			c.frozen = append(c.frozen, c.stack...)
			c.stack = nil
			return nil
		}),
		typed("get", []ptype{tString}, func(c *Context, a []any) error {
			v, ok := c.vars[a[0].(string)]
			if !ok {
				return fmt.Errorf("variable %q is not set", a[0])
			}
			c.push(v)
			return nil
		}),
		raw("pick", "aN … a0 N -- aN … a0 aN", func(s []any) bool {
			n, ok := topInt(s)
			return ok && n >= 0 && len(s) > 1
		}, func(c *Context) error {
			n, _ := topInt(c.stack)
			c.stack = c.stack[:len(c.stack)-1]
			if n >= len(c.stack) {
				return fmt.Errorf("stack underflow: cannot pick item %d of %d", n, len(c.stack))
			}
			c.push(c.stack[len(c.stack)-1-n])
			return nil
		}),
		raw("map", "items:List f:List -- List", func(s []any) bool { return listsOnTop(s) }, func(c *Context) error {
			f, vs := c.stack[len(c.stack)-1].(List), c.stack[len(c.stack)-2].(List)
			c.stack = c.stack[:len(c.stack)-2]
			out := make(List, 0, len(vs))
			for _, v := range vs {
				c.push(v)
				if err := c.callList(f); err != nil {
					return err
				}
				if len(c.stack) == 0 {
					return fmt.Errorf("the function left nothing on the stack")
				}
				out = append(out, c.stack[len(c.stack)-1])
				c.stack = c.stack[:len(c.stack)-1]
			}
			c.push(out)
			return nil
		}),
		raw("ndrop", "aN … a0 N -- aN", func(s []any) bool { n, ok := topInt(s); return ok && n >= 0 }, func(c *Context) error {
			n, _ := topInt(c.stack)
			c.stack = c.stack[:len(c.stack)-1]
			c.stack = c.stack[:max(0, len(c.stack)-n)]
			return nil
		}),
		raw("nlist", "aN … a0 N -- aN List(aN-1 … a0)", func(s []any) bool { n, ok := topInt(s); return ok && n >= 0 }, func(c *Context) error {
			n, _ := topInt(c.stack)
			c.stack = c.stack[:len(c.stack)-1]
			k := max(0, len(c.stack)-n)
			l := append(List{}, c.stack[k:]...)
			c.stack = append(c.stack[:k], l)
			return nil
		}),
		typed("over", []ptype{tAny, tAny}, func(c *Context, a []any) error { c.push(a[0], a[1], a[0]); return nil }),
		raw("roll", "aN … a0 N -- aN-1 … a0 aN", func(s []any) bool {
			n, ok := topInt(s)
			return ok && n >= 0 && len(s) > 1
		}, func(c *Context) error {
			n, _ := topInt(c.stack)
			c.stack = c.stack[:len(c.stack)-1]
			if n >= len(c.stack) {
				return fmt.Errorf("stack underflow: cannot roll item %d of %d", n, len(c.stack))
			}
			i := len(c.stack) - 1 - n
			v := c.stack[i]
			c.stack = append(c.stack[:i], c.stack[i+1:]...)
			c.push(v)
			return nil
		}),
		raw("rot", "a … b -- … b a", func(s []any) bool { return len(s) > 0 }, func(c *Context) error {
			v := c.stack[0]
			c.stack = append(c.stack[1:len(c.stack):len(c.stack)], v)
			return nil
		}),
		raw("-rot", "* a b -- b * a", func(s []any) bool { return len(s) > 0 }, func(c *Context) error {
			v := c.stack[len(c.stack)-1]
			c.stack = append([]any{v}, c.stack[:len(c.stack)-1]...)
			return nil
		}),
		typed("set", []ptype{tString, tAny}, func(c *Context, a []any) error {
			c.vars[a[0].(string)] = a[1]
			return nil
		}),
		typed("swap", []ptype{tAny, tAny}, func(c *Context, a []any) error { c.push(a[1], a[0]); return nil }),
		raw("list", "* -- List", always, func(c *Context) error {
			l := make(List, len(c.stack))
			for i, v := range c.stack {
				l[len(l)-1-i] = v
			}
			c.stack = []any{l}
			return nil
		}),
		macro("2over", []ptype{tAny, tAny}, ":over,:over"),
		macro("nip", []ptype{tAny, tAny}, ":swap,:drop"),
		macro("tuck", []ptype{tAny, tAny}, ":swap,:over"),
		&wordDef{name: "fcall", sig: "key:String --", match: func(s []any) bool {
			_, ok := tString.extract(top(s))
			return ok
		}, macro: []string{":get", ":call"}},
		macro("sset", []ptype{tAny, tString}, ":swap,:set"),
	)
}

func top(s []any) any {
	if len(s) == 0 {
		return nil
	}
	return s[len(s)-1]
}

func listsOnTop(s []any) bool {
	if len(s) < 2 {
		return false
	}
	_, a := s[len(s)-1].(List)
	_, b := s[len(s)-2].(List)
	return a && b
}

// javaFormat implements the %s, %d, %f and %% conversions of Java's
// String.format that :format supports.
func javaFormat(pattern string, args List) string {
	var b strings.Builder
	ai := 0
	for i := 0; i < len(pattern); i++ {
		if pattern[i] != '%' || i+1 >= len(pattern) {
			b.WriteByte(pattern[i])
			continue
		}
		j := i + 1
		for j < len(pattern) && strings.IndexByte("0123456789.-+", pattern[j]) >= 0 {
			j++
		}
		if j >= len(pattern) {
			b.WriteString(pattern[i:])
			break
		}
		spec, conv := pattern[i+1:j], pattern[j]
		i = j
		if conv == '%' {
			b.WriteByte('%')
			continue
		}
		if conv == 'n' {
			b.WriteByte('\n')
			continue
		}
		var arg any = ""
		if ai < len(args) {
			arg = args[ai]
			ai++
		}
		s := itemString(arg)
		switch conv {
		case 'd', 'f', 'e', 'g', 'x':
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				if conv == 'd' || conv == 'x' {
					b.WriteString(fmt.Sprintf("%"+spec+string(conv), int64(f)))
				} else {
					b.WriteString(fmt.Sprintf("%"+spec+string(conv), f))
				}
				continue
			}
		}
		b.WriteString(fmt.Sprintf("%"+spec+"s", s))
	}
	return b.String()
}
