package detect

import "math"

// regression gives the residual sum of squares of a least-squares fit of
// y on the p columns of a design X over any row range in O(p^3), from
// prefix sums of X^T X, X^T y and y^T y.
type regression struct {
	p        int
	xx, xy   []float64 // (n+1) x p*p and (n+1) x p prefix sums
	yy       []float64 // n+1
	g, b, l  []float64 // scratch
	distinct func(start, end int) int
}

// init fills the prefix sums from the row-major n x p design x and y.
// distinct, if not nil, returns the number of distinct rows of X in a
// range (for designs with repeated rows).
func (r *regression) init(x, y []float64, n, p int, distinct func(start, end int) int) {
	r.p, r.distinct = p, distinct
	r.xx = make([]float64, (n+1)*p*p)
	r.xy = make([]float64, (n+1)*p)
	r.yy = make([]float64, n+1)
	for i := 0; i < n; i++ {
		row := x[i*p : (i+1)*p]
		prev, cur := r.xx[i*p*p:(i+1)*p*p], r.xx[(i+1)*p*p:(i+2)*p*p]
		for a := 0; a < p; a++ {
			for c := 0; c < p; c++ {
				cur[a*p+c] = prev[a*p+c] + row[a]*row[c]
			}
			r.xy[(i+1)*p+a] = r.xy[i*p+a] + row[a]*y[i]
		}
		r.yy[i+1] = r.yy[i] + y[i]*y[i]
	}
	r.g = make([]float64, p*p)
	r.b = make([]float64, p)
	r.l = make([]float64, p*p)
}

// residual returns the residual sum of squares on rows [start, end), or 0
// when the fit is exact or the design is rank deficient, as ruptures reads
// numpy.linalg.lstsq (which returns no residual in those cases).
func (r *regression) residual(start, end int) float64 {
	p := r.p
	m := end - start
	if m <= p || (r.distinct != nil && r.distinct(start, end) < p) {
		return 0
	}
	g, b := r.g, r.b
	for k := range g {
		g[k] = r.xx[end*p*p+k] - r.xx[start*p*p+k]
	}
	for k := range b {
		b[k] = r.xy[end*p+k] - r.xy[start*p+k]
	}
	yy := r.yy[end] - r.yy[start]
	// Cholesky G = L L^T; a pivot below 1e-10 of the diagonal scale means
	// a (numerically) rank deficient design.
	l := r.l
	scale := 0.0
	for a := 0; a < p; a++ {
		scale = max(scale, g[a*p+a])
	}
	for a := 0; a < p; a++ {
		for c := 0; c <= a; c++ {
			s := g[a*p+c]
			for k := 0; k < c; k++ {
				s -= l[a*p+k] * l[c*p+k]
			}
			if a == c {
				if s <= 1e-10*scale {
					return 0
				}
				l[a*p+a] = math.Sqrt(s)
			} else {
				l[a*p+c] = s / l[c*p+c]
			}
		}
	}
	// z = L^{-1} b; residual = y^T y - |z|^2.
	fit := 0.0
	for a := 0; a < p; a++ {
		s := b[a]
		for k := 0; k < a; k++ {
			s -= l[a*p+k] * b[k]
		}
		b[a] = s / l[a*p+a]
		fit += b[a] * b[a]
	}
	return max(yy-fit, 0)
}
