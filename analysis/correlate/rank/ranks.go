package rank

import (
	"math"
	"math/bits"
	"slices"

	"github.com/gaffer-sre/gaffer/analysis/changepoint/detect"
)

// ranker computes midranks (1-based, ties sharing their mean rank) with
// one sort of packed keys: a value's order-preserving bits with its index
// in the low bits. Values equal but for those low mantissa bits (a
// relative difference below 1e-12) count as ties. It reuses its buffers.
type ranker struct {
	keys  []uint64
	sub   []uint64
	mask  uint64
	ranks []float64
	// ties is Σ(t³ - t) over the groups of tied values, for the
	// Mann-Whitney variance.
	ties float64
}

// sortable maps a float64 to a uint64 with the same order.
func sortable(v float64) uint64 {
	b := math.Float64bits(v)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

// rank computes the midranks of x into r.ranks.
func (r *ranker) rank(x []float64) {
	r.sort(x)
	r.rankRange(0, len(x))
}

// sort orders x's keys, for rankRange.
func (r *ranker) sort(x []float64) {
	n := len(x)
	r.mask = uint64(1)<<bits.Len(uint(n)) - 1
	r.keys = slices.Grow(r.keys[:0], n)[:n]
	for i, v := range x {
		r.keys[i] = sortable(v)&^r.mask | uint64(i)
	}
	slices.Sort(r.keys)
}

// rankRange computes the midranks of the sorted values x[lo:hi] into
// r.ranks (r.ranks[i-lo] for x[i]), with their tie term: one pass over
// the sorted keys, so that several ranges of one series cost one sort.
func (r *ranker) rankRange(lo, hi int) {
	mask := r.mask
	r.sub = r.sub[:0]
	for _, k := range r.keys {
		if i := int(k & mask); i >= lo && i < hi {
			r.sub = append(r.sub, k)
		}
	}
	n := len(r.sub)
	r.ranks = slices.Grow(r.ranks[:0], n)[:n]
	r.ties = 0
	for i := 0; i < n; {
		j := i + 1
		top := r.sub[i] &^ mask
		for j < n && r.sub[j]&^mask == top {
			j++
		}
		mid := float64(i+j+1) / 2 // mean of ranks i+1 … j
		for _, k := range r.sub[i:j] {
			r.ranks[int(k&mask)-lo] = mid
		}
		if t := float64(j - i); t > 1 {
			r.ties += t*t*t - t
		}
		i = j
	}
}

// mannWhitney returns the rank-biserial effect of the values from split
// on against those before it (in [-1, 1], positive when the later ones
// are larger) and the z statistic of the U test (normal approximation
// with the tie correction), from midranks.
func mannWhitney(ranks []float64, split int, ties float64) (effect, z float64) {
	n := len(ranks)
	nb, na := float64(split), float64(n-split)
	if nb == 0 || na == 0 {
		return 0, 0
	}
	sum := 0.0
	for _, r := range ranks[split:] {
		sum += r
	}
	u := sum - na*(na+1)/2
	effect = 2*u/(na*nb) - 1
	nn := float64(n)
	v := na * nb / 12 * (nn + 1 - ties/(nn*(nn-1)))
	if v <= 0 {
		return effect, 0
	}
	return effect, (u - na*nb/2) / math.Sqrt(v)
}

// pValue is the two-sided p-value of a standard normal z.
func pValue(z float64) float64 { return math.Erfc(math.Abs(z) / math.Sqrt2) }

// spearman is Pearson's r between midranks and the target's centred
// midranks (norm is the target's).
func spearman(ranks, centred []float64, norm float64) float64 {
	c := float64(len(ranks)+1) / 2
	dot, ss := 0.0, 0.0
	for i, r := range ranks {
		d := r - c
		dot += d * centred[i]
		ss += d * d
	}
	if ss == 0 || norm == 0 {
		return 0
	}
	return dot / (math.Sqrt(ss) * norm)
}

// HodgesLehmann returns the Hodges–Lehmann estimate of the shift from
// before to after: the median of every difference after[j] - before[i].
func HodgesLehmann(before, after []float64) float64 {
	if len(before) == 0 || len(after) == 0 {
		return math.NaN()
	}
	d := make([]float64, 0, len(before)*len(after))
	for _, a := range after {
		for _, b := range before {
			d = append(d, a-b)
		}
	}
	return detect.Median(d)
}
