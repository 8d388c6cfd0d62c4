package detect

import (
	"math"
	"slices"
)

// pairBlock is how many consecutive rows bracketPairsBlocks bounds as one
// box.
const pairBlock = 16

// bracketPairsBlocks is bracketPairs for three dimensions that skips the
// pairs it can decide in bulk: the rows are taken in blocks of pairBlock,
// each bounded by a box, and where the squared distances between two
// boxes are all below the bracket (they are counted) or all above it
// (nothing to do), no pair is computed. Consecutive samples of a signal
// with changes often lie close together, so many block pairs are decided
// that way; the others go eight pairs at a time to pairRanges3AVX512, or
// four to pairRanges3AVX2. The
// boxes' bounds are computed with the same rounded operations as the
// distances, which are monotone in their inputs, so they bound the
// computed distances, not only the exact ones.
func bracketPairsBlocks(s *Signal, cols *columnCopy, loBits, span uint64, kept []float64) (int, []float64) {
	n, x := s.n, s.data
	if cols == nil {
		cols = &columnCopy{soa: columnMajor(s), stride: n}
	}
	soa, stride := cols.soa, cols.stride
	lo, hi := math.Float64frombits(loBits), math.Float64frombits(loBits+span)
	nb := (n + pairBlock - 1) / pairBlock
	// box[6b:6b+6]: the least and the largest value of each dimension
	// over block b (plain comparisons: the values are finite).
	box := make([]float64, 6*nb)
	for b := range nb {
		bx := (*[6]float64)(box[6*b : 6*b+6])
		copy(bx[:3], x[3*b*pairBlock:])
		copy(bx[3:], x[3*b*pairBlock:])
		for i := b*pairBlock + 1; i < min(n, (b+1)*pairBlock); i++ {
			p := (*[3]float64)(x[3*i : 3*i+3])
			for k := range 3 {
				if p[k] < bx[k] {
					bx[k] = p[k]
				}
				if p[k] > bx[3+k] {
					bx[3+k] = p[k]
				}
			}
		}
	}
	below := 0
	// The vector loop takes 8 (AVX-512) or 4 columns at a time; the
	// columns from nv on go to bracketRow.
	nv := n &^ 3
	if vectorAVX512 {
		nv = n &^ 7
	}
	ranges := make([][2]int, 0, nb)
	for a := range nb {
		a0, a1 := a*pairBlock, min(n, (a+1)*pairBlock)
		bxA := box[6*a : 6*a+6]
		// Within the block: all below the bracket (a block inside a
		// segment, often), or each row with the later ones.
		if _, far := boxDistances(bxA, bxA); far < lo {
			below += (a1 - a0) * (a1 - a0 - 1) / 2
		} else {
			for i := a0; i < a1-1; i++ {
				var b int
				b, kept = bracketRow(s, soa, stride, i, i+1, a1, loBits, span, kept)
				below += b
			}
		}
		ranges = ranges[:0]
		width := 0
		for b := a + 1; b < nb; b++ {
			b0, b1 := b*pairBlock, min(n, (b+1)*pairBlock)
			near, far := boxDistances(bxA, box[6*b:6*b+6])
			switch {
			case far < lo:
				below += (a1 - a0) * (b1 - b0)
			case near > hi:
			case len(ranges) > 0 && ranges[len(ranges)-1][1] == b0:
				ranges[len(ranges)-1][1] = b1
				width += b1 - b0
			default:
				ranges = append(ranges, [2]int{b0, b1})
				width += b1 - b0
			}
		}
		tail := len(ranges) > 0 && ranges[len(ranges)-1][1] == n && nv < n
		if tail {
			ranges[len(ranges)-1][1] = nv
			if ranges[len(ranges)-1][0] == nv {
				ranges = ranges[:len(ranges)-1]
			}
		}
		if len(ranges) > 0 {
			kept = slices.Grow(kept, (a1-a0)*width)
			out := kept[len(kept):cap(kept)]
			var b, k int
			if vectorAVX512 {
				b, k = pairRanges3AVX512(&soa[0], stride, &x[3*a0], a1-a0, &ranges[0], len(ranges), loBits, span, &out[0])
			} else {
				b, k = pairRanges3AVX2(&soa[0], stride, &x[3*a0], a1-a0, &ranges[0], len(ranges), loBits, span, &compressLanes, &out[0])
			}
			below += b
			kept = kept[:len(kept)+k]
		}
		if tail {
			// Columns nv .. n: four at a time with AVX2 for all the
			// block's rows in one call, the last n%4 in Go.
			j := nv
			if n4 := n &^ 3; n4 > nv {
				kept = slices.Grow(kept, (a1-a0)*(n4-nv))
				out := kept[len(kept):cap(kept)]
				r := [1][2]int{{nv, n4}}
				b, k := pairRanges3AVX2(&soa[0], stride, &x[3*a0], a1-a0, &r[0], 1, loBits, span, &compressLanes, &out[0])
				below += b
				kept = kept[:len(kept)+k]
				j = n4
			}
			if j < n {
				for i := a0; i < a1; i++ {
					var b int
					b, kept = bracketRow(s, soa, stride, i, j, n, loBits, span, kept)
					below += b
				}
			}
		}
	}
	return below, kept
}

// boxDistances returns bounds on the squared distances, rounded as sqDist
// rounds them, between the points of two boxes of three dimensions
// (least values, then largest): near <= every distance <= far.
func boxDistances(a, b []float64) (near, far float64) {
	a, b = a[:6], b[:6]
	for k := range 3 {
		// Every difference a_k - b_k, rounded, lies in [dLo, dHi]; the
		// gap between the boxes is dLo > 0, -dHi > 0 or none.
		dLo, dHi := a[k]-b[3+k], a[3+k]-b[k]
		m := max(-dLo, dHi)
		g := max(dLo, -dHi, 0)
		far += m * m
		near += g * g
	}
	return near, far
}

// columnCopy is a column-major copy of a signal: value k of row j at
// soa[k*stride+j].
type columnCopy struct {
	soa    []float64
	stride int
}

// bracketRow counts the distances of row i to rows [j0, j1) below the
// bracket (soa: the column-major copy, stride rows a dimension) and keeps those inside it: four at a time with pairBracketAVX2,
// the last few in Go.
func bracketRow(s *Signal, soa []float64, stride, i, j0, j1 int, loBits, span uint64, kept []float64) (int, []float64) {
	d, x := s.d, s.data
	below := 0
	j4 := j0 + (j1-j0)&^3
	if j4 > j0 {
		kept = slices.Grow(kept, j4-j0)
		out := kept[len(kept):cap(kept)]
		b, k := pairBracketAVX2(&soa[0], stride, d, &x[i*d], j0, j4, loBits, span, &compressLanes, &out[0])
		below += b
		kept = kept[:len(kept)+k]
	}
	row := x[i*d : (i+1)*d]
	for j := j4; j < j1; j++ {
		v := sqDist(row, x[j*d:(j+1)*d])
		w := math.Float64bits(v) - loBits
		below += int(w >> 63)
		if w <= span {
			kept = append(kept, v)
		}
	}
	return below, kept
}
