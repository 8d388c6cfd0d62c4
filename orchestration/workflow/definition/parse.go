package definition

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxSize bounds a definition's source.
const MaxSize = 4 << 20

// Parse reads a definition in Maestro's JSON, the same model in YAML, or
// Maestro's YAML DSL (a document whose top key is "Workflow"); file
// names it in errors. It does not check the definition: see Check.
func Parse(file string, data []byte) (*Definition, error) {
	if len(data) > MaxSize {
		return nil, &Error{Problems: []Problem{{File: file, Reason: fmt.Sprintf("%d bytes; a definition may have at most %d", len(data), MaxSize)}}}
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, &Error{Problems: []Problem{{File: file, Reason: "empty definition"}}}
	}
	if trimmed[0] == '{' {
		return parseJSON(file, data)
	}
	generic, err := yamlMap(file, data)
	if err != nil {
		return nil, err
	}
	if _, dsl := generic["Workflow"]; dsl {
		return parseDSL(file, generic)
	}
	j, err := mapJSON(file, generic)
	if err != nil {
		return nil, err
	}
	return parseJSON(file, j)
}

// yamlMap reads a YAML document that must be a mapping.
func yamlMap(file string, data []byte) (map[string]any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{Problems: []Problem{{File: file, Line: yamlLine(err), Reason: "YAML: " + yamlReason(err)}}}
	}
	var generic map[string]any
	if err := doc.Decode(&generic); err != nil {
		return nil, &Error{Problems: []Problem{{File: file, Reason: "YAML: the document must be a mapping"}}}
	}
	return generic, nil
}

// yamlToJSON returns a YAML mapping as JSON.
func yamlToJSON(file string, data []byte) ([]byte, error) {
	generic, err := yamlMap(file, data)
	if err != nil {
		return nil, err
	}
	return mapJSON(file, generic)
}

// mapJSON encodes a YAML document's mapping as JSON.
func mapJSON(file string, generic map[string]any) ([]byte, error) {
	j, err := json.Marshal(generic)
	if err != nil {
		return nil, &Error{Problems: []Problem{{File: file, Reason: "YAML: " + err.Error()}}}
	}
	return j, nil
}

// wire is the JSON model as written, with steps still raw.
type wire struct {
	Properties Properties `json:"properties"`
	IsActive   *bool      `json:"is_active"`
	Workflow   struct {
		Workflow
		Steps []json.RawMessage `json:"steps"`
	} `json:"workflow"`
}

func parseJSON(file string, data []byte) (*Definition, error) {
	var w wire
	ps := &problems{file: file}
	if err := json.Unmarshal(data, &w); err != nil {
		line := 0
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			line = lineAt(data, syn.Offset)
		case errors.As(err, &typ):
			line = lineAt(data, typ.Offset)
			return nil, &Error{Problems: []Problem{{File: file, Line: line, Path: typ.Field,
				Reason: fmt.Sprintf("want %s, got a JSON %s", typ.Type, typ.Value)}}}
		}
		return nil, &Error{Problems: []Problem{{File: file, Line: line, Reason: "JSON: " + err.Error()}}}
	}
	d := &Definition{Properties: w.Properties, IsActive: w.IsActive, Workflow: w.Workflow.Workflow}
	d.Workflow.Steps = readSteps(ps, "workflow.steps", w.Workflow.Steps)
	normalize(d)
	return d, ps.err()
}

// readSteps reads a steps list: each item has one key, its kind.
func readSteps(ps *problems, path string, raw []json.RawMessage) []Step {
	out := make([]Step, 0, len(raw))
	for i, r := range raw {
		at := fmt.Sprintf("%s[%d]", path, i)
		var item map[string]json.RawMessage
		if err := json.Unmarshal(r, &item); err != nil {
			ps.add(at, "a step must be an object such as {\"step\": {...}}: %v", err)
			continue
		}
		if len(item) != 1 {
			keys := make([]string, 0, len(item))
			for k := range item {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			ps.add(at, "a step must have exactly one key (step, foreach, subworkflow, while or template), got %v", keys)
			continue
		}
		for kind, body := range item {
			s, ok := readStep(ps, at, kind, body)
			if ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func readStep(ps *problems, at, kind string, body json.RawMessage) (Step, bool) {
	switch kind {
	case KindStep, KindForeach, KindSubworkflow, KindWhile, KindTemplate:
	default:
		ps.add(at, "unknown step kind %q (want step, foreach, subworkflow, while or template)", kind)
		return Step{}, false
	}
	var s struct {
		Step
		Transition struct {
			Successors orderedMap `json:"successors"`
		} `json:"transition"`
		Steps []json.RawMessage `json:"steps"`
	}
	if err := json.Unmarshal(body, &s); err != nil {
		ps.add(at, "%s: %v", kind, err)
		return Step{}, false
	}
	st := s.Step
	st.Kind = kind
	st.Transition = Transition{Successors: s.Transition.Successors.m, Order: s.Transition.Successors.keys}
	if len(s.Steps) > 0 {
		st.Steps = readSteps(ps, fmt.Sprintf("%s(%s).steps", at, st.ID), s.Steps)
	}
	return st, true
}

// orderedMap is a JSON object of strings that keeps its keys' order.
type orderedMap struct {
	m    map[string]string
	keys []string
}

func (o *orderedMap) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("successors must be an object of step id to condition")
	}
	o.m = map[string]string{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		k := kt.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return err
		}
		switch c := v.(type) {
		case string:
			o.m[k] = c
		case bool:
			o.m[k] = fmt.Sprint(c)
		default:
			return fmt.Errorf("the condition of successor %q must be a string, got %v", k, v)
		}
		o.keys = append(o.keys, k)
	}
	return nil
}

// normalize upper-cases param types (Maestro accepts "long_array") and
// run strategies' case.
func normalize(d *Definition) {
	d.Properties.RunStrategy.Rule = strings.ToLower(d.Properties.RunStrategy.Rule)
	normParams(d.Workflow.Params)
	var walk func([]Step)
	walk = func(steps []Step) {
		for i := range steps {
			normParams(steps[i].Params)
			walk(steps[i].Steps)
		}
	}
	walk(d.Workflow.Steps)
	for i := range d.Workflow.SignalTriggers {
		normParams(d.Workflow.SignalTriggers[i].Params)
	}
}

func normParams(ps map[string]Param) {
	for k, p := range ps {
		p.Type = strings.ToUpper(p.Type)
		if p.Type == "MAP" {
			if m, ok := p.Value.(map[string]any); ok && isParamMap(m) {
				// loop_params and nested MAP params hold param definitions.
				inner := map[string]Param{}
				for ik, iv := range m {
					b, _ := json.Marshal(iv)
					var ip Param
					json.Unmarshal(b, &ip)
					inner[ik] = ip
				}
				normParams(inner)
				p.Value = inner
			}
		}
		ps[k] = p
	}
}

// isParamMap reports whether every value of m is a param definition
// (an object with a "type").
func isParamMap(m map[string]any) bool {
	if len(m) == 0 {
		return false
	}
	for _, v := range m {
		o, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := o["type"]; !ok {
			return false
		}
	}
	return true
}

// lineAt is the 1-based line of byte offset off.
func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

func yamlLine(err error) int {
	var n int
	if _, e := fmt.Sscanf(err.Error(), "yaml: line %d:", &n); e == nil {
		return n
	}
	return 0
}

func yamlReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "yaml: line ") && i > 0 {
		if j := strings.Index(msg[i+2:], ": "); j >= 0 {
			return msg[i+2+j+2:]
		}
	}
	return strings.TrimPrefix(msg, "yaml: ")
}
