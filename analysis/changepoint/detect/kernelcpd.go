package detect

import (
	"context"
	"fmt"
	"math"
)

// KernelCPD is ruptures' efficient kernel change-point detection: exact
// dynamic programming (a number of breakpoints) or Pelt (a penalty) on the
// linear, rbf or cosine kernel, with jump 1. It needs O(n) memory: no Gram
// matrix is stored, kernel values are recomputed as the C code does.
type KernelCPD struct {
	kernel  string
	gamma   float64
	minSize int
}

// NewKernelCPD returns a KernelCPD search. kernel is "linear", "rbf" or
// "cosine"; gamma is the rbf bandwidth (0 selects the median heuristic);
// minSize is the minimum segment length (ruptures' default 2).
func NewKernelCPD(kernel string, gamma float64, minSize int) (*KernelCPD, error) {
	switch kernel {
	case "linear", "rbf", "cosine":
	default:
		return nil, fmt.Errorf("%w: kernelcpd kernel must be linear, rbf or cosine, got %q", ErrBadParameter, kernel)
	}
	if minSize < 1 {
		return nil, fmt.Errorf("%w: min_size must be >= 1, got %d", ErrBadParameter, minSize)
	}
	if gamma < 0 || math.IsNaN(gamma) || math.IsInf(gamma, 0) {
		return nil, fmt.Errorf("%w: gamma must be a finite number > 0, got %v", ErrBadParameter, gamma)
	}
	return &KernelCPD{kernel: kernel, gamma: gamma, minSize: minSize}, nil
}

// Name returns "kernelcpd".
func (k *KernelCPD) Name() string { return "kernelcpd" }

// Segment runs dynamic programming (Count, n_bkps >= 1) or Pelt
// (Penalty, pen > 0).
func (k *KernelCPD) Segment(ctx context.Context, s *Signal, stop Stop) ([]int, error) {
	if err := stop.validate("kernelcpd", StopPenalty, StopCount); err != nil {
		return nil, err
	}
	if s == nil {
		return nil, fmt.Errorf("%w: nil signal", ErrInvalidSignal)
	}
	nb := 1
	if stop.Kind == StopCount {
		if stop.NBkps < 1 {
			return nil, fmt.Errorf("%w: kernelcpd needs n_bkps >= 1, got %d", ErrBadParameter, stop.NBkps)
		}
		nb = stop.NBkps
	} else if stop.Pen <= 0 {
		return nil, fmt.Errorf("%w: kernelcpd needs pen > 0, got %v", ErrBadParameter, stop.Pen)
	}
	if err := checkSegmentation(s.n, nb, 1, k.minSize); err != nil {
		return nil, err
	}
	kern, err := k.kernelFunc(s)
	if err != nil {
		return nil, err
	}
	if stop.Kind == StopCount {
		return ekcpdDynamic(ctx, s.n, nb, k.minSize, kern)
	}
	return ekcpdPelt(ctx, s.n, stop.Pen, k.minSize, kern)
}

// kernelRow fills out[s-lo] = k(s, t) for s in [lo, t].
type kernelRow func(t, lo int, out []float64)

// kernelFunc returns the kernel of k on the samples of s, computed as
// ruptures' C code does (the rbf exponent is clipped in single precision).
func (k *KernelCPD) kernelFunc(s *Signal) (kernelRow, error) {
	d, x := s.d, s.data
	switch k.kernel {
	case "rbf":
		g := k.gamma
		if g == 0 {
			var err error
			if g, err = MedianHeuristicGamma(s); err != nil {
				return nil, fmt.Errorf("kernelcpd rbf gamma: %w", err)
			}
		}
		return rbfRow(x, d, g), nil
	case "cosine":
		norms := make([]float64, s.n)
		for i := range norms {
			r := s.Row(i)
			norms[i] = math.Sqrt(dot(r, r))
		}
		return func(t, lo int, out []float64) {
			xt := x[t*d : (t+1)*d]
			for i := range out[:t-lo+1] {
				den := norms[lo+i] * norms[t]
				if den == 0 {
					out[i] = 0
					continue
				}
				out[i] = dot(x[(lo+i)*d:(lo+i+1)*d], xt) / den
			}
		}, nil
	default:
		return func(t, lo int, out []float64) {
			xt := x[t*d : (t+1)*d]
			for i := range out[:t-lo+1] {
				out[i] = dot(x[(lo+i)*d:(lo+i+1)*d], xt)
			}
		}, nil
	}
}

// The C kernel's values where its exponent is clipped (in single
// precision, so the low clip is float32(0.01)).
var (
	ekcpdNear = expNeg(float64(float32(0.01)))
	ekcpdFar  = expNeg(100)
)

// rbfRow returns the rbf kernel row of the C code on the row-major samples
// x of d dimensions: exp(-clip(g ||x_s - x_t||^2)), the clip in single
// precision, exp from expNeg: the exponents first, then ekcpdRBFSlice.
func rbfRow(x []float64, d int, g float64) kernelRow {
	return func(t, lo int, out []float64) {
		out = out[:t-lo+1]
		switch d {
		case 1:
			xt := x[t]
			for i, xs := range x[lo : t+1] {
				e := xs - xt
				out[i] = g * (e * e)
			}
		case 2:
			xt0, xt1 := x[2*t], x[2*t+1]
			seg := x[2*lo : 2*t+2]
			for i := range out {
				e0, e1 := seg[2*i]-xt0, seg[2*i+1]-xt1
				out[i] = g * (e0*e0 + e1*e1)
			}
		case 3:
			xt0, xt1, xt2 := x[3*t], x[3*t+1], x[3*t+2]
			seg := x[3*lo : 3*t+3]
			for i := range out {
				e0, e1, e2 := seg[3*i]-xt0, seg[3*i+1]-xt1, seg[3*i+2]-xt2
				out[i] = g * (e0*e0 + e1*e1 + e2*e2)
			}
		default:
			xt := x[t*d : (t+1)*d]
			for i := range out {
				out[i] = g * sqDist(x[(lo+i)*d:(lo+i+1)*d], xt)
			}
		}
		ekcpdRBFSlice(out)
	}
}
