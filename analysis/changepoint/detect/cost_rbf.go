package detect

import (
	"context"
	"fmt"
	"math"
)

// CostRBF is the kernel mean-shift cost with the Gaussian (rbf) kernel
// exp(-gamma ||x-y||^2), the exponent clipped to [0.01, 100] as in
// ruptures. A zero Gamma is set at Fit by ruptures' median heuristic,
// 1/median of the pairwise squared distances.
type CostRBF struct {
	// Gamma is the kernel bandwidth; 0 selects the median heuristic.
	Gamma float64
	// Direct disables the table of Gram sums (each segment cost is then
	// computed from the kernel in O(len^2)); set it for methods that only
	// look at short segments.
	Direct bool

	s     *Signal
	gamma float64
	sums  gramSums
	ctx   context.Context
	band  int // the next Fit's longest segment, 0 for any (see limitSegments)

	// Pelt's running sums (see streamSegments); streamGrid > 0 asks the
	// next Fit for them.
	streamGrid int
	stream     *rbfStream
}

// Name returns "rbf".
func (c *CostRBF) Name() string { return "rbf" }

// MinSize returns 1.
func (c *CostRBF) MinSize() int { return 1 }

// FittedGamma returns the bandwidth in use after Fit.
func (c *CostRBF) FittedGamma() float64 { return c.gamma }

// watch makes the kernel sums stop once ctx is done.
func (c *CostRBF) watch(ctx context.Context) { c.ctx = ctx }

// limitSegments tells the next Fit that the search asks for no segment
// longer than n samples, so that only their sums are tabled.
func (c *CostRBF) limitSegments(n int) { c.band = n }

// Fit chooses gamma if needed and prepares the Gram sums.
func (c *CostRBF) Fit(s *Signal) error {
	c.s = s
	c.gamma = c.Gamma
	c.stream = nil
	var cols *columnCopy
	if c.streamGrid > 0 {
		// Pelt: running sums (whose column-major copy the median
		// heuristic shares), and the direct sum for any other segment.
		c.stream = newRBFStream(s, c.streamGrid)
		c.streamGrid = 0
		if c.stream.soa != nil {
			cols = &columnCopy{soa: c.stream.soa, stride: c.stream.stride}
		}
	}
	if c.gamma == 0 {
		g, err := medianHeuristicGamma(s, cols)
		if err != nil {
			return fmt.Errorf("rbf cost: %w", err)
		}
		c.gamma = g
	}
	if c.stream != nil {
		c.sums.init(c.ctx, s.n, c.column, true, 0)
		return nil
	}
	c.sums.init(c.ctx, s.n, c.column, c.Direct, c.band)
	c.band = 0
	return nil
}

// The kernel's values where its exponent is clipped.
var (
	rbfNear = expNeg(1e-2)
	rbfFar  = expNeg(1e2)
)

// column fills out[i] = K(lo+i, t) for lo+i in [lo, t]: the exponents
// first, then the exp in one call-free loop (rbfSlice).
func (c *CostRBF) column(t, lo int, out []float64) {
	d, x, g := c.s.d, c.s.data, c.gamma
	out = out[:t-lo+1]
	switch d {
	case 1:
		xt := x[t]
		for i, xs := range x[lo : t+1] {
			e := xs - xt
			out[i] = e * e * g
		}
	case 3:
		xt0, xt1, xt2 := x[3*t], x[3*t+1], x[3*t+2]
		seg := x[3*lo : 3*t+3]
		for i := range out {
			e0, e1, e2 := seg[3*i]-xt0, seg[3*i+1]-xt1, seg[3*i+2]-xt2
			out[i] = (e0*e0 + e1*e1 + e2*e2) * g
		}
	default:
		xt := x[t*d : (t+1)*d]
		for i := range out {
			out[i] = sqDist(x[(lo+i)*d:(lo+i+1)*d], xt) * g
		}
	}
	rbfSlice(out)
}

