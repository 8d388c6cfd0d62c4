package events

import (
	"strings"

	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
)

// attrRef names an event attribute the rule index can read: a context
// attribute (type, source, ...), a path into data, or an extension.
type attrRef struct {
	root string
	path []string
}

// key identifies the attribute in maps.
func (a attrRef) key() string {
	if len(a.path) == 0 {
		return a.root
	}
	return a.root + "\x00" + strings.Join(a.path, "\x00")
}

// String is the attribute as an expression would write it.
func (a attrRef) String() string {
	if len(a.path) == 0 {
		return a.root
	}
	return a.root + "." + strings.Join(a.path, ".")
}

// stringValue returns the attribute of the event when it is a string. An
// attribute that is missing or not a string cannot equal or start with a
// string literal, so no indexed rule on it can match.
func (a attrRef) stringValue(act *activation) (string, bool) {
	ev := act.ev
	if i := varIndex(a.root); i >= 0 && i <= varDataSchema {
		return contextString(ev, i), true
	}
	switch a.root {
	case "ext":
		if len(a.path) != 1 {
			return "", false
		}
		s, ok := ev.Extensions[a.path[0]].(string)
		return s, ok
	case "data":
		obj, ok := act.data().(*jsonObject)
		if !ok {
			return "", false
		}
		for i, f := range a.path {
			raw, ok := obj.member(f)
			switch {
			case !ok:
				return "", false
			case i == len(a.path)-1:
				if raw == "" || raw[0] != '"' {
					return "", false
				}
				return unquote(raw), true
			}
			// Walk through the member's cached value so that rules
			// evaluated next find it converted.
			v, _ := obj.Find(types.String(f))
			if obj, ok = v.(*jsonObject); !ok {
				return "", false
			}
		}
	}
	return "", false
}

// indexKey is one hash lookup that finds a rule: the attribute equals
// value, or (prefix) starts with it.
type indexKey struct {
	attr   attrRef
	prefix bool
	value  string
}

// keySet is a necessary condition of a rule: the rule can only match an
// event that hits at least one of the keys.
type keySet []indexKey

// indexOptions returns the alternative key sets of a condition: each one
// alone is a necessary condition, so the index may file the rule under any
// of them. It returns nil when nothing in the condition can be indexed.
//
// The rules, by the shape of the expression:
//   - a && b: the options of a and of b (if a && b is true, both are);
//   - a || b: one option, the union of the best options of a and b, when
//     both have one;
//   - attr == "lit" (either way round): {attr = lit};
//   - attr in ["l1", "l2"]: {attr = l1, attr = l2};
//   - attr.startsWith("p"), p not empty: {attr starts with p}.
//
// attr is a context attribute, a chain of field selections or string
// indexes into data, or ext.name. CEL's && and || are true only when the
// operands they need are true (an error or false operand never yields
// true), so these conditions are sound.
func indexOptions(e celast.Expr) []keySet {
	if e.Kind() != celast.CallKind {
		return nil
	}
	call := e.AsCall()
	args := call.Args()
	switch call.FunctionName() {
	case operators.LogicalAnd:
		var out []keySet
		for _, a := range args {
			out = append(out, indexOptions(a)...)
		}
		return out
	case operators.LogicalOr:
		var union keySet
		for _, a := range args {
			opts := indexOptions(a)
			if len(opts) == 0 {
				return nil
			}
			union = append(union, bestLocal(opts)...)
		}
		return []keySet{union}
	case operators.Equals:
		if len(args) != 2 {
			return nil
		}
		for _, pair := range [2][2]celast.Expr{{args[0], args[1]}, {args[1], args[0]}} {
			attr, ok := attrOf(pair[0])
			if !ok {
				continue
			}
			if lit, ok := stringLiteral(pair[1]); ok {
				return []keySet{{{attr: attr, value: lit}}}
			}
		}
	case operators.In:
		if len(args) != 2 || args[1].Kind() != celast.ListKind {
			return nil
		}
		attr, ok := attrOf(args[0])
		if !ok {
			return nil
		}
		list := args[1].AsList()
		if len(list.OptionalIndices()) > 0 {
			return nil
		}
		set := keySet{}
		for _, el := range list.Elements() {
			lit, ok := stringLiteral(el)
			if !ok {
				return nil
			}
			set = append(set, indexKey{attr: attr, value: lit})
		}
		return []keySet{set}
	case "startsWith":
		if !call.IsMemberFunction() || len(args) != 1 {
			return nil
		}
		attr, ok := attrOf(call.Target())
		if !ok {
			return nil
		}
		if lit, ok := stringLiteral(args[0]); ok && lit != "" {
			return []keySet{{{attr: attr, prefix: true, value: lit}}}
		}
	}
	return nil
}

// bestLocal picks the option with the fewest, most selective keys, for a
// disjunction where no global counts are at hand.
func bestLocal(opts []keySet) keySet {
	best, bestCost := opts[0], localCost(opts[0])
	for _, o := range opts[1:] {
		if c := localCost(o); c < bestCost {
			best, bestCost = o, c
		}
	}
	return best
}

func localCost(ks keySet) int {
	c := 0
	for _, k := range ks {
		c += 2
		if k.prefix {
			c += 2
		}
		if k.attr.root != "type" {
			c++
		}
	}
	return c
}

var contextAttrs = map[string]bool{"type": true, "source": true, "subject": true, "id": true,
	"specversion": true, "datacontenttype": true, "dataschema": true}

// attrOf recognises an attribute reference.
func attrOf(e celast.Expr) (attrRef, bool) {
	var path []string
	for {
		switch e.Kind() {
		case celast.IdentKind:
			name := e.AsIdent()
			if contextAttrs[name] && len(path) == 0 {
				return attrRef{root: name}, true
			}
			if (name == "data" && len(path) > 0) || (name == "ext" && len(path) == 1) {
				reverse(path)
				return attrRef{root: name, path: path}, true
			}
			return attrRef{}, false
		case celast.SelectKind:
			sel := e.AsSelect()
			if sel.IsTestOnly() {
				return attrRef{}, false
			}
			path = append(path, sel.FieldName())
			e = sel.Operand()
		case celast.CallKind:
			call := e.AsCall()
			if call.FunctionName() != operators.Index || len(call.Args()) != 2 {
				return attrRef{}, false
			}
			lit, ok := stringLiteral(call.Args()[1])
			if !ok {
				return attrRef{}, false
			}
			path = append(path, lit)
			e = call.Args()[0]
		default:
			return attrRef{}, false
		}
	}
}

func reverse(s []string) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

func stringLiteral(e celast.Expr) (string, bool) {
	if e.Kind() != celast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().(types.String)
	return string(s), ok
}
