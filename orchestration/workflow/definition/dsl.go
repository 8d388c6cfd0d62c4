package definition

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Maestro's YAML DSL: a "Workflow" mapping whose known keys are
// properties and whose other keys are params; "jobs" lists steps, each a
// one-key mapping (job, foreach, subworkflow, while) whose unknown keys
// are its params. A param key may carry its type and kind: "!name" is an
// expression, "name<long>" a type, "name<array<long>>" an array,
// "name<map>" a STRING_MAP and "name<pmap>" a MAP, "name(constant)" a
// mode. Transitions are "job_id", "IF cond THEN job_id" and a last
// "OTHERWISE job_id".

var (
	dslWorkflowKeys = map[string]bool{"id": true, "name": true, "description": true, "owner": true, "run_strategy": true,
		"step_concurrency": true, "instance_step_concurrency": true, "tags": true, "timeout": true, "dag": true, "jobs": true,
		"time_triggers": true, "signal_triggers": true, "is_active": true, "criticality": true, "alerting": true}
	dslJobKeys = map[string]bool{"id": true, "name": true, "description": true, "type": true, "transition": true, "tags": true,
		"failure_mode": true, "retry_policy": true, "timeout": true, "jobs": true, "concurrency": true, "sync": true,
		"explicit_params": true, "idempotent": true, "state_expr": false}
	dslSimple    = regexp.MustCompile(`^\s*([_a-zA-Z][.\-_a-zA-Z0-9]*)\s*$`)
	dslIf        = regexp.MustCompile(`(?i)^\s*IF\s+(.+?)\s+THEN\s+([_a-zA-Z][.\-_a-zA-Z0-9]*)\s*$`)
	dslOtherwise = regexp.MustCompile(`(?i)^\s*OTHERWISE\s+([_a-zA-Z][.\-_a-zA-Z0-9]*)\s*$`)
	dslParamName = regexp.MustCompile(`^(!?)([^<(]+)(?:<(.+)>)?(?:\((\w+)\))?$`)
)

func parseDSL(file string, doc map[string]any) (*Definition, error) {
	ps := &problems{file: file}
	wf, ok := doc["Workflow"].(map[string]any)
	if !ok {
		return nil, &Error{Problems: []Problem{{File: file, Path: "Workflow", Reason: "must be a mapping"}}}
	}
	d := &Definition{}
	w := &d.Workflow
	w.ID, _ = wf["id"].(string)
	w.Name, _ = wf["name"].(string)
	w.Description, _ = wf["description"].(string)
	w.Timeout = dslDuration(wf["timeout"])
	d.Properties.Owner, _ = wf["owner"].(string)
	switch rs := wf["run_strategy"].(type) {
	case string:
		d.Properties.RunStrategy.Rule = rs
	case map[string]any:
		d.Properties.RunStrategy.Rule, _ = rs["rule"].(string)
		d.Properties.RunStrategy.Limit = intOf(rs["workflow_concurrency"])
	}
	d.Properties.StepConcurrency = intOf(wf["step_concurrency"])
	w.InstanceStepConcurrency = intOf(wf["instance_step_concurrency"])
	if b, ok := wf["is_active"].(bool); ok {
		d.IsActive = &b
	}
	w.Params = dslParams(ps, "Workflow", wf, dslWorkflowKeys)
	jobs, _ := wf["jobs"].([]any)
	w.Steps = dslSteps(ps, "Workflow.jobs", jobs)
	switch dag := wf["dag"].(type) {
	case nil, string:
		if dag == "sequential" {
			chain(w.Steps)
		} else if dag != nil && dag != "parallel" {
			ps.add("Workflow.dag", "want sequential, parallel or a map of transitions, got %q", dag)
		}
	case map[string]any:
		for i := range w.Steps {
			if list, ok := dag[w.Steps[i].ID].([]any); ok {
				w.Steps[i].Transition = dslTransition(ps, "Workflow.dag."+w.Steps[i].ID, list)
			}
		}
	default:
		ps.add("Workflow.dag", "want sequential, parallel or a map of transitions")
	}
	normalize(d)
	return d, ps.err()
}

// chain links each step without a transition to the next.
func chain(steps []Step) {
	for i := 0; i+1 < len(steps); i++ {
		if len(steps[i].Transition.Successors) == 0 {
			next := steps[i+1].ID
			steps[i].Transition = Transition{Successors: map[string]string{next: "true"}, Order: []string{next}}
		}
	}
}