// kernelRows is column for the rows before t: it fills out[i] = K(lo+i,
// t) for lo+i < t, bit for bit. Once Fit has made the stream's
// column-major copy,
// all of them come from the vector loops, eight rows at a time with
// AVX-512 (three dimensions) or four with AVX2, rounding the count up:
// out must then have room for t-lo+8 values, and those from t-lo on are
// left unknown (the diagonal included).
func (c *CostRBF) kernelRows(t, lo int, out []float64) {
	st := c.stream
	if st == nil || st.soa == nil {
		c.column(t, lo, out[:t-lo+1])
		return
	}
	xt := &c.s.data[t*c.s.d]
	if vectorAVX512 && c.s.d == 3 {
		rbfRows3AVX512(&st.soa[0], st.stride, xt, lo, (t-lo+7)&^7, c.gamma, &rbfVecConsts, &expNegTable, &out[0])
		return
	}
	rbfRowsAVX2(&st.soa[0], st.stride, c.s.d, xt, lo, (t-lo+3)&^3, c.gamma, &rbfVecConsts, &expNegTable, &out[0])
}

// columnMajor returns the values of s column by column: value k of row j
// at k*n+j.
func columnMajor(s *Signal) []float64 {
	soa := make([]float64, s.n*s.d)
	fillColumnMajor(soa, s, s.n)
	return soa
}

// fillColumnMajor writes the values of s to soa column by column, stride
// >= n rows per dimension (value k of row j at k*stride+j), the rows
// beyond n zero.
func fillColumnMajor(soa []float64, s *Signal, stride int) {
	n, d, x := s.n, s.d, s.data
	if d == 3 {
		c0, c1, c2 := soa[:stride], soa[stride:2*stride], soa[2*stride:3*stride]
		for j := range n {
			p := (*[3]float64)(x[3*j : 3*j+3])
			c0[j], c1[j], c2[j] = p[0], p[1], p[2]
		}
		clear(c0[n:])
		clear(c1[n:])
		clear(c2[n:])
		return
	}
	for k := range d {
		col := soa[k*stride : (k+1)*stride]
		for j := range n {
			col[j] = x[j*d+k]
		}
		clear(col[n:])
	}
}

// rbfSlice replaces each k of ks by rbf(k), four at a time with AVX2
// (rbfSliceAVX2, the same results bit for bit).
func rbfSlice(ks []float64) {
	if m := len(ks) &^ 3; vectorAVX2 && m > 0 {
		rbfSliceAVX2(&ks[0], m, &rbfVecConsts, &expNegTable)
		ks = ks[m:]
	}
	rbfSliceGo(ks)
}

// rbfVecConsts are rbfSliceAVX2's constants, each four times over.
var rbfVecConsts = func() (c [15][4]uint64) {
	f := [...]float64{128 / math.Ln2, 0.5, ln2Hi128, ln2Lo128,
		1.0 / 120, 1.0 / 24, -1.0 / 6, 1.0 / 2, -1, 1e2, 1e-2, rbfFar, rbfNear}
	for i, v := range f {
		c[i] = [4]uint64{math.Float64bits(v), math.Float64bits(v), math.Float64bits(v), math.Float64bits(v)}
	}
	c[13] = [4]uint64{127 | 127<<32, 127 | 127<<32, 127 | 127<<32, 127 | 127<<32}
	c[14] = [4]uint64{1023 | 1023<<32, 1023 | 1023<<32, 1023 | 1023<<32, 1023 | 1023<<32}
	return c
}()

// rbfSliceGo replaces each k of ks by rbf(k): expNeg's steps written out
// in one loop without calls.
func rbfSliceGo(ks []float64) {
	for i, k := range ks {
		if k >= 1e2 {
			ks[i] = rbfFar
			continue
		}
		if k <= 1e-2 {
			ks[i] = rbfNear
			continue
		}
		m := int(k*(128/math.Ln2) + 0.5)
		md := float64(m)
		r := k - md*ln2Hi128 - md*ln2Lo128
		q := r * (-1 + r*(1.0/2+r*(-1.0/6+r*(1.0/24-r*(1.0/120)))))
		j := (m & 127) * 2
		hi, lo := expNegTable[j], expNegTable[j+1]
		ks[i] = (hi + (lo + hi*q)) * math.Float64frombits(uint64(1023-m>>7)<<52)
	}
}

// Error returns the kernel cost on [start, end): the Gram trace (the
// length) minus the Gram sum over the length.
func (c *CostRBF) Error(start, end int) float64 {
	l := float64(end - start)
	if st := c.stream; st != nil && end == st.cur && start >= st.low {
		if v := st.sums[start]; v == v { // a start on the grid
			return l - (l+2*v)/l
		}
	}
	return l - (l+2*c.sums.offDiag(start, end))/l
}

// sqDist is the squared Euclidean distance, summed in dimension order.
func sqDist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}
