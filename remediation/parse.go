package remediation

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/gaffer-sre/gaffer/remediation/schema"
)

// RunbookSchema is the published JSON Schema of runbook documents.
//
//go:embed schemas/runbook.schema.json
var RunbookSchema []byte

// runbookSchema is compiled when a runbook is first parsed: compiled at
// start it held 1.7 MB of every process's heap, runbooks or not.
var runbookSchema = sync.OnceValue(func() *schema.Schema {
	s, err := schema.Compile("runbook", RunbookSchema)
	if err != nil {
		panic(err)
	}
	return s
})

// Limits on runbook documents.
const (
	MaxSourceBytes = 256 << 10
	maxNodes       = 20000
)

// Problem is one reason a runbook is refused, with where it is.
type Problem struct {
	// Line and Column (1-based) of the value at fault; 0 when unknown.
	Line   int `json:"line"`
	Column int `json:"column"`
	// Path is the JSON pointer of the value at fault, e.g. /steps/1/type.
	Path    string `json:"path"`
	Message string `json:"message"`
}

// ParseError lists the problems of a runbook document.
type ParseError struct {
	Problems []Problem
}

func (e *ParseError) Error() string {
	parts := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		where := p.Path
		if p.Line > 0 {
			where = fmt.Sprintf("line %d: %s", p.Line, p.Path)
		}
		parts = append(parts, where+": "+p.Message)
	}
	return "invalid runbook: " + strings.Join(parts, "; ")
}

// positions maps JSON pointers to where their values are in the source.
type positions map[string][2]int

// locate finds the position of ptr or of its nearest ancestor.
func (p positions) locate(ptr string) (int, int) {
	for {
		if pos, ok := p[ptr]; ok {
			return pos[0], pos[1]
		}
		i := strings.LastIndexByte(ptr, '/')
		if i < 0 {
			return 0, 0
		}
		ptr = ptr[:i]
	}
}

// Parse reads a runbook from YAML (or JSON, which is YAML), checks it
// against the schema and the rules beyond it, and returns it compiled.
// Errors are a *ParseError whose problems carry line numbers.
func Parse(src []byte) (*Compiled, error) {
	if len(src) > MaxSourceBytes {
		return nil, &ParseError{Problems: []Problem{{Message: fmt.Sprintf("document is %d bytes; at most %d", len(src), MaxSourceBytes)}}}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&doc); err != nil {
		return nil, yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &ParseError{Problems: []Problem{{Line: extra.Line, Message: "a runbook file holds one YAML document"}}}
	}
	pos := positions{}
	conv := converter{pos: pos}
	v, err := conv.value(&doc, "")
	if err != nil {
		return nil, err
	}
	if err := runbookSchema().Validate(v); err != nil {
		var se *schema.Error
		if !errors.As(err, &se) {
			return nil, err
		}
		pe := &ParseError{}
		for _, p := range se.Problems {
			line, col := pos.locate(p.Pointer)
			pe.Problems = append(pe.Problems, Problem{Line: line, Column: col, Path: p.Pointer, Message: p.Message})
		}
		return nil, pe
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("runbook: %w", err)
	}
	var rb Runbook
	if err := json.Unmarshal(b, &rb); err != nil {
		return nil, &ParseError{Problems: []Problem{{Message: err.Error()}}}
	}
	c, problems := compile(&rb)
	if len(problems) > 0 {
		for i := range problems {
			problems[i].Line, problems[i].Column = pos.locate(problems[i].Path)
		}
		sort.SliceStable(problems, func(i, j int) bool { return problems[i].Line < problems[j].Line })
		return nil, &ParseError{Problems: problems}
	}
	c.Source = string(src)
	return c, nil
}

func yamlError(err error) error {
	msg := err.Error()
	line := 0
	// yaml.v3 reports "yaml: line N: ..." for syntax errors.
	if rest, ok := strings.CutPrefix(msg, "yaml: line "); ok {
		if n, tail, ok := strings.Cut(rest, ":"); ok {
			line, _ = strconv.Atoi(n)
			msg = strings.TrimSpace(tail)
		}
	}
	return &ParseError{Problems: []Problem{{Line: line, Message: msg}}}
}

type converter struct {
	pos   positions
	nodes int
}

// value converts a YAML node to the JSON value it stands for, recording
// positions. Map keys must be strings, and appear once.
func (c *converter) value(n *yaml.Node, ptr string) (any, error) {
	c.nodes++
	if c.nodes > maxNodes {
		return nil, &ParseError{Problems: []Problem{{Line: n.Line, Message: fmt.Sprintf("more than %d values", maxNodes)}}}
	}
	if _, ok := c.pos[ptr]; !ok {
		c.pos[ptr] = [2]int{n.Line, n.Column}
	}
	fail := func(format string, args ...any) error {
		return &ParseError{Problems: []Problem{{Line: n.Line, Column: n.Column, Path: ptr, Message: fmt.Sprintf(format, args...)}}}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, fail("empty document")
		}
		return c.value(n.Content[0], ptr)
	case yaml.AliasNode:
		return nil, fail("YAML aliases are not allowed in runbooks")
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || (k.Tag != "!!str" && k.Tag != "!!int" && k.Tag != "!!bool" && k.Tag != "!!float") {
				return nil, &ParseError{Problems: []Problem{{Line: k.Line, Column: k.Column, Path: ptr, Message: "map keys must be plain strings"}}}
			}
			if k.Value == "<<" {
				return nil, &ParseError{Problems: []Problem{{Line: k.Line, Column: k.Column, Path: ptr, Message: "YAML merge keys are not allowed in runbooks"}}}
			}
			if _, dup := m[k.Value]; dup {
				return nil, &ParseError{Problems: []Problem{{Line: k.Line, Column: k.Column, Path: ptr, Message: fmt.Sprintf("key %q appears twice", k.Value)}}}
			}
			child := ptr + "/" + strings.ReplaceAll(strings.ReplaceAll(k.Value, "~", "~0"), "/", "~1")
			c.pos[child] = [2]int{k.Line, k.Column}
			v, err := c.value(val, child)
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			v, err := c.value(item, ptr+"/"+strconv.Itoa(i))
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, fail("%v", err)
			}
			return b, nil
		case "!!int", "!!float":
			var f float64
			if err := n.Decode(&f); err != nil {
				return nil, fail("%v", err)
			}
			if n.Tag == "!!int" {
				if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
					return json.Number(strconv.FormatInt(i, 10)), nil
				}
			}
			b, err := json.Marshal(f)
			if err != nil {
				return nil, fail("number %s cannot be represented in JSON", n.Value)
			}
			return json.Number(b), nil
		case "!!str", "":
			return n.Value, nil
		case "!!timestamp":
			return n.Value, nil
		default:
			return nil, fail("YAML tag %s is not allowed", n.Tag)
		}
	}
	return nil, fail("unsupported YAML node")
}
