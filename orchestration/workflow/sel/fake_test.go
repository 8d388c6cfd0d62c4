package sel

import (
	"fmt"
	"strconv"
)

// fakeScope is a Scope over fixed maps, keyed "step/name" and
// "signal/name" for steps and signals.
type fakeScope struct {
	vars, params, instance map[string]any
	steps, signals         map[string]any
	deps                   map[string]any // "index/name"
	nested                 map[string]any // "foreach or subworkflow/step/name"
}

func (f fakeScope) Lookup(name string) (any, bool) { v, ok := f.vars[name]; return v, ok }

func get(m map[string]any, key string) (any, error) {
	if v, ok := m[key]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("%s is not defined", key)
}

func (f fakeScope) Param(name string) (any, error)        { return get(f.params, name) }
func (f fakeScope) FromInstance(name string) (any, error) { return get(f.instance, name) }
func (f fakeScope) FromStep(step, name string) (any, error) {
	return get(f.steps, step+"/"+name)
}
func (f fakeScope) FromSignal(signal, name string) (any, error) {
	return get(f.signals, signal+"/"+name)
}
func (f fakeScope) FromSignalDependency(index int, name string) (any, error) {
	return get(f.deps, strconv.Itoa(index)+"/"+name)
}

func (f fakeScope) FromForeach(foreach, step, name string) (any, error) {
	return get(f.nested, foreach+"/"+step+"/"+name)
}

func (f fakeScope) FromSubworkflow(subworkflow, step, name string) (any, error) {
	return get(f.nested, subworkflow+"/"+step+"/"+name)
}
