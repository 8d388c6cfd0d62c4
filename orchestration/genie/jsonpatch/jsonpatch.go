// Package jsonpatch applies JSON Patch documents (RFC 6902) to JSON
// values decoded with encoding/json into any: objects as map[string]any,
// arrays as []any. Genie's v3 API changes resources with them (PATCH).
package jsonpatch

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Operation is one step of a patch.
type Operation struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	From  string          `json:"from,omitempty"`
	Value json.RawMessage `json:"value,omitempty"`
}

// maxPatch bounds a patch document, in operations.
const maxPatch = 1000

// Parse reads a patch document: a JSON array of operations, each with a
// known op, a valid path, and the from or value its op needs.
func Parse(doc []byte) ([]Operation, error) {
	var ops []Operation
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ops); err != nil {
		return nil, fmt.Errorf("JSON patch: want an array of operations: %w", err)
	}
	if len(ops) > maxPatch {
		return nil, fmt.Errorf("JSON patch: %d operations, more than %d", len(ops), maxPatch)
	}
	for i, op := range ops {
		if _, err := splitPointer(op.Path); err != nil {
			return nil, fmt.Errorf("JSON patch [%d]: path: %w", i, err)
		}
		switch op.Op {
		case "add", "replace", "test":
			if op.Value == nil {
				return nil, fmt.Errorf("JSON patch [%d]: %s needs a value", i, op.Op)
			}
		case "move", "copy":
			if _, err := splitPointer(op.From); err != nil {
				return nil, fmt.Errorf("JSON patch [%d]: from: %w", i, err)
			}
			if op.Op == "move" && op.Path != op.From && strings.HasPrefix(op.Path+"/", op.From+"/") {
				return nil, fmt.Errorf("JSON patch [%d]: cannot move %q into itself", i, op.From)
			}
		case "remove":
		default:
			return nil, fmt.Errorf("JSON patch [%d]: op %q: want add, remove, replace, move, copy or test", i, op.Op)
		}
	}
	return ops, nil
}

// splitPointer splits a JSON pointer (RFC 6901) into its unescaped
// reference tokens; "" is the whole document.
func splitPointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, fmt.Errorf("%q: a JSON pointer starts with '/'", p)
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		for j := 0; j < len(t); j++ {
			if t[j] == '~' && (j+1 == len(t) || (t[j+1] != '0' && t[j+1] != '1')) {
				return nil, fmt.Errorf("%q: '~' must be followed by 0 or 1", p)
			}
		}
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

// Apply applies ops to doc in order and returns the result; doc itself
// may be changed. The first operation that fails stops the patch, and
// its error names it.
func Apply(doc any, ops []Operation) (any, error) {
	var err error
	for i, op := range ops {
		if doc, err = applyOne(doc, op); err != nil {
			return nil, fmt.Errorf("JSON patch [%d] %s %s: %w", i, op.Op, op.Path, err)
		}
	}
	return doc, nil
}

func applyOne(doc any, op Operation) (any, error) {
	path, _ := splitPointer(op.Path)
	switch op.Op {
	case "add", "replace", "test":
		var v any
		if err := json.Unmarshal(op.Value, &v); err != nil {
			return nil, fmt.Errorf("value: %w", err)
		}
		switch op.Op {
		case "add":
			return add(doc, path, v)
		case "replace":
			if len(path) == 0 {
				return v, nil
			}
			doc, _, err := remove(doc, path)
			if err != nil {
				return nil, err
			}
			return add(doc, path, v)
		default:
			got, err := get(doc, path)
			if err != nil {
				return nil, err
			}
			if !reflect.DeepEqual(got, v) {
				return nil, fmt.Errorf("test failed: the value differs")
			}
			return doc, nil
		}
	case "remove":
		doc, _, err := remove(doc, path)
		return doc, err
	case "move", "copy":
		from, _ := splitPointer(op.From)
		v, err := get(doc, from)
		if err != nil {
			return nil, fmt.Errorf("from: %w", err)
		}
		if op.Op == "move" {
			if doc, _, err = remove(doc, from); err != nil {
				return nil, err
			}
		} else {
			v = deepCopy(v)
		}
		return add(doc, path, v)
	}
	return nil, fmt.Errorf("unknown op %q", op.Op)
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, x := range t {
			a[i] = deepCopy(x)
		}
		return a
	}
	return v
}

// index reads an array index token; "-" (the end) only when end is true.
func index(tok string, n int, end bool) (int, error) {
	if tok == "-" && end {
		return n, nil
	}
	if tok == "" || (len(tok) > 1 && tok[0] == '0') || strings.TrimLeft(tok, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not an array index", tok)
	}
	i, err := strconv.Atoi(tok)
	if err != nil || i > n || (!end && i == n) {
		return 0, fmt.Errorf("index %s is out of range (length %d)", tok, n)
	}
	return i, nil
}

func get(doc any, path []string) (any, error) {
	cur := doc
	for _, tok := range path {
		switch t := cur.(type) {
		case map[string]any:
			v, ok := t[tok]
			if !ok {
				return nil, fmt.Errorf("no member %q", tok)
			}
			cur = v
		case []any:
			i, err := index(tok, len(t), false)
			if err != nil {
				return nil, err
			}
			cur = t[i]
		default:
			return nil, fmt.Errorf("%q: not inside an object or array", tok)
		}
	}
	return cur, nil
}

// add sets path to v, inserting into arrays; it returns the new document.
func add(doc any, path []string, v any) (any, error) {
	if len(path) == 0 {
		return v, nil
	}
	parent, err := get(doc, path[:len(path)-1])
	if err != nil {
		return nil, err
	}
	last := path[len(path)-1]
	switch t := parent.(type) {
	case map[string]any:
		t[last] = v
		return doc, nil
	case []any:
		i, err := index(last, len(t), true)
		if err != nil {
			return nil, err
		}
		grown := append(t[:i:i], append([]any{v}, t[i:]...)...)
		return set(doc, path[:len(path)-1], grown)
	}
	return nil, fmt.Errorf("%q: the parent is not an object or array", last)
}

// remove deletes path and returns the new document and the removed value.
func remove(doc any, path []string) (any, any, error) {
	if len(path) == 0 {
		return nil, nil, fmt.Errorf("cannot remove the whole document")
	}
	parent, err := get(doc, path[:len(path)-1])
	if err != nil {
		return nil, nil, err
	}
	last := path[len(path)-1]
	switch t := parent.(type) {
	case map[string]any:
		v, ok := t[last]
		if !ok {
			return nil, nil, fmt.Errorf("no member %q", last)
		}
		delete(t, last)
		return doc, v, nil
	case []any:
		i, err := index(last, len(t), false)
		if err != nil {
			return nil, nil, err
		}
		v := t[i]
		shrunk := append(t[:i:i], t[i+1:]...)
		doc, err = set(doc, path[:len(path)-1], shrunk)
		return doc, v, err
	}
	return nil, nil, fmt.Errorf("%q: the parent is not an object or array", last)
}

// set replaces the value at path (which exists) with v.
func set(doc any, path []string, v any) (any, error) {
	if len(path) == 0 {
		return v, nil
	}
	parent, err := get(doc, path[:len(path)-1])
	if err != nil {
		return nil, err
	}
	last := path[len(path)-1]
	switch t := parent.(type) {
	case map[string]any:
		t[last] = v
	case []any:
		i, err := index(last, len(t), false)
		if err != nil {
			return nil, err
		}
		t[i] = v
	}
	return doc, nil
}
