package definition

import (
	"encoding/json"
	"fmt"
	"strings"
)

// StepTemplate is a reusable step: a step of a workflow written as
// {"template": {"id": ..., "sub_type": NAME, "params": {...}}} becomes,
// when the workflow is applied, the template's step with the step's own
// id, transition, and params and policies over the template's. (Maestro
// reserves the template step kind without defining it yet; this is
// Gaffer's meaning.)
type StepTemplate struct {
	// ID names the template (sub_type in the steps that use it).
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	// Step is the template's step: its type, params (defaults),
	// retry_policy, timeout, failure_mode and idempotent.
	Step Step `json:"step"`
}

// ParseTemplate reads a step template (JSON or YAML) and checks it as a
// step of a workflow would be checked, with compile for its expressions.
func ParseTemplate(file string, data []byte, compile func(string, []string) error) (*StepTemplate, error) {
	var raw struct {
		ID          string          `json:"id"`
		Description string          `json:"description"`
		Step        json.RawMessage `json:"step"`
	}
	generic, err := toJSON(file, data)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(generic, &raw); err != nil {
		return nil, &Error{Problems: []Problem{{File: file, Reason: "want {\"id\": ..., \"step\": {...}}: " + err.Error()}}}
	}
	ps := &problems{file: file}
	if !idPattern.MatchString(raw.ID) {
		ps.add("id", "%q: want 1-128 letters, digits, '_', '.' or '-'", raw.ID)
	}
	if len(raw.Step) == 0 {
		ps.add("step", "missing: the step the template stands for")
		return nil, ps.err()
	}
	st, ok := readStep(ps, "step", KindStep, raw.Step)
	if err := ps.err(); err != nil || !ok {
		return nil, err
	}
	if st.Type == "" {
		ps.add("step.type", "missing: a template stands for a step of some type (NoOp, http, sql, notebook, …)")
		return nil, ps.err()
	}
	st.ID = raw.ID
	d := &Definition{Workflow: Workflow{ID: raw.ID, Steps: []Step{st}}}
	if err := Check(d, CheckOptions{File: file, Compile: compile}); err != nil {
		return nil, err
	}
	return &StepTemplate{ID: raw.ID, Description: raw.Description, Step: st}, nil
}

// toJSON returns a JSON or YAML document as JSON.
func toJSON(file string, data []byte) ([]byte, error) {
	if len(data) > MaxSize {
		return nil, &Error{Problems: []Problem{{File: file, Reason: fmt.Sprintf("%d bytes; a definition may have at most %d", len(data), MaxSize)}}}
	}
	trimmed := strings.TrimSpace(string(data))
	if trimmed == "" {
		return nil, &Error{Problems: []Problem{{File: file, Reason: "empty definition"}}}
	}
	if trimmed[0] == '{' {
		return data, nil
	}
	generic, err := yamlToJSON(file, data)
	if err != nil {
		return nil, err
	}
	return generic, nil
}

// TemplateLookup returns the newest version of a step template, or an
// error naming why there is none.
type TemplateLookup func(name string) (*StepTemplate, int, error)

// ResolveTemplates replaces every template step of d, foreach and while
// bodies included, by a plain step made from its template; problems
// name the step and the template.
func ResolveTemplates(d *Definition, file string, lookup TemplateLookup) error {
	ps := &problems{file: file}
	resolveSteps(ps, "workflow.steps", d.Workflow.Steps, lookup)
	return ps.err()
}

func resolveSteps(ps *problems, path string, steps []Step, lookup TemplateLookup) {
	for i := range steps {
		s := &steps[i]
		at := fmt.Sprintf("%s[%d](%s)", path, i, s.ID)
		if len(s.Steps) > 0 {
			resolveSteps(ps, at+".steps", s.Steps, lookup)
		}
		if s.Kind != KindTemplate {
			continue
		}
		if s.SubType == "" {
			ps.add(at+".sub_type", "missing: name the step template this step uses")
			continue
		}
		tmpl, version, err := lookup(s.SubType)
		if err != nil {
			ps.add(at+".sub_type", "%v", err)
			continue
		}
		*s = fromTemplate(*s, tmpl, version)
	}
}

// fromTemplate is the plain step a template step stands for.
func fromTemplate(s Step, tmpl *StepTemplate, version int) Step {
	out := tmpl.Step
	out.Kind, out.ID, out.Name, out.Transition = KindStep, s.ID, s.Name, s.Transition
	out.SubType, out.Template = "", fmt.Sprintf("%s@%d", tmpl.ID, version)
	params := map[string]Param{}
	for k, v := range tmpl.Step.Params {
		params[k] = v
	}
	for k, v := range s.Params {
		params[k] = v
	}
	if len(params) > 0 {
		out.Params = params
	}
	if s.RetryPolicy != nil {
		out.RetryPolicy = s.RetryPolicy
	}
	if s.Timeout != "" {
		out.Timeout = s.Timeout
	}
	if s.FailureMode != "" {
		out.FailureMode = s.FailureMode
	}
	if s.Idempotent != nil {
		out.Idempotent = s.Idempotent
	}
	if len(s.Tags) > 0 {
		out.Tags = s.Tags
	}
	if len(s.SignalDependencies) > 0 {
		out.SignalDependencies = s.SignalDependencies
	}
	return out
}
