package detect

import "math"

// NoiseVariance estimates the noise variance of each dimension of s from
// the median absolute first difference (robust to the changes themselves):
// sigma = MAD(diff) / (0.6745 * sqrt 2).
func NoiseVariance(s *Signal) []float64 {
	out := make([]float64, s.d)
	if s.n < 2 {
		return out
	}
	diff := make([]float64, s.n-1)
	for j := range out {
		for i := range diff {
			diff[i] = math.Abs(s.At(i+1, j) - s.At(i, j))
		}
		sigma := medianOf(diff) / (0.6745 * math.Sqrt2)
		out[j] = sigma * sigma
	}
	return out
}

// PenaltyBIC returns a BIC-style penalty for the l2 cost on s: the number
// of parameters per segment (d) times the noise variance times log n,
// summed over dimensions. Where the robust noise estimate is zero (a
// dimension constant but for its changes) half the mean square of the
// first differences stands in for it, so that the penalty keeps the
// signal's scale. For likelihood costs (normal, ar) use
// float64(params)*math.Log(n) instead.
func PenaltyBIC(s *Signal) float64 {
	pen := 0.0
	for j, v := range NoiseVariance(s) {
		if v == 0 && s.n > 1 {
			for i := 1; i < s.n; i++ {
				e := s.At(i, j) - s.At(i-1, j)
				v += e * e
			}
			v /= 2 * float64(s.n-1)
		}
		pen += v
	}
	if pen == 0 {
		pen = 1
	}
	return 2 * pen * math.Log(float64(s.n))
}
