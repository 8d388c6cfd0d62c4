package workflow

import "github.com/gaffer-sre/gaffer/orchestration/workflow/definition"

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
	return c
}
