package detect

import (
	"math"
	"slices"
	"testing"
)

// TestOrderStats compares the k-th value of every range, and the sum of
// those below it, with sorting, on data with many ties.
func TestOrderStats(t *testing.T) {
	rng := newRand(3)
	for _, n := range []int{1, 2, 3, 7, 8, 9, 33, 100} {
		x := make([]float64, n)
		for i := range x {
			x[i] = float64(rng.IntN(7)) - 2.5
		}
		o := newOrderStats(x)
		for a := 0; a < n; a++ {
			for b := a + 1; b <= n; b++ {
				v := slices.Clone(x[a:b])
				slices.Sort(v)
				below := 0.0
				for k := 0; k < b-a; k++ {
					if gv, gb := o.kth(a, b, k); gv != v[k] || gb != below {
						t.Fatalf("n=%d [%d,%d) k=%d: got %v, %v; want %v, %v", n, a, b, k, gv, gb, v[k], below)
					}
					if gk := o.kthKey(a, b, k); gk != v[k] {
						t.Fatalf("n=%d [%d,%d) k=%d: kthKey %v, want %v", n, a, b, k, gk, v[k])
					}
					below += v[k]
				}
			}
		}
	}
}

// TestCostL1 compares the cost with NumPy's arithmetic written out (the
// median of each column, then the pairwise sum of |x - median| in row
// order), bit for bit, on continuous and tie-heavy signals, and checks
// that the estimate stays within its bound.
func TestCostL1(t *testing.T) {
	cont, _, _ := PwConstant(120, 3, 4, 2, 9)
	rng := newRand(5)
	rows := make([][]float64, 90)
	for i := range rows {
		rows[i] = []float64{float64(rng.IntN(4)), float64(rng.IntN(3)) / 2}
	}
	ties, err := NewSignal(rows)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Signal{cont, ties} {
		var c CostL1
		if err := c.Fit(s); err != nil {
			t.Fatal(err)
		}
		d := s.Dims()
		for a := 0; a < s.Len(); a += 7 {
			for b := a + 2; b <= s.Len(); b += 3 {
				meds := make([]float64, d)
				for j := range meds {
					meds[j] = medianOf(slices.Clone(s.Column(j)[a:b]))
				}
				var dev []float64
				for i := a; i < b; i++ {
					for j, v := range s.Row(i) {
						dev = append(dev, math.Abs(v-meds[j]))
					}
				}
				want := pairwiseSum(dev)
				if got := c.Error(a, b); got != want {
					t.Fatalf("[%d,%d): got %v, want %v", a, b, got, want)
				}
				if est := c.approxError(a, b); math.Abs(est-want) > c.errorBound() {
					t.Fatalf("[%d,%d): estimate %v is %g from %v, beyond the bound %g", a, b, est, est-want, want, c.errorBound())
				}
			}
		}
	}
}

// TestNumpySum checks the run-by-run sum beyond NumPy's buffer: the runs'
// pairwise sums added in order.
func TestNumpySum(t *testing.T) {
	rng := newRand(6)
	x := make([]float64, 2*numpyBuffer+100)
	for i := range x {
		x[i] = rng.NormFloat64() * 1e3
	}
	want := pairwiseSum(x[:numpyBuffer])
	want += pairwiseSum(x[numpyBuffer : 2*numpyBuffer])
	want += pairwiseSum(x[2*numpyBuffer:])
	if got := numpySum(x); got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := numpySum(x[:500]); got != pairwiseSum(x[:500]) {
		t.Fatalf("short: got %v, want %v", got, pairwiseSum(x[:500]))
	}
}

// TestSortOrder compares sortOrder with a comparison sort of (value,
// position) pairs, on values with many ties and both signed zeros.
func TestSortOrder(t *testing.T) {
	rng := newRand(4)
	for n := 0; n <= 300; n++ {
		for rep := 0; rep < 5; rep++ {
			x := make([]float64, n)
			for i := range x {
				switch rng.IntN(4) {
				case 0:
					x[i] = math.Copysign(0, float64(rng.IntN(2)*2-1))
				case 1:
					x[i] = float64(rng.IntN(5) - 2)
				default:
					x[i] = rng.NormFloat64()
				}
			}
			want := make([]int32, n)
			for i := range want {
				want[i] = int32(i)
			}
			slices.SortFunc(want, func(a, b int32) int {
				switch {
				case x[a] < x[b]:
					return -1
				case x[a] > x[b]:
					return 1
				}
				return int(a - b)
			})
			got, tmp := make([]int32, n), make([]int32, n)
			sortOrder(x, got, tmp)
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d: got %v, want %v", n, got, want)
			}
		}
	}
}

// newOrderStats builds the structure over x, its own keys.
func newOrderStats(x []float64) *orderStats { return newOrderStatsKeyed(x, x) }
