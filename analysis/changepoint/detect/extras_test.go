package detect

import (
	"context"
	"testing"
)

func TestPenaltyHelpers(t *testing.T) {
	s, truth, err := PwConstant(300, 1, 3, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	v := NoiseVariance(s)
	if v[0] < 0.5 || v[0] > 2 {
		t.Errorf("noise variance = %v, want about 1", v[0])
	}
	pen := PenaltyBIC(s)
	p := Params{Method: "pelt", Cost: "l2", Pen: &pen, Jump: 1}
	bkps, err := Detect(context.Background(), s, p)
	if err != nil {
		t.Fatal(err)
	}
	if pr, rc, _ := PrecisionRecall(truth, bkps, 10); pr < 1 || rc < 1 {
		t.Errorf("BIC penalty: got %v, truth %v", bkps, truth)
	}
	// A signal constant but for its changes keeps a penalty at its scale.
	steps, _ := NewSeries([]float64{0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5})
	pen = PenaltyBIC(steps)
	bkps, err = Detect(context.Background(), steps, Params{Method: "pelt", Cost: "l2", Pen: &pen, Jump: 1, MinSize: 1})
	if err != nil || len(bkps) != 2 || bkps[0] != 6 {
		t.Errorf("noiseless steps: pen %v gives %v, %v; want [6 13]", pen, bkps, err)
	}
}

func TestGenerators(t *testing.T) {
	for name, gen := range map[string]func(seed uint64) (*Signal, []int, error){
		"pw_constant": func(seed uint64) (*Signal, []int, error) { return PwConstant(200, 3, 4, 1, seed) },
		"pw_normal":   func(seed uint64) (*Signal, []int, error) { return PwNormal(200, 4, seed) },
		"pw_linear":   func(seed uint64) (*Signal, []int, error) { return PwLinear(200, 2, 4, 0.1, seed) },
		"pw_wavy":     func(seed uint64) (*Signal, []int, error) { return PwWavy(200, 4, 0.1, seed) },
	} {
		a, bk, err := gen(42)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, bk2, _ := gen(42)
		c, _, _ := gen(43)
		if len(bk) != 5 || bk[4] != 200 || !equalInts(bk, bk2) {
			t.Errorf("%s: bkps %v / %v", name, bk, bk2)
		}
		for i := 1; i < len(bk); i++ {
			if bk[i] <= bk[i-1] {
				t.Errorf("%s: bkps not increasing: %v", name, bk)
			}
		}
		if !equalFloats(a.Data(), b.Data()) || equalFloats(a.Data(), c.Data()) {
			t.Errorf("%s: not deterministic per seed", name)
		}
	}
	if _, _, err := PwConstant(10, 1, 20, 0, 1); err == nil {
		t.Error("too many breakpoints accepted")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
