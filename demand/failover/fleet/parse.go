package fleet

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxSourceBytes bounds a fleet document.
const MaxSourceBytes = 32 << 20

// A document may expand (through aliases) to at most four times its own
// nodes plus a little: anchors for repeated settings are fine, alias
// bombs are refused before they cost anything.
const (
	expansionFactor = 4
	expansionSlack  = 10_000
)

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse reads a fleet from YAML (or JSON) and validates it. Its error is
// an *Error whose problems name the field, line and column at fault:
// unknown fields, values of the wrong type and every check of Validate.
func Parse(src []byte) (*Fleet, error) {
	if len(src) > MaxSourceBytes {
		return nil, &Error{Problems: []Problem{{Path: "(document)", Message: fmt.Sprintf("%d bytes: at most %d", len(src), MaxSourceBytes)}}}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		p := Problem{Path: "(document)", Message: strings.TrimPrefix(err.Error(), "yaml: ")}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			p.Message = m[2]
		}
		return nil, &Error{Problems: []Problem{p}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &Error{Problems: []Problem{{Path: "(document)", Message: "empty: a fleet document is required"}}}
	}
	d := &decoder{pos: map[string][2]int{}}
	d.maxVisits = expansionFactor*countNodes(&doc) + expansionSlack
	var f Fleet
	d.decode(doc.Content[0], reflect.ValueOf(&f).Elem(), "")
	if len(d.problems) > 0 {
		return nil, &Error{Problems: d.problems}
	}
	if err := f.Validate(); err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			for i := range fe.Problems {
				fe.Problems[i].Line, fe.Problems[i].Column = d.locate(fe.Problems[i].Path)
			}
		}
		return nil, err
	}
	return &f, nil
}

// decoder fills Go values from YAML nodes by their JSON field names,
// recording where each path is and what is wrong.
type decoder struct {
	pos       map[string][2]int
	problems  []Problem
	visits    int
	maxVisits int
}

// countNodes counts the nodes of a document, not following aliases.
func countNodes(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += countNodes(k)
	}
	return c
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	if len(d.problems) < 100 {
		d.problems = append(d.problems, Problem{Path: orDocument(path), Line: n.Line, Column: n.Column,
			Message: fmt.Sprintf(format, args...)})
	}
}

func orDocument(path string) string {
	if path == "" {
		return "(document)"
	}
	return path
}

// locate returns where path, or its nearest recorded ancestor, is.
func (d *decoder) locate(path string) (int, int) {
	for path != "" {
		if p, ok := d.pos[path]; ok {
			return p[0], p[1]
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0, 0
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

var durationType = reflect.TypeOf(Duration(0))

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if d.visits++; d.visits > d.maxVisits {
		if d.visits == d.maxVisits+1 {
			d.fail(n, path, "the document expands to more than %d values through its aliases", d.maxVisits)
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if path != "" {
		d.pos[path] = [2]int{n.Line, n.Column}
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if v.Type() == durationType {
		d.duration(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.object(n, v, path)
	case reflect.Slice:
		d.list(n, v, path)
	case reflect.Map:
		d.mapping(n, v, path)
	default:
		d.scalar(n, v, path)
	}
}

func (d *decoder) object(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping of fields, got %s", describe(n))
		return
	}
	fields := map[string]int{}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		fields[name] = i
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		p := join(path, key.Value)
		idx, ok := fields[key.Value]
		switch {
		case key.Kind != yaml.ScalarNode:
			d.fail(key, path, "field names must be plain strings")
		case !ok:
			d.fail(key, p, "unknown field")
		case seen[key.Value]:
			d.fail(key, p, "given twice")
		default:
			seen[key.Value] = true
			d.decode(val, v.Field(idx), p)
		}
	}
}

func (d *decoder) list(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "want a list, got %s", describe(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, out.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(out)
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping, got %s", describe(n))
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		p := join(path, key.Value)
		if key.Kind != yaml.ScalarNode {
			d.fail(key, path, "keys must be plain strings")
			continue
		}
		if m.MapIndex(reflect.ValueOf(key.Value)).IsValid() {
			d.fail(key, p, "given twice")
			continue
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, elem, p)
		m.SetMapIndex(reflect.ValueOf(key.Value), elem)
	}
	v.Set(m)
}

func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "want a single value, got %s", describe(n))
		return
	}
	var err error
	switch v.Kind() {
	case reflect.String:
		if n.Tag == "!!binary" {
			err = errors.New("binary")
		}
		v.SetString(n.Value)
	case reflect.Float64:
		var f float64
		if n.Tag != "!!int" && n.Tag != "!!float" {
			err = errors.New("not a number")
		} else if err = n.Decode(&f); err == nil {
			v.SetFloat(f)
		}
	case reflect.Int:
		var i int
		if n.Tag != "!!int" {
			err = errors.New("not an integer")
		} else if err = n.Decode(&i); err == nil {
			v.SetInt(int64(i))
		}
	case reflect.Uint64:
		var u uint64
		if n.Tag != "!!int" {
			err = errors.New("not an integer")
		} else if err = n.Decode(&u); err == nil {
			v.SetUint(u)
		}
	case reflect.Bool:
		var b bool
		if n.Tag != "!!bool" {
			err = errors.New("not a boolean")
		} else if err = n.Decode(&b); err == nil {
			v.SetBool(b)
		}
	default:
		err = fmt.Errorf("unsupported field type %s", v.Type())
	}
	if err != nil {
		d.fail(n, path, "want %s, got %s", want(v.Kind()), describe(n))
	}
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		d.fail(n, path, "want a duration such as 90s, 5m or 14d, got %s", describe(n))
		return
	}
	dur, err := ParseDuration(n.Value)
	if err != nil {
		d.fail(n, path, "%v", err)
		return
	}
	v.SetInt(int64(dur))
}

func want(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Uint64:
		return "an integer"
	case reflect.Bool:
		return "true or false"
	}
	return k.String()
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return fmt.Sprintf("%s %q", strings.TrimPrefix(n.Tag, "!!"), v)
	}
	return "an unexpected node"
}
