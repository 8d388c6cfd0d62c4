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
		return func(t, lo int, out []float64) {
			xt := x[t*d : (t+1)*d]
			for i := range out[:t-lo+1] {
				xs := x[(lo+i)*d : (lo+i+1)*d]
				sq := 0.0
				for j, v := range xs {
					e := v - xt[j]
					sq += e * e
				}
				out[i] = math.Exp(-float64(clip32(float32(g * sq))))
			}
		}, nil
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

// clip32 is the C helper clip(n, 0.01, 100) on floats.
func clip32(v float32) float32 {
	if v > 100 {
		v = 100
	}
	if v < 0.01 {
		return 0.01
	}
	return v
}
