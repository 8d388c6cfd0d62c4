package rank

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// awkward returns series of n points that have broken encoders and
// divisions before: zeros (a zero median), constants, NaN and ±Inf
// samples, gaps, a single point, huge and tiny values, integer steps.
func awkward(rng *rand.Rand, n int) map[string][]float64 {
	fill := func(f func(i int) float64) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = f(i)
		}
		return x
	}
	return map[string][]float64{
		"zeros":        fill(func(int) float64 { return 0 }),
		"constant":     fill(func(int) float64 { return 7 }),
		"zero then up": fill(func(i int) float64 { return float64(max(0, i-n/2)) }),
		"idle queue": fill(func(i int) float64 {
			if i > n*3/4 && rng.IntN(3) == 0 {
				return float64(1 + rng.IntN(4))
			}
			return 0
		}),
		"all gaps":     fill(func(int) float64 { return math.NaN() }),
		"single point": fill(func(i int) float64 { return map[bool]float64{true: 3, false: math.NaN()}[i == n/2] }),
		"some gaps": fill(func(i int) float64 {
			if i%5 == 0 {
				return math.NaN()
			}
			return 10 + rng.NormFloat64()
		}),
		"infinities": fill(func(i int) float64 { return []float64{1, math.Inf(1), 2, math.Inf(-1)}[i%4] }),
		"huge":       fill(func(i int) float64 { return 1e300 * float64(1+i%3) }),
		"tiny":       fill(func(i int) float64 { return 1e-300 * float64(i%2) }),
		"counter reset": fill(func(i int) float64 {
			if i == n*3/4 {
				return 0
			}
			return float64(i)
		}),
	}
}

// nonFinite names the first field of v (a struct, walked through
// pointers and slices) holding NaN or ±Inf, or "".
func nonFinite(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return path
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return nonFinite(v.Elem(), path)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if p := nonFinite(v.Field(i), path+"."+v.Type().Field(i).Name); p != "" {
				return p
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if p := nonFinite(v.Index(i), path); p != "" {
				return p
			}
		}
	}
	return ""
}

// checkReport scores and explains every candidate against y and fails
// t if any feature or explanation is not finite or does not encode.
func checkReport(t *testing.T, name string, y []float64, cands map[string][]float64) {
	t.Helper()
	n := len(y)
	tg, err := NewTarget(y, Window{Start: n - n/4, End: n}, Params{})
	if err != nil {
		return // refusing a target is allowed; it must say why, not hang
	}
	names := make([]string, 0, len(cands))
	values := make([][]float64, 0, len(cands))
	for k, c := range cands {
		names, values = append(names, k), append(values, c)
	}
	rs, err := Rank(context.Background(), tg, values, 1)
	if err != nil {
		t.Fatalf("target %s: rank: %v", name, err)
	}
	for _, r := range rs {
		if p := nonFinite(reflect.ValueOf(r.Features), "Features"); p != "" {
			t.Errorf("target %s, candidate %s: %s is not finite: %+v", name, names[r.Index], p, r.Features)
		}
		if _, err := json.Marshal(r.Features); err != nil {
			t.Errorf("target %s, candidate %s: encode features: %v", name, names[r.Index], err)
		}
		ex, err := tg.Explain(context.Background(), values[r.Index], r.Features, time.Minute)
		if err != nil {
			t.Errorf("target %s, candidate %s: explain: %v", name, names[r.Index], err)
			continue
		}
		if p := nonFinite(reflect.ValueOf(ex), "Explanation"); p != "" {
			t.Errorf("target %s, candidate %s: %s is not finite: %+v", name, names[r.Index], p, ex)
		}
		if _, err := json.Marshal(ex); err != nil {
			t.Errorf("target %s, candidate %s: encode explanation: %v", name, names[r.Index], err)
		}
		if ex.Relative == nil && ex.RelativeNote == "" {
			t.Errorf("target %s, candidate %s: no relative shift and no note saying why", name, names[r.Index])
		}
	}
}

// TestReportValuesAreFinite: whatever the series, every feature and
// explanation of a report is a finite number that encodes in JSON (a
// NaN once failed every finalize attempt and left the report running).
func TestReportValuesAreFinite(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 1))
	for _, n := range []int{1, 2, 3, 12, 41, 200} {
		cands := awkward(rng, n)
		step := make([]float64, n)
		for i := range step {
			step[i] = 100 + rng.NormFloat64()
			if i >= n-n/4 {
				step[i] += 30
			}
		}
		cands["step"] = step
		for name, y := range cands {
			checkReport(t, name, y, cands)
		}
	}
}

// TestZeroBaselineSaysNA: the candidate of the report that hung — an
// idle queue whose median before the onset is 0 — is explained with
// "n/a" for its relative shift, and the reason.
func TestZeroBaselineSaysNA(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 2))
	n := 200
	y := stepSeries(rng, n, 150, 100, 30, 1)
	q := make([]float64, n)
	for i := 150; i < n; i++ {
		q[i] = float64(5 + rng.IntN(5))
	}
	tg, err := NewTarget(y, Window{Start: 150, End: n}, Params{})
	if err != nil {
		t.Fatal(err)
	}
	f := tg.NewScorer().Score(q)
	ex, err := tg.Explain(context.Background(), q, f, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Relative != nil || ex.RelativeNote != "n/a: the median before the onset is 0" {
		t.Fatalf("relative = %v, note %q", ex.Relative, ex.RelativeNote)
	}
	if _, err := json.Marshal(ex); err != nil {
		t.Fatal(err)
	}
}

// FuzzReportValues builds a target and two candidates of 33–288 points
// from the fuzzer's bytes, cycled: each byte is a gap (NaN), ±Inf, 0, a
// huge value or a level, and checks the report encodes.
func FuzzReportValues(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255}, []byte{0, 0, 0, 9}, []byte{7})
	f.Add([]byte{100, 100, 101, 99, 100, 180}, []byte{0}, []byte{255, 1})
	f.Fuzz(func(t *testing.T, y, a, b []byte) {
		if len(y) == 0 || len(a) == 0 || len(b) == 0 {
			return
		}
		n := 33 + int(y[0])
		series := func(src []byte) []float64 {
			x := make([]float64, n)
			for i := range x {
				switch c := src[i%len(src)]; c {
				case 255:
					x[i] = math.NaN()
				case 254:
					x[i] = math.Inf(1)
				case 253:
					x[i] = math.Inf(-1)
				case 252:
					x[i] = 0
				case 251:
					x[i] = 1e200
				case 250:
					x[i] = -1e-300
				default:
					x[i] = float64(c) + float64(i%len(src))/float64(n)
				}
			}
			return x
		}
		ys, as, bs := series(y), series(a), series(b)
		checkReport(t, "fuzzed", ys, map[string][]float64{"a": as, "b": bs, "y": ys})
	})
}
