package detect

import (
	"math"
	"math/big"
	"slices"
	"testing"
)

// TestExpNeg compares expNeg with exp computed in 300-bit arithmetic on
// the rbf kernel's range (the clipped exponent, a float32 in [0.01, 100])
// and at the table's joints: within 0.52 units in the last place, and
// never farther than math.Exp (which is up to 2 units off above ~60).
func TestExpNeg(t *testing.T) {
	rng := newRand(7)
	xs := []float64{0, 0.01, 100, math.Ln2, 64 * math.Ln2, math.Ln2 / 256, float64(float32(0.01)), 99.99999, 68.27687072753906}
	for k := 0; k < 128*145; k += 97 {
		xs = append(xs, float64(k)*math.Ln2/128, math.Nextafter(float64(k)*math.Ln2/128, 200))
	}
	for range 3000 {
		xs = append(xs, float64(float32(0.01+rng.Float64()*99.99)))
	}
	for _, x := range xs {
		ref := bigExpNeg(x)
		errULP := func(v float64) float64 {
			d, _ := new(big.Float).SetPrec(300).Sub(new(big.Float).SetFloat64(v), ref).Float64()
			return math.Abs(d) / (math.Nextafter(v, 1) - v)
		}
		got, lib := errULP(expNeg(x)), errULP(math.Exp(-x))
		if got > 0.52 || got > lib+1e-9 {
			t.Fatalf("expNeg(%v) = %v is %.3f ulps from exp (math.Exp %v: %.3f)", x, expNeg(x), got, math.Exp(-x), lib)
		}
	}
}

// bigExpNeg returns exp(-x) to about 280 bits: the Taylor series of
// exp(-x/1024), squared ten times.
func bigExpNeg(x float64) *big.Float {
	const prec = 300
	y := new(big.Float).SetPrec(prec).SetFloat64(-x / 1024)
	sum := new(big.Float).SetPrec(prec).SetFloat64(1)
	term := new(big.Float).SetPrec(prec).SetFloat64(1)
	for i := 1; i < 40; i++ {
		term.Mul(term, y)
		term.Quo(term, new(big.Float).SetPrec(prec).SetInt64(int64(i)))
		sum.Add(sum, term)
	}
	for range 10 {
		sum.Mul(sum, sum)
	}
	return sum
}

// TestEKCPDRBFSlice checks the written-out loop against expNeg and the C
// code's single-precision clip.
func TestEKCPDRBFSlice(t *testing.T) {
	rng := newRand(9)
	xs := []float64{0, 0.005, 0.0099999999, 0.01, 0.0100001, 99.9999, 100, 150, math.Inf(1)}
	for range 5000 {
		xs = append(xs, rng.Float64()*120)
	}
	got := slices.Clone(xs)
	ekcpdRBFSlice(got)
	for i, v := range xs {
		f := float32(v)
		f = min(max(f, 0.01), 100)
		if want := expNeg(float64(f)); got[i] != want {
			t.Fatalf("ekcpdRBFSlice(%v) = %v, want %v", v, got[i], want)
		}
	}
}

func BenchmarkExpNeg(b *testing.B) {
	xs := make([]float64, 1024)
	rng := newRand(8)
	for i := range xs {
		xs[i] = 0.01 + rng.Float64()*20
	}
	b.Run("expNeg", func(b *testing.B) {
		s := 0.0
		for i := range b.N {
			s += expNeg(xs[i&1023])
		}
		sinkFloat = s
	})
	b.Run("math.Exp", func(b *testing.B) {
		s := 0.0
		for i := range b.N {
			s += math.Exp(-xs[i&1023])
		}
		sinkFloat = s
	})
}

var sinkFloat float64

// TestRBFSliceVector compares the AVX2 rbfSlice with the Go loop bit for
// bit: random exponents over the whole range, the clip points and their
// neighbours, zero, points where the reduction's integer changes, and
// every length from 0 to 11 (the vector loop's tail).
func TestRBFSliceVector(t *testing.T) {
	if !vectorAVX2 {
		t.Skip("no AVX2 here")
	}
	rng := newRand(29)
	var ks []float64
	for _, v := range []float64{0, 1e-2, 1e2, 5e-3, 150, 1e300} {
		ks = append(ks, v, math.Nextafter(v, 0), math.Nextafter(v, math.Inf(1)))
	}
	for m := range 20000 {
		ks = append(ks, float64(m)*math.Ln2/128, math.Nextafter(float64(m)*math.Ln2/128, 0))
	}
	for range 100000 {
		ks = append(ks, rng.Float64()*110, math.Exp(rng.Float64()*14-9))
	}
	check := func(ks []float64) {
		got, want := slices.Clone(ks), slices.Clone(ks)
		rbfSlice(got)
		rbfSliceGo(want)
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("rbf(%v) = %v, want %v (len %d)", ks[i], got[i], want[i], len(ks))
			}
		}
	}
	check(ks)
	for n := range 12 {
		check(ks[len(ks)-n:])
	}
}
