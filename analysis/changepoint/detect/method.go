package detect

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// StopKind selects the rule that ends a search.
type StopKind int

// The stopping rules of ruptures' predict: a penalty per breakpoint, a
// number of breakpoints, or a budget on the total cost.
const (
	StopPenalty StopKind = iota + 1
	StopCount
	StopEpsilon
)

// String returns the ruptures parameter name of k.
func (k StopKind) String() string {
	switch k {
	case StopPenalty:
		return "pen"
	case StopCount:
		return "n_bkps"
	case StopEpsilon:
		return "epsilon"
	}
	return fmt.Sprintf("StopKind(%d)", int(k))
}

// Stop is a stopping rule with its value.
type Stop struct {
	Kind    StopKind
	Pen     float64
	NBkps   int
	Epsilon float64
}

// Penalty stops when adding a breakpoint gains less than pen.
func Penalty(pen float64) Stop { return Stop{Kind: StopPenalty, Pen: pen} }

// Count asks for exactly k breakpoints (besides the final one).
func Count(k int) Stop { return Stop{Kind: StopCount, NBkps: k} }

// Epsilon stops when the total cost falls below eps.
func Epsilon(eps float64) Stop { return Stop{Kind: StopEpsilon, Epsilon: eps} }

func (s Stop) validate(method string, allowed ...StopKind) error {
	ok := false
	for _, k := range allowed {
		ok = ok || s.Kind == k
	}
	if !ok {
		return fmt.Errorf("%w: %s does not support stopping by %v", ErrBadParameter, method, s.Kind)
	}
	switch s.Kind {
	case StopPenalty:
		if math.IsNaN(s.Pen) || math.IsInf(s.Pen, 0) || s.Pen < 0 {
			return fmt.Errorf("%w: pen must be a finite number >= 0, got %v", ErrBadParameter, s.Pen)
		}
	case StopCount:
		if s.NBkps < 0 {
			return fmt.Errorf("%w: n_bkps must be >= 0, got %d", ErrBadParameter, s.NBkps)
		}
	case StopEpsilon:
		if math.IsNaN(s.Epsilon) || math.IsInf(s.Epsilon, 0) || s.Epsilon < 0 {
			return fmt.Errorf("%w: epsilon must be a finite number >= 0, got %v", ErrBadParameter, s.Epsilon)
		}
	}
	return nil
}

// Method is a change-point search method (Pelt, Binseg, ...). Segment
// returns the breakpoints of s as ruptures does: sorted end indices of the
// segments, the last equal to s.Len().
type Method interface {
	Name() string
	Segment(ctx context.Context, s *Signal, stop Stop) ([]int, error)
}

// ErrBadParameter reports a parameter out of range or not supported.
var ErrBadParameter = errors.New("bad parameter")

// ErrBadSegmentation reports an impossible segmentation: the signal is too
// short for min_size and jump, or more breakpoints are requested than fit.
var ErrBadSegmentation = errors.New("impossible segmentation")

// sanityCheck is ruptures' test that a segmentation with nBkps breakpoints
// exists for n samples.
func sanityCheck(n, nBkps, jump, minSize int) bool {
	if nBkps > n/jump {
		return false
	}
	return nBkps*ceilDiv(minSize, jump)*jump+minSize <= n
}

func checkSegmentation(n, nBkps, jump, minSize int) error {
	if sanityCheck(n, nBkps, jump, minSize) {
		return nil
	}
	if minSize > n {
		return fmt.Errorf("%w: min_size %d is larger than the signal (%d samples)", ErrBadSegmentation, minSize, n)
	}
	return fmt.Errorf("%w: %d breakpoints do not fit in %d samples with min_size %d and jump %d", ErrBadSegmentation, nBkps, n, minSize, jump)
}

// searchConfig holds what every method shares.
type searchConfig struct {
	cost    Cost
	minSize int
	jump    int
}

func newSearchConfig(cost Cost, minSize, jump int) (searchConfig, error) {
	if cost == nil {
		return searchConfig{}, fmt.Errorf("%w: nil cost", ErrBadParameter)
	}
	if minSize < 1 {
		return searchConfig{}, fmt.Errorf("%w: min_size must be >= 1, got %d", ErrBadParameter, minSize)
	}
	if jump < 1 {
		return searchConfig{}, fmt.Errorf("%w: jump must be >= 1, got %d", ErrBadParameter, jump)
	}
	return searchConfig{cost: cost, minSize: max(minSize, cost.MinSize()), jump: jump}, nil
}

// fit fits the cost on s, wrapping its error.
func (c searchConfig) fit(ctx context.Context, s *Signal) error {
	return fitCost(ctx, c.cost, s)
}

// watcher is implemented by the costs whose single segment evaluation can
// take long (kernel sums computed on the fly): they stop early, returning
// NaN, once ctx is done. Every search checks ctx before returning, so such
// a NaN never reaches a result.
type watcher interface {
	watch(ctx context.Context)
}

// fitCost fits cost on s for a search running under ctx.
func fitCost(ctx context.Context, cost Cost, s *Signal) error {
	if s == nil {
		return fmt.Errorf("%w: nil signal", ErrInvalidSignal)
	}
	if w, ok := cost.(watcher); ok {
		w.watch(ctx)
	}
	if err := cost.Fit(s); err != nil {
		return fmt.Errorf("fit %s cost: %w", cost.Name(), err)
	}
	return nil
}

// finish returns bkps, or ctx's error if the search was cancelled (a
// watched cost may then have returned NaN).
func finish(ctx context.Context, bkps []int) ([]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return bkps, nil
}

// ctxEvery checks ctx every 1024 calls of the returned function.
func ctxEvery(ctx context.Context) func() error {
	i := 0
	return func() error {
		i++
		if i&1023 == 0 {
			return ctx.Err()
		}
		return nil
	}
}

// begin validates stop against the kinds a method allows, fits the cost on
// s and checks that a segmentation with stop.NBkps breakpoints exists.
func (c searchConfig) begin(ctx context.Context, method string, s *Signal, stop Stop, kinds ...StopKind) error {
	if err := stop.validate(method, kinds...); err != nil {
		return err
	}
	if err := c.fit(ctx, s); err != nil {
		return err
	}
	return checkSegmentation(s.n, stop.NBkps, c.jump, c.minSize)
}
