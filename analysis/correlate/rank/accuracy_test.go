package rank

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// meanPrecision ranks the scenarios of seeds [from, from+count) with each
// parameter set and returns the mean precision@10 of each.
func meanPrecision(t testing.TB, from, count int, sp ScenarioParams, ps ...Params) []float64 {
	t.Helper()
	sums := make([]float64, len(ps))
	for seed := from; seed < from+count; seed++ {
		sc := NewScenario(uint64(seed), sp)
		for i, p := range ps {
			tg, err := NewTarget(sc.Target, sc.Window, p)
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			rs, err := Rank(context.Background(), tg, sc.Candidates, 0)
			if err != nil {
				t.Fatal(err)
			}
			sums[i] += sc.PrecisionAt(10, rs)
		}
	}
	for i := range sums {
		sums[i] /= float64(count)
	}
	return sums
}

// TestPrecisionAt10 is the accuracy standard: over 100 scenarios of 1,000
// signals with 10 related, the mean precision@10 is at least 0.9, and
// at least floorScenarios, the figure issue 20 asked to keep. (The
// weights were tuned on seeds 1001–1030, not on these.)
func TestPrecisionAt10(t *testing.T) {
	count, floor := 100, floorScenarios
	if testing.Short() {
		count, floor = 20, 0.9
	}
	got := meanPrecision(t, 1, count, ScenarioParams{}, Params{})[0]
	t.Logf("mean precision@10 over %d scenarios (N=1000, K=10): %.3f", count, got)
	if got < floor {
		t.Errorf("mean precision@10 = %.3f, want >= %.2f", got, floor)
	}
}

// floorScenarios is the mean precision@10 of seeds 1–100 that
// TestPrecisionAt10 holds: 0.930 before the fleet work, 0.937 now
// (docs/correlate.md).
const floorScenarios = 0.93

// TestAblations prints the precision@10 of each feature alone and of all
// but each, for docs/correlate.md. It takes minutes, so it runs only with
// GAFFER_CORRELATE_ABLATIONS=1.
func TestAblations(t *testing.T) {
	if os.Getenv("GAFFER_CORRELATE_ABLATIONS") == "" {
		t.Skip("set GAFFER_CORRELATE_ABLATIONS=1 to measure the ablations")
	}
	names, ps := ablations()
	got := meanPrecision(t, 1, 100, ScenarioParams{}, ps...)
	var b strings.Builder
	fmt.Fprintf(&b, "| features | mean precision@10 |\n|---|---|\n")
	fmt.Fprintf(&b, "| all five, default weights %+v | %.3f |\n", DefaultWeights, got[0])
	fmt.Fprintf(&b, "| all five, equal weights | %.3f |\n", got[1])
	for i, n := range names {
		fmt.Fprintf(&b, "| %s alone | %.3f |\n| all but %s | %.3f |\n", n, got[2+2*i], n, got[3+2*i])
	}
	t.Log("\n" + b.String())
}

// ablations returns the features' names and the parameter sets that
// measure them: the default weights, equal weights, then for each
// feature that feature alone and all but it.
func ablations() ([]string, []Params) {
	d := DefaultWeights
	names := []string{"lagged cross-correlation", "rank correlation", "change-point co-occurrence", "distribution shift", "precedence"}
	only := []Weights{{XCorr: 1}, {Rank: 1}, {ChangePoint: 1}, {Shift: 1}, {Precedes: 1}}
	without := []Weights{d, d, d, d, d}
	without[0].XCorr, without[1].Rank, without[2].ChangePoint, without[3].Shift, without[4].Precedes = 0, 0, 0, 0, 0
	ps := []Params{{}, {Weights: &Weights{1, 1, 1, 1, 1}}}
	for i := range only {
		ps = append(ps, Params{Weights: &only[i]}, Params{Weights: &without[i]})
	}
	return names, ps
}
