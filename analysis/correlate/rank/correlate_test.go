package rank

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// stepSeries is noise around level with a shift of size at index at.
func stepSeries(rng *rand.Rand, n, at int, level, size, noise float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = level + noise*rng.NormFloat64()
		if i >= at {
			x[i] += size
		}
	}
	return x
}

func TestRankFindsTheLaggedStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n, onset := 600, 500
	y := stepSeries(rng, n, onset, 100, 10, 1)
	cands := [][]float64{
		stepSeries(rng, n, 0, 50, 0, 1),          // noise
		stepSeries(rng, n, onset-4, 20, -6, 1),   // moved 4 steps earlier, down
		stepSeries(rng, n, 300, 70, 8, 1),        // moved at another time
		stepSeries(rng, n, onset+2, 5, 0.5, 0.1), // moved 2 steps later, small but clean
	}
	tg, err := NewTarget(y, Window{Start: onset + 1, End: n}, Params{})
	if err != nil {
		t.Fatal(err)
	}
	if tg.Onset != onset {
		t.Errorf("onset = %d, want %d", tg.Onset, onset)
	}
	rs, err := Rank(context.Background(), tg, cands, 1)
	if err != nil {
		t.Fatal(err)
	}
	if top := []int{rs[0].Index, rs[1].Index}; !(top[0] == 1 && top[1] == 3 || top[0] == 3 && top[1] == 1) {
		t.Fatalf("ranking %+v, want candidates 1 and 3 first", rs)
	}
	byIndex := map[int]Features{}
	for _, r := range rs {
		byIndex[r.Index] = r.Features
	}
	if f := byIndex[1]; f.Change != onset-4 || f.ChangeZ >= 0 || f.Effect >= 0 {
		t.Errorf("candidate 1: change %d z %.1f effect %.2f, want %d, negative, negative", f.Change, f.ChangeZ, f.Effect, onset-4)
	}
	if f := byIndex[3]; f.Change != onset+2 {
		t.Errorf("candidate 3: change at %d, want %d", f.Change, onset+2)
	}
	if s := byIndex[2].Score; s > 0.2 {
		t.Errorf("a change 200 steps away scored %.2f", s)
	}
	e, err := tg.Explain(context.Background(), cands[1], byIndex[1], time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if e.Lead != 4 || math.Abs(e.Shift+6) > 0.5 || !strings.Contains(e.Summary, "4m0s before the target") {
		t.Errorf("explanation %+v", e)
	}
	if len(e.ChangePoints) == 0 || math.Abs(float64(e.ChangePoints[0]-(onset-4))) > 2 {
		t.Errorf("change points %v, want one near %d", e.ChangePoints, onset-4)
	}
}

func TestCrossCorrelationLag(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n := 400
	base := make([]float64, n+20)
	for i := range base {
		base[i] = rng.NormFloat64()
	}
	y := base[10 : 10+n]
	x := base[13 : 13+n] // x[t] = y[t+3]: x leads by 3 steps
	tg, err := NewTarget(y, Window{Start: 300, End: n}, Params{})
	if err != nil {
		t.Fatal(err)
	}
	f := tg.NewScorer().Score(x)
	if f.Lag != -3 || f.R < 0.99 {
		t.Errorf("lag %d r %.3f, want -3 and 1", f.Lag, f.R)
	}
}

func TestGapsAndBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	y := stepSeries(rng, 300, 200, 10, 5, 1)
	y[50], y[51], y[250] = math.NaN(), math.Inf(1), math.NaN()
	tg, err := NewTarget(y, Window{Start: 200, End: 300}, Params{})
	if err != nil {
		t.Fatal(err)
	}
	if tg.Missing != 3 {
		t.Errorf("missing = %d, want 3", tg.Missing)
	}
	empty := make([]float64, 300)
	for i := range empty {
		empty[i] = math.NaN()
	}
	s := tg.NewScorer()
	if f := s.Score(empty); f.Note == "" || f.Score != 0 {
		t.Errorf("empty candidate: %+v", f)
	}
	if f := s.Score(y[:10]); f.Note == "" {
		t.Errorf("short candidate: %+v", f)
	}
	for name, c := range map[string]struct {
		y []float64
		w Window
		p Params
	}{
		"window outside":   {y, Window{Start: 250, End: 400}, Params{}},
		"empty window":     {y, Window{Start: 100, End: 100}, Params{}},
		"no baseline":      {y, Window{Start: 0, End: 12}, Params{}},
		"no target data":   {empty, Window{Start: 200, End: 300}, Params{}},
		"negative lag":     {y, Window{Start: 200, End: 300}, Params{MaxLag: -1}},
		"negative weights": {y, Window{Start: 200, End: 300}, Params{Weights: &Weights{XCorr: -1, Rank: 2}}},
	} {
		if _, err := NewTarget(c.y, c.w, c.p); !errors.Is(err, ErrBadInput) {
			t.Errorf("%s: error %v, want ErrBadInput", name, err)
		}
	}
}

func TestRankIsDeterministicAndCancellable(t *testing.T) {
	sc := NewScenario(42, ScenarioParams{N: 300, K: 5})
	tg, err := NewTarget(sc.Target, sc.Window, Params{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := Rank(context.Background(), tg, sc.Candidates, 1)
	b, _ := Rank(context.Background(), tg, sc.Candidates, 4)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("rank %d differs between 1 and 4 workers: %+v vs %+v", i, a[i], b[i])
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Rank(ctx, tg, sc.Candidates, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled rank: %v", err)
	}
}

// TestScoreIgnoresTheLevel: a candidate's features do not change when a
// constant is added to it: no statistic reads a value the candidate does
// not have (the change statistic's long windows once read zeros before
// the values a Scorer copies, which made a slow change's z depend on the
// series' level).
func TestScoreIgnoresTheLevel(t *testing.T) {
	sc := NewScenario(3, ScenarioParams{N: 40, K: 5})
	tg, err := NewTarget(sc.Target, sc.Window, Params{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x, up := make([]float64, len(sc.Target)), make([]float64, len(sc.Target))
	for i := range x {
		x[i] = rng.NormFloat64()
		if d := i - tg.Onset; d >= 0 {
			x[i] += 0.15 * float64(d) // a slow ramp: the long windows see it best
		}
		up[i] = x[i] + 1000
	}
	s := tg.NewScorer()
	a, b := s.Score(x), s.Score(up)
	if math.Abs(a.ChangeZ-b.ChangeZ) > 1e-6*math.Abs(a.ChangeZ) || math.Abs(a.Score-b.Score) > 1e-9 {
		t.Errorf("change z %.2f, score %.3f; plus 1000: %.2f, %.3f", a.ChangeZ, a.Score, b.ChangeZ, b.Score)
	}
}
