package detect

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	if _, err := NewSignal(nil); !errors.Is(err, ErrInvalidSignal) || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty: %v", err)
	}
	if _, err := NewSignal([][]float64{{1, 2}, {3}}); err == nil || !strings.Contains(err.Error(), "ragged") {
		t.Errorf("ragged: %v", err)
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := NewSeries([]float64{1, v}); err == nil || !strings.Contains(err.Error(), "non-finite") {
			t.Errorf("%v: %v", v, err)
		}
	}
	s, _ := NewSeries([]float64{1, 2, 3, 4, 5, 6})
	pen, k, neg := 1.0, 2, -1.0
	tests := []struct {
		p    Params
		want string
		is   error
	}{
		{Params{Method: "pelt", Cost: "l2", Pen: &pen, MinSize: 10}, "min_size 10 is larger than the signal", ErrBadSegmentation},
		{Params{Method: "dynp", Cost: "l2", NBkps: &k, MinSize: 3, Jump: 1}, "2 breakpoints do not fit", ErrBadSegmentation},
		{Params{Method: "binseg", Cost: "l2", NBkps: &k, MinSize: 4}, "do not fit", ErrBadSegmentation},
		{Params{Method: "kernelcpd", Cost: "rbf", NBkps: &k, MinSize: 3}, "do not fit", ErrBadSegmentation},
		{Params{Method: "pelt", Cost: "l2", Pen: &neg}, "pen must be", ErrBadParameter},
		{Params{Method: "pelt", Cost: "l2"}, "exactly one of pen", ErrBadParameter},
		{Params{Method: "pelt", Cost: "l2", Pen: &pen, NBkps: &k}, "exactly one of pen", ErrBadParameter},
		{Params{Method: "pelt", Cost: "l2", NBkps: &k}, "does not support stopping by n_bkps", ErrBadParameter},
		{Params{Method: "kernelcpd", Cost: "l1", Pen: &pen}, "kernel must be", ErrBadParameter},
		{Params{Method: "pelt", Cost: "l2", Pen: &pen, Jump: -1}, "jump must be", ErrBadParameter},
		{Params{Method: "window", Cost: "ar", Pen: &pen, Width: 4}, "half-windows", ErrBadParameter},
		{Params{Method: "nope", Cost: "l2", Pen: &pen}, "unknown method", ErrBadParameter},
		{Params{Method: "pelt", Cost: "nope", Pen: &pen}, "unknown cost", ErrUnknownCost},
		{Params{Method: "pelt", Cost: "linear", Pen: &pen}, "linear cost: need a response", nil},
		{Params{Method: "pelt", Cost: "ar", Pen: &pen, CostParams: CostParams{Order: 8}}, "ar cost: order 8", nil},
	}
	for _, tc := range tests {
		_, err := Detect(ctx, s, tc.p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Errorf("%s/%s: err = %v, want %q", tc.p.Method, tc.p.Cost, err, tc.want)
		}
	}
	flat, _ := NewSignal([][]float64{{1, 1}, {1, 1}, {1, 1}, {1, 1}})
	if _, err := Detect(ctx, flat, Params{Method: "pelt", Cost: "mahalanobis", Pen: &pen, Jump: 1}); err == nil || !strings.Contains(err.Error(), "singular") {
		t.Errorf("singular mahalanobis: %v", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	long, _, _ := PwConstant(5000, 1, 3, 1, 1)
	if _, err := Detect(canceled, long, Params{Method: "pelt", Cost: "l2", Pen: &pen, Jump: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
}
