package stack

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC)

// memOf builds a source of 1-minute series from t0 on.
func memOf(series map[string][]float64, tags ...map[string]string) *MemSource {
	m := NewMemSource(60_000)
	for name, vs := range series {
		m.Add(map[string]string{"name": name}, t0.UnixMilli(), vs)
	}
	return m
}

// evalLines evaluates program over n one-minute steps from t0.
func evalLines(t *testing.T, src Source, program string, n int) []*TimeSeries {
	t.Helper()
	ev := &Evaluator{Source: src}
	res, err := ev.Evaluate(context.Background(), Request{Query: program, Start: t0.Add(-time.Minute),
		End: t0.Add(time.Duration(n-1) * time.Minute), Step: time.Minute})
	if err != nil {
		t.Fatalf("%s: %v", program, err)
	}
	var out []*TimeSeries
	for _, e := range res.Exprs {
		out = append(out, e.Lines...)
	}
	return out
}

func sameValues(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.IsNaN(a[i]) != math.IsNaN(b[i]) {
			return false
		}
		if !math.IsNaN(a[i]) && math.Abs(a[i]-b[i]) > tol && a[i] != b[i] {
			return false
		}
	}
	return true
}

var nan = math.NaN()

// TestBinaryOperatorExamples reproduces the tables of Atlas's pages for
// :add, :sub, :div and their strict :f* variants.
func TestBinaryOperatorExamples(t *testing.T) {
	cases := []struct {
		word   string
		a, b   []float64
		result []float64
	}{
		{"add", []float64{1, 0, 1, 1, nan}, []float64{2, 0, 0, nan, nan}, []float64{3, 0, 1, 1, nan}},
		{"fadd", []float64{2, 0, 1, 1, nan}, []float64{1, 0, 0, nan, nan}, []float64{3, 0, 1, nan, nan}},
		{"sub", []float64{2, 0, 1, 1, nan}, []float64{1, 0, 0, nan, nan}, []float64{1, 0, 1, 1, nan}},
		{"fsub", []float64{2, 0, 1, 1, nan}, []float64{1, 0, 0, nan, nan}, []float64{1, 0, 1, nan, nan}},
		{"div", []float64{1, 0, 1, 1, nan}, []float64{2, 0, 0, nan, nan}, []float64{0.5, 0, nan, nan, nan}},
		{"fdiv", []float64{2, 0, 1, 1, nan}, []float64{1, 0, 0, nan, nan}, []float64{2, nan, math.Inf(1), nan, nan}},
	}
	for _, c := range cases {
		src := memOf(map[string][]float64{"a": c.a, "b": c.b})
		lines := evalLines(t, src, "name,a,:eq,name,b,:eq,:"+c.word, 5)
		if len(lines) != 1 || !sameValues(lines[0].Values, c.result, 0) {
			t.Errorf(":%s: got %v, want %v", c.word, lines[0].Values, c.result)
		}
	}
}

// TestStatefulExamples reproduces the "data processing" tables of the
// pages for :rolling-*, :trend and :integral.
func TestStatefulExamples(t *testing.T) {
	in := []float64{0, 1, -1, nan, 0, 1, 1, 1, 1, 0}
	cases := []struct {
		in     []float64
		op     string
		result []float64
	}{
		{in, "3,:rolling-count", []float64{0, 1, 2, 2, 1, 1, 2, 3, 3, 2}},
		{in, "3,:rolling-max", []float64{0, 1, 1, 1, 0, 1, 1, 1, 1, 1}},
		{in, "3,:rolling-min", []float64{0, 0, -1, -1, -1, 0, 0, 1, 1, 0}},
		{[]float64{0, 1, -1, nan, nan, nan, 1, 1, 1, 0}, "3,:rolling-sum", []float64{0, 1, 0, 0, -1, nan, 1, 2, 3, 2}},
		{[]float64{0, 1, -1, nan, nan, 0, 1, 1, 1, 0}, "3,2,:rolling-mean", []float64{nan, 0.5, 0, 0, nan, nan, 0.5, 0.667, 1, 0.667}},
		{[]float64{0, 1, -1, nan, 0, 1, 2, 1, 1, 0}, ":integral", []float64{0, 1, 0, 0, 0, 1, 3, 4, 5, 5}},
		{[]float64{0, 1, -1, nan, 0, 1}, "2m,:trend", []float64{nan, 0.5, 0, -0.5, 0, 0.5}},
		{[]float64{0, 1, -1, nan, 0, 1}, "5m,:trend", []float64{nan, nan, nan, nan, 0, 0.2}},
	}
	for _, c := range cases {
		src := memOf(map[string][]float64{"x": c.in})
		lines := evalLines(t, src, "name,x,:eq,:sum,"+c.op, len(c.in))
		if len(lines) != 1 || !sameValues(lines[0].Values, c.result, 0.001) {
			t.Errorf("%s: got %v, want %v", c.op, lines[0].Values, c.result)
		}
	}
}

