package detect

import (
	"math"
	"math/big"
)

// expNegTable[2j], expNegTable[2j+1] are 2^(-j/128) split into a float64
// and the float64 nearest to the remainder, so that their sum carries
// about 106 bits.
var expNegTable = func() (t [256]float64) {
	// 2^(-1/128) is the seventh square root of 1/2, in 256-bit precision.
	step := new(big.Float).SetPrec(256).SetFloat64(0.5)
	for range 7 {
		step.Sqrt(step)
	}
	v := new(big.Float).SetPrec(256).SetFloat64(1)
	for j := range 128 {
		hi, _ := v.Float64()
		lo, _ := new(big.Float).SetPrec(256).Sub(v, new(big.Float).SetFloat64(hi)).Float64()
		t[2*j], t[2*j+1] = hi, lo
		v.Mul(v, step)
	}
	return t
}()

// The split of ln 2 / 128 of Go's math.Exp: a high part whose products
// with the reduction's integers are exact, and the rest.
const (
	ln2Hi128 = 6.93147180369123816490e-01 / 128
	ln2Lo128 = 1.90821492927058770002e-10 / 128
)

// expNeg returns exp(-x) for x in [0, 100] within about 0.51 units in the
// last place (math.Exp is within 1), and without a function call: x =
// (128 m + j) ln2/128 + r with |r| <= ln2/256, so exp(-x) = 2^-m 2^(-j/128)
// exp(-r), from a table of 2^(-j/128) to 106 bits and a degree-5
// polynomial for exp(-r) - 1. The kernel searches evaluate it for every
// pair of samples.
func expNeg(x float64) float64 {
	k := int(x*(128/math.Ln2) + 0.5)
	kd := float64(k)
	r := x - kd*ln2Hi128 - kd*ln2Lo128
	// exp(-r) - 1 = -r + r^2/2 - r^3/6 + r^4/24 - r^5/120 (the next term
	// is below 6e-19 for |r| <= ln2/256).
	q := r * (-1 + r*(1.0/2+r*(-1.0/6+r*(1.0/24-r*(1.0/120)))))
	j := k & 127
	hi, lo := expNegTable[2*j], expNegTable[2*j+1]
	scale := math.Float64frombits(uint64(1023-k>>7) << 52)
	return (hi + (lo + hi*q)) * scale
}

// ekcpdRBFSlice replaces each v of xs by the C kernel's
// exp(-clip(v, 0.01, 100)), the clip in single precision: expNeg's steps
// written out in one loop without calls, so that the processor overlaps
// consecutive values.
func ekcpdRBFSlice(xs []float64) {
	for i, v := range xs {
		f := float32(v)
		if f >= 100 {
			xs[i] = ekcpdFar
			continue
		}
		if f <= 0.01 {
			xs[i] = ekcpdNear
			continue
		}
		x := float64(f)
		k := int(x*(128/math.Ln2) + 0.5)
		kd := float64(k)
		r := x - kd*ln2Hi128 - kd*ln2Lo128
		q := r * (-1 + r*(1.0/2+r*(-1.0/6+r*(1.0/24-r*(1.0/120)))))
		j := (k & 127) * 2
		hi, lo := expNegTable[j], expNegTable[j+1]
		xs[i] = (hi + (lo + hi*q)) * math.Float64frombits(uint64(1023-k>>7)<<52)
	}
}
