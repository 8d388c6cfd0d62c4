package detect

import (
	"context"
	"fmt"
	"testing"
)

// TestRBFStreamMatchesTable checks Pelt's running sums against the table
// of every segment, bit for bit: for several grids, group-straddling
// steps and a lower bound that rises as Pelt's pruning raises it.
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
