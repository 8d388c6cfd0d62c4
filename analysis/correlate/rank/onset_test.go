package rank

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestOnsetFoundInTheData: the window was drawn 10 steps before the
// target moved (an alert's window starts at t0-10m, the target rose at
// t0+3m); the onset is where it moved, for a step and for a ramp, not
// the window's start or start + tolerance.
func TestOnsetFoundInTheData(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	n, rise := 400, 373
	// In a fixed order: the two share the random numbers.
	for _, c := range []struct {
		name  string
		shape func(d int) float64
	}{
		{"step", func(d int) float64 { return 8 }},
		{"ramp", func(d int) float64 { return min(10, 0.5*float64(d+1)) }},
	} {
		name, shape := c.name, c.shape
		y := make([]float64, n)
		for i := range y {
			y[i] = 100 + rng.NormFloat64()
			if i%97 == 0 {
				y[i] += 9 // a lone tail spike
			}
			if i >= rise {
				y[i] += shape(i - rise)
			}
		}
		tg, err := NewTarget(y, Window{Start: rise - 13, End: n}, Params{})
		if err != nil {
			t.Fatal(err)
		}
		if d := tg.Onset - rise; d < -1 || d > 1 {
			t.Errorf("%s: onset %d, want %d±1", name, tg.Onset, rise)
		}
	}
}

// TestSlowChangeOnSawtooth is issue 20's leak: a steady ramp riding on
// a GC sawtooth counts as a change.
func TestSlowChangeOnSawtooth(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	n, t0 := 400, 370
	x := make([]float64, n)
	garbage := 0.0
	for i := range x {
		garbage += 30 * (1 + 0.3*rng.NormFloat64())
		if garbage >= 600 {
			garbage = 0
		}
		live := 1000.0
		if i >= t0 {
			live += 20 * float64(i-t0+1) // 2% of the live set a minute
		}
		x[i] = live + garbage
	}
	var c changes
	got := c.scan(x, 12, 12, n, 12, t0-10, t0+10, t0-10)
	if got.z < changeLow || got.at < t0-2 {
		t.Errorf("leak on a sawtooth: z %.1f at %d, want above %v after %d", got.z, got.at, changeLow, t0-2)
	}
	// The autocorrelation of its differences read a sawtooth of period
	// P as φ = 1-2/(P-1), 0.9 here, and discounted the level features
	// to nothing.
	if phi := blockPhi(x[:t0-10], 12); phi > 0.7 {
		t.Errorf("a sawtooth's block φ = %.2f: it averages out over blocks, it does not wander", phi)
	}
}

func TestBlockPhi(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	white, walk, ar := make([]float64, 360), make([]float64, 360), make([]float64, 360)
	w, a := 0.0, 0.0
	for i := range white {
		white[i] = rng.NormFloat64()
		w += rng.NormFloat64()
		walk[i] = w
		a = 0.7*a + rng.NormFloat64()
		ar[i] = a
	}
	if phi := blockPhi(white, 12); phi > 0.3 {
		t.Errorf("white noise: φ %.2f, want about 0", phi)
	}
	if phi := blockPhi(walk, 12); phi < 0.9 {
		t.Errorf("random walk: φ %.2f, want near 0.95", phi)
	}
	if phi := blockPhi(ar, 12); math.Abs(phi-0.7) > 0.2 {
		t.Errorf("AR(0.7): φ %.2f, want about 0.7", phi)
	}
}

// TestPrecedence: of two candidates that stepped like the target, the
// one that stepped 3 steps before it has precedence and ranks first, and
// names the first mover; one that stepped after it has none.
func TestPrecedence(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	n, onset := 500, 420
	y := stepSeries(rng, n, onset, 100, 10, 1)
	cands := [][]float64{
		stepSeries(rng, n, onset+2, 50, 10, 1), // after the target
		stepSeries(rng, n, onset-3, 50, 10, 1), // before it
		stepSeries(rng, n, 0, 50, 0, 1),        // noise
	}
	tg, err := NewTarget(y, Window{Start: onset - 5, End: n}, Params{})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Rank(t.Context(), tg, cands, 1)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Index != 1 || rs[0].Precedes <= 0 || rs[0].Change != onset-3 {
		t.Errorf("first %+v, want candidate 1 with precedence, changed at %d", rs[0], onset-3)
	}
	if rs[1].Index != 0 || rs[1].Precedes != 0 {
		t.Errorf("second %+v, want candidate 0 without precedence", rs[1])
	}
	if i := FirstMover(rs, 20); i < 0 || rs[i].Index != 1 {
		t.Errorf("first mover %d, want candidate 1", i)
	}
}

func TestFirstMoverSkipsWeakCandidates(t *testing.T) {
	rs := []Result{
		{Index: 7, Features: Features{Score: 0.8, ChangePoint: 1, Change: 100}},
		{Index: 3, Features: Features{Score: 0.76, ChangePoint: 1, Change: 98}},
		{Index: 5, Features: Features{Score: 0.3, ChangePoint: 0.4, Change: 90}}, // weak, early
		{Index: 9, Features: Features{Score: 0.75, ChangePoint: 0, Change: 80}},  // no change
	}
	if i := FirstMover(rs, 20); i != 1 {
		t.Errorf("first mover at %d, want 1 (index 3)", i)
	}
	if i := FirstMover(nil, 20); i != -1 {
		t.Errorf("first mover of nothing: %d", i)
	}
}
