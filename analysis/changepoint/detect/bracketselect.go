package detect

import (
	"math"
	"math/bits"
)

// bucketBits is log2 of the number of buckets bitBuckets sorts values
// into.
const bucketBits = 11

// bitBuckets sorts values >= 0 (no NaN, no -0), whose bit patterns order
// as the values do, by their bits' offset from base: value v goes to
// bucket (bits(v)-base)>>shift, at most 1<<bucketBits of them.
type bitBuckets struct {
	base  uint64
	shift uint
}

// newBitBuckets returns the buckets for the values with bits in [base,
// base+span].
func newBitBuckets(base, span uint64) bitBuckets {
	return bitBuckets{base: base, shift: uint(max(bits.Len64(span)-bucketBits, 0))}
}

// of returns v's bucket.
func (b bitBuckets) of(v float64) uint64 { return (math.Float64bits(v) - b.base) >> b.shift }

// count returns the number of values of x in each bucket (every value in
// range).
func (b bitBuckets) count(x []float64, counts *[1 << bucketBits]int32) {
	*counts = [1 << bucketBits]int32{}
	for _, v := range x {
		counts[b.of(v)&(1<<bucketBits-1)]++
	}
}

// find returns the bucket holding the k-th smallest value (0-based) and
// the number of values in the buckets before it.
func find(counts *[1 << bucketBits]int32, k int) (bucket uint64, before int) {
	// Eight buckets at a time (independent additions), then one by one
	// in the eight that hold it.
	for i := 0; i < len(counts); i += 8 {
		c := counts[i : i+8 : i+8]
		sum := int((c[0] + c[1]) + (c[2] + c[3]) + (c[4] + c[5]) + (c[6] + c[7]))
		if before+sum <= k {
			before += sum
			continue
		}
		for j, cj := range c {
			if before+int(cj) > k {
				return uint64(i + j), before
			}
			before += int(cj)
		}
	}
	return 1<<bucketBits - 1, before
}

// selectBracketed returns the k-th smallest value of x (0-based) and, for
// k > 0, the largest value ranked below it (the (k-1)-th), x's values >= 0
// with bits in [base, base+span]: one pass counts the values per bucket
// of bits, a second keeps those in the k-th's bucket (a few, for values
// spread over the bracket) in scratch, where the k-th is selected. It is
// NumPy's pair of middle values without selecting among all of x, which
// it leaves in place.
func selectBracketed(x []float64, base, span uint64, k int, scratch []float64) (prev, kth float64, _ []float64) {
	bb := newBitBuckets(base, span)
	var counts [1 << bucketBits]int32
	bb.count(x, &counts)
	b, before := find(&counts, k)
	cand := scratch[:0]
	for _, v := range x {
		if bb.of(v) == b {
			cand = append(cand, v)
		}
	}
	r := k - before
	kth = selectKthNonNeg(cand, r)
	switch {
	case r > 0:
		prev = cand[0]
		for _, v := range cand[:r] {
			prev = max(prev, v)
		}
	case k > 0:
		// The (k-1)-th is the largest value of the buckets below.
		m := uint64(0)
		for _, v := range x {
			w := math.Float64bits(v)
			if bb.of(v) < b {
				m = max(m, w)
			}
		}
		prev = math.Float64frombits(m)
	}
	return prev, kth, cand
}

// sampleBracket returns bits lo <= hi such that the values of sample
// ranked rLo and rHi (0-based, rLo <= rHi < len(sample)) lie in [lo, hi]:
// the edges of the buckets that hold them, the buckets spanning the
// sample's range in 1<<bucketBits steps. It does not reorder sample.
func sampleBracket(sample []float64, rLo, rHi int) (lo, hi uint64) {
	minBits, maxBits := uint64(math.MaxUint64), uint64(0)
	for _, v := range sample {
		// Plain comparisons: rarely taken after the first values, so
		// cheaper than the conditional moves of min and max.
		w := math.Float64bits(v)
		if w < minBits {
			minBits = w
		}
		if w > maxBits {
			maxBits = w
		}
	}
	bb := newBitBuckets(minBits, maxBits-minBits)
	var counts [1 << bucketBits]int32
	bb.count(sample, &counts)
	bLo, _ := find(&counts, rLo)
	bHi, _ := find(&counts, rHi)
	return minBits + bLo<<bb.shift, min(minBits+(bHi+1)<<bb.shift-1, maxBits)
}

// selectKeptMin is the least number of kept values for which selectKept
// narrows them first.
const selectKeptMin = 4096

// selectKept is selectBracketed for the many values kept by a pass over
// the pairs: a strided sample of 1,024 of them brackets the k-th and the
// (k-1)-th more narrowly, one vector pass (bracketValuesAVX2) counts the
// values below that bracket and keeps the eighth or so inside it, and
// selectBracketed finishes among those. Where the narrow bracket misses,
// it selects among all of x. x is left in place; scratch is reused.
func selectKept(x []float64, base, span uint64, k int, scratch []float64) (prev, kth float64, _ []float64) {
	const m = 1024
	if !vectorAVX2 || len(x) < selectKeptMin {
		return selectBracketed(x, base, span, k, scratch)
	}
	if cap(scratch) < len(x)+m {
		scratch = make([]float64, len(x)+m)
	}
	sub, in := scratch[:m], scratch[m:cap(scratch)]
	step := len(x) / m
	for i := range sub {
		sub[i] = x[i*step]
	}
	// The sample's rank of the k-th, give or take 4 standard deviations
	// (sqrt(m)/2 ranks each).
	center := int(int64(k) * m / int64(len(x)))
	rLo, rHi := max(center-64, 0), min(center+64, m-1)
	lo, hi := sampleBracket(sub, rLo, rHi)
	if rLo == 0 {
		lo = base
	}
	if rHi == m-1 {
		hi = base + span
	}
	n4 := len(x) &^ 3
	below, kept := bracketValuesAVX2(&x[0], n4, lo, hi-lo, &compressLanes, &in[0])
	in = in[:kept]
	for _, v := range x[n4:] {
		w := math.Float64bits(v) - lo
		below += int(w >> 63)
		if w <= hi-lo {
			in = append(in, v)
		}
	}
	// Both the k-th and, for k > 0, the (k-1)-th must be inside.
	if below > max(k-1, 0) || below+len(in) <= k {
		return selectBracketed(x, base, span, k, scratch[:0])
	}
	prev, kth, _ = selectBracketed(in, lo, hi-lo, k-below, scratch[m+len(in):m+len(in)])
	return prev, kth, scratch
}
