package rank

import (
	"context"
	"runtime"
	"testing"
)

// benchScenario is 10,000 candidates of 1,440 points with a 31-step
// anomaly (scenario 7).
func benchScenario(b *testing.B) (*Target, [][]float64) {
	b.Helper()
	sc := NewScenario(7, ScenarioParams{N: 10_000, K: 10})
	tg, err := NewTarget(sc.Target, sc.Window, Params{MaxLag: 10})
	if err != nil {
		b.Fatal(err)
	}
	return tg, sc.Candidates
}

// BenchmarkRank10k is the performance standard: rank 10,000 candidates
// of 1,440 points against one target with a lag search of ±10 steps, on
// one core; with the scenario's anomaly, and with one of four hours (a
// focus window of 12 hours).
func BenchmarkRank10k(b *testing.B) {
	tg, cands := benchScenario(b)
	long, err := NewTarget(cands[0], Window{Start: 1440 - 240, End: 1440}, Params{MaxLag: 10})
	if err != nil {
		b.Fatal(err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, c := range []struct {
		name string
		t    *Target
	}{{"anomaly=31", tg}, {"anomaly=240", long}} {
		b.Run(c.name, func(b *testing.B) {
			done := measureCPU(b)
			for b.Loop() {
				if _, err := Rank(context.Background(), c.t, cands, 1); err != nil {
					b.Fatal(err)
				}
			}
			done()
			b.ReportMetric(float64(c.t.To-c.t.From), "focus-steps")
		})
	}
}

// BenchmarkScore is the cost of one candidate.
func BenchmarkScore(b *testing.B) {
	tg, cands := benchScenario(b)
	s := tg.NewScorer()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		s.Score(cands[i%len(cands)])
		i++
	}
	b.ReportMetric(float64(tg.To-tg.From), "focus-steps")
}
