package chunk

import "math"

// maxScale is the largest decimal scale tried: values with at most six
// decimal digits are stored as integers.
const maxScale = 6

// maxExact bounds integers that float64 represents exactly.
const maxExact = 1 << 53

// maxRescaled bounds the predictor state after a change of scale so that
// deltas and delta-of-deltas never overflow int64.
const maxRescaled = 1 << 60

// pow10 holds exact powers of ten as integers and floats.
var (
	pow10i = [...]int64{1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}
	pow10f = [...]float64{1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}
)

// atScale reports whether v equals m/10^k exactly, bit for bit.
func atScale(v float64, k uint8) (int64, bool) {
	f := math.Round(v * pow10f[k])
	if !(f > -maxExact && f < maxExact) { // also rejects NaN
		return 0, false
	}
	m := int64(f)
	return m, math.Float64bits(decode(m, k)) == math.Float64bits(v)
}

// decode turns the integer m at scale k back into a float.
func decode(m int64, k uint8) float64 {
	if k == 0 {
		return float64(m)
	}
	return float64(m) / pow10f[k]
}

// minimalDecimal finds the smallest scale at which v is an exact decimal.
func minimalDecimal(v float64) (int64, uint8, bool) {
	if m, ok := atScale(v, 0); ok {
		return m, 0, true
	}
	m, ok := atScale(v, maxScale)
	if !ok {
		return 0, 0, false
	}
	k := uint8(maxScale)
	for k > 0 && m%10 == 0 {
		m /= 10
		k--
	}
	return m, k, true
}

// rescale multiplies x by 10^(to-from), reporting overflow.
func rescale(x int64, from, to uint8) (int64, bool) {
	p := pow10i[to-from]
	if x > maxRescaled/p || x < -maxRescaled/p {
		return 0, false
	}
	return x * p, true
}
