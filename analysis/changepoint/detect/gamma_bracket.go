package detect

import (
	"math"
	"slices"
	"sync"
)

// medianPairDistBracketed returns the median of the pairwise squared
// distances of s (NumPy's: the mean of the two middle values for an even
// count) exactly, without storing the n(n-1)/2 distances: a sample of up
// to 16,384 pairs, drawn with a fixed seed, brackets the middle order
// statistics, one pass over the pairs (four at a time with AVX2) counts
// those below the bracket and keeps those inside it (a few percent), and
// the order statistics are selected among the kept ones (selectBracketed).
// ok is false in the rare case where the bracket misses them; the caller
// then stores every distance.
// cols is the column-major copy of s if the caller has one, or nil.
func medianPairDistBracketed(s *Signal, cols *columnCopy) (med float64, ok bool) {
	n := s.n
	pairs := n * (n - 1) / 2
	kHi := pairs / 2
	kLo := kHi
	if pairs%2 == 0 {
		kLo--
	}
	// The sample's middle is within sqrt(samples)/2 ranks (one standard
	// deviation) of the median; 4 of them on each side miss with odds
	// of 3e-5 (and only cost the slow path). The bracket then holds
	// about 4/sqrt(samples) of the pairs: the sample's cost grows as
	// samples, the kept values' as pairs/sqrt(samples), and the sum is
	// least near 0.8 pairs^(2/3) samples (at most 16,384, and a
	// thirty-second of the pairs).
	samples := min(16384, pairs/32, int(0.8*math.Cbrt(float64(pairs)*float64(pairs))))
	buf := bracketBuffers.Get().(*[]float64)
	defer bracketBuffers.Put(buf)
	sample := growFloats(buf, samples)
	drawPairs(s, sample)
	off := 2 * int(math.Sqrt(float64(samples)))
	loBits, hiBits := sampleBracket(sample, samples/2-off, samples/2+off)
	span := hiBits - loBits
	// About 2 off/samples of the pairs fall in the bracket, more with
	// the buckets' rounding.
	kept := growFloats(buf, pairs/samples*(3*off)+1024)[:0] // the sample is done with
	var below int
	switch {
	case vectorAVX2 && s.d == 3:
		below, kept = bracketPairsBlocks(s, cols, loBits, span, kept)
	case vectorAVX2:
		below, kept = bracketPairsVector(s, loBits, span, kept)
	default:
		below, kept = bracketPairs(s, loBits, span, kept)
	}
	*buf = kept[:0]
	if below > kLo || below+len(kept) <= kHi {
		return 0, false
	}
	// below <= kLo <= kHi: both middle values are among the kept ones.
	scratch := bracketScratch.Get().(*[]float64)
	defer bracketScratch.Put(scratch)
	prev, upper, cand := selectKept(kept, loBits, span, kHi-below, *scratch)
	*scratch = cand[:0]
	if kLo == kHi {
		return upper, true
	}
	return (prev + upper) / 2, true
}

// bracketBuffers and bracketScratch hold medianPairDistBracketed's
// buffers between calls.
var (
	bracketBuffers = sync.Pool{New: func() any { return new([]float64) }}
	bracketScratch = sync.Pool{New: func() any { return new([]float64) }}
)

// growFloats returns (*buf)[:n], reallocating *buf if it is shorter.
func growFloats(buf *[]float64, n int) []float64 {
	if cap(*buf) < n {
		*buf = make([]float64, n)
	}
	return (*buf)[:n]
}

// drawPairs fills sample with the squared distances of pairs i != j of
// s drawn with a fixed seed: one splitmix64 draw per pair (a counter
// mixed, so consecutive draws do not wait on each other), each half
// scaled to its range (a bias below n/2^32, which only moves the bracket
// a little); eight at a time with AVX-512 for three dimensions.
func drawPairs(s *Signal, sample []float64) {
	n, d, x := s.n, s.d, s.data
	k0 := 0
	if m := len(sample) &^ 7; vectorAVX512 && d == 3 && m > 0 {
		drawPairs3AVX512(&x[0], n, &sample[0], m)
		k0 = m
	}
	for k := k0; k < len(sample); k++ {
		r := uint64(k+1) * 0x9e3779b97f4a7c15
		r = (r ^ r>>30) * 0xbf58476d1ce4e5b9
		r = (r ^ r>>27) * 0x94d049bb133111eb
		r ^= r >> 31
		i := int((r & 0xffffffff) * uint64(n) >> 32)
		j := int((r >> 32) * uint64(n-1) >> 32)
		j += int(uint64(i-j-1) >> 63) // j >= i: the next row, without a branch
		if d == 3 {
			a, b := x[3*i:3*i+3], x[3*j:3*j+3]
			e0, e1, e2 := a[0]-b[0], a[1]-b[1], a[2]-b[2]
			sample[k] = e0*e0 + e1*e1 + e2*e2
			continue
		}
		sample[k] = sqDist(x[i*d:(i+1)*d], x[j*d:(j+1)*d])
	}
}

// bracketPairs counts the pairwise squared distances v of s with bits(v)
// below loBits and appends to kept those with bits(v)-loBits <= span.
func bracketPairs(s *Signal, loBits, span uint64, kept []float64) (int, []float64) {
	n, d := s.n, s.d
	below := 0
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
	return below, kept
}

// bracketPairsVector is bracketPairs four pairs at a time
// (pairBracketAVX2) on a column-major copy of s, the last few pairs of
// each row in Go.
func bracketPairsVector(s *Signal, loBits, span uint64, kept []float64) (int, []float64) {
	n, d, x := s.n, s.d, s.data
	soa := columnMajor(s)
	below := 0
	for i := range n - 1 {
		j0 := i + 1
		j1 := j0 + (n-j0)&^3
		if j1 > j0 {
			kept = slices.Grow(kept, j1-j0)
			out := kept[len(kept):cap(kept)]
			b, k := pairBracketAVX2(&soa[0], n, d, &x[i*d], j0, j1, loBits, span, &compressLanes, &out[0])
			below += b
			kept = kept[:len(kept)+k]
		}
		row := x[i*d : (i+1)*d]
		for j := j1; j < n; j++ {
			v := sqDist(row, x[j*d:(j+1)*d])
			w := math.Float64bits(v) - loBits
			below += int(w >> 63)
			if w <= span {
				kept = append(kept, v)
			}
		}
	}
	return below, kept
}

// compressLanes[m] is the VPERMD permutation that moves the 64-bit lanes
// set in the 4-bit mask m, in order, to the front of a vector.
var compressLanes = func() (t [16][8]uint32) {
	for m := range 16 {
		k := 0
		for lane := range 4 {
			if m>>lane&1 == 1 {
				t[m][2*k], t[m][2*k+1] = uint32(2*lane), uint32(2*lane+1)
				k++
			}
		}
	}
	return t
}()
