package rank

import (
	"math/rand/v2"
	"testing"
)

// TestHourlyBatchIsNotTheCause is issue 20's batch job: the root cause
// moved at t0 and the target 3 minutes later, while a series that
// spikes for 12 minutes every hour ended its last run 9 minutes before
// t0. The batch must not outrank the cause, nor be named the first
// mover: it ended before the target moved, and it does this every hour.
func TestHourlyBatchIsNotTheCause(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	n, t0 := 420, 380
	y := stepSeries(rng, n, t0+3, 200, 40, 8)
	cause := stepSeries(rng, n, t0, 50, 6, 2)
	batch := make([]float64, n)
	for i := range batch {
		if end := t0 - 9; (i-(end-12)+600)%60 < 12 {
			batch[i] = 1 // batch_running
		}
	}
	tg, err := NewTarget(y, Window{Start: t0 - 10, End: n}, Params{})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Rank(t.Context(), tg, [][]float64{batch, cause}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Index != 1 {
		t.Errorf("ranking %+v: the hourly batch first", rs)
	}
	if i := FirstMover(rs, 20); i < 0 || rs[i].Index != 1 {
		t.Errorf("first mover %d, want the cause", i)
	}
}
