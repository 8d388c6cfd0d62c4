package sel_test

import (
	"context"
	"fmt"

	"github.com/gaffer-sre/gaffer/orchestration/workflow/sel"
)

// params is a Scope with a few workflow params and nothing else.
type params map[string]any

func (p params) Lookup(name string) (any, bool) { v, ok := p[name]; return v, ok }
func (p params) Param(name string) (any, error) {
	if v, ok := p[name]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("no param %s", name)
}
func (params) FromStep(step, name string) (any, error)     { return nil, fmt.Errorf("no steps") }
func (params) FromInstance(name string) (any, error)       { return nil, fmt.Errorf("no instance") }
func (params) FromSignal(signal, name string) (any, error) { return nil, fmt.Errorf("no signals") }

func ExampleCompile() {
	src := `start = TARGET_RUN_DATE; if (days > 3) return Util.dateIntsBetween(start, 20200110, 3); return 'few: ' + days;`
	p, err := sel.Compile(src, sel.Env{Vars: []string{"TARGET_RUN_DATE", "days"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.CEL())
	v, err := p.Eval(context.Background(), params{"TARGET_RUN_DATE": int64(20200101), "days": int64(7)})
	fmt.Println(v, err)

	_, err = sel.Compile("while (true) {}", sel.Env{})
	fmt.Println(err)
	// Output:
	// cel.bind(start, TARGET_RUN_DATE, days > 3 ? dyn(Util.dateIntsBetween(start, 20200110, 3)) : dyn(sel.add('few: ', days)))
	// [20200101 20200104 20200107] <nil>
	// SEL: line 1 col 1: while loop is not supported
}
