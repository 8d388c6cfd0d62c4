package rank

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// sawtooth is a heap of live+garbage: garbage grows by alloc a minute
// (10% noise) and is collected at budget; from leakAt on (if ≥ 0) the
// live set grows by leak a minute, and from stepAt on (if ≥ 0) the whole
// series is 1.5 times higher.
func sawtooth(rng *rand.Rand, n, leakAt, stepAt int, leak float64) []float64 {
	const live, budget, alloc = 1000.0, 600.0, 25.0
	x := make([]float64, n)
	garbage := rng.Float64() * budget
	for i := range x {
		garbage += alloc * (1 + 0.1*rng.NormFloat64())
		if garbage >= budget {
			garbage = 0.02 * budget * rng.Float64()
		}
		l := live
		if leakAt >= 0 && i >= leakAt {
			l += leak * float64(i-leakAt+1)
		}
		x[i] = l + garbage
		if stepAt >= 0 && i >= stepAt {
			x[i] *= 1.5
		}
	}
	return x
}

// TestClimbTimesALeakOnASawtooth: a leak of 2% of the live set a minute
// under collections of 60% is a change of the sawtooth's climb, found to
// the minute and far beyond noise.
func TestClimbTimesALeakOnASawtooth(t *testing.T) {
	const n, t0 = 420, 380
	for seed := range uint64(10) {
		x := sawtooth(rand.New(rand.NewPCG(seed, 3)), n, t0, -1, 20)
		var c climbs
		got, ok := c.scan(x, x, 12, n, 12, t0-10, t0+10, t0-10)
		if !ok {
			t.Fatalf("seed %d: a sawtooth's steps not recognised as one", seed)
		}
		if got.at < t0-1 || got.at > t0+1 || got.z < 20 {
			t.Errorf("seed %d: slope change z %.1f at %+d, want z ≥ 20 at t0±1", seed, got.z, got.at-t0)
		}
	}
}

// TestClimbIgnoresWhatIsNotASawtooth: noise, a random walk and a series
// that stepped once or twice are left to the level statistic, and so are
// a sawtooth that stepped once (every value 1.5 times higher) and one
// that got noisier.
func TestClimbIgnoresWhatIsNotASawtooth(t *testing.T) {
	const n, t0 = 420, 380
	rng := rand.New(rand.NewPCG(5, 6))
	white, walk, steps := make([]float64, n), make([]float64, n), make([]float64, n)
	w := 0.0
	for i := range white {
		white[i] = rng.NormFloat64()
		w += rng.NormFloat64()
		walk[i] = w
		steps[i] = rng.NormFloat64()
		if i > 100 {
			steps[i] += 30
		}
		if i > 250 {
			steps[i] -= 20
		}
	}
	for name, x := range map[string][]float64{"white noise": white, "random walk": walk, "two steps": steps} {
		var c climbs
		if _, ok := c.scan(x, x, 12, n, 12, t0-10, t0+10, t0-10); ok {
			t.Errorf("%s: taken for a sawtooth", name)
		}
	}
	// Every value 1.5 times higher: the climb of 25 a step becomes one
	// of 37.5 where the level jumps by about 650, a step and not a slope
	// that changed.
	var c climbs
	stepped := sawtooth(rng, n, -1, t0, 0)
	if got, ok := c.scan(stepped, stepped, 12, n, 12, t0-10, t0+10, t0-10); ok {
		t.Errorf("a sawtooth that stepped: a slope change of %.1f a step at %+d", got.d, got.at-t0)
	}
	// Noisier from t0 on: more of its steps pass for drops on one side
	// than on the other, which raises the mean of those left.
	noisy := sawtooth(rng, n, -1, -1, 0)
	for i := t0; i < n; i++ {
		noisy[i] += 200 * rng.NormFloat64()
	}
	if got, ok := c.scan(noisy, noisy, 12, n, 12, t0-10, t0+10, t0-10); ok {
		t.Errorf("a sawtooth that got noisier: a slope change of %.1f a step at %+d", got.d, got.at-t0)
	}
}

// TestScoreTimesASawtoothLeakBySlope: scored as a candidate, the leak
// is a change of slope that started before a target that rose five
// minutes later, with evidence that it came first.
func TestScoreTimesASawtoothLeakBySlope(t *testing.T) {
	const n, t0 = 420, 380
	rng := rand.New(rand.NewPCG(9, 10))
	y := make([]float64, n)
	for i := range y {
		y[i] = 100 + 5*rng.NormFloat64()
		if d := i - t0 - 5; d >= 0 {
			y[i] += 100 * min(1, float64(d+1)/10)
		}
	}
	tg, err := NewTarget(y, Window{Start: t0 - 10, End: n}, Params{})
	if err != nil {
		t.Fatal(err)
	}
	x := sawtooth(rng, n, t0, -1, 20)
	f := tg.NewScorer().Score(x)
	if !f.Slope || f.Change < t0-1 || f.Change > t0+1 || f.Precedes <= 0 {
		t.Errorf("leak: slope %v, change at %+d, precedence %.2f; want a slope change at t0±1 that precedes", f.Slope, f.Change-t0, f.Precedes)
	}
	e, err := tg.Explain(context.Background(), x, f, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.ToLower(e.Summary), "its climb between collections changed") || !strings.Contains(e.Summary, "a step") {
		t.Errorf("explanation %q does not say that its climb changed", e.Summary)
	}
}