func dslSteps(ps *problems, path string, list []any) []Step {
	var out []Step
	for i, item := range list {
		at := fmt.Sprintf("%s[%d]", path, i)
		m, ok := item.(map[string]any)
		if !ok || len(m) != 1 {
			ps.add(at, "a job must be a mapping with one key: job, foreach, subworkflow or while")
			continue
		}
		for kind, body := range m {
			jm, ok := body.(map[string]any)
			if !ok {
				ps.add(at, "%s must be a mapping", kind)
				continue
			}
			s := Step{}
			switch kind {
			case "job":
				s.Kind = KindStep
			case KindForeach, KindSubworkflow, KindWhile:
				s.Kind = kind
			default:
				ps.add(at, "unknown job kind %q (want job, foreach, subworkflow or while)", kind)
				continue
			}
			s.ID, _ = jm["id"].(string)
			s.Name, _ = jm["name"].(string)
			s.Type, _ = jm["type"].(string)
			s.FailureMode, _ = jm["failure_mode"].(string)
			s.Timeout = dslDuration(jm["timeout"])
			s.Concurrency = intOf(jm["concurrency"])
			if b, ok := jm["sync"].(bool); ok {
				s.Sync = &b
			}
			s.ExplicitParams, _ = jm["explicit_params"].(bool)
			if b, ok := jm["idempotent"].(bool); ok {
				s.Idempotent = &b
			}
			at := fmt.Sprintf("%s(%s)", at, s.ID)
			s.Params = dslParams(ps, at, jm, dslJobKeys)
			if t, ok := jm["transition"].([]any); ok {
				s.Transition = dslTransition(ps, at+".transition", t)
			}
			if body, ok := jm["jobs"].([]any); ok {
				s.Steps = dslSteps(ps, at+".jobs", body)
			}
			out = append(out, s)
		}
	}
	return out
}

func dslTransition(ps *problems, path string, list []any) Transition {
	t := Transition{Successors: map[string]string{}}
	var ifs []string
	for i, item := range list {
		line, _ := item.(string)
		put := func(id, cond string) {
			t.Successors[id] = cond
			t.Order = append(t.Order, id)
		}
		if m := dslSimple.FindStringSubmatch(line); m != nil {
			put(m[1], "true")
		} else if m := dslIf.FindStringSubmatch(line); m != nil {
			put(m[2], m[1])
			ifs = append(ifs, m[1])
		} else if m := dslOtherwise.FindStringSubmatch(line); m != nil {
			if i != len(list)-1 {
				ps.add(fmt.Sprintf("%s[%d]", path, i), "OTHERWISE must be the last transition")
			}
			cond := "true"
			if len(ifs) > 0 {
				cond = "!((" + strings.Join(ifs, ") || (") + "))"
			}
			put(m[1], cond)
		} else {
			ps.add(fmt.Sprintf("%s[%d]", path, i), "%q: want 'job_id', 'IF condition THEN job_id' or 'OTHERWISE job_id'", line)
		}
	}
	return t
}

// dslParams reads the keys of m that are not reserved as params.
func dslParams(ps *problems, path string, m map[string]any, reserved map[string]bool) map[string]Param {
	keys := make([]string, 0, len(m))
	for k := range m {
		if _, r := reserved[k]; !r {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := map[string]Param{}
	for _, k := range keys {
		p, name, err := dslParam(k, m[k])
		if err != nil {
			ps.add(path+"."+k, "%v", err)
			continue
		}
		out[name] = p
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func dslParam(key string, v any) (Param, string, error) {
	m := dslParamName.FindStringSubmatch(strings.TrimSpace(key))
	if m == nil {
		return Param{}, "", fmt.Errorf("bad param name %q", key)
	}
	expr, name, typ, mode := m[1] == "!", strings.TrimSpace(m[2]), strings.ToLower(m[3]), m[4]
	p := Param{Mode: mode}
	switch {
	case typ == "":
	case typ == "map":
		p.Type = TypeStringMap
	case typ == "pmap":
		p.Type = TypeMap
	case strings.HasPrefix(typ, "array<") && strings.HasSuffix(typ, ">"):
		p.Type = strings.ToUpper(strings.TrimSuffix(strings.TrimPrefix(typ, "array<"), ">")) + "_ARRAY"
	default:
		p.Type = strings.ToUpper(typ)
	}
	if expr {
		s, ok := v.(string)
		if !ok {
			return p, name, fmt.Errorf("an expression param (!%s) must be a string", name)
		}
		p.Expression = s
		return p, name, nil
	}
	if p.Type == "" {
		p.Type = inferType(v)
	}
	p.Value = v
	if p.Type == TypeMap {
		if sub, ok := v.(map[string]any); ok {
			inner := map[string]Param{}
			for k, iv := range sub {
				ip, iname, err := dslParam(k, iv)
				if err != nil {
					return p, name, err
				}
				inner[iname] = ip
			}
			p.Value = inner
		}
	}
	return p, name, nil
}

// inferType gives a literal's param type.
func inferType(v any) string {
	switch x := v.(type) {
	case bool:
		return TypeBoolean
	case int, int64, uint64:
		return TypeLong
	case float64:
		if x == float64(int64(x)) {
			return TypeLong
		}
		return TypeDouble
	case []any:
		if len(x) == 0 {
			return TypeStringArray
		}
		return inferType(x[0]) + "_ARRAY"
	case map[string]any:
		return TypeStringMap
	}
	return TypeString
}

func intOf(v any) int {
	switch x := v.(type) {
	case int:
		return x
	case int64:
		return int(x)
	case float64:
		return int(x)
	}
	return 0
}

func dslDuration(v any) Duration {
	switch x := v.(type) {
	case string:
		return Duration(x)
	case int, int64, float64:
		return Duration(fmt.Sprint(x) + "s")
	}
	return ""
}
