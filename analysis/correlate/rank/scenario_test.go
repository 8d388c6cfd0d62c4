package rank

import (
	"math"
	"math/rand/v2"
)

// ScenarioParams size a generated incident scenario; zero fields take the
// defaults.
type ScenarioParams struct {
	// N is the number of candidate signals (default 1,000), K how many
	// of them moved with the target (default 10), Decoys how many moved
	// at another time (default N/50).
	N, K, Decoys int
	// Points per signal (default 1,440: one day at one minute).
	Points int
	// MaxLag bounds the lag of the related signals (default 10).
	MaxLag int
}

func (p ScenarioParams) withDefaults() ScenarioParams {
	if p.N == 0 {
		p.N = 1000
	}
	if p.K == 0 {
		p.K = 10
	}
	if p.Decoys == 0 {
		p.Decoys = p.N / 50
	}
	if p.Points == 0 {
		p.Points = 1440
	}
	if p.MaxLag == 0 {
		p.MaxLag = 10
	}
	return p
}

// Shapes of generated shifts.
var shapes = []string{"step", "ramp", "pulse", "decay"}

// Scenario is a generated incident: a target with a shift in Window, and
// candidates of which Related moved with it (each with its lag and
// shape) and Decoys moved at other times.
type Scenario struct {
	Target     []float64
	Window     Window
	Onset      int
	Candidates [][]float64
	Related    []int
	Lags       []int
	Shapes     []string
	Decoys     []int
}

// NewScenario generates the scenario of seed. Every signal has a level
// between 10 and 1,000, daily seasonality of up to 40% of it, Gaussian
// noise of 1–8% (autocorrelated in a third of the signals, with a few
// outliers in a tenth). The target steps by 4–10 noise units at the
// onset; the related signals move by 3–8 (up or down) within MaxLag
// steps of it, with a step, a ramp, a pulse or a decay; every shift
// follows the incident's intensity, which rises and falls from minute to
// minute (the decoys follow incidents of their own).
func NewScenario(seed uint64, p ScenarioParams) *Scenario {
	p = p.withDefaults()
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	n := p.Points
	sc := &Scenario{}
	sc.Onset = n/3 + rng.IntN(n-n/3-80)
	dur := 20 + rng.IntN(41)
	end := min(n, sc.Onset+dur)
	sc.Window = Window{Start: sc.Onset + rng.IntN(7) - 3, End: end}
	target, sigma := baseSignal(rng, n)
	intensity := incident(rng, n)
	addShift(target, "step", sc.Onset, signedMagnitude(rng, 4, 10)*sigma, intensity, rng)
	sc.Target = target
	sc.Candidates = make([][]float64, p.N)
	sigmas := make([]float64, p.N)
	perm := rng.Perm(p.N)
	related, decoys := perm[:p.K], perm[p.K:p.K+p.Decoys]
	for i := range sc.Candidates {
		sc.Candidates[i], sigmas[i] = baseSignal(rng, n)
	}
	for _, i := range related {
		sg := sigmas[i]
		lag := rng.IntN(2*p.MaxLag+1) - p.MaxLag
		shape := shapes[rng.IntN(len(shapes))]
		addShift(sc.Candidates[i], shape, sc.Onset+lag, signedMagnitude(rng, 3, 8)*sg, shifted(intensity, lag), rng)
		sc.Related = append(sc.Related, i)
		sc.Lags = append(sc.Lags, lag)
		sc.Shapes = append(sc.Shapes, shape)
	}
	for _, i := range decoys {
		at := sc.Onset
		for at > sc.Onset-60 && at < end+30 {
			at = 30 + rng.IntN(n-60)
		}
		addShift(sc.Candidates[i], shapes[rng.IntN(len(shapes))], at, signedMagnitude(rng, 2.5, 8)*sigmas[i],
			shifted(incident(rng, n), at-sc.Onset), rng)
		sc.Decoys = append(sc.Decoys, i)
	}
	return sc
}

// PrecisionAt returns the share of the first k ranked candidates that are
// related.
func (sc *Scenario) PrecisionAt(k int, ranked []Result) float64 {
	rel := map[int]bool{}
	for _, i := range sc.Related {
		rel[i] = true
	}
	hits := 0
	for _, r := range ranked[:min(k, len(ranked))] {
		if rel[r.Index] {
			hits++
		}
	}
	return float64(hits) / float64(k)
}

// baseSignal is a seasonal, noisy signal and its noise's standard
// deviation.
func baseSignal(rng *rand.Rand, n int) ([]float64, float64) {
	level := math.Exp(math.Log(10) + rng.Float64()*(math.Log(1000)-math.Log(10)))
	amp := level * 0.4 * rng.Float64()
	phase := rng.Float64() * 2 * math.Pi
	sigma := level * (0.01 + 0.07*rng.Float64())
	ar := 0.0
	if rng.IntN(3) == 0 {
		ar = 0.3 + 0.5*rng.Float64()
	}
	outliers := rng.IntN(10) == 0
	x := make([]float64, n)
	e := 0.0
	innov := sigma * math.Sqrt(1-ar*ar)
	for i := range x {
		e = ar*e + innov*rng.NormFloat64()
		x[i] = level + amp*math.Sin(2*math.Pi*float64(i)/1440+phase) + e
		if outliers && rng.IntN(200) == 0 {
			x[i] += sigma * (5 + 5*rng.Float64()) * float64(1-2*rng.IntN(2))
		}
	}
	return x, sigma
}

func signedMagnitude(rng *rand.Rand, lo, hi float64) float64 {
	m := lo + (hi-lo)*rng.Float64()
	if rng.IntN(2) == 0 {
		return -m
	}
	return m
}

// incident is an incident's intensity over time: 1 on average, with
// the minute-to-minute ups and downs (an AR(1) process of standard
// deviation 0.4) that every signal it moves follows.
func incident(rng *rand.Rand, n int) []float64 {
	out := make([]float64, n)
	e := 0.0
	for i := range out {
		e = 0.5*e + 0.4*math.Sqrt(1-0.25)*rng.NormFloat64()
		out[i] = 1 + e
	}
	return out
}

// shifted returns the intensity seen lag steps later.
func shifted(in []float64, lag int) []float64 {
	out := make([]float64, len(in))
	for i := range out {
		out[i] = in[min(max(i-lag, 0), len(in)-1)]
	}
	return out
}

// addShift adds a shift of size m, the given shape and intensity at
// index at.
func addShift(x []float64, shape string, at int, m float64, intensity []float64, rng *rand.Rand) {
	ramp := 5 + rng.IntN(16)
	width := 8 + rng.IntN(15)
	tau := 10 + 20*rng.Float64()
	for i := max(at, 0); i < len(x); i++ {
		d := float64(i - at)
		v := 0.0
		switch shape {
		case "step":
			v = 1
		case "ramp":
			v = min(1, (d+1)/float64(ramp))
		case "pulse":
			if i-at < width {
				v = 1
			}
		case "decay":
			v = math.Exp(-d / tau)
		}
		x[i] += m * v * intensity[i]
	}
}
