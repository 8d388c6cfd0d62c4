package changepoint

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

// kernelFunc returns k(i, j) on the samples of s as ruptures' C code
// computes it (the rbf exponent is clipped in single precision).
func (k *KernelCPD) kernelFunc(s *Signal) (func(i, j int) float64, error) {
	switch k.kernel {
	case "rbf":
		g := k.gamma
		if g == 0 {
			var err error
			if g, err = MedianHeuristicGamma(s); err != nil {
				return nil, fmt.Errorf("kernelcpd rbf gamma: %w", err)
			}
		}
		return func(i, j int) float64 {
			d := sqDist(s.Row(i), s.Row(j))
			x := float32(g * d)
			x = max(float32(0.01), min(x, float32(100)))
			return math.Exp(-float64(x))
		}, nil
	case "cosine":
		return func(i, j int) float64 {
			a, b := s.Row(i), s.Row(j)
			var dp, na, nb float64
			for t := range a {
				dp += a[t] * b[t]
				na += a[t] * a[t]
				nb += b[t] * b[t]
			}
			den := math.Sqrt(na) * math.Sqrt(nb)
			if den == 0 {
				return 0
			}
			return dp / den
		}, nil
	default:
		return func(i, j int) float64 { return dot(s.Row(i), s.Row(j)) }, nil
	}
}
