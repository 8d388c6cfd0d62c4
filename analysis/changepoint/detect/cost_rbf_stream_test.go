package detect

import (
	"context"
	"fmt"
	"math"
	"testing"
)

// TestRBFStreamMatchesTable checks Pelt's running sums against the table
// of every segment, bit for bit: for several grids, group-straddling
// steps and a lower bound that rises as Pelt's pruning raises it; and
// that a start off the grid gets the direct sum.
func TestRBFStreamMatchesTable(t *testing.T) {
	for _, d := range []int{1, 2, 3, 5} {
		s, _, err := PwConstant(97, d, 4, 1, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, grid := range []int{1, 2, 5, 7} {
			t.Run(fmt.Sprintf("d=%d/grid=%d", d, grid), func(t *testing.T) {
				ref := &CostRBF{Gamma: 0.3}
				if err := ref.Fit(s); err != nil {
					t.Fatal(err)
				}
				direct := &CostRBF{Gamma: 0.3, Direct: true}
				if err := direct.Fit(s); err != nil {
					t.Fatal(err)
				}
				c := &CostRBF{Gamma: 0.3}
				c.streamSegments(grid)
				if err := c.Fit(s); err != nil {
					t.Fatal(err)
				}
				low := 0
				for end := 2; end <= s.n; end += grid + end%3 {
					if end%4 == 0 {
						low = min(low+grid+1, end-1)
					}
					c.streamTo(end, low)
					for st := (low + grid - 1) / grid * grid; st < end; st += grid {
						got, want := c.Error(st, end), ref.Error(st, end)
						if got != want {
							t.Fatalf("[%d, %d) after low %d: streamed %v, table %v", st, end, low, got, want)
						}
						// Off the grid no sum is kept: the direct sum.
						if off := st + 1; grid > 1 && off < end {
							if got, want := c.Error(off, end), direct.Error(off, end); got != want {
								t.Fatalf("[%d, %d) off the grid: %v, direct %v", off, end, got, want)
							}
						}
					}
				}
			})
		}
	}
}

// TestPeltRBFStreamedEqualsTabled checks that Pelt answers the same with
// the running sums as with the table.
func TestPeltRBFStreamedEqualsTabled(t *testing.T) {
	s, _, err := PwConstant(400, 3, 5, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, jump := range []int{1, 5} {
		streamed, err := NewPelt(&CostRBF{}, 2, jump)
		if err != nil {
			t.Fatal(err)
		}
		got, err := streamed.Segment(context.Background(), s, Penalty(2))
		if err != nil {
			t.Fatal(err)
		}
		// peltSearch on a cost without streaming: the table.
		tabled := &CostRBF{}
		if err := tabled.Fit(s); err != nil {
			t.Fatal(err)
		}
		want, err := peltSearch(context.Background(), tabled, s.n, 2, jump, 2)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("jump %d: streamed %v, tabled %v", jump, got, want)
		}
	}
}

// TestKernelRowsMatchesColumn checks the vector kernel rows (AVX-512 for
// three dimensions, and AVX2) against column, bit for bit, with exponents
// below, inside and above the clipping range and every remainder of the
// row count modulo 8.
func TestKernelRowsMatchesColumn(t *testing.T) {
	rng := newRand(47)
	for _, d := range []int{1, 2, 3, 5} {
		rows := make([][]float64, 300)
		for i := range rows {
			rows[i] = make([]float64, d)
			for k := range rows[i] {
				rows[i][k] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(5)-2))
			}
		}
		s, err := NewSignal(rows)
		if err != nil {
			t.Fatal(err)
		}
		for _, gamma := range []float64{1e-3, 0.7, 40} {
			c := &CostRBF{Gamma: gamma}
			c.streamSegments(1)
			if err := c.Fit(s); err != nil {
				t.Fatal(err)
			}
			got, want := make([]float64, s.n+8), make([]float64, s.n+1)
			for trial := range 200 {
				tt := 1 + rng.IntN(s.n-1)
				lo := rng.IntN(tt)
				c.column(tt, lo, want[:tt-lo+1])
				withAVX512(func(on bool) {
					c.kernelRows(tt, lo, got)
					for i := range tt - lo {
						if got[i] != want[i] {
							t.Fatalf("d=%d gamma=%v trial %d (AVX-512 %v): K(%d, %d) = %v, column %v", d, gamma, trial, on, lo+i, tt, got[i], want[i])
						}
					}
				})
			}
		}
	}
}
