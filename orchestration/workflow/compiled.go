package workflow

import (
	"sort"
	"sync"

	"github.com/gaffer-sre/gaffer/orchestration/workflow/definition"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/sel"
)

// compiled is a version's definition indexed for the engine.
type compiled struct {
	def *definition.Definition
	// steps by id (ids are unique in a workflow, foreach bodies included).
	steps map[string]*definition.Step
	// lists: the step list of each scope: "" for the top level, a
	// foreach's id for its body.
	lists map[string][]definition.Step
	// preds counts each step's predecessors within its list; from lists
	// them.
	preds map[string]int
	from  map[string][]string
	// vars are every identifier an expression of the version may use.
	vars []string

	mu       sync.Mutex
	programs map[string]*sel.Program
}

func compile(d *definition.Definition) *compiled {
	c := &compiled{def: d, steps: map[string]*definition.Step{}, lists: map[string][]definition.Step{}, preds: map[string]int{}, from: map[string][]string{}}
	var walk func(scope string, list []definition.Step)
	walk = func(scope string, list []definition.Step) {
		c.lists[scope] = list
		for i := range list {
			s := &list[i]
			c.steps[s.ID] = s
			for _, next := range s.Transition.Order {
				c.preds[next]++
				c.from[next] = append(c.from[next], s.ID)
			}
			if len(s.Steps) > 0 {
				walk(s.ID, s.Steps)
			}
		}
	}
	walk("", d.Workflow.Steps)
	c.vars = definitionVars(d)
	c.programs = map[string]*sel.Program{}
	return c
}

// definitionVars lists the identifiers a definition's expressions may
// use: the predefined params, every param of the workflow, its triggers
// and steps (bare, and as <step>__<param>), and loop params.
func definitionVars(d *definition.Definition) []string {
	set := map[string]bool{"SIGNALS": true, "BACKFILL_ID": true, "param": true}
	for _, v := range definition.Predefined {
		set[v] = true
	}
	addParams := func(ps map[string]definition.Param, step string) {
		for name, p := range ps {
			set[name] = true
			if step != "" {
				set[step+"__"+name] = true
			}
			if inner, ok := p.Value.(map[string]definition.Param); ok && name == "loop_params" {
				for n := range inner {
					set[n] = true
				}
			}
		}
	}
	addParams(d.Workflow.Params, "")
	for _, t := range d.Workflow.SignalTriggers {
		addParams(t.Params, "")
	}
	var walk func([]definition.Step)
	walk = func(steps []definition.Step) {
		for _, s := range steps {
			addParams(s.Params, s.ID)
			walk(s.Steps)
		}
	}
	walk(d.Workflow.Steps)
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}
