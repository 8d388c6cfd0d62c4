package detect

import (
	"math"
	"math/rand/v2"
	"slices"
)

// medianPairDistBracketed returns the median of the pairwise squared
// distances of s (NumPy's: the mean of the two middle values for an even
// count) exactly, without storing the n(n-1)/2 distances: a seeded sample
// of 16,384 pairs brackets the middle order statistics, one pass over the
// pairs counts those below the bracket (without a branch) and keeps those
// inside it (a few percent), and the order statistics are selected among
// the kept ones. ok is false in the rare case where the bracket misses
// them; the caller then stores every distance.
func medianPairDistBracketed(s *Signal) (med float64, ok bool) {
	n, d := s.n, s.d
	pairs := n * (n - 1) / 2
	kHi := pairs / 2
	kLo := kHi
	if pairs%2 == 0 {
		kLo--
	}
	const samples = 16384
	rng := rand.New(rand.NewPCG(3, 4))
	sample := make([]float64, samples)
	for k := range sample {
		i := rng.IntN(n)
		j := rng.IntN(n - 1)
		if j >= i {
			j++
		}
		sample[k] = sqDist(s.Row(i), s.Row(j))
	}
	// The sample's middle is within 64 ranks (one standard deviation) of
	// the median; 6 of them on each side miss with odds below 1e-8.
	lo := selectKth(sample, samples/2-384)
	hi := selectKth(sample, samples/2+384)
	// Squared distances are >= 0, where the order of the bits is that of
	// the values. With w = bits(v) - bits(lo), wrapped: v < lo exactly when
	// w's top bit is set (counted without a branch), and v is in [lo, hi]
	// when w <= bits(hi) - bits(lo), one branch that is rarely taken.
	loBits := math.Float64bits(lo)
	span := math.Float64bits(hi) - loBits
	below := 0
	// About 4.7% of the pairs fall in the bracket.
	kept := make([]float64, 0, pairs/16+1024)
	x := s.data
	for i := 0; i < n; i++ {
		rest := x[(i+1)*d : n*d]
		switch d {
		case 2:
			a0, a1 := x[2*i], x[2*i+1]
			for j := 0; j+1 < len(rest); j += 2 {
				e0, e1 := a0-rest[j], a1-rest[j+1]
				v := e0*e0 + e1*e1
				w := math.Float64bits(v) - loBits
				below += int(w >> 63)
				if w <= span {
					kept = append(kept, v)
				}
			}
		case 3:
			if i&1 == 1 {
				continue // done with row i-1
			}
			// Rows i and i+1 against every later row: each sample is
			// loaded once for two distances.
			a0, a1, a2 := x[3*i], x[3*i+1], x[3*i+2]
			if i+1 < n {
				b0, b1, b2 := x[3*i+3], x[3*i+4], x[3*i+5]
				e0, e1, e2 := a0-b0, a1-b1, a2-b2
				v := e0*e0 + e1*e1 + e2*e2
				w := math.Float64bits(v) - loBits
				below += int(w >> 63)
				if w <= span {
					kept = append(kept, v)
				}
				rest = rest[3:]
				for len(rest) >= 3 {
					c0, c1, c2 := rest[0], rest[1], rest[2]
					rest = rest[3:]
					e0, e1, e2 := a0-c0, a1-c1, a2-c2
					f0, f1, f2 := b0-c0, b1-c1, b2-c2
					v := e0*e0 + e1*e1 + e2*e2
					u := f0*f0 + f1*f1 + f2*f2
					w := math.Float64bits(v) - loBits
					z := math.Float64bits(u) - loBits
					below += int(w>>63) + int(z>>63)
					if w <= span {
						kept = append(kept, v)
					}
					if z <= span {
						kept = append(kept, u)
					}
				}
			}
		default:
			row := x[i*d : (i+1)*d]
			for j := 0; j+d <= len(rest); j += d {
				v := sqDist(rest[j:j+d], row)
				w := math.Float64bits(v) - loBits
				below += int(w >> 63)
				if w <= span {
					kept = append(kept, v)
				}
			}
		}
	}
	if below > kLo || below+len(kept) <= kHi {
		return 0, false
	}
	upper := selectKth(kept, kHi-below)
	if kLo == kHi {
		return upper, true
	}
	// below <= kLo < kHi: the lower middle value is among the kept ones
	// that selectKth placed first.
	return (slices.Max(kept[:kHi-below]) + upper) / 2, true
}
