package detect

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// The generators below mirror ruptures.datasets: same shapes and models,
// seeded and deterministic in Go (they do not reproduce NumPy's random
// streams). Each returns the signal and its true breakpoints.

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }

// DrawBkps draws nBkps breakpoints of an n-sample signal, segments of about
// equal length with a small jitter (ruptures' Dirichlet(2000/(k+1)) draw).
func DrawBkps(n, nBkps int, seed uint64) ([]int, error) {
	if n < 1 || nBkps < 0 || nBkps >= n {
		return nil, fmt.Errorf("%w: cannot draw %d breakpoints in %d samples", ErrBadParameter, nBkps, n)
	}
	rng := newRand(seed)
	a := 2000 / float64(nBkps+1)
	w := make([]float64, nBkps+1)
	total := 0.0
	for i := range w {
		// A Gamma(a) variate for large a is close to Normal(a, sqrt(a)).
		w[i] = max(a+math.Sqrt(a)*rng.NormFloat64(), 1e-9)
		total += w[i]
	}
	bkps := make([]int, nBkps+1)
	acc := 0.0
	prev := 0
	for i := range bkps {
		acc += w[i]
		b := int(acc / total * float64(n))
		b = max(b, prev+1) // keep breakpoints strictly increasing
		bkps[i] = b
		prev = b
	}
	bkps[nBkps] = n
	for i := nBkps - 1; i >= 0 && bkps[i] >= bkps[i+1]; i-- {
		bkps[i] = bkps[i+1] - 1
	}
	return bkps, nil
}

// PwConstant returns a piecewise constant signal of n samples and d
// dimensions with nBkps changes of mean (jumps of 1 to 10 in each
// dimension, random sign) plus Gaussian noise of standard deviation
// noiseStd (0 for none).
func PwConstant(n, d, nBkps int, noiseStd float64, seed uint64) (*Signal, []int, error) {
	if d < 1 {
		return nil, nil, fmt.Errorf("%w: dimensions must be >= 1, got %d", ErrBadParameter, d)
	}
	bkps, err := DrawBkps(n, nBkps, seed)
	if err != nil {
		return nil, nil, err
	}
	rng := newRand(seed + 1)
	data := make([]float64, n*d)
	center := make([]float64, d)
	start := 0
	for _, end := range bkps {
		for j := range center {
			jump := 1 + 9*rng.Float64()
			if rng.IntN(2) == 0 {
				jump = -jump
			}
			center[j] += jump
		}
		for i := start; i < end; i++ {
			for j := 0; j < d; j++ {
				data[i*d+j] = center[j] + noiseStd*rng.NormFloat64()
			}
		}
		start = end
	}
	s, err := NewSignalFlat(data, n, d)
	return s, bkps, err
}

// PwNormal returns a 2-D signal of n samples whose covariance alternates
// between correlation +0.9 and -0.9 at nBkps breakpoints (zero mean).
func PwNormal(n, nBkps int, seed uint64) (*Signal, []int, error) {
	bkps, err := DrawBkps(n, nBkps, seed)
	if err != nil {
		return nil, nil, err
	}
	rng := newRand(seed + 1)
	data := make([]float64, n*2)
	c := math.Sqrt(1 - 0.9*0.9)
	start := 0
	for k, end := range bkps {
		rho := 0.9
		if k%2 == 1 {
			rho = -0.9
		}
		for i := start; i < end; i++ {
			z1, z2 := rng.NormFloat64(), rng.NormFloat64()
			data[2*i] = z1
			data[2*i+1] = rho*z1 + c*z2
		}
		start = end
	}
	s, err := NewSignalFlat(data, n, 2)
	return s, bkps, err
}

// PwLinear returns a signal of n samples and d+1 dimensions: d Gaussian
// covariates and, first, a response linear in them whose coefficients
// change at nBkps breakpoints, plus noise of standard deviation noiseStd.
// Segment it with the linear cost.
func PwLinear(n, d, nBkps int, noiseStd float64, seed uint64) (*Signal, []int, error) {
	coef, bkps, err := PwConstant(n, d, nBkps, 0, seed)
	if err != nil {
		return nil, nil, err
	}
	rng := newRand(seed + 2)
	w := d + 1
	data := make([]float64, n*w)
	for i := 0; i < n; i++ {
		y := 0.0
		for j := 0; j < d; j++ {
			x := rng.NormFloat64()
			data[i*w+1+j] = x
			y += coef.At(i, j) * x
		}
		data[i*w] = y + noiseStd*rng.NormFloat64()
	}
	s, err := NewSignalFlat(data, n, w)
	return s, bkps, err
}

// PwWavy returns a 1-D sum of two sines whose frequencies switch between
// (0.075, 0.1) and (0.1, 0.125) at nBkps breakpoints, plus noise.
func PwWavy(n, nBkps int, noiseStd float64, seed uint64) (*Signal, []int, error) {
	bkps, err := DrawBkps(n, nBkps, seed)
	if err != nil {
		return nil, nil, err
	}
	rng := newRand(seed + 1)
	data := make([]float64, n)
	start := 0
	for k, end := range bkps {
		f1, f2 := 0.075, 0.1
		if k%2 == 1 {
			f1, f2 = 0.1, 0.125
		}
		for i := start; i < end; i++ {
			t := float64(i)
			data[i] = math.Sin(2*math.Pi*t*f1) + math.Sin(2*math.Pi*t*f2) + noiseStd*rng.NormFloat64()
		}
		start = end
	}
	s, err := NewSignalFlat(data, n, 1)
	return s, bkps, err
}
