package detect

import (
	"errors"
	"fmt"
	"math"
)

// Signal is a multivariate time series of n samples by d dimensions, stored
// row-major. Build one with NewSignal, NewSeries or NewSignalFlat, which
// reject empty, ragged and non-finite input.
type Signal struct {
	n, d int
	data []float64
}

// ErrInvalidSignal reports a signal that cannot be segmented: empty, ragged,
// or holding NaN or infinite values.
var ErrInvalidSignal = errors.New("invalid signal")

// NewSignal builds a signal from rows (one sample per row, one column per
// dimension). It copies the data.
func NewSignal(rows [][]float64) (*Signal, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: empty signal (no samples)", ErrInvalidSignal)
	}
	d := len(rows[0])
	if d == 0 {
		return nil, fmt.Errorf("%w: sample 0 has no values", ErrInvalidSignal)
	}
	data := make([]float64, 0, len(rows)*d)
	for i, r := range rows {
		if len(r) != d {
			return nil, fmt.Errorf("%w: ragged rows: sample %d has %d values, sample 0 has %d", ErrInvalidSignal, i, len(r), d)
		}
		data = append(data, r...)
	}
	return NewSignalFlat(data, len(rows), d)
}

// NewSeries builds a one-dimensional signal from x. It copies the data.
func NewSeries(x []float64) (*Signal, error) {
	return NewSignalFlat(append([]float64(nil), x...), len(x), 1)
}

// NewSignalFlat wraps row-major data of n samples by d dimensions without
// copying it; the caller must not modify data afterwards.
func NewSignalFlat(data []float64, n, d int) (*Signal, error) {
	if n <= 0 || d <= 0 {
		return nil, fmt.Errorf("%w: empty signal (%d samples, %d dimensions)", ErrInvalidSignal, n, d)
	}
	if len(data) != n*d {
		return nil, fmt.Errorf("%w: %d values for %d samples x %d dimensions", ErrInvalidSignal, len(data), n, d)
	}
	for i, v := range data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: non-finite value %v at sample %d, dimension %d", ErrInvalidSignal, v, i/d, i%d)
		}
	}
	return &Signal{n: n, d: d, data: data}, nil
}

// Len returns the number of samples.
func (s *Signal) Len() int { return s.n }

// Dims returns the number of dimensions.
func (s *Signal) Dims() int { return s.d }

// At returns sample i of dimension j.
func (s *Signal) At(i, j int) float64 { return s.data[i*s.d+j] }

// Row returns sample i (a view; do not modify).
func (s *Signal) Row(i int) []float64 { return s.data[i*s.d : (i+1)*s.d] }

// Column returns a copy of dimension j.
func (s *Signal) Column(j int) []float64 {
	c := make([]float64, s.n)
	for i := range c {
		c[i] = s.data[i*s.d+j]
	}
	return c
}

// Data returns the row-major values (a view; do not modify).
func (s *Signal) Data() []float64 { return s.data }
