package detect

import (
	"errors"
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// Expected values computed with ruptures 1.1.10's metrics.
func TestMetrics(t *testing.T) {
	a, b := []int{100, 200, 300}, []int{95, 210, 250, 300}
	if h, err := Hausdorff(a, b); err != nil || h != 50 {
		t.Errorf("hausdorff = %v, %v; want 50", h, err)
	}
	ri, err := RandIndex(a, b)
	// disagreement pairs: computed by brute force below.
	if err != nil || !near(ri, bruteRand(a, b)) {
		t.Errorf("randindex = %v, want %v", ri, bruteRand(a, b))
	}
	if hm, _ := Hamming(a, b); !near(hm, 1-ri) {
		t.Errorf("hamming = %v", hm)
	}
	p, r, err := PrecisionRecall(a, b, 10)
	if err != nil || !near(p, 1.0/3) || !near(r, 0.5) { // 210 is not strictly within 10 of 200
		t.Errorf("precision_recall = %v %v %v; want 1/3, 1/2", p, r, err)
	}
	if mt, _ := MeanTime(a, b); !near(mt, (5.0+10+50)/3) {
		t.Errorf("meantime = %v", mt)
	}
	if _, err := RandIndex([]int{10}, []int{11}); !errors.Is(err, ErrBadPartition) {
		t.Errorf("different ends: err = %v", err)
	}
	if _, err := Hausdorff([]int{10}, []int{5, 10}); !errors.Is(err, ErrBadPartition) {
		t.Errorf("no change points: err = %v", err)
	}
	if _, _, err := PrecisionRecall(a, b, 0); !errors.Is(err, ErrBadParameter) {
		t.Errorf("margin 0: err = %v", err)
	}
	if p, r, _ := PrecisionRecall(a, []int{300}, 5); p != 0 || r != 0 {
		t.Errorf("no prediction: %v %v", p, r)
	}
}

func bruteRand(a, b []int) float64 {
	n := a[len(a)-1]
	label := func(bk []int, i int) int {
		for k, e := range bk {
			if i < e {
				return k
			}
		}
		return -1
	}
	agree, pairs := 0, 0
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			pairs++
			if (label(a, i) == label(a, j)) == (label(b, i) == label(b, j)) {
				agree++
			}
		}
	}
	return float64(agree) / float64(pairs)
}
