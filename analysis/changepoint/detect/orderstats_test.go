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
					below += v[k]
				}
			}
		}
	}
}

// TestCostL1 compares the order-statistics cost with the direct sum of
// absolute deviations from NumPy's median.
func TestCostL1(t *testing.T) {
	s, _, _ := PwConstant(120, 3, 4, 2, 9)
	var c CostL1
	if err := c.Fit(s); err != nil {
		t.Fatal(err)
	}
	for a := 0; a < s.Len(); a += 7 {
		for b := a + 2; b <= s.Len(); b += 3 {
			want := 0.0
			for j := 0; j < s.Dims(); j++ {
				col := s.Column(j)[a:b]
				med := medianOf(slices.Clone(col))
				for _, v := range col {
					want += math.Abs(v - med)
				}
			}
			if got := c.Error(a, b); math.Abs(got-want) > 1e-9*math.Max(1, want) {
				t.Fatalf("[%d,%d): got %v, want %v", a, b, got, want)
			}
		}
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
