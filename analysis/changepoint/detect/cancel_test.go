package detect

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestCancelled checks that every method gives up with the context's
// error, whatever the cost.
func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, _, _ := PwConstant(400, 1, 3, 1, 1)
	pen, k := 5.0, 2
	for _, m := range MethodNames() {
		for _, c := range []string{"l2", "rbf", "l1"} {
			p := Params{Method: m, Cost: c, Pen: &pen}
			if m == "dynp" || m == "binseg" {
				p = Params{Method: m, Cost: c, NBkps: &k}
			}
			if m == "kernelcpd" && c != "rbf" {
				p.Cost = "linear"
			}
			if _, err := Detect(ctx, s, p); !errors.Is(err, context.Canceled) {
				t.Errorf("%s/%s: error %v, want context.Canceled", m, c, err)
			}
		}
	}
}

// TestDeadlineStopsKernelSums runs Binseg with the rbf cost on 20,000
// samples, where segment costs are kernel sums computed on the fly
// (minutes of work): the deadline must stop it inside those sums.
func TestDeadlineStopsKernelSums(t *testing.T) {
	s, _, _ := PwConstant(20_000, 1, 3, 1, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	k := 3
	if _, err := Detect(ctx, s, Params{Method: "binseg", Cost: "rbf", NBkps: &k}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want context.DeadlineExceeded", err)
	}
}