func TestGroupByAndAggregates(t *testing.T) {
	src := NewMemSource(60_000)
	for i, c := range []string{"a", "a", "b"} {
		src.Add(map[string]string{"name": "sps", "cluster": c, "node": fmt.Sprint(i)}, t0.UnixMilli(), []float64{1, 2, float64(i)})
	}
	cases := []struct {
		program string
		labels  []string
		values  [][]float64
	}{
		{"name,sps,:eq,:sum", []string{"sum(name=sps)"}, [][]float64{{3, 6, 3}}},
		{"name,sps,:eq,:count", []string{"count(name=sps)"}, [][]float64{{3, 3, 3}}},
		{"name,sps,:eq,:max", []string{"max(name=sps)"}, [][]float64{{1, 2, 2}}},
		{"name,sps,:eq,:avg", []string{"name=sps"}, [][]float64{{1, 2, 1}}},
		{"name,sps,:eq,(,cluster,),:by", []string{"(cluster=a)", "(cluster=b)"}, [][]float64{{2, 4, 1}, {1, 2, 2}}},
		{"name,sps,:eq,(,cluster,),:by,:pct", []string{"cluster=a, name=sps", "cluster=b, name=sps"},
			[][]float64{{200.0 / 3, 200.0 / 3, 100.0 / 3}, {100.0 / 3, 100.0 / 3, 200.0 / 3}}},
		{"name,sps,:eq,(,cluster,),:by,$cluster,:legend", []string{"a", "b"}, [][]float64{{2, 4, 1}, {1, 2, 2}}},
		{"name,sps,:eq,(,cluster,),:by,max,1,:topk", []string{"(cluster=a)"}, [][]float64{{2, 4, 1}}},
		{"name,sps,:eq,(,cluster,),:by,:stat-max,3,:gt,:filter", []string{"(cluster=a)"}, [][]float64{{2, 4, 1}}},
		{"name,sps,:eq,(,cluster,),:by,:count", []string{"count(name=sps)"}, [][]float64{{2, 2, 2}}},
		{"name,sps,:eq,(,cluster,node,),:by,:max,(,cluster,),:by", []string{"(cluster=a)", "(cluster=b)"}, [][]float64{{1, 2, 1}, {1, 2, 2}}},
		{"name,nope,:eq,:sum", []string{"NO DATA"}, [][]float64{{nan, nan, nan}}},
		{"name,sps,:eq,:sum,(,cluster,),:cg", []string{"(cluster=a)", "(cluster=b)"}, [][]float64{{2, 4, 1}, {1, 2, 2}}},
	}
	for _, c := range cases {
		ev := &Evaluator{Source: src}
		res, err := ev.Evaluate(context.Background(), Request{Query: c.program, Start: t0.Add(-time.Minute), End: t0.Add(2 * time.Minute), Step: time.Minute})
		if err != nil {
			t.Errorf("%s: %v", c.program, err)
			continue
		}
		var labels []string
		var values [][]float64
		for _, e := range res.Exprs {
			for _, l := range e.Lines {
				labels = append(labels, e.Style.Legend(l))
				values = append(values, l.Values)
			}
		}
		if strings.Join(labels, "|") != strings.Join(c.labels, "|") {
			t.Errorf("%s: legends %q, want %q", c.program, labels, c.labels)
			continue
		}
		for i := range values {
			if !sameValues(values[i], c.values[i], 1e-9) {
				t.Errorf("%s: line %d = %v, want %v", c.program, i, values[i], c.values[i])
			}
		}
	}
}
