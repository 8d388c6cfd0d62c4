package stack

import (
	"context"
	"testing"
	"time"
)

// FuzzEvaluate runs arbitrary programs through the parser and the
// evaluator: they may fail, with an error, but never panic or hang.
func FuzzEvaluate(f *testing.F) {
	for _, s := range []string{
		"name,sps,:eq,:sum", "name,sps,:eq,(,cluster,),:by,:dup,:sum,:div", "a,b,:swap,:drop,(,:dup,),:call",
		"name,sps,:eq,10,0.1,0.5,:des,:legend", "(,a,b,),(,:dup,),:each,:list", "name,sps,:eq,max,2,:topk-others-sum",
		"name,sps,:eq,(,25,50,),:percentiles", "e-1h,now,:time-span,hourOfDay,:time,:add", "/* c */,:depth,:clear",
		"name,sps,:re,:not,:all,3,:rolling-mean", "1,2,3,:rot,:-rot,2,:pick,1,:roll,:2over,:tuck,:nip",
	} {
		f.Add(s)
	}
	src := NewMemSource(60_000)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	src.Add(map[string]string{"name": "sps", "cluster": "a", "percentile": "T0042"}, t0.UnixMilli(), []float64{1, 2, 3, 4, 5})
	src.Add(map[string]string{"name": "sps", "cluster": "b", "percentile": "T0043"}, t0.UnixMilli(), []float64{5, 4, 3, 2, 1})
	ev := &Evaluator{Source: src, Limits: Limits{Budget: time.Second}}
	f.Fuzz(func(t *testing.T, program string) {
		if len(program) > 2000 {
			return
		}
		ev.Evaluate(context.Background(), Request{Query: program, Start: t0, End: t0.Add(5 * time.Minute), Step: time.Minute})
	})
}
