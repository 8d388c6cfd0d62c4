package stack

import (
	"context"
	"math"
	"testing"
)

// TestOnlineDESMatchesTheWords checks the exported online forms against
// the words on the same line.
func TestOnlineDESMatchesTheWords(t *testing.T) {
	const step = 60_000
	vals := make([]float64, 200)
	for i := range vals {
		vals[i] = 100 + 10*math.Sin(float64(i)/7) + float64(i%5)
	}
	src := NewMemSource(step)
	src.Add(map[string]string{"name": "x"}, 0, vals)
	ev := &Evaluator{Source: src}
	for name, p := range DESPresets {
		res, err := ev.EvaluateExprs(context.Background(), mustParse(t, "name,x,:eq,:sum,:"+name), step, 201*step, step, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := res.Exprs[0].Lines[0].Values
		f := NewDES(p.Training, p.Alpha, p.Beta)
		if p.Sliding {
			f = NewSDES(step, step, p.Training, p.Alpha, p.Beta)
		}
		for i, v := range vals[1:] {
			want := f(v)
			if !(got[i] == want || math.IsNaN(got[i]) && math.IsNaN(want)) {
				t.Fatalf("%s: value %d = %v, the word gives %v", name, i, want, got[i])
			}
		}
	}
}

func mustParse(t *testing.T, program string) []*StyleExpr {
	t.Helper()
	exprs, err := Parse(program, nil)
	if err != nil {
		t.Fatal(err)
	}
	return exprs
}
