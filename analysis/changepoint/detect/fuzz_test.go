package detect

import (
	"context"
	"errors"
	"testing"
)

// fuzzCosts are the costs each method is fuzzed with (kernelcpd uses its
// kernels instead).
var fuzzCosts = []string{"l1", "l2", "normal", "rbf", "cosine", "linear", "clinear", "rank", "ar", "mahalanobis"}

// fuzzDetect decodes a small random problem from data and checks that the
// method either fails with an error or returns valid breakpoints.
func fuzzDetect(t *testing.T, method string, data []byte) {
	if len(data) < 6 {
		return
	}
	n := int(data[0])%48 + 1
	d := int(data[1])%3 + 1
	minSize := int(data[2])%6 + 1
	jump := int(data[3])%6 + 1
	costName := fuzzCosts[int(data[4])%len(fuzzCosts)]
	if method == "kernelcpd" {
		costName = []string{"linear", "rbf", "cosine"}[int(data[4])%3]
	}
	mode := int(data[5]) % 3
	vals := data[6:]
	sig := make([]float64, n*d)
	for i := range sig {
		if len(vals) > 0 {
			sig[i] = float64(int8(vals[i%len(vals)])) / 8
		}
	}
	s, err := NewSignalFlat(sig, n, d)
	if err != nil {
		t.Fatal(err)
	}
	p := Params{Method: method, Cost: costName, MinSize: minSize, Jump: jump, Width: 2 * minSize * (1 + mode)}
	pen := float64(mode*mode) + 0.5
	k := mode + 1
	eps := float64(n) / 2
	switch {
	case method == "dynp" || (method != "pelt" && mode == 0):
		p.NBkps = &k
	case method == "kernelcpd" || method == "pelt" || mode == 1:
		p.Pen = &pen
	default:
		p.Epsilon = &eps
	}
	bkps, err := Detect(context.Background(), s, p)
	if err != nil {
		if !errors.Is(err, ErrBadSegmentation) && !errors.Is(err, ErrBadParameter) && !errors.Is(err, ErrInvalidSignal) {
			// cost fit errors (singular covariance, 1-D ar, ...) are fine
			// but must say which cost failed.
			if len(err.Error()) == 0 {
				t.Fatalf("empty error")
			}
		}
		return
	}
	if len(bkps) == 0 || bkps[len(bkps)-1] != n {
		t.Fatalf("%+v: bkps %v do not end at n=%d", p, bkps, n)
	}
	cost, _ := NewCost(costName, CostParams{})
	effMin := minSize
	if cost != nil && method != "window" && method != "kernelcpd" {
		effMin = max(minSize, cost.MinSize())
	}
	effJump := jump
	if method == "kernelcpd" {
		effJump = 1
	}
	prev := 0
	for i, b := range bkps {
		if b <= prev && !(i == 0 && b > 0) {
			t.Fatalf("%+v: bkps %v not strictly increasing", p, bkps)
		}
		if b != n && b%effJump != 0 {
			t.Fatalf("%+v: bkp %d not on the jump grid (%v)", p, b, bkps)
		}
		if method != "window" && b-prev < effMin {
			t.Fatalf("%+v: segment [%d,%d) shorter than min_size %d (%v)", p, prev, b, effMin, bkps)
		}
		prev = b
	}
	if method == "dynp" && len(bkps) != k+1 {
		t.Fatalf("%+v: dynp returned %v, want %d breakpoints", p, bkps, k)
	}
}

func fuzzSeeds(f *testing.F) {
	f.Add([]byte{40, 0, 2, 1, 1, 0, 1, 2, 3, 90, 91, 92})
	f.Add([]byte{30, 1, 3, 2, 3, 1, 200, 10, 30, 5, 7})
	f.Add([]byte{5, 2, 5, 5, 8, 2, 1})
	f.Add([]byte{47, 0, 1, 1, 9, 1, 0, 0, 0, 0})
	f.Add([]byte{12, 1, 1, 3, 6, 0, 4, 4, 4, 100})
}

func FuzzPelt(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDetect(t, "pelt", data) })
}

func FuzzBinseg(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDetect(t, "binseg", data) })
}

func FuzzBottomUp(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDetect(t, "bottomup", data) })
}

func FuzzWindow(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDetect(t, "window", data) })
}

func FuzzDynp(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDetect(t, "dynp", data) })
}

func FuzzKernelCPD(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDetect(t, "kernelcpd", data) })
}
