package changepoint

import (
	"context"
	"fmt"
)

// Online detects changes in a live metric: it keeps the last Window
// samples and, on each Push, runs a detection on them. A change is
// reported once, when a breakpoint has at least Settle samples after it
// (so that its position is stable), as an absolute sample index; a
// breakpoint within Settle samples of the last reported one is taken for
// the same change.
type Online struct {
	params Params
	window int
	settle int
	dims   int
	buf    []float64 // ring of window*dims values
	seen   int       // samples pushed so far
	last   int       // absolute index of the last reported change
}

// NewOnline returns an online detector over a sliding window of window
// samples of dims dimensions, running the detection p (for example Pelt
// with l2 and a penalty). settle is how many samples must follow a
// breakpoint before it is reported.
func NewOnline(p Params, window, dims, settle int) (*Online, error) {
	if _, err := NewMethod(p); err != nil {
		return nil, err
	}
	if _, err := p.Stop(); err != nil {
		return nil, err
	}
	if dims < 1 || window < 4 || settle < 1 || settle >= window {
		return nil, fmt.Errorf("%w: online needs dims >= 1, window >= 4 and 1 <= settle < window (got %d, %d, %d)", ErrBadParameter, dims, window, settle)
	}
	return &Online{params: p, window: window, settle: settle, dims: dims, buf: make([]float64, window*dims), last: -1}, nil
}

// Push adds one sample (dims values) and returns the absolute indices of
// newly confirmed change points, usually none.
func (o *Online) Push(ctx context.Context, x ...float64) ([]int, error) {
	if len(x) != o.dims {
		return nil, fmt.Errorf("%w: sample has %d values, want %d", ErrInvalidSignal, len(x), o.dims)
	}
	copy(o.buf[(o.seen%o.window)*o.dims:], x)
	o.seen++
	if o.seen < o.window {
		return nil, nil
	}
	data := make([]float64, 0, o.window*o.dims)
	head := o.seen % o.window
	data = append(data, o.buf[head*o.dims:]...)
	data = append(data, o.buf[:head*o.dims]...)
	s, err := NewSignalFlat(data, o.window, o.dims)
	if err != nil {
		return nil, err
	}
	bkps, err := Detect(ctx, s, o.params)
	if err != nil {
		return nil, fmt.Errorf("online detection: %w", err)
	}
	offset := o.seen - o.window
	var out []int
	for _, b := range bkps[:len(bkps)-1] {
		abs := offset + b
		if o.window-b >= o.settle && (o.last < 0 || abs > o.last+o.settle) {
			out = append(out, abs)
			o.last = abs
		}
	}
	return out, nil
}
