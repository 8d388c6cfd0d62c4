package changepoint

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
	if PenaltyMBIC(s) <= pen {
		t.Error("MBIC should be larger than BIC")
	}
	el, err := ElbowPenalty(context.Background(), s, p, 0.1, 1e4, 25)
	if err != nil {
		t.Fatal(err)
	}
	if len(el.Bkps) != len(truth) {
		t.Errorf("elbow chose pen %v with %v, truth %v", el.Pen, el.Bkps, truth)
	}
	// A signal constant but for its changes keeps a penalty at its scale.
	steps, _ := NewSeries([]float64{0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5})
	pen = PenaltyBIC(steps)
	bkps, err = Detect(context.Background(), steps, Params{Method: "pelt", Cost: "l2", Pen: &pen, Jump: 1, MinSize: 1})
	if err != nil || len(bkps) != 2 || bkps[0] != 6 {
		t.Errorf("noiseless steps: pen %v gives %v, %v; want [6 13]", pen, bkps, err)
	}
	kp := Params{Method: "kernelcpd", Cost: "linear"}
	if _, err := PenaltyPath(context.Background(), s, kp, []float64{1, 10}); err != nil {
		t.Errorf("kernelcpd path: %v", err)
	}
}

func TestChangeSignificance(t *testing.T) {
	ctx := context.Background()
	s, truth, _ := PwConstant(200, 1, 1, 1, 5)
	res, err := TestChange(ctx, s, &CostL2{}, 99, 0.05, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.PValue > 0.02 || abs(res.Bkp-truth[0]) > 3 {
		t.Errorf("step signal: %+v, truth %v", res, truth)
	}
	flat, _, _ := PwConstant(200, 1, 0, 1, 5)
	res, err = TestChange(ctx, flat, &CostL2{}, 99, 0.05, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed {
		t.Errorf("flat signal reported a change: %+v", res)
	}
	if _, err := TestChange(ctx, flat, &CostL2{}, 0, 0.05, 1); err == nil {
		t.Error("perms 0 accepted")
	}
}

func TestOnline(t *testing.T) {
	pen := 20.0
	o, err := NewOnline(Params{Method: "pelt", Cost: "l2", Pen: &pen, Jump: 1}, 60, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	s, truth, _ := PwConstant(300, 1, 2, 0.5, 11)
	var got []int
	for i := 0; i < s.Len(); i++ {
		ch, err := o.Push(context.Background(), s.At(i, 0))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ch...)
	}
	if len(got) != 2 || abs(got[0]-truth[0]) > 2 || abs(got[1]-truth[1]) > 2 {
		t.Errorf("online found %v, truth %v", got, truth)
	}
	if _, err := o.Push(context.Background(), 1, 2); err == nil {
		t.Error("wrong sample width accepted")
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
